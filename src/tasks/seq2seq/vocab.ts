// The vocabulary of one side of a sequence-to-sequence model: a few special entries first, then the tokens
// of the training split in sorted order. The source side has one special entry, the unknown token (id 0,
// also what padding positions hold; they lie past a sequence's length and are never read). The target side
// has padding (0), start (1), end (2) and unknown (3): the decoder starts from the start token and stops at
// the end token, and a target token never seen in training is scored as the unknown one.
import { badCheckpoint } from '../../errors.js';
import { TOKEN_UNITS, tokenize, type TokenUnit } from './tokens.js';

export const SOURCE_SPECIALS = ['<unk>'] as const;
export const TARGET_SPECIALS = ['<pad>', '<s>', '</s>', '<unk>'] as const;
export const SOURCE_UNKNOWN = 0;
export const TARGET_PAD = 0;
export const TARGET_START = 1;
export const TARGET_END = 2;
export const TARGET_UNKNOWN = 3;

export interface TokenVocabularyJSON {
  unit: TokenUnit;
  specials: string[];
  tokens: string[];
}

export class TokenVocabulary {
  private readonly index = new Map<string, number>();

  private constructor(
    readonly unit: TokenUnit,
    readonly specials: readonly string[],
    readonly tokens: readonly string[],
    private readonly unknown: number,
  ) {
    tokens.forEach((token, i) => this.index.set(token, specials.length + i));
  }

  /** The sorted distinct tokens of `texts`, after `specials`. */
  static fromTexts(texts: Iterable<string>, unit: TokenUnit, side: 'source' | 'target'): TokenVocabulary {
    const seen = new Set<string>();
    for (const text of texts) for (const token of tokenize(text, unit)) seen.add(token);
    const specials = side === 'source' ? SOURCE_SPECIALS : TARGET_SPECIALS;
    return new TokenVocabulary(unit, specials, [...seen].sort(), side === 'source' ? SOURCE_UNKNOWN : TARGET_UNKNOWN);
  }

  static fromJSON(value: unknown, side: 'source' | 'target', what = `${side} vocabulary`): TokenVocabulary {
    const json = value as Partial<TokenVocabularyJSON> | null;
    const specials = side === 'source' ? SOURCE_SPECIALS : TARGET_SPECIALS;
    if (typeof json !== 'object' || json === null || !Array.isArray(json.tokens) || !Array.isArray(json.specials)) {
      throw badCheckpoint(`${what} must be an object {"unit", "specials", "tokens"}`);
    }
    if (!TOKEN_UNITS.includes(json.unit as TokenUnit))
      throw badCheckpoint(`${what}: unit must be one of ${TOKEN_UNITS.join(', ')}`);
    if (json.specials.join('\u0000') !== specials.join('\u0000'))
      throw badCheckpoint(`${what}: specials must be ${JSON.stringify(specials)}`);
    const tokens = json.tokens as unknown[];
    tokens.forEach((token, i) => {
      if (typeof token !== 'string' || token === '')
        throw badCheckpoint(`${what}: token ${i} is not a non-empty string`);
      if (i > 0 && !((tokens[i - 1] as string) < token))
        throw badCheckpoint(`${what}: token ${i} (${JSON.stringify(token)}) is not in ascending order`);
    });
    return new TokenVocabulary(
      json.unit as TokenUnit,
      specials,
      tokens as string[],
      side === 'source' ? SOURCE_UNKNOWN : TARGET_UNKNOWN,
    );
  }

  /** The number of ids, special entries included. */
  get size(): number {
    return this.specials.length + this.tokens.length;
  }

  id(token: string): number {
    return this.index.get(token) ?? this.unknown;
  }

  /** The ids of a text's tokens (no start or end entries). */
  encode(text: string): Int32Array {
    return Int32Array.from(tokenize(text, this.unit), (token) => this.id(token));
  }

  /** The token of an id; a special entry is shown by its name. */
  token(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.size)
      throw new RangeError(`token id ${id} is outside the vocabulary (0 to ${this.size - 1})`);
    return id < this.specials.length ? this.specials[id]! : this.tokens[id - this.specials.length]!;
  }

  toJSON(): TokenVocabularyJSON {
    return { unit: this.unit, specials: [...this.specials], tokens: [...this.tokens] };
  }
}
