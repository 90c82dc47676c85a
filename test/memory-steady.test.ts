// No backend allocation inside the training loop: after the first steps (which size the kernels'
// scratch), training, validation, sampling and checkpointing leave the WASM heap, and the native
// engine's scratch, where they were.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadNativeBackend } from '../src/backend/native.js';
import type { Backend } from '../src/backend/types.js';
import { type WasmBackend, loadWasmBackend } from '../src/backend/wasm.js';
import { runTraining } from '../src/tasks/index.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../src/train/trainer.js';
import { TESTED_BACKENDS } from './backends.js';

/** 60 steps with validation every 10, samples every 15 and checkpoints every 20; `measure` after each step. */
async function train(backend: Backend, config: Partial<TrainConfig>, measure: () => number): Promise<number[]> {
  const sizes: number[] = [];
  await runTraining({
    text: 'A long time ago in a galaxy far, far away. '.repeat(80),
    backend,
    out: join(mkdtempSync(join(tmpdir(), 'rnnkit-mem-')), 'run'),
    config: {
      ...DEFAULT_TRAIN_CONFIG,
      cell: 'lstm',
      layers: 2,
      hidden: 24,
      embed: 6,
      dropout: 0.1,
      seq: 12,
      batch: 4,
      steps: 60,
      optimizer: 'adam',
      lr: 0.01,
      valFrac: 0.1,
      evalEvery: 10,
      sampleEvery: 15,
      sampleLength: 30,
      saveEvery: 20,
      logEvery: 1,
      ...config,
    },
    onEvent: (e) => e.type === 'step' && sizes.push(measure()),
  });
  expect(sizes).toHaveLength(60);
  return sizes;
}

it('the WASM heap does not grow during training after the first step', async () => {
  const backend = (await loadWasmBackend()) as WasmBackend;
  const sizes = await train(backend, {}, () => backend.bytesAllocated);
  expect(new Set(sizes.slice(1)).size).toBe(1);
});

it.skipIf(!TESTED_BACKENDS.includes('native'))(
  'the native engine allocates scratch only for new shapes: the first step and the first validation',
  async () => {
    const backend = loadNativeBackend();
    // one-hot input (the table path), GRU as well as LSTM
    for (const cell of ['lstm', 'gru'] as const) {
      const sizes = await train(backend, { cell, embed: 0 }, () => backend.scratchBytes);
      // steps 1–9 train; validation first runs after step 10 (its own batch shape); nothing grows after
      expect(new Set(sizes.slice(0, 9)).size).toBe(1);
      expect(new Set(sizes.slice(9)).size).toBe(1);
    }
  },
);
