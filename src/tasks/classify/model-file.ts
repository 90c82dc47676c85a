// A classifier checkpoint: model.safetensors with the classify task's metadata (labels, vocabulary with its
// unknown entry, pooling, --max-len), loaded for prediction and evaluation.
import type { Backend } from '../../backend/types.js';
import { badCheckpoint } from '../../errors.js';
import { loadModelFile, saveModelFile } from '../../io/checkpoint.js';
import { POOLINGS, type Pooling } from '../../model/classifier.js';
import type { Model } from '../../model/model.js';
import { LabelSet } from './labels.js';
import { CharVocabulary } from './vocab.js';

export interface Classifier {
  model: Model;
  vocab: CharVocabulary;
  labels: LabelSet;
  pool: Pooling;
  /** Inputs are cut to their first maxLen code points, as in training (0 = no limit). */
  maxLen: number;
}

export function saveClassifier(dir: string, c: Classifier): void {
  saveModelFile(dir, c.model, {
    task: 'classify',
    pool: c.pool,
    max_len: c.maxLen,
    labels: c.labels.toJSON(),
    vocab: c.vocab.toJSON(),
  });
}

export function loadClassifier(dir: string, backend: Backend): Classifier {
  let vocab: CharVocabulary | undefined, labels: LabelSet | undefined;
  const { model, meta, path } = loadModelFile(dir, backend, 'classify', (meta, path) => {
    vocab = CharVocabulary.fromJSON(meta['vocab'], `${path}: vocab`);
    labels = LabelSet.fromJSON(meta['labels'], `${path}: labels`);
    return { vocabSize: vocab.size, outputs: labels.size };
  });
  const pool = meta['pool'] as Pooling;
  if (!(POOLINGS as readonly string[]).includes(pool))
    throw badCheckpoint(`${path}: pool must be one of ${POOLINGS.join(', ')}, got ${JSON.stringify(pool)}`);
  const maxLen = meta['max_len'];
  if (typeof maxLen !== 'number' || !Number.isSafeInteger(maxLen) || maxLen < 0)
    throw badCheckpoint(`${path}: max_len must be an integer >= 0`);
  return { model, vocab: vocab!, labels: labels!, pool, maxLen };
}
