// Running a classifier over an encoded set in batches of similar length (prediction, evaluation, validation),
// without file system access: the browser entry predicts with it too.
import { ClassifierWorkspace } from '../../model/classifier.js';
import { outputsOf } from '../../model/config.js';
import { type ClassifyBatch, evaluationBatches } from './batcher.js';
import type { EncodedSet } from './encode.js';
import { argmax } from './metrics.js';

/** Copies a batch into the workspace's input spans. */
export function load(workspace: ClassifierWorkspace, batch: ClassifyBatch): void {
  workspace.ids.data.set(batch.ids);
  workspace.lengths.data.set(batch.lengths);
  workspace.labels.data.set(batch.labels);
}

/** Runs the model over `set` in batches of at most `batch` examples of similar length, handing each batch's
 *  softmax [B,C] to `visit`; returns the loss summed over the examples (NaN without labels). */
export function forEachBatch(
  workspace: ClassifierWorkspace,
  set: EncodedSet,
  batch: number,
  withLabels: boolean,
  visit: (b: ClassifyBatch, probs: Float32Array) => void,
): number {
  let loss = 0;
  for (const b of evaluationBatches(set, batch)) {
    load(workspace, b);
    loss += workspace.forward(b.T, b.B, withLabels);
    visit(b, workspace.probabilities(b.B));
  }
  return loss;
}

/** Runs the model over `set` in batches of `batch`: mean loss and the predicted class of every example. */
export function scoreExamples(
  workspace: ClassifierWorkspace,
  set: EncodedSet,
  batch: number,
): { loss: number; predicted: Int32Array } {
  const predicted = new Int32Array(set.lengths.length);
  const C = outputsOf(workspace.model.config);
  const loss = forEachBatch(workspace, set, batch, true, (b, probs) =>
    b.indices.forEach((example, row) => (predicted[example] = argmax(probs, row * C, C))),
  );
  return { loss: loss / set.lengths.length, predicted };
}
