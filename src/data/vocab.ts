// The vocabulary of a character model: the sorted set of Unicode code points of the training text.
import { invalidInput } from '../errors.js';

export class Vocabulary {
  private readonly index: Map<number, number>;

  /** `chars` are one-code-point strings, distinct, in id order. */
  constructor(readonly chars: readonly string[]) {
    if (!Array.isArray(chars))
      throw new TypeError(`Vocabulary: chars must be an array of one-character strings, got ${typeof chars}`);
    this.index = new Map();
    chars.forEach((ch, id) => {
      if (typeof ch !== 'string') throw new TypeError(`Vocabulary: chars[${id}] must be a string, got ${typeof ch}`);
      const cp = ch.codePointAt(0);
      if (cp === undefined || String.fromCodePoint(cp) !== ch)
        throw invalidInput(`vocabulary entry ${id} (${JSON.stringify(ch)}) is not exactly one code point`);
      if (this.index.has(cp)) throw invalidInput(`vocabulary entry ${id} (${JSON.stringify(ch)}) appears twice`);
      this.index.set(cp, id);
    });
    if (chars.length < 2)
      throw invalidInput(`a vocabulary needs at least 2 distinct characters, found ${chars.length}`);
  }

  /** The sorted distinct code points of `text`. */
  static fromText(text: string): Vocabulary {
    if (typeof text !== 'string') throw new TypeError(`Vocabulary.fromText: text must be a string, got ${typeof text}`);
    const codePoints = new Set<number>();
    for (const ch of text) codePoints.add(ch.codePointAt(0)!);
    if (codePoints.size < 2) {
      throw invalidInput(
        text.length === 0
          ? 'the text is empty'
          : `the text has only ${codePoints.size} distinct character; a model needs at least 2`,
      );
    }
    return new Vocabulary([...codePoints].sort((a, b) => a - b).map((cp) => String.fromCodePoint(cp)));
  }

  get size(): number {
    return this.chars.length;
  }

  /** Token ids of `text`; a character outside the vocabulary is an error naming it and its position. */
  encode(text: string, what = 'text'): Int32Array {
    if (typeof text !== 'string') throw new TypeError(`${what} must be a string, got ${typeof text}`);
    const ids = new Int32Array(text.length); // code points ≤ UTF-16 units; a typed array has no 112 M-element limit
    let position = 0;
    for (const ch of text) {
      const id = this.index.get(ch.codePointAt(0)!);
      if (id === undefined) {
        throw invalidInput(
          `${what} has character ${JSON.stringify(ch)} (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) at position ${position}, which is not in the model's vocabulary`,
        );
      }
      ids[position++] = id;
    }
    return position === ids.length ? ids : ids.slice(0, position);
  }

  decode(ids: ArrayLike<number>): string {
    return Array.from(ids, (id) => this.chars[id] ?? '').join('');
  }
}
