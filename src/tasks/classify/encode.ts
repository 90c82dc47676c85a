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
export function encodeExamples(
  examples: readonly Example[],
  vocab: CharVocabulary,
  labelSet: LabelSet,
  source: string,
  maxLen = Infinity,
): EncodedSet {
  const labels = labelSet.encode(examples, source);
  return {
    ...encodeTexts(
      examples.map((e) => e.text),
      vocab,
      maxLen,
    ),
    labels,
  };
}

/** Texts as ids, each cut to its first maxLen code points; labels are all 0 (unlabelled texts, to predict).
 *  An empty text is an error. Two passes: lengths first, then the ids straight into one Int32Array. */
export function encodeTexts(texts: readonly string[], vocab: CharVocabulary, maxLen = Infinity): EncodedSet {
  checkMaxLen(maxLen);
  const lengths = new Int32Array(texts.length);
  const offsets = new Int32Array(texts.length);
  let total = 0,
    truncated = 0;
  texts.forEach((text, i) => {
    let n = 0;
    for (const _ of text) if (++n > maxLen) break;
    if (n === 0) throw invalidInput(`input ${i + 1} is empty`);
    if (n > maxLen) truncated++;
    lengths[i] = Math.min(n, maxLen);
    offsets[i] = total;
    total += lengths[i]!;
  });
  const ids = new Int32Array(total);
  let unknown = 0;
  texts.forEach((text, i) => {
    let at = offsets[i]!;
    const end = at + lengths[i]!;
    for (const ch of text) {
      if (at === end) break;
      const id = vocab.id(ch.codePointAt(0)!);
      if (id === UNKNOWN_ID) unknown++;
      ids[at++] = id;
    }
  });
  return { ids, offsets, lengths, labels: new Int32Array(texts.length), truncated, unknown };
}
