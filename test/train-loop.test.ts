// The full training loop: schedules, validation and early stopping, exact resume, non-finite losses,
// and refusal of bad settings.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { RnnkitError } from '../src/errors.js';
import { loadModel } from '../src/io/checkpoint.js';
import { resumeTraining, runTraining } from '../src/tasks/index.js';
import { DEFAULT_TRAIN_CONFIG, type StepMetrics, type TrainConfig } from '../src/train/trainer.js';
import { learningRate } from '../src/train/schedule.js';
import { loadTrainerState } from '../src/train/state.js';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import { BACKEND_FACTORIES, TESTED_BACKENDS } from './backends.js';

const TEXT = 'It was the best of times, it was the worst of times, it was the age of wisdom. '.repeat(30);
const tempDir = (): string => join(mkdtempSync(join(tmpdir(), 'rnnkit-loop-')), 'run');
const config = (overrides: Partial<TrainConfig> = {}): TrainConfig => ({
  ...DEFAULT_TRAIN_CONFIG,
  hidden: 12,
  seq: 8,
  batch: 3,
  steps: 24,
  logEvery: 1,
  saveEvery: 0,
  ...overrides,
});

describe('learning-rate schedules', () => {
  const base = { ...DEFAULT_TRAIN_CONFIG, lr: 0.1, steps: 100 };
  it('constant, with a linear warm-up', () => {
    expect(learningRate(base, 50, 3)).toBe(0.1);
    expect(learningRate({ ...base, warmup: 10 }, 1, 0)).toBeCloseTo(0.01, 15);
    expect(learningRate({ ...base, warmup: 10 }, 10, 0)).toBeCloseTo(0.1, 15);
    expect(learningRate({ ...base, warmup: 10 }, 11, 0)).toBe(0.1);
  });

  it('step decay as char-rnn: × rate every N epochs from epoch A on', () => {
    const c = { ...base, lrSchedule: 'step' as const, decayRate: 0.5, decayEvery: 2, decayAfter: 3 };
    expect([0, 2, 3, 4, 5, 6, 7].map((epoch) => learningRate(c, 1, epoch))).toEqual([
      0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125,
    ]);
  });

  it('cosine from lr after the warm-up to 0 at the last step', () => {
    const c = { ...base, lrSchedule: 'cosine' as const, warmup: 20 };
    expect(learningRate(c, 10, 0)).toBeCloseTo(0.05, 15);
    expect(learningRate(c, 20, 0)).toBeCloseTo(0.1, 15);
    expect(learningRate(c, 60, 0)).toBeCloseTo(0.05, 15);
    expect(learningRate(c, 100, 0)).toBeCloseTo(0, 15);
  });
});

describe('validation and early stopping', () => {
  it('validates on the held-out end of the text, records val_loss/val_bpc and keeps the best model', async () => {
    const out = tempDir();
    const events: string[] = [];
    const result = await runTraining({
      text: TEXT,
      backend: new ReferenceBackend(),
      out,
      config: config({ valFrac: 0.1, evalEvery: 8, logEvery: 4 }),
      onEvent: (e) => events.push(e.type),
    });
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as StepMetrics);
    const validated = lines.filter((m) => m.val_loss !== undefined);
    expect(validated.map((m) => m.step)).toEqual([8, 16, 24]);
    for (const m of validated) expect(m.val_bpc).toBeCloseTo(m.val_loss! / Math.LN2, 12);
    for (const m of lines)
      expect(Object.keys(m)).toEqual(expect.arrayContaining(['lr', 'grad_norm', 'elapsed_s', 'tokens_per_s']));
    expect(result.bestValLoss).toBe(Math.min(...validated.map((m) => m.val_loss!)));
    expect(existsSync(join(out, 'best', 'model.safetensors'))).toBe(true);
    expect(events.filter((e) => e === 'validation')).toHaveLength(3);
  });

  it('stops after --patience validations without improvement', async () => {
    // lr 0: the validation loss never improves after the first validation.
    const result = await runTraining({
      text: TEXT,
      backend: new ReferenceBackend(),
      out: tempDir(),
      config: config({ lr: 0, valFrac: 0.1, evalEvery: 4, patience: 2, steps: 100 }),
    });
    expect(result.stoppedEarly).toBe(true);
    expect(result.steps).toBe(12);
  });

  it.each([
    [{ valFrac: 1 }, /val-frac must be in \[0, 1\), got 1/],
    [{ valFrac: 0.001 }, /--val-frac 0.001 leaves 2 characters for validation; at least --seq \+ 1 = 9 are needed/],
    [{ patience: 3 }, /--patience needs a validation split/],
    [{ nesterov: true, optimizer: 'sgd' as const }, /nesterov needs --optimizer sgd with a momentum > 0/],
    [{ momentum: 0.9, optimizer: 'adam' as const }, /momentum applies to --optimizer sgd, not adam/],
  ])('refuses %j', async (overrides, message) => {
    await expect(
      runTraining({ text: TEXT, backend: new ReferenceBackend(), out: tempDir(), config: config(overrides) }),
    ).rejects.toThrow(message);
  });
});

describe('non-finite losses', () => {
  const exploding = config({
    nonlinearity: 'relu',
    hidden: 16,
    optimizer: 'sgd',
    lr: 1e6,
    clipValue: 0,
    seq: 10,
    batch: 1,
    steps: 30,
  });

  it('stop training with a message naming the step, keeping the last checkpoint', async () => {
    const out = tempDir();
    const attempt = runTraining({ text: TEXT, backend: new ReferenceBackend(), out, config: exploding });
    await expect(attempt).rejects.toThrow(RnnkitError);
    await expect(attempt).rejects.toThrow(/the loss became NaN at step 2; training stopped and the last checkpoint/);
    expect(loadTrainerState(out).position.step).toBe(0);
  });

  it('with --skip-nonfinite are skipped and counted', async () => {
    const result = await runTraining({
      text: TEXT,
      backend: new ReferenceBackend(),
      out: tempDir(),
      config: { ...exploding, skipNonfinite: true },
    });
    expect(result.steps).toBe(30);
    expect(result.skippedSteps).toBeGreaterThan(0);
    expect(result.metrics?.skipped_steps).toBe(result.skippedSteps);
  });
});

describe.each(TESTED_BACKENDS)('exact resume on %s', (name) => {
  // LSTM with dropout, Adam, a schedule, batches and an epoch wrap (99 steps an epoch): every piece of
  // state must survive the checkpoint.
  const settings = config({
    cell: 'lstm',
    layers: 2,
    embed: 5,
    dropout: 0.3,
    optimizer: 'adam',
    lr: 0.01,
    clipNorm: 1,
    lrSchedule: 'step',
    decayRate: 0.9,
    decayEvery: 1,
    decayAfter: 1,
    warmup: 5,
    steps: 120,
  });

  it('stopping at a checkpoint and resuming gives the uninterrupted run bit for bit', async () => {
    const backend = await BACKEND_FACTORIES[name]();
    const whole = tempDir();
    await runTraining({ text: TEXT, backend, out: whole, config: settings });
    const split = tempDir();
    const first = await runTraining({ text: TEXT, backend, out: split, config: { ...settings, steps: 47 } });
    expect(first.steps).toBe(47);
    const resumed = await resumeTraining({ dir: split, backend, text: TEXT, steps: 120 });
    expect(resumed.steps).toBe(120);
    const a = loadModel(whole, backend).model.params.all.data;
    const b = loadModel(split, backend).model.params.all.data;
    expect(
      Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(Buffer.from(a.buffer, a.byteOffset, a.byteLength)),
    ).toBe(true);
    const metrics = (dir: string) =>
      readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as StepMetrics).loss);
    expect(metrics(split)).toEqual(metrics(whole));
  });

  it('an abort saves the checkpoint; the resumed run matches too', async () => {
    const backend = await BACKEND_FACTORIES[name]();
    const whole = tempDir();
    await runTraining({ text: TEXT, backend, out: whole, config: settings });
    const split = tempDir();
    const controller = new AbortController();
    const first = await runTraining({
      text: TEXT,
      backend,
      out: split,
      config: settings,
      signal: controller.signal,
      onEvent: (e) => e.type === 'step' && e.metrics.step === 33 && controller.abort(),
    });
    expect(first.interrupted).toBe(true);
    expect(first.steps).toBe(33);
    await resumeTraining({ dir: split, backend, text: TEXT });
    expect(Array.from(loadModel(split, backend).model.params.all.data)).toEqual(
      Array.from(loadModel(whole, backend).model.params.all.data),
    );
  });
});

describe('resume refuses what does not match', () => {
  it('a changed text, a smaller --steps, a directory without trainer state', async () => {
    const out = tempDir();
    await runTraining({ text: TEXT, backend: new ReferenceBackend(), out, config: config({ steps: 5 }) });
    const backend = new ReferenceBackend();
    await expect(resumeTraining({ dir: out, backend, text: TEXT + 'x' })).rejects.toThrow(
      /the training text \(\(in memory\)\) changed since the checkpoint/,
    );
    await expect(resumeTraining({ dir: out, backend, text: TEXT, steps: 3 })).rejects.toThrow(
      /--steps 3 is below the checkpoint's step 5/,
    );
    await expect(resumeTraining({ dir: tmpdir(), backend, text: TEXT })).rejects.toThrow(
      /no trainer\.safetensors here/,
    );
  });

  it('a trainer state that does not match its model or optimizer', async () => {
    const out = tempDir();
    const backend = new ReferenceBackend();
    await runTraining({ text: TEXT, backend, out, config: config({ steps: 2, optimizer: 'adam' }) });
    const path = join(out, 'trainer.safetensors');
    const original = decodeSafetensors(readFileSync(path));
    const forge = (
      edit: (t: {
        name: string;
        shape: number[];
        data: Float32Array;
      }) => { name: string; shape: number[]; data: Float32Array } | null,
    ) => {
      const tensors = original.tensors.map(edit).filter((t) => t !== null);
      writeFileSync(path, encodeSafetensors(tensors, original.metadata));
    };
    forge((t) => (t.name === 'params' ? { ...t, shape: [5], data: t.data.slice(0, 5) } : t));
    await expect(resumeTraining({ dir: out, backend, text: TEXT, steps: 4 })).rejects.toThrow(
      /the trainer state has 5 parameters, the model \d+/,
    );
    forge((t) => (t.name === 'optimizer.exp_avg_sq' ? null : t));
    await expect(resumeTraining({ dir: out, backend, text: TEXT, steps: 4 })).rejects.toThrow(
      /no optimizer buffer exp_avg_sq/,
    );
    forge((t) => (t.name === 'task.hidden.h_l0' ? null : t));
    await expect(resumeTraining({ dir: out, backend, text: TEXT, steps: 4 })).rejects.toThrow(
      /trainer\.safetensors: tensor task\.hidden\.h_l0 is missing/,
    );
  });
});

describe('a trainer file of format 1 (before tasks) still resumes', () => {
  it('written as rnnkit 0.1 wrote it (text, vocab at the top, hidden.* tensors), it continues bit for bit', async () => {
    const backend = new ReferenceBackend();
    const settings = config({ cell: 'gru', layers: 2, optimizer: 'adam', lr: 0.01, steps: 40 });
    const whole = tempDir();
    await runTraining({ text: TEXT, backend, out: whole, config: settings });
    const split = tempDir();
    await runTraining({ text: TEXT, backend, out: split, config: { ...settings, steps: 17 } });
    // Rewrite trainer.safetensors in format 1's layout.
    const path = join(split, 'trainer.safetensors');
    const file = decodeSafetensors(readFileSync(path));
    const meta = JSON.parse(file.metadata['rnnkit_trainer']!) as Record<string, unknown>;
    type Format2 = {
      task: string;
      taskMeta: { vocab: string[] };
      data: { source: string; size: number; hash: string };
      model: Record<string, unknown>;
      config: Record<string, unknown>;
    };
    const { task: _task, taskMeta, data, model, config: newConfig, ...rest } = meta as Format2;
    const { vocabSize: _vocabSize, ...oldModel } = model;
    const { task: _configTask, pool: _pool, maxLen: _maxLen, bidirectional: _bidirectional, ...oldConfig } = newConfig;
    const format1 = {
      ...rest,
      format: 1,
      config: oldConfig,
      model: oldModel,
      vocab: taskMeta.vocab,
      text: { source: data.source, characters: data.size, hash: data.hash },
    };
    const tensors = file.tensors.map((t) => ({ ...t, name: t.name.replace(/^task\./, '') }));
    expect(tensors.map((t) => t.name)).toContain('hidden.h_l1');
    writeFileSync(path, encodeSafetensors(tensors, { rnnkit_trainer: JSON.stringify(format1) }));
    await resumeTraining({ dir: split, backend, text: TEXT, steps: 40 });
    expect(Array.from(loadModel(split, backend).model.params.all.data)).toEqual(
      Array.from(loadModel(whole, backend).model.params.all.data),
    );
    expect(loadTrainerState(split).task).toBe('lm');
  });
});
