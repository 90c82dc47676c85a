// Samples taken during training: a new seed for each (seed + step), so that they do not all start alike,
// and still the same samples from the same run.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { runTraining } from '../src/tasks/index.js';
import { DEFAULT_TRAIN_CONFIG, type TrainEvent } from '../src/train/trainer.js';

const work = mkdtempSync(join(tmpdir(), 'rnnkit-samples-'));
const text = 'the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. '.repeat(20);

async function samples(name: string): Promise<string[]> {
  const found: string[] = [];
  // lr 0: the model never changes, so only the seed can make one sample differ from the next.
  const config = { ...DEFAULT_TRAIN_CONFIG, hidden: 16, steps: 4, lr: 0, sampleEvery: 1, sampleLength: 40, seed: 5 };
  const onEvent = (e: TrainEvent): void => void (e.type === 'sample' && found.push(e.text));
  await runTraining({ text, config, backend: new ReferenceBackend(), out: join(work, name), onEvent });
  return found;
}

it('each sample during training has its own seed, reproducibly', async () => {
  const first = await samples('a');
  expect(first).toHaveLength(4);
  expect(new Set(first).size).toBe(4);
  expect(await samples('b')).toEqual(first);
});
