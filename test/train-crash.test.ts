// Work is never lost: through the real executable, a run killed with SIGKILL at a random point and resumed
// ends with the same bits as an uninterrupted run; SIGINT saves and exits 0; a kill during a save leaves a
// loadable checkpoint. And the library's train() runs in a worker: the host's timers keep firing.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { loadModel } from '../src/io/checkpoint.js';
import { train } from '../src/train/handle.js';
import { loadTrainerState } from '../src/train/state.js';
import type { TrainEvent } from '../src/train/trainer.js';
import { makeRandom } from './helpers.js';

const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'bin', 'rnnkit.js');
const work = mkdtempSync(join(tmpdir(), 'rnnkit-crash-'));
const textFile = join(work, 'text.txt');
writeFileSync(textFile, 'Happy families are all alike; every unhappy family is unhappy in its own way. '.repeat(60));
const random = makeRandom(Number(process.env['RNNKIT_TEST_SEED'] ?? Date.now() % 100000));

const runArgs = (out: string, extra: string[] = []) => [
  bin,
  'train',
  textFile,
  '--cell',
  'gru',
  '--layers',
  '2',
  '--hidden',
  '32',
  '--embed',
  '8',
  '--dropout',
  '0.2',
  '--seq',
  '16',
  '--batch',
  '4',
  '--optimizer',
  'adam',
  '--lr',
  '0.005',
  '--steps',
  '1500',
  '--save-every',
  '25',
  '--log-every',
  '5',
  '--out',
  out,
  ...extra,
];

function rnnkit(args: string[]) {
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 300_000 });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

/** Starts a run and resolves once its output shows a step at or past `step`, with the child. */
function startUntil(args: string[], step: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: root });
  return new Promise((resolvePromise, reject) => {
    let seen = '';
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const steps = [...seen.matchAll(/^step +(\d+)\//gm)].map((m) => Number(m[1]));
      if (steps.length && steps.at(-1)! >= step) resolvePromise(child);
    });
    child.on('exit', (code) =>
      reject(new Error(`the run ended (code ${code}) before step ${step}: ${seen.slice(-300)}`)),
    );
  });
}

const exited = (child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
    : new Promise((done) => child.on('exit', (code, signal) => done({ code, signal })));

describe('crash safety through the executable', () => {
  it('SIGKILL at a random step, then --resume: the same model, bit for bit, as an uninterrupted run', async () => {
    const whole = join(work, 'whole');
    expect(rnnkit(runArgs(whole)).code).toBe(0);
    const killed = join(work, 'killed');
    const killAt = 30 + Math.floor(random() * 1000); // well before the end (1500), so the kill lands mid-run
    const child = await startUntil(runArgs(killed), killAt);
    child.kill('SIGKILL');
    expect((await exited(child)).signal).toBe('SIGKILL');
    const resumed = rnnkit([bin, 'train', '--resume', killed]);
    expect(resumed.err).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.out).toMatch(/resuming .* at step \d+ of 1500/);
    expect(
      readFileSync(join(killed, 'model.safetensors')).equals(readFileSync(join(whole, 'model.safetensors'))),
      `killed near step ${killAt}`,
    ).toBe(true);
  });

  it('SIGINT saves a checkpoint, says where, and exits 0', async () => {
    const out = join(work, 'interrupted');
    const child = await startUntil(runArgs(out), 40);
    let printed = '';
    child.stdout!.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    child.kill('SIGINT');
    expect((await exited(child)).code).toBe(0);
    const step = loadTrainerState(out).position.step;
    expect(printed).toContain(`saved the checkpoint at step ${step} in ${out}`);
    expect(printed).toContain(`rnnkit train --resume ${out}`);
  });

  it('a kill during saves leaves a loadable checkpoint every time', async () => {
    const out = join(work, 'saving');
    // A larger model saved every step, so that kills land inside saves (a repeated option: the last wins).
    const args = runArgs(out, ['--hidden', '256', '--save-every', '1', '--steps', '100000']);
    for (let attempt = 0; attempt < 4; attempt++) {
      const child = await startUntil(attempt === 0 ? args : [bin, 'train', '--resume', out], 0);
      await new Promise((r) => setTimeout(r, 50 + random() * 400));
      child.kill('SIGKILL');
      await exited(child);
      const state = loadTrainerState(out);
      expect(state.position.step).toBeGreaterThanOrEqual(0);
      expect(() => loadModel(out, new ReferenceBackend())).not.toThrow();
    }
  });
});

describe('train() for servers', () => {
  it('runs in a worker: the main thread keeps ticking; abort saves a loadable checkpoint', async () => {
    const out = join(work, 'library');
    const handle = train({
      file: textFile,
      out,
      config: { cell: 'lstm', hidden: 64, seq: 32, batch: 8, steps: 100_000, logEvery: 10, saveEvery: 0 },
    });
    let ticks = 0,
      maxGap = 0,
      last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 5);
    const events: TrainEvent[] = [];
    for await (const event of handle) {
      events.push(event);
      if (event.type === 'step' && event.metrics.step >= 200) handle.abort();
    }
    clearInterval(timer);
    const result = await handle.result;
    expect(events[0]!.type).toBe('start');
    expect(result.interrupted).toBe(true);
    expect(events.some((e) => e.type === 'checkpoint' && e.reason === 'interrupted')).toBe(true);
    expect(ticks).toBeGreaterThan(10);
    // A loop on the main thread would block the timer for the whole run; the worker leaves it free.
    expect(maxGap).toBeLessThan(500);
    expect(loadTrainerState(out).position.step).toBe(result.steps);
    expect(loadModel(out, new ReferenceBackend()).model.config.cell).toBe('lstm');
  });

  it('reports a failure through result with its code', async () => {
    const handle = train({ text: 'aaaa', out: join(work, 'bad') });
    await expect(handle.result).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
  });
});
