// Character and word error rates: Levenshtein edits (substitutions, insertions, deletions) summed over the
// utterances, divided by the reference characters (words) summed — the usual corpus-level CER and WER.

/** The fewest single-element edits turning `hypothesis` into `reference`. */
export function editDistance<T>(reference: readonly T[], hypothesis: readonly T[]): number {
  let previous = Array.from({ length: hypothesis.length + 1 }, (_, j) => j);
  for (let i = 1; i <= reference.length; i++) {
    const current = [i];
    for (let j = 1; j <= hypothesis.length; j++) {
      const substitute = previous[j - 1]! + (reference[i - 1] === hypothesis[j - 1] ? 0 : 1);
      current.push(Math.min(substitute, previous[j]! + 1, current[j - 1]! + 1));
    }
    previous = current;
  }
  return previous[hypothesis.length]!;
}

const words = (text: string): string[] => text.split(' ').filter((w) => w !== '');

export interface ErrorRates {
  cer: number;
  wer: number;
  utterances: number;
}

/** Corpus CER and WER of hypotheses against references (texts with words separated by single spaces). */
export function errorRates(pairs: readonly { reference: string; hypothesis: string }[]): ErrorRates {
  let charEdits = 0,
    chars = 0,
    wordEdits = 0,
    wordCount = 0;
  for (const { reference, hypothesis } of pairs) {
    charEdits += editDistance([...reference], [...hypothesis]);
    chars += [...reference].length;
    wordEdits += editDistance(words(reference), words(hypothesis));
    wordCount += words(reference).length;
  }
  return { cer: chars ? charEdits / chars : 0, wer: wordCount ? wordEdits / wordCount : 0, utterances: pairs.length };
}
