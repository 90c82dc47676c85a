import { describe, expect, it } from 'vitest';
import { RnnkitError } from '../src/errors.js';
import { BucketBatcher, evaluationBatches, planStats, type ClassifyBatch } from '../src/tasks/classify/batcher.js';
import type { EncodedSet } from '../src/tasks/classify/encode.js';
import { Random } from '../src/util/random.js';

/** A set whose example i has length lengths[i], label i % 3, and ids 1000·i + t (t = 0 … length − 1), so
 *  every id says where it came from. */
function makeSet(lengths: number[]): EncodedSet {
  const offsets = new Int32Array(lengths.length);
  let total = 0;
  lengths.forEach((length, i) => {
    offsets[i] = total;
    total += length;
  });
  const ids = new Int32Array(total);
  lengths.forEach((length, i) => {
    for (let t = 0; t < length; t++) ids[offsets[i]! + t] = 1000 * i + t + 1;
  });
  return {
    ids,
    offsets,
    lengths: Int32Array.from(lengths),
    labels: Int32Array.from(lengths, (_, i) => i % 3),
    truncated: 0,
    unknown: 0,
  };
}

function randomLengths(n: number, seed: number, max = 200): number[] {
  const random = new Random(seed);
  return Array.from({ length: n }, () => 1 + Math.floor(random.uniform() * max));
}

/** A copy of a batch (batches are views into buffers the next batch overwrites). */
const copy = (batch: ClassifyBatch): ClassifyBatch => ({
  ...batch,
  ids: batch.ids.slice(),
  lengths: batch.lengths.slice(),
  labels: batch.labels.slice(),
  indices: batch.indices.slice(),
});

function epochs(batcher: BucketBatcher, batches: number): ClassifyBatch[] {
  return Array.from({ length: batches }, () => copy(batcher.next()));
}

/** Everything in a batch, as one string (quicker to compare than the arrays). */
const fingerprint = (b: ClassifyBatch): string =>
  [b.T, b.B, b.ids.join(), b.lengths.join(), b.labels.join(), b.indices.join()].join('|');

/** Checks the layout of a batch against the set it came from. */
function checkBatch(set: EncodedSet, batch: ClassifyBatch): void {
  const { T, B } = batch;
  expect(batch.ids.length).toBe(T * B);
  expect(Math.max(...batch.lengths)).toBe(T);
  const examples = Array.from(batch.indices);
  expect(Array.from(batch.lengths)).toEqual(examples.map((i) => set.lengths[i]));
  expect(Array.from(batch.labels)).toEqual(examples.map((i) => set.labels[i]));
  const ids = Array.from({ length: T * B }, (_, k) => {
    const t = Math.floor(k / B),
      b = k % B;
    return t < batch.lengths[b]! ? 1000 * examples[b]! + t + 1 : 0;
  });
  expect(Array.from(batch.ids)).toEqual(ids);
}

describe('BucketBatcher', () => {
  it('lays a batch out time-major, padded with 0 past each length', () => {
    const set = makeSet([3, 1, 2]);
    const batch = new BucketBatcher(set, 3, 1).next();
    // One batch of all three, sorted by length within the pool: lengths 1, 2, 3.
    expect(Array.from(batch.indices)).toEqual([1, 2, 0]);
    expect([batch.T, batch.B]).toEqual([3, 3]);
    expect(Array.from(batch.ids)).toEqual([1001, 2001, 1, 0, 2002, 2, 0, 0, 3]);
    expect(Array.from(batch.lengths)).toEqual([1, 2, 3]);
    expect(Array.from(batch.labels)).toEqual([1, 2, 0]);
  });

  it('visits every example once an epoch, in batches of at most B, only one of them smaller', () => {
    const set = makeSet(randomLengths(1003, 5));
    const batcher = new BucketBatcher(set, 16, 3, 4);
    expect(batcher.batchesPerEpoch).toBe(63);
    for (let epoch = 0; epoch < 2; epoch++) {
      const batches = epochs(batcher, 63);
      batches.forEach((batch) => checkBatch(set, batch));
      expect(batches.map((b) => b.B).filter((B) => B !== 16)).toEqual([1003 % 16]);
      expect(batches.flatMap((b) => Array.from(b.indices)).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 1003 }, (_, i) => i),
      );
      expect(batcher.cursor).toEqual({ epoch: epoch + 1, position: 0 });
    }
  });

  it('buckets: pools sorted by length pad far less than random batches', () => {
    const set = makeSet(randomLengths(2000, 9));
    const bucketed = new BucketBatcher(set, 32, 1).epochStats(0);
    const random = new BucketBatcher(set, 32, 1, 1).epochStats(0); // a pool of one batch: no bucketing
    expect(random.paddedShare).toBeGreaterThan(0.4); // uniform lengths 1..200: E[max of 32] ≈ 194 vs mean 100
    expect(bucketed.paddedShare).toBeLessThan(0.05);
    expect(bucketed.sequences).toBe(2000);
    // The stats describe the batches next() produces.
    const batcher = new BucketBatcher(set, 32, 1);
    const batches = epochs(batcher, batcher.batchesPerEpoch);
    const steps = batches.reduce((s, b) => s + b.T * b.B, 0);
    const real = batches.reduce((s, b) => s + b.lengths.reduce((x, y) => x + y, 0), 0);
    expect(bucketed.steps).toBe(steps);
    expect(bucketed.padded).toBe(steps - real);
  });

  it('planStats by hand: batches {3, 1} and {2}', () => {
    // T·B: 3·2 + 2·1 = 8 steps; real 3 + 1 + 2 = 6; padded 2, share 2/8.
    const stats = planStats(Int32Array.from([3, 1, 2]), Int32Array.from([0, 1, 2]), Int32Array.from([0, 2, 3]));
    expect(stats).toEqual({ batches: 2, sequences: 3, steps: 8, padded: 2, paddedShare: 0.25 });
  });

  it('is fixed by the seed, and reshuffles each epoch', () => {
    const set = makeSet(randomLengths(300, 2));
    const order = (seed: number, epoch: number): number[] => {
      const batcher = new BucketBatcher(set, 8, seed, 2);
      batcher.cursor = { epoch, position: 0 };
      return epochs(batcher, batcher.batchesPerEpoch).flatMap((b) => Array.from(b.indices));
    };
    expect(order(4, 0)).toEqual(order(4, 0));
    expect(order(4, 0)).not.toEqual(order(5, 0));
    expect(order(4, 1)).not.toEqual(order(4, 0));
  });

  it('resumes bit-exactly from a saved cursor, across epoch boundaries', () => {
    const set = makeSet(randomLengths(250, 7));
    const straight = new BucketBatcher(set, 8, 11, 3);
    const expected = epochs(straight, 100).map(fingerprint); // 32 batches an epoch: crosses three epoch boundaries
    for (const stop of [1, 31, 32, 45, 99]) {
      const first = new BucketBatcher(set, 8, 11, 3);
      const before = epochs(first, stop);
      const saved = JSON.parse(JSON.stringify(first.cursor)) as { epoch: number; position: number };
      const resumed = new BucketBatcher(set, 8, 11, 3);
      resumed.cursor = saved;
      expect([...before, ...epochs(resumed, 100 - stop)].map(fingerprint)).toEqual(expected);
    }
  });

  it('refuses an impossible cursor, batch size or empty set', () => {
    const batcher = new BucketBatcher(makeSet([1, 2, 3]), 2, 1);
    const refuse = (fn: () => unknown, code: string, message: string): void => {
      expect(fn).toThrow(RnnkitError);
      expect(fn).toThrow(message);
      try {
        fn();
      } catch (e) {
        expect((e as RnnkitError).code).toBe(code);
      }
    };
    refuse(
      () => (batcher.cursor = { epoch: 0, position: 2 }),
      'ERR_BAD_CHECKPOINT',
      'data cursor (epoch 0, position 2) is out of range: an epoch has 2 batches',
    );
    refuse(
      () => (batcher.cursor = { epoch: -1, position: 0 }),
      'ERR_BAD_CHECKPOINT',
      'data cursor (epoch -1, position 0) is out of range: an epoch has 2 batches',
    );
    refuse(
      () => (batcher.cursor = { epoch: 0.5, position: 0 }),
      'ERR_BAD_CHECKPOINT',
      'data cursor (epoch 0.5, position 0) is out of range: an epoch has 2 batches',
    );
    refuse(
      () => new BucketBatcher(makeSet([1]), 0, 1),
      'ERR_INVALID_OPTION',
      'batch must be an integer in [1, 100000], got 0',
    );
    refuse(() => new BucketBatcher(makeSet([]), 4, 1), 'ERR_INVALID_INPUT', 'no training examples');
    expect(batcher.cursor).toEqual({ epoch: 0, position: 0 });
  });
});

describe('evaluationBatches', () => {
  it('covers the set once, sorted by length (ties in set order), in batches of at most B', () => {
    const set = makeSet([5, 2, 9, 2, 1, 7, 3]);
    const batches = Array.from(evaluationBatches(set, 3), copy); // copied as they come: each is a view
    expect(batches.map((b) => Array.from(b.indices))).toEqual([[4, 1, 3], [6, 0, 5], [2]]);
    expect(batches.map((b) => [b.T, b.B])).toEqual([
      [2, 3],
      [7, 3],
      [9, 1],
    ]);
    batches.forEach((batch) => checkBatch(set, batch));
  });
});
