// Scores of decoded outputs against references, as grapheme-to-phoneme and translation work reports them:
// the word error rate (share of inputs whose output equals none of its references) and the token error
// rate (for pronunciations, the phoneme error rate): the edit distance to the nearest reference divided by
// that reference's length, summed over inputs and divided by the summed reference lengths.
export interface SequenceScores {
  /** Share of inputs whose output equals no reference, in [0, 1]. */
  wer: number;
  /** Total edit distance to the nearest references / their total length. */
  per: number;
  examples: number;
}

/** Levenshtein distance (insertions, deletions, substitutions each cost 1), in O(min(n, m)) memory. */
export function editDistance<T>(a: readonly T[], b: readonly T[]): number {
  if (a.length < b.length) [a, b] = [b, a];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(substitution, previous[j]! + 1, current[j - 1]! + 1);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length]!;
}

/** `outputs[i]` (tokens) scored against `references[i]` (one or more token lists). The nearest reference
 *  is the one with the fewest edits; ties go to the shorter one (the higher rate, never flattering). */
export function scoreSequences(
  outputs: readonly (readonly string[])[],
  references: readonly (readonly (readonly string[])[])[],
): SequenceScores {
  if (outputs.length !== references.length)
    throw new RangeError(`scoreSequences: ${outputs.length} outputs but ${references.length} reference lists`);
  let wrong = 0;
  let edits = 0;
  let length = 0;
  outputs.forEach((output, i) => {
    const refs = references[i]!;
    if (refs.length === 0) throw new RangeError(`scoreSequences: input ${i} has no reference`);
    let best = { edits: Infinity, length: 0 };
    for (const ref of refs) {
      const d = editDistance(output, ref);
      if (d < best.edits || (d === best.edits && ref.length < best.length)) best = { edits: d, length: ref.length };
    }
    if (best.edits > 0) wrong++;
    edits += best.edits;
    length += best.length;
  });
  const examples = outputs.length;
  return { wer: examples === 0 ? 0 : wrong / examples, per: length === 0 ? 0 : edits / length, examples };
}
