// Examples as model input: each text as the ids of its first `maxLen` code points, all sequences back to
// back in one Int32Array, and each label as its class id.
import { invalidInput, invalidOption } from '../../errors.js';
import type { Example } from './dataset.js';
import type { LabelSet } from './labels.js';
import { UNKNOWN_ID, type CharVocabulary } from './vocab.js';

export interface EncodedSet {
  /** Sequence i is ids[offsets[i] .. offsets[i] + lengths[i]). */
  ids: Int32Array;
  offsets: Int32Array;
  /** ≥ 1 each (the reader refuses empty texts). */
  lengths: Int32Array;
  labels: Int32Array;
  /** Examples longer than maxLen, cut to their first maxLen code points (to report to the user). */
  truncated: number;
  /** Characters that were encoded as the unknown id. */
  unknown: number;
}

export function checkMaxLen(maxLen: number): void {
  if (maxLen !== Infinity && !(Number.isInteger(maxLen) && maxLen >= 1 && maxLen <= 2 ** 31 - 1)) {
    throw invalidOption(`max-len must be a positive integer, got ${maxLen}`);
  }
}

/** `source` names the examples' file in errors (a label the training data did not have). */
export function encodeExamples(examples: readonly Example[], vocab: CharVocabulary, labelSet: LabelSet, source: string, maxLen = Infinity): EncodedSet {
  checkMaxLen(maxLen);
  const labels = labelSet.encode(examples, source);
  const lengths = new Int32Array(examples.length);
  const offsets = new Int32Array(examples.length);
  let total = 0, truncated = 0;
  examples.forEach((example, i) => {
    let n = 0;
    for (const _ of example.text) if (++n > maxLen) break;
    if (n > maxLen) truncated++;
    lengths[i] = Math.min(n, maxLen);
    offsets[i] = total;
    total += lengths[i]!;
  });
  const ids = new Int32Array(total);
  let unknown = 0;
  examples.forEach((example, i) => {
    let at = offsets[i]!;
    const end = at + lengths[i]!;
    for (const ch of example.text) {
      if (at === end) break;
      const id = vocab.id(ch.codePointAt(0)!);
      if (id === UNKNOWN_ID) unknown++;
      ids[at++] = id;
    }
  });
  return { ids, offsets, lengths, labels, truncated, unknown };
}

/** Unlabelled texts (to predict) in the same layout; labels are all 0. An empty text is an error. */
export function encodeTexts(texts: readonly string[], vocab: CharVocabulary, maxLen = Infinity): EncodedSet {
  checkMaxLen(maxLen);
  const lengths = new Int32Array(texts.length);
  const offsets = new Int32Array(texts.length);
  const chunks: number[][] = [];
  let total = 0, truncated = 0, unknown = 0;
  texts.forEach((text, i) => {
    const ids: number[] = [];
    for (const ch of text) {
      if (ids.length === maxLen) {
        truncated++;
        break;
      }
      const id = vocab.id(ch.codePointAt(0)!);
      if (id === UNKNOWN_ID) unknown++;
      ids.push(id);
    }
    if (ids.length === 0) throw invalidInput(`input ${i + 1} is empty`);
    chunks.push(ids);
    lengths[i] = ids.length;
    offsets[i] = total;
    total += ids.length;
  });
  const ids = new Int32Array(total);
  chunks.forEach((chunk, i) => ids.set(chunk, offsets[i]!));
  return { ids, offsets, lengths, labels: new Int32Array(texts.length), truncated, unknown };
}
