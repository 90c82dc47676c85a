// Prediction and evaluation with a trained classifier: inputs of any lengths batched together (sorted by
// length, so padding stays small), answers in the inputs' order, the same as one input at a time.
import { ClassifierWorkspace } from '../../model/classifier.js';
import type { ClassifyDataset } from './dataset.js';
import { type EncodedSet, encodeExamples, encodeTexts } from './encode.js';
import { type ClassificationMetrics, argmax, classificationMetrics } from './metrics.js';
import type { Classifier } from './classifier-file.js';
import { forEachBatch, scoreExamples } from './scoring.js';

/** Examples per forward pass when predicting or evaluating. */
const BATCH = 64;

const longest = (set: EncodedSet): number => set.lengths.reduce((a, b) => Math.max(a, b), 1);

function workspaceFor(c: Classifier, set: EncodedSet): ClassifierWorkspace {
  return new ClassifierWorkspace(c.model, longest(set), Math.min(BATCH, Math.max(1, set.lengths.length)), c.pool);
}

const maxLenOf = (c: Classifier): number => (c.maxLen > 0 ? c.maxLen : Infinity);

/** The class probabilities of each text, [C] per text, in order. */
export function classProbabilities(c: Classifier, texts: readonly string[]): Float32Array[] {
  const set = encodeTexts(texts, c.vocab, maxLenOf(c));
  const C = c.labels.size;
  const out: Float32Array[] = new Array(texts.length);
  if (texts.length === 0) return out;
  const workspace = workspaceFor(c, set);
  forEachBatch(workspace, set, workspace.maxB, false, (batch, probs) =>
    batch.indices.forEach((example, row) => (out[example] = probs.slice(row * C, (row + 1) * C))),
  );
  return out;
}

/** The label of the most probable class of each probability row. */
export const labelOf = (c: Classifier, probs: Float32Array): string => c.labels.labels[argmax(probs)]!;

/** Loss, accuracy, macro-F1, per-class figures and the confusion matrix of a labelled data set. */
export function evaluateClassifier(c: Classifier, dataset: ClassifyDataset): ClassificationMetrics {
  const set = encodeExamples(dataset.examples, c.vocab, c.labels, dataset.source, maxLenOf(c));
  const workspace = workspaceFor(c, set);
  const { loss, predicted } = scoreExamples(workspace, set, workspace.maxB);
  return classificationMetrics(predicted, set.labels, c.labels.labels, loss);
}
