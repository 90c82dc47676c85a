// Scoring a model on a stream of generated sequences: the adding problem's mean squared error, the copy
// problem's cross-entropy per step and the accuracy of its 10 recalled symbols. Training validation, `rnnkit
// eval` and the tests use these.
import type { Workspace } from '../../model/workspace.js';
import type { RegressorWorkspace } from '../../model/regressor.js';
import { argmax } from '../classify/metrics.js';
import { COPY_LENGTH, COPY_VOCAB, type Stream, addingBatch, batchRandom, copyBatch, copySteps } from './generate.js';

/** Sequences in a validation pass (the test set of `rnnkit eval` is larger). */
export const VALIDATION_SEQUENCES = 1024;

/** Batches of at most `batch` sequences covering `count`. */
function* batchSizes(count: number, batch: number): Generator<[index: number, B: number]> {
  for (let index = 0, done = 0; done < count; index++, done += batch) yield [index, Math.min(batch, count - done)];
}

/** The mean squared error over `count` adding sequences of T steps from `stream`. */
export function scoreAdding(
  workspace: RegressorWorkspace,
  T: number,
  seed: number,
  stream: Stream,
  count: number,
): number {
  let sum = 0;
  for (const [index, B] of batchSizes(count, workspace.maxB)) {
    addingBatch(batchRandom(seed, stream, index), T, B, workspace.frames.data, workspace.targets.data);
    sum += workspace.forward(T, B, true);
  }
  return sum / count;
}

/** The mean cross-entropy per step and the accuracy of the recalled symbols over `count` copy sequences
 *  (whole batches of the workspace's B: count is rounded up to them). */
export function scoreCopy(
  workspace: Workspace,
  delay: number,
  seed: number,
  stream: Stream,
  count: number,
): { loss: number; accuracy: number; sequences: number } {
  const T = copySteps(delay),
    B = workspace.batch;
  let loss = 0,
    correct = 0,
    batches = 0;
  for (let index = 0; index * B < count; index++, batches++) {
    copyBatch(batchRandom(seed, stream, index), delay, B, workspace.ids.data, workspace.targets.data);
    workspace.resetState();
    loss += workspace.forward(T, true) / (T * B);
    const logits = workspace.logits(T).data,
      targets = workspace.targets.data;
    for (let t = T - COPY_LENGTH; t < T; t++) {
      for (let b = 0; b < B; b++)
        if (argmax(logits, (t * B + b) * COPY_VOCAB, COPY_VOCAB) === targets[t * B + b]) correct++;
    }
  }
  return { loss: loss / batches, accuracy: correct / (batches * B * COPY_LENGTH), sequences: batches * B };
}
