// A classifier checkpoint's contents, without file system access (the browser entry uses it too): the classify
// task's metadata in model.safetensors (labels, vocabulary with its unknown entry, pooling, --max-len), written
// and read back. model-file.ts reads and writes checkpoint directories with it.
import type { Backend } from '../../backend/types.js';
import { badCheckpoint } from '../../errors.js';
import { type TaskMetadata, type TaskSizes, decodeModelFile, modelFromFile } from '../../io/model-bytes.js';
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

/** The metadata a classifier checkpoint stores beside its tensors. */
export const classifierMeta = (c: Classifier): TaskMetadata => ({
  task: 'classify',
  pool: c.pool,
  max_len: c.maxLen,
  labels: c.labels.toJSON(),
  vocab: c.vocab.toJSON(),
});

/** What a loader returns: the model of task classify built with the sizes it was given, and the metadata. */
type LoadClassify = (sizes: TaskSizes) => { model: Model; meta: Record<string, unknown>; path: string };

/** A classifier from a loader of its model file, with the vocabulary, labels, pool and max_len checked. */
export function readClassifier(load: LoadClassify): Classifier {
  let vocab: CharVocabulary | undefined, labels: LabelSet | undefined;
  const { model, meta, path } = load((meta, path) => {
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

/** A classifier from the bytes of its model.safetensors (`path` names it in error messages). */
export function decodeClassifier(bytes: Uint8Array, backend: Backend, path = 'model.safetensors'): Classifier {
  const file = decodeModelFile(bytes, path);
  return readClassifier((sizes) => ({
    model: modelFromFile(file, backend, 'classify', sizes, path),
    meta: file.meta,
    path: file.path,
  }));
}
