// End to end on every backend: training lowers the loss, a seed fixes the run, evaluation does not depend
// on the chunk size, sampling is reproducible, and the checkpoint directory is complete.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sample } from '../src/generate/sample.js';
import { loadModel } from '../src/io/checkpoint.js';
import { evaluate } from '../src/train/evaluate.js';
import { runTraining } from '../src/tasks/index.js';
import { DEFAULT_TRAIN_CONFIG, type StepMetrics, type TrainConfig } from '../src/train/trainer.js';
import { BACKEND_FACTORIES, TESTED_BACKENDS } from './backends.js';

const TEXT = 'the quick brown fox jumps over the lazy dog. '.repeat(40);
const tempDir = () => mkdtempSync(join(tmpdir(), 'rnnkit-test-'));

const config = (overrides: Partial<TrainConfig> = {}): TrainConfig => ({
  ...DEFAULT_TRAIN_CONFIG,
  hidden: 24,
  seq: 10,
  batch: 3,
  steps: 60,
  logEvery: 10,
  saveEvery: 0,
  ...overrides,
});

async function run(name: (typeof TESTED_BACKENDS)[number], overrides: Partial<TrainConfig> = {}) {
  const backend = await BACKEND_FACTORIES[name]();
  const metrics: StepMetrics[] = [];
  const out = tempDir();
  const result = await runTraining({
    text: TEXT,
    config: config(overrides),
    backend,
    out,
    onEvent: (e) => e.type === 'step' && metrics.push(e.metrics),
  });
  return { result, metrics, out, backend };
}

describe.each(TESTED_BACKENDS)('training on %s', (name) => {
  it('lowers the loss well below the uniform level and writes metrics and a checkpoint', async () => {
    const { metrics, out } = await run(name, { embed: 8, layers: 2, logEvery: 1 });
    const uniform = Math.log(new Set(TEXT).size);
    expect(metrics[0]!.loss).toBeGreaterThan(uniform * 0.9); // the first step sees an untrained model
    expect(metrics.at(-1)!.loss).toBeLessThan(uniform * 0.5);
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as StepMetrics);
    expect(lines.map((m) => m.step)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    for (const m of lines) expect(m.tokens_per_s).toBeGreaterThan(0);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
  });

  it('gives the same losses for the same seed, and others for another seed', async () => {
    const a = await run(name, { steps: 20 });
    const b = await run(name, { steps: 20 });
    const c = await run(name, { steps: 20, seed: 2 });
    expect(b.metrics.map((m) => m.loss)).toEqual(a.metrics.map((m) => m.loss));
    expect(c.metrics.map((m) => m.loss)).not.toEqual(a.metrics.map((m) => m.loss));
  });

  it('evaluates the same whatever the chunk size, and samples the same text for the same seed', async () => {
    const { out, backend } = await run(name, { steps: 30, cell: 'rnn', nonlinearity: 'relu' });
    const { model, vocab } = loadModel(out, backend);
    const text = TEXT.slice(0, 301);
    const whole = evaluate(model, vocab, text, 300);
    for (const chunk of [1, 7, 64]) {
      const chunked = evaluate(model, vocab, text, chunk);
      expect(chunked.characters).toBe(300);
      expect(Math.abs(chunked.loss - whole.loss)).toBeLessThan(1e-5 * whole.loss);
    }
    expect(whole.bpc).toBeCloseTo(whole.loss / Math.LN2, 12);
    const first = sample(model, vocab, { length: 80, temperature: 0.8, prime: 'the ', seed: 5 });
    expect(first.startsWith('the ')).toBe(true);
    expect(first).toHaveLength(84);
    expect(sample(model, vocab, { length: 80, temperature: 0.8, prime: 'the ', seed: 5 })).toBe(first);
    expect(sample(model, vocab, { length: 80, temperature: 0.8, prime: 'the ', seed: 6 })).not.toBe(first);
  });

  it.each(['lstm', 'gru'] as const)('trains a 2-layer %s with dropout and lowers the loss', async (cell) => {
    const { metrics } = await run(name, { cell, layers: 2, embed: 6, dropout: 0.2, logEvery: 1, lr: 0.05 });
    const uniform = Math.log(new Set(TEXT).size);
    expect(metrics[0]!.loss).toBeGreaterThan(uniform * 0.9);
    expect(metrics.at(-1)!.loss).toBeLessThan(uniform * 0.6);
  });

  it('--steps 0 writes the initialised checkpoint, and --lr 0 leaves the weights unchanged', async () => {
    const fresh = await run(name, { steps: 0 });
    expect(fresh.result.steps).toBe(0);
    const still = await run(name, { steps: 5, lr: 0 });
    const a = loadModel(fresh.out, fresh.backend).model.params.all.data;
    const b = loadModel(still.out, still.backend).model.params.all.data;
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('--init-from continues from a checkpoint: its shape, vocabulary and weights', async () => {
    const source = await run(name, { steps: 10, hidden: 16, embed: 4 });
    const backend = source.backend;
    const out = tempDir();
    // The shape options given here (the defaults) are not explicit, so the checkpoint's shape wins.
    const result = await runTraining({ text: TEXT, config: config({ steps: 0 }), backend, out, initFrom: source.out });
    expect(result.parameterCount).toBe(source.result.parameterCount);
    const a = loadModel(source.out, backend).model;
    const b = loadModel(out, backend).model;
    expect(b.config).toEqual(a.config);
    expect(Array.from(b.params.all.data)).toEqual(Array.from(a.params.all.data));
    await expect(
      runTraining({
        text: 'ab#'.repeat(50),
        config: config({ steps: 1 }),
        backend,
        out: tempDir(),
        initFrom: source.out,
      }),
    ).rejects.toThrow(/character "#" .* not in the model's vocabulary/);
  });
});
