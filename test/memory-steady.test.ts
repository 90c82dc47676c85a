// No backend allocation inside the training loop: after the first steps (which size the kernels'
// scratch), training, validation, sampling and checkpointing leave the WASM heap where it was.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { type WasmBackend, loadWasmBackend } from '../src/backend/wasm.js';
import { DEFAULT_TRAIN_CONFIG, runTraining } from '../src/train/trainer.js';

it('the WASM heap does not grow during training after the first step', async () => {
  const backend = (await loadWasmBackend()) as WasmBackend;
  const sizes: number[] = [];
  await runTraining({
    text: 'A long time ago in a galaxy far, far away. '.repeat(80),
    backend,
    out: join(mkdtempSync(join(tmpdir(), 'rnnkit-mem-')), 'run'),
    config: {
      ...DEFAULT_TRAIN_CONFIG, cell: 'lstm', layers: 2, hidden: 24, embed: 6, dropout: 0.1, seq: 12, batch: 4, steps: 60,
      optimizer: 'adam', lr: 0.01, valFrac: 0.1, evalEvery: 10, sampleEvery: 15, sampleLength: 30, saveEvery: 20, logEvery: 1,
    },
    onEvent: (e) => e.type === 'step' && sizes.push(backend.bytesAllocated),
  });
  expect(sizes).toHaveLength(60);
  expect(new Set(sizes.slice(1)).size).toBe(1);
});
