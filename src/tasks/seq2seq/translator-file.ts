// A seq2seq checkpoint's contents, without file system access (the browser entry uses it too): the task's
// metadata in model.safetensors (both vocabularies with their units, the longest training target, lowercasing),
// written and read back. model-file.ts reads and writes checkpoint directories with it.
import type { Backend } from '../../backend/types.js';
import { badCheckpoint } from '../../errors.js';
import { type TaskMetadata, type TaskSizes, decodeModelFile, modelFromFile } from '../../io/model-bytes.js';
import type { Model } from '../../model/model.js';
import { TokenVocabulary } from './vocab.js';

export interface Translator {
  model: Model;
  sourceVocab: TokenVocabulary;
  targetVocab: TokenVocabulary;
  /** Tokens of the longest training target: the default --max-length is 10 more. */
  maxTargetLength: number;
  /** Inputs are lowercased before they are read (CMUdict's words are lowercase: HELLO reads as hello). */
  lowercase: boolean;
}

/** The metadata a seq2seq checkpoint stores beside its tensors. */
export const translatorMeta = (t: Translator): TaskMetadata => ({
  task: 'seq2seq',
  source_vocab: t.sourceVocab.toJSON(),
  target_vocab: t.targetVocab.toJSON(),
  max_target_length: t.maxTargetLength,
  lowercase: t.lowercase,
});

/** What a loader returns: the model of task seq2seq built with the sizes it was given, and the metadata. */
type LoadSeq2Seq = (sizes: TaskSizes) => { model: Model; meta: Record<string, unknown>; path: string };

/** A translator from a loader of its model file, with the vocabularies, max_target_length and lowercase checked. */
export function readTranslator(load: LoadSeq2Seq): Translator {
  let sourceVocab: TokenVocabulary | undefined, targetVocab: TokenVocabulary | undefined;
  const { model, meta, path } = load((meta, path) => {
    sourceVocab = TokenVocabulary.fromJSON(meta['source_vocab'], 'source', `${path}: source_vocab`);
    targetVocab = TokenVocabulary.fromJSON(meta['target_vocab'], 'target', `${path}: target_vocab`);
    return { vocabSize: sourceVocab.size, outputs: targetVocab.size, architecture: 'seq2seq' };
  });
  const maxTargetLength = meta['max_target_length'];
  if (typeof maxTargetLength !== 'number' || !Number.isSafeInteger(maxTargetLength) || maxTargetLength < 1)
    throw badCheckpoint(`${path}: max_target_length must be an integer >= 1`);
  const lowercase = meta['lowercase'] ?? false;
  if (typeof lowercase !== 'boolean') throw badCheckpoint(`${path}: lowercase must be true or false`);
  return { model, sourceVocab: sourceVocab!, targetVocab: targetVocab!, maxTargetLength, lowercase };
}

/** A translator from the bytes of its model.safetensors (`path` names it in error messages). */
export function decodeTranslator(bytes: Uint8Array, backend: Backend, path = 'model.safetensors'): Translator {
  const file = decodeModelFile(bytes, path);
  return readTranslator((sizes) => ({
    model: modelFromFile(file, backend, 'seq2seq', sizes, path),
    meta: file.meta,
    path: file.path,
  }));
}
