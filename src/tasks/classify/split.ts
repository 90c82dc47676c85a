// The train/validation split of a classification data set: stratified (each class is split in the same
// proportion) and seeded. Per class of n examples, round(n·F) go to validation, but at least 1 when F > 0
// and n ≥ 2, and never all n (a class of one example stays in training). Both parts keep the file order.
import { invalidInput, invalidOption } from '../../errors.js';
import { Random } from '../../util/random.js';
import type { Example } from './dataset.js';
import { compareCodePoints } from './labels.js';

export interface Split {
  train: Example[];
  val: Example[];
}

export function stratifiedSplit(examples: readonly Example[], valFrac: number, seed: number): Split {
  if (!(valFrac >= 0 && valFrac < 1)) throw invalidOption(`val-frac must be in [0, 1), got ${valFrac}`);
  const byClass = new Map<string, number[]>();
  examples.forEach((e, i) => {
    const members = byClass.get(e.label);
    if (members) members.push(i);
    else byClass.set(e.label, [i]);
  });
  const random = new Random(seed);
  const isVal = new Uint8Array(examples.length);
  for (const label of [...byClass.keys()].sort(compareCodePoints)) {
    const members = byClass.get(label)!;
    const n = members.length;
    const nVal = valFrac === 0 || n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * valFrac)));
    shuffle(members, random);
    for (let k = 0; k < nVal; k++) isVal[members[k]!] = 1;
  }
  const split: Split = { train: [], val: [] };
  examples.forEach((e, i) => (isVal[i] ? split.val : split.train).push(e));
  if (valFrac > 0 && split.val.length === 0)
    throw invalidInput(`val-frac ${valFrac} leaves no validation example: every class has a single example`);
  return split;
}

/** Fisher–Yates, in place. */
export function shuffle(items: { length: number; [index: number]: unknown }, random: Random): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random.uniform() * (i + 1));
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
}
