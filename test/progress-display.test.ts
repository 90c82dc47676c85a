// The live display: ticks at most every 250 ms and at most once per step, whatever --log-every says; the bar
// shows a short-window training loss in the unit of validation (bpc for language models), "ETA –" until known.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { TrainOutput } from '../src/cli/progress.js';
import { runTraining } from '../src/tasks/index.js';
import { PROGRESS_INTERVAL_MS, ProgressWindow } from '../src/train/progress.js';
import { DEFAULT_TRAIN_CONFIG, type TrainEvent } from '../src/train/trainer.js';

describe('ProgressWindow', () => {
  it('ticks once the interval has passed, with the mean loss and speed of the steps since the last tick', () => {
    const window = new ProgressWindow(0);
    expect(window.add(1, 10, 1, 100, true, 100)).toBeNull();
    expect(window.add(2, 10, Number.NaN, 100, false, 200)).toBeNull(); // a skipped step: not in the mean
    expect(window.add(3, 10, 3, 100, true, 250)).toEqual({
      type: 'progress',
      step: 3,
      steps: 10,
      loss: 2,
      window: 2,
      tokens_per_s: 1200,
    });
    expect(window.add(4, 10, 5, 100, true, 400)).toBeNull();
    expect(window.add(5, 10, Number.NaN, 100, false, 500)).toMatchObject({ step: 5, loss: 5, window: 1 });
    expect(window.add(6, 10, Number.NaN, 100, false, 800)).toMatchObject({ step: 6, window: 0, loss: Number.NaN });
  });
});

it('training ticks regardless of --log-every, at most every 250 ms', async () => {
  const events: { event: TrainEvent; at: number }[] = [];
  const text = 'the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. '.repeat(50);
  // Logged only at the last step; slow enough on the reference backend (~1 s) for several ticks.
  const config = { ...DEFAULT_TRAIN_CONFIG, hidden: 128, seq: 50, batch: 4, steps: 30, logEvery: 1000 };
  await runTraining({
    text,
    config,
    backend: new ReferenceBackend(),
    out: mkdtempSync(join(tmpdir(), 'rnnkit-ticks-')),
    onEvent: (event) => events.push({ event, at: performance.now() }),
  });
  const ticks = events.filter((e) => e.event.type === 'progress');
  expect(events.filter((e) => e.event.type === 'step')).toHaveLength(1);
  expect(ticks.length).toBeGreaterThanOrEqual(2);
  for (let i = 1; i < ticks.length; i++) {
    expect(ticks[i]!.at - ticks[i - 1]!.at).toBeGreaterThanOrEqual(PROGRESS_INTERVAL_MS - 1);
    expect((ticks[i]!.event as { step: number }).step).toBeGreaterThan((ticks[i - 1]!.event as { step: number }).step);
  }
}, 60_000);

describe('the bar', () => {
  function bar(task: 'lm' | 'classify') {
    let drawn = '';
    const stream = new Writable({ write: (chunk, _encoding, done) => ((drawn += String(chunk)), done()) });
    Object.assign(stream, { columns: 200 });
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const output = new TrainOutput('bar', { stream, noTTYOutput: true });
    const backend = new ReferenceBackend().info();
    output.event({
      type: 'start',
      dir: 'd',
      task,
      step: 0,
      steps: 100,
      parameters: 1,
      vocabSize: 2,
      unit: 'characters',
      trainSize: 1,
      valSize: 1,
      perStep: '',
      notes: [],
      backend,
    });
    return {
      output,
      lastLine: () =>
        drawn
          .split(/[\r\n]/)
          .filter(Boolean)
          .at(-1)!,
    };
  }

  it('says "ETA –" until a step has been timed', () => {
    const { output, lastLine } = bar('lm');
    output.stop();
    vi.restoreAllMocks();
    expect(lastLine()).toMatch(/step 0\/100 .* \| train – \| val – \| – tok\/s \| ETA –$/);
  });

  it('shows the window loss and validation in bits per character for a language model', () => {
    const { output, lastLine } = bar('lm');
    output.event({ type: 'progress', step: 10, steps: 100, loss: 2 * Math.LN2, window: 10, tokens_per_s: 5000 });
    output.event({ type: 'validation', step: 10, loss: 3 * Math.LN2, metrics: { bpc: 3, perplexity: 8 }, best: true });
    output.stop();
    vi.restoreAllMocks();
    expect(lastLine()).toMatch(/step 10\/100 .* \| train 2\.0000 bpc \| val 3\.0000 bpc \| 5,000 tok\/s \| ETA \d+s$/);
  });

  it('shows nats and accuracy for a classifier', () => {
    const { output, lastLine } = bar('classify');
    output.event({ type: 'progress', step: 10, steps: 100, loss: 0.5, window: 1, tokens_per_s: 10 });
    output.event({ type: 'validation', step: 10, loss: 0.25, metrics: { accuracy: 0.9, macro_f1: 0.8 }, best: true });
    output.stop();
    vi.restoreAllMocks();
    expect(lastLine()).toMatch(/\| train 0\.5000 nats \| val 0\.2500 nats, accuracy 0\.9000 \|/);
  });
});

describe('skipped steps (--skip-nonfinite)', () => {
  const backend = new ReferenceBackend().info();
  const start = (output: TrainOutput): void =>
    output.event({
      type: 'start',
      dir: 'd',
      task: 'lm',
      step: 0,
      steps: 100,
      parameters: 1,
      vocabSize: 2,
      unit: 'characters',
      trainSize: 1,
      valSize: 0,
      perStep: '',
      notes: [],
      backend,
    });
  const skip = (output: TrainOutput, step: number, skippedSteps: number): void =>
    output.event({ type: 'skipped', step, loss: Number.NaN, gradNorm: Number.NaN, skippedSteps });

  it('are a count on the bar, with one line for the first only', () => {
    let drawn = '';
    const stream = new Writable({ write: (chunk, _encoding, done) => ((drawn += String(chunk)), done()) });
    Object.assign(stream, { columns: 200 });
    const output = new TrainOutput('bar', { stream, noTTYOutput: true });
    vi.spyOn(console, 'log').mockImplementation(() => {});
    start(output);
    for (let i = 1; i <= 7; i++) skip(output, 10 + i, i);
    output.stop();
    vi.restoreAllMocks();
    expect(drawn.match(/step skipped/g)).toHaveLength(1);
    expect(
      drawn
        .split(/[\r\n]/)
        .filter(Boolean)
        .at(-1),
    ).toMatch(/ \| 7 skipped$/);
  });

  it('are a count on the plain step lines and in the final line', () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    const output = new TrainOutput('lines');
    start(output);
    for (let i = 1; i <= 3; i++) skip(output, i, i);
    output.event({
      type: 'step',
      metrics: {
        step: 10,
        epoch: 0,
        loss: Math.LN2,
        smooth_loss: 2 * Math.LN2,
        grad_norm: 1,
        lr: 0.1,
        tokens_per_s: 1000,
        elapsed_s: 1,
        skipped_steps: 3,
      },
    });
    const config = { ...DEFAULT_TRAIN_CONFIG, steps: 100 };
    output.finish({
      dir: 'd',
      task: 'lm',
      steps: 100,
      metrics: null,
      parameterCount: 1,
      vocabSize: 2,
      trainSize: 1,
      tokensProcessed: 100,
      interrupted: false,
      timeLimitReached: false,
      stoppedEarly: false,
      bestValLoss: null,
      skippedSteps: 3,
      config,
    });
    vi.restoreAllMocks();
    expect(lines.filter((l) => l.includes('skipped'))).toHaveLength(3); // the first skip, the step line, the final line
    expect(lines[lines.length - 3]).toMatch(
      /^step  10\/100  loss 1\.0000 bpc  smoothed 2\.0000 bpc  lr 0\.100 .* skipped 3$/,
    );
    expect(lines.at(-2)).toMatch(/^rnnkit: done at step 100 of 100 .*, 3 steps skipped \(non-finite\); checkpoint: d$/);
  });
});

describe('on a terminal 60 columns wide', () => {
  /** A stream that says it is a 60-column terminal: cli-progress writes its real escape sequences to it. */
  function terminal() {
    let written = '';
    const stream = new Writable({ write: (chunk, _encoding, done) => ((written += String(chunk)), done()) });
    Object.assign(stream, { isTTY: true, columns: 60 });
    return { stream, written: () => written };
  }
  const ESC = '\x1b';
  /** The text the terminal shows on each line (escape sequences removed, carriage returns resolved). */
  const visibleLines = (raw: string): string[] =>
    raw
      .replace(new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g'), '')
      .split('\n')
      .map((line) => line.split('\r').at(-1)!);

  it('lines above the bar are printed with wrapping on, whole; the bar keeps loss, speed and ETA and drops its graphic', async () => {
    const { stream, written } = terminal();
    const output = new TrainOutput('bar', { stream, fps: 1000 });
    const backend = new ReferenceBackend().info();
    output.event({
      type: 'start',
      dir: 'd',
      task: 'lm',
      step: 0,
      steps: 20000,
      parameters: 1,
      vocabSize: 2,
      unit: 'characters',
      trainSize: 1,
      valSize: 1,
      perStep: '',
      notes: [],
      backend,
    });
    output.event({
      type: 'progress',
      step: 1000,
      steps: 20000,
      loss: 2.1 * Math.LN2,
      window: 10,
      tokens_per_s: 123_456,
    });
    output.event({
      type: 'validation',
      step: 1000,
      loss: 2.3456 * Math.LN2,
      metrics: { bpc: 2.3456, perplexity: 23.3456 },
      best: true,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    output.stop();
    const raw = written();
    const said = 'step 1000: validation 2.3456 bpc, perplexity 23.3456 (best so far)';
    expect(said.length).toBeGreaterThan(60);
    // Wrapping is switched back on just before the line and off again after it.
    expect(raw).toContain(`${ESC}[?7h${said}\n${ESC}[?7l`);
    // The bar line fits in 59 columns and still shows both losses, the speed and the ETA (no bar graphic).
    const barLines = visibleLines(raw).filter((line) => line.startsWith('1000/20000'));
    expect(barLines.length).toBeGreaterThan(0);
    for (const line of barLines) {
      expect(line.length).toBeLessThan(60);
      expect(line).toMatch(/^1000\/20000 train 2\.100 val 2\.346 bpc 123,456 tok\/s ETA \S+$/);
      expect(line).not.toMatch(/[\u2588\u2591]/);
    }
    // Stopping leaves wrapping on.
    expect(raw.lastIndexOf(`${ESC}[?7h`)).toBeGreaterThan(raw.lastIndexOf(`${ESC}[?7l`));
  });
});
