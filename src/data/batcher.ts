// char-rnn batching: the token sequence is cut into B equal contiguous streams; step k trains stream b on
// positions [kT, kT+T] of that stream (inputs kT..kT+T-1, targets kT+1..kT+T). The hidden state is carried
// from step to step and reset when the epoch wraps to the start. No shuffling.
import { invalidInput } from '../errors.js';

export interface BatchCursor {
  epoch: number;
  /** The step within the epoch that `next` will produce. */
  position: number;
}

export class Batcher {
  readonly streamLength: number;
  readonly stepsPerEpoch: number;
  cursor: BatchCursor = { epoch: 0, position: 0 };

  constructor(
    readonly tokens: Int32Array,
    readonly batch: number,
    readonly seq: number,
  ) {
    this.streamLength = Math.floor(tokens.length / batch);
    this.stepsPerEpoch = Math.floor((this.streamLength - 1) / seq);
    if (this.stepsPerEpoch < 1) {
      throw invalidInput(
        `the text has ${tokens.length} characters: too short for --batch ${batch} × --seq ${seq}; each of the ${batch} streams needs at least ${seq + 1} characters`,
      );
    }
  }

  /** Fills ids and targets ([T][B], time-major) for the next step. Returns true when the carried state
   *  must be reset first (the first step of an epoch). */
  next(ids: Int32Array, targets: Int32Array): boolean {
    const { batch: B, seq: T, streamLength: S } = this;
    const k = this.cursor.position;
    for (let b = 0; b < B; b++) {
      const start = b * S + k * T;
      for (let t = 0; t < T; t++) {
        ids[t * B + b] = this.tokens[start + t]!;
        targets[t * B + b] = this.tokens[start + t + 1]!;
      }
    }
    const reset = k === 0;
    this.cursor =
      k + 1 === this.stepsPerEpoch
        ? { epoch: this.cursor.epoch + 1, position: 0 }
        : { epoch: this.cursor.epoch, position: k + 1 };
    return reset;
  }
}
