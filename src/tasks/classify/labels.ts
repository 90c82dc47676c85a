// The classes of a classification task: the sorted distinct label strings of the training data, so
// that row i of the head (and column i of the logits) is label i. Sorted by code point, as Python's
// sorted() and scikit-learn's LabelEncoder order them.
import { badCheckpoint, invalidInput } from '../../errors.js';
import type { Example } from './dataset.js';

export class LabelSet {
  private readonly index: Map<string, number>;

  /** `labels` in id order: distinct, non-empty, sorted by code point. */
  constructor(readonly labels: readonly string[]) {
    this.index = new Map(labels.map((label, id) => [label, id]));
  }

  /** The classes of the training examples; fewer than two is an error naming `source`. */
  static fromExamples(examples: readonly Example[], source: string): LabelSet {
    const labels = [...new Set(examples.map((e) => e.label))].sort(compareCodePoints);
    if (labels.length < 2) {
      const found = labels.length === 0 ? 'no class' : `only 1 class (${JSON.stringify(labels[0])})`;
      throw invalidInput(`${source}: found ${found}; classification needs at least 2`);
    }
    return new LabelSet(labels);
  }

  /** Reads the form `toJSON` wrote (a checkpoint's), checking it strictly. */
  static fromJSON(value: unknown, what = 'labels'): LabelSet {
    if (!Array.isArray(value) || !value.every((l): l is string => typeof l === 'string' && l !== '')) {
      throw badCheckpoint(`${what} must be an array of non-empty strings`);
    }
    for (let i = 1; i < value.length; i++) {
      if (compareCodePoints(value[i - 1]!, value[i]!) >= 0)
        throw badCheckpoint(
          `${what} must be distinct and sorted, but entry ${i} (${JSON.stringify(value[i])}) is out of order`,
        );
    }
    if (value.length < 2) throw badCheckpoint(`${what} must hold at least 2 classes, found ${value.length}`);
    return new LabelSet(value);
  }

  get size(): number {
    return this.labels.length;
  }

  /** The class ids of `examples`; a label the training data did not have is an error naming its line. */
  encode(examples: readonly Example[], source: string): Int32Array {
    return Int32Array.from(examples, (example) => {
      const id = this.index.get(example.label);
      if (id === undefined) {
        throw invalidInput(
          `${source}:${example.line}: label ${JSON.stringify(example.label)} does not occur in the training data (its labels: ${listLabels(this.labels)})`,
        );
      }
      return id;
    });
  }

  toJSON(): string[] {
    return [...this.labels];
  }
}

function listLabels(labels: readonly string[], shown = 10): string {
  const head = labels
    .slice(0, shown)
    .map((l) => JSON.stringify(l))
    .join(', ');
  return labels.length > shown ? `${head} and ${labels.length - shown} more` : head;
}

/** Orders strings by code point (JavaScript's `<` compares UTF-16 code units, which differs for astral characters). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator](),
    ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next(),
      cb = ib.next();
    if (ca.done || cb.done) return (ca.done ? 0 : 1) - (cb.done ? 0 : 1);
    const d = ca.value.codePointAt(0)! - cb.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}
