// Batches for sequence classification, bucketed by length to keep padding small. An epoch's plan: shuffle
// all examples, cut them into pools of `poolBatches`·B, sort each pool by length (ties keep the shuffled
// order), cut each pool into batches of B (only the last pool's last batch may be smaller), and shuffle the
// order of all batches. The plan is a pure function of (seed, epoch, data), so the cursor (epoch, position)
// is the batcher's whole state: a restored cursor continues bit-exactly.
//
// B = sequences in a batch, T = the batch's longest sequence.
import { badCheckpoint, invalidInput, invalidOption } from '../../errors.js';
import { Random } from '../../util/random.js';
import type { EncodedSet } from './encode.js';
import { shuffle } from './split.js';

export interface ClassifyBatch {
  T: number;
  B: number;
  /** [T·B] time-major: ids[t·B + b]; 0 at steps t ≥ lengths[b]. A view, valid until the next batch. */
  ids: Int32Array;
  /** [B] each in [1, T]. */
  lengths: Int32Array;
  /** [B] class ids. */
  labels: Int32Array;
  /** [B] the examples' positions in the encoded set. */
  indices: Int32Array;
}

export interface BatchCursor {
  epoch: number;
  /** The batch within the epoch that `next` will produce. */
  position: number;
}

export interface EpochStats {
  batches: number;
  sequences: number;
  /** Σ T·B over the epoch's batches: the time steps computed. */
  steps: number;
  /** Steps past a sequence's end. */
  padded: number;
  /** padded / steps. */
  paddedShare: number;
}

interface Plan {
  epoch: number;
  /** Example indices, batch after batch; batch k is order[starts[k] .. starts[k + 1]). */
  order: Int32Array;
  starts: Int32Array;
}

export const DEFAULT_POOL_BATCHES = 50;

/** The epoch plans of sequences of the given lengths: which examples each batch holds (any kind of input). */
export class BatchPlanner {
  readonly batchesPerEpoch: number;
  /** The longest sequence: buffers are sized maxLength × batch once. */
  readonly maxLength: number;
  private readonly epochKey: number;
  private position: BatchCursor = { epoch: 0, position: 0 };
  private plan: Plan | undefined;

  constructor(
    readonly lengths: Int32Array,
    readonly batch: number,
    seed: number,
    readonly poolBatches = DEFAULT_POOL_BATCHES,
  ) {
    checkBatch(batch);
    if (!(Number.isInteger(poolBatches) && poolBatches >= 1))
      throw invalidOption(`poolBatches must be a positive integer, got ${poolBatches}`);
    if (lengths.length === 0) throw invalidInput('no training examples');
    this.batchesPerEpoch = Math.ceil(lengths.length / batch);
    this.maxLength = longest(lengths);
    this.epochKey = new Random(seed).nextUint32();
  }

  get cursor(): BatchCursor {
    return { ...this.position };
  }

  /** Restores a saved cursor (a checkpoint's). */
  set cursor(cursor: BatchCursor) {
    const { epoch, position } = cursor;
    if (
      !Number.isSafeInteger(epoch) ||
      epoch < 0 ||
      !Number.isInteger(position) ||
      position < 0 ||
      position >= this.batchesPerEpoch
    ) {
      throw badCheckpoint(
        `data cursor (epoch ${epoch}, position ${position}) is out of range: an epoch has ${this.batchesPerEpoch} batches`,
      );
    }
    this.position = { epoch, position };
  }

  /** The examples of the batch at the cursor (a view into the epoch's plan); then the cursor moves on (to the
   *  next epoch after the last batch). */
  nextExamples(): Int32Array {
    const { epoch, position } = this.position;
    const plan = this.planOf(epoch);
    this.position =
      position + 1 === this.batchesPerEpoch ? { epoch: epoch + 1, position: 0 } : { epoch, position: position + 1 };
    return plan.order.subarray(plan.starts[position]!, plan.starts[position + 1]!);
  }

  /** Padding of an epoch's plan (to report per epoch). */
  epochStats(epoch: number): EpochStats {
    const { order, starts } = this.planOf(epoch);
    return planStats(this.lengths, order, starts);
  }

  private planOf(epoch: number): Plan {
    if (this.plan?.epoch !== epoch) this.plan = this.makePlan(epoch);
    return this.plan;
  }

  private makePlan(epoch: number): Plan {
    const { lengths } = this;
    const n = lengths.length,
      B = this.batch;
    // A generator per epoch, derived from the seed, so any epoch's plan can be rebuilt on its own.
    const random = new Random((this.epochKey + Math.imul(epoch, 0x9e3779b9)) >>> 0);
    const shuffled = Int32Array.from({ length: n }, (_, i) => i);
    shuffle(shuffled, random);
    const poolSize = this.poolBatches * B;
    for (let start = 0; start < n; start += poolSize) {
      sortByLength(shuffled.subarray(start, Math.min(n, start + poolSize)), lengths);
    }
    const batchOrder = Int32Array.from({ length: this.batchesPerEpoch }, (_, k) => k);
    shuffle(batchOrder, random);
    const order = new Int32Array(n);
    const starts = new Int32Array(this.batchesPerEpoch + 1);
    let at = 0;
    batchOrder.forEach((k, position) => {
      starts[position] = at;
      order.set(shuffled.subarray(k * B, Math.min(n, (k + 1) * B)), at);
      at += Math.min(n, (k + 1) * B) - k * B;
    });
    starts[this.batchesPerEpoch] = n;
    return { epoch, order, starts };
  }
}

/** Batches of encoded characters, bucketed by length. */
export class BucketBatcher extends BatchPlanner {
  private readonly buffers: BatchBuffers;

  constructor(
    readonly set: EncodedSet,
    batch: number,
    seed: number,
    poolBatches = DEFAULT_POOL_BATCHES,
  ) {
    super(set.lengths, batch, seed, poolBatches);
    this.buffers = new BatchBuffers(this.maxLength, batch);
  }

  /** The batch at the cursor; then the cursor moves on. */
  next(): ClassifyBatch {
    return this.buffers.fill(this.set, this.nextExamples());
  }
}

/** The examples sorted by length (ties in set order) in batches of at most `batch`, for validation and
 *  evaluation, where order does not matter and the least padding is best. Each batch is a view, valid
 *  until the next one is produced. */
export function* evaluationBatches(set: EncodedSet, batch: number): Generator<ClassifyBatch> {
  checkBatch(batch);
  const order = Int32Array.from({ length: set.lengths.length }, (_, i) => i);
  sortByLength(order, set.lengths);
  const buffers = new BatchBuffers(longest(set.lengths), batch);
  for (let start = 0; start < order.length; start += batch)
    yield buffers.fill(set, order.subarray(start, start + batch));
}

export function planStats(lengths: Int32Array, order: Int32Array, starts: Int32Array): EpochStats {
  let steps = 0,
    real = 0;
  for (let k = 0; k + 1 < starts.length; k++) {
    let T = 0;
    for (let i = starts[k]!; i < starts[k + 1]!; i++) {
      T = Math.max(T, lengths[order[i]!]!);
      real += lengths[order[i]!]!;
    }
    steps += T * (starts[k + 1]! - starts[k]!);
  }
  return {
    batches: starts.length - 1,
    sequences: order.length,
    steps,
    padded: steps - real,
    paddedShare: steps === 0 ? 0 : (steps - real) / steps,
  };
}

/** Sorts example indices in place by their length; ties keep their order (a typed array's sort is not
 *  guaranteed to be stable, so ties are broken by position explicitly). */
export function sortByLength(examples: Int32Array, lengths: Int32Array): void {
  const positions = Int32Array.from(examples.keys());
  positions.sort((a, b) => lengths[examples[a]!]! - lengths[examples[b]!]! || a - b);
  examples.set(Array.from(positions, (p) => examples[p]!));
}

function longest(lengths: Int32Array): number {
  return lengths.reduce((max, length) => Math.max(max, length), 0);
}

function checkBatch(batch: number): void {
  if (!(Number.isInteger(batch) && batch >= 1 && batch <= 100_000))
    throw invalidOption(`batch must be an integer in [1, 100000], got ${batch}`);
}

/** One set of batch arrays, allocated once for the largest batch and reused. */
class BatchBuffers {
  private readonly ids: Int32Array;
  private readonly lengths: Int32Array;
  private readonly labels: Int32Array;
  private readonly indices: Int32Array;

  constructor(maxLength: number, batch: number) {
    this.ids = new Int32Array(maxLength * batch);
    this.lengths = new Int32Array(batch);
    this.labels = new Int32Array(batch);
    this.indices = new Int32Array(batch);
  }

  fill(set: EncodedSet, examples: Int32Array): ClassifyBatch {
    const B = examples.length;
    let T = 0;
    examples.forEach((example) => (T = Math.max(T, set.lengths[example]!)));
    const ids = this.ids.subarray(0, T * B);
    ids.fill(0);
    examples.forEach((example, b) => {
      const length = set.lengths[example]!;
      const from = set.offsets[example]!;
      for (let t = 0; t < length; t++) ids[t * B + b] = set.ids[from + t]!;
      this.lengths[b] = length;
      this.labels[b] = set.labels[example]!;
      this.indices[b] = example;
    });
    return {
      T,
      B,
      ids,
      lengths: this.lengths.subarray(0, B),
      labels: this.labels.subarray(0, B),
      indices: this.indices.subarray(0, B),
    };
  }
}
