// Batches of pairs for the seq2seq model: the classifier's bucketing (by source length, a pure function of
// seed and epoch, so a restored cursor continues exactly) over the sources, and the batch's targets laid out
// for teacher forcing: the decoder reads <s> y_1 … y_n and is scored on y_1 … y_n </s>.
import type { Seq2SeqWorkspace } from '../../model/seq2seq.js';
import type { EncodedSet } from '../classify/encode.js';
import { TARGET_END, TARGET_PAD, TARGET_START } from './vocab.js';
import type { EncodedPairs } from './prepare.js';

/** The sources of `pairs` as the bucket batcher's set (labels: unused). */
export function sourceSet(pairs: EncodedPairs): EncodedSet {
  const lengths = Int32Array.from(pairs.sources, (s) => s.length);
  const offsets = new Int32Array(lengths.length);
  let total = 0;
  lengths.forEach((length, i) => {
    offsets[i] = total;
    total += length;
  });
  const ids = new Int32Array(total);
  pairs.sources.forEach((s, i) => ids.set(s, offsets[i]!));
  return { ids, offsets, lengths, labels: new Int32Array(lengths.length), truncated: 0, unknown: 0 };
}

/** Longest source and longest decoder input (target + 1) of `pairs`. */
export function longestOf(pairs: EncodedPairs): { S: number; T: number } {
  let S = 1,
    T = 1;
  pairs.sources.forEach((s, i) => {
    S = Math.max(S, s.length);
    T = Math.max(T, pairs.targets[i]!.length + 1);
  });
  return { S, T };
}

/** Writes pairs `indices` into the workspace; returns the batch's S, T, B. */
export function loadPairs(
  ws: Seq2SeqWorkspace,
  pairs: EncodedPairs,
  indices: ArrayLike<number>,
): { S: number; T: number; B: number } {
  const B = indices.length;
  let S = 1,
    T = 1;
  for (let b = 0; b < B; b++) {
    S = Math.max(S, pairs.sources[indices[b]!]!.length);
    T = Math.max(T, pairs.targets[indices[b]!]!.length + 1);
  }
  const src = ws.sourceIds.data,
    tin = ws.targetIn.data,
    tout = ws.targetOut.data;
  src.fill(0, 0, S * B);
  tin.fill(TARGET_PAD, 0, T * B);
  tout.fill(-1, 0, T * B);
  for (let b = 0; b < B; b++) {
    const source = pairs.sources[indices[b]!]!,
      target = pairs.targets[indices[b]!]!;
    source.forEach((id, s) => (src[s * B + b] = id));
    ws.sourceLengths.data[b] = source.length;
    tin[b] = TARGET_START;
    target.forEach((id, t) => {
      tin[(t + 1) * B + b] = id;
      tout[t * B + b] = id;
    });
    tout[target.length * B + b] = TARGET_END;
  }
  return { S, T, B };
}
