// A seq2seq checkpoint: model.safetensors in the names of test/fixtures/seq2seq_model.py's Seq2Seq, with the
// task's metadata (both vocabularies with their units, the longest training target), loaded to translate
// and evaluate.
import type { Backend } from '../../backend/types.js';
import { badCheckpoint } from '../../errors.js';
import { loadModelFile, saveModelFile } from '../../io/checkpoint.js';
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

export function saveTranslator(dir: string, t: Translator): void {
  saveModelFile(dir, t.model, {
    task: 'seq2seq',
    source_vocab: t.sourceVocab.toJSON(),
    target_vocab: t.targetVocab.toJSON(),
    max_target_length: t.maxTargetLength,
    lowercase: t.lowercase,
  });
}

export function loadTranslator(dir: string, backend: Backend): Translator {
  let sourceVocab: TokenVocabulary | undefined, targetVocab: TokenVocabulary | undefined;
  const { model, meta, path } = loadModelFile(dir, backend, 'seq2seq', (meta, path) => {
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
