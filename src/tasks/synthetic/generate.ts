// The long-range benchmarks of the vanishing-gradient literature, generated from a seed (no files):
// the adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015's setup) and the copy-memory problem
// (Arjovsky et al. 2016's setup). A batch is a function of (seed, stream, index) only, so a resumed run
// reads the same batches and the test set never meets a training batch.
import { Random } from '../../util/random.js';

/** Independent streams of batches drawn from one seed. */
export const STREAMS = { train: 0, validation: 1, test: 2 } as const;
export type Stream = keyof typeof STREAMS;

/** The copy task's alphabet: 0 blank, 1…8 the symbols to remember, 9 the delimiter ("now recall"). */
export const COPY_BLANK = 0;
export const COPY_SYMBOLS = 8;
export const COPY_DELIMITER = 9;
export const COPY_VOCAB = 10;
/** Symbols shown, then recalled. */
export const COPY_LENGTH = 10;

/** Steps of a copy sequence with `delay` blanks: 10 symbols, delay − 1 blanks, the delimiter, 10 blanks to recall into. */
export const copySteps = (delay: number): number => delay + 2 * COPY_LENGTH;

/** MSE of the constant prediction 1 on the adding problem: Var(u1 + u2) = 2/12. */
export const ADDING_BASELINE = 1 / 6;

/** Mean cross-entropy per step of the memoryless strategy (blank until the delimiter, then uniform over the
 *  8 symbols): 10·ln 8 / (delay + 20). */
export const copyBaseline = (delay: number): number => (COPY_LENGTH * Math.log(COPY_SYMBOLS)) / copySteps(delay);

/** A generator for batch `index` of `stream`: a 32-bit mix of the three, fed to the seeded generator. */
export function batchRandom(seed: number, stream: Stream, index: number): Random {
  let h = Math.imul((seed >>> 0) ^ 0x2545f491, 0x9e3779b1);
  for (const word of [Math.floor(seed / 2 ** 32), STREAMS[stream], index >>> 0, Math.floor(index / 2 ** 32)]) {
    h = Math.imul(h ^ (word >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
  }
  return new Random(h >>> 0);
}

/**
 * Fills B adding-problem sequences of T steps, time-major: frames[(t·B + b)·2] is a value uniform in [0, 1),
 * frames[(t·B + b)·2 + 1] the marker (1 at one step of each half, else 0); targets[b] the sum of the two
 * marked values.
 */
export function addingBatch(
  random: Random,
  T: number,
  B: number,
  frames: Float32Array | Float64Array,
  targets: Float32Array | Float64Array,
): void {
  const half = Math.floor(T / 2);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      frames[(t * B + b) * 2] = random.uniform();
      frames[(t * B + b) * 2 + 1] = 0;
    }
  }
  for (let b = 0; b < B; b++) {
    const first = Math.floor(random.uniform() * half);
    const second = half + Math.floor(random.uniform() * (T - half));
    frames[(first * B + b) * 2 + 1] = 1;
    frames[(second * B + b) * 2 + 1] = 1;
    // The sum of the values as stored (float32), so that a perfect model can reach MSE 0.
    targets[b] = frames[(first * B + b) * 2]! + frames[(second * B + b) * 2]!;
  }
}

/**
 * Fills B copy-memory sequences of delay + 20 steps, time-major [T,B]: ids are 10 symbols in 1…8, delay − 1
 * blanks, the delimiter, 10 blanks; targets are blanks for the first delay + 10 steps, then the 10 symbols.
 */
export function copyBatch(random: Random, delay: number, B: number, ids: Int32Array, targets: Int32Array): void {
  const T = copySteps(delay);
  ids.fill(COPY_BLANK, 0, T * B);
  targets.fill(COPY_BLANK, 0, T * B);
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < COPY_LENGTH; s++) {
      const symbol = 1 + Math.floor(random.uniform() * COPY_SYMBOLS);
      ids[s * B + b] = symbol;
      targets[(delay + COPY_LENGTH + s) * B + b] = symbol;
    }
    ids[(delay + COPY_LENGTH - 1) * B + b] = COPY_DELIMITER;
  }
}
