// The input vocabulary of a classifier: the sorted code points of the training split, with one extra
// entry, id 0, for every character not in it (characters of validation or new text, and training
// characters seen fewer than `minCount` times, so that the unknown entry is trained too). Padding
// positions also hold id 0; they lie past a sequence's length and are never read.
import { badCheckpoint } from '../../errors.js';

export const UNKNOWN_ID = 0;

/** The JSON form a checkpoint stores: `chars[i]` (one code point) has id i + 1; id 0 is the unknown entry. */
export interface CharVocabularyJSON {
  unknown: typeof UNKNOWN_ID;
  chars: string[];
}

export class CharVocabulary {
  private readonly index = new Map<number, number>();

  /** `chars`: distinct one-code-point strings in ascending code point order; chars[i] gets id i + 1. */
  private constructor(readonly chars: readonly string[]) {
    chars.forEach((ch, i) => this.index.set(ch.codePointAt(0)!, i + 1));
  }

  /** The code points of `texts` seen at least `minCount` times, sorted. */
  static fromTexts(texts: Iterable<string>, minCount = 1): CharVocabulary {
    const counts = new Map<number, number>();
    for (const text of texts)
      for (const ch of text) counts.set(ch.codePointAt(0)!, (counts.get(ch.codePointAt(0)!) ?? 0) + 1);
    const kept = [...counts].filter(([, n]) => n >= minCount).map(([cp]) => cp);
    return new CharVocabulary(kept.sort((a, b) => a - b).map((cp) => String.fromCodePoint(cp)));
  }

  static fromJSON(value: unknown, what = 'vocabulary'): CharVocabulary {
    const json = value as Partial<CharVocabularyJSON> | null;
    if (typeof json !== 'object' || json === null || json.unknown !== UNKNOWN_ID || !Array.isArray(json.chars)) {
      throw badCheckpoint(`${what} must be an object {"unknown": 0, "chars": [...]}`);
    }
    let previous = -1;
    json.chars.forEach((ch: unknown, i) => {
      const cp = typeof ch === 'string' ? ch.codePointAt(0) : undefined;
      if (cp === undefined || String.fromCodePoint(cp) !== ch)
        throw badCheckpoint(`${what}: entry ${i} (${JSON.stringify(ch)}) is not exactly one code point`);
      if (cp <= previous)
        throw badCheckpoint(`${what}: entry ${i} (${JSON.stringify(ch)}) is not in ascending code point order`);
      previous = cp;
    });
    return new CharVocabulary(json.chars as string[]);
  }

  /** The number of ids, the unknown entry included (the embedding's row count). */
  get size(): number {
    return this.chars.length + 1;
  }

  id(codePoint: number): number {
    return this.index.get(codePoint) ?? UNKNOWN_ID;
  }

  toJSON(): CharVocabularyJSON {
    return { unknown: UNKNOWN_ID, chars: [...this.chars] };
  }
}
