// The recogniser's output symbols: id 0 is the CTC blank, ids 1 … are the characters of the training
// transcripts in code-point order.
import { invalidInput } from '../errors.js';

export class Alphabet {
  readonly #ids: Map<string, number>;

  constructor(readonly symbols: readonly string[]) {
    this.#ids = new Map(symbols.map((s, i) => [s, i + 1]));
  }

  /** The characters of the texts, sorted by code point. */
  static of(texts: readonly string[]): Alphabet {
    return new Alphabet([...new Set(texts.flatMap((t) => [...t]))].sort());
  }

  /** Symbols including the blank. */
  get size(): number {
    return this.symbols.length + 1;
  }

  encode(text: string, where: string): number[] {
    return [...text].map((ch) => {
      const id = this.#ids.get(ch);
      if (id === undefined)
        throw invalidInput(
          `${where}: the character ${JSON.stringify(ch)} is not in the model's alphabet (${JSON.stringify(this.symbols.join(''))})`,
        );
      return id;
    });
  }

  decode(labels: readonly number[]): string {
    return labels.map((id) => this.symbols[id - 1] ?? '').join('');
  }
}
