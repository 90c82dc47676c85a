// The language model one piece at a time: step(ids, state) runs the pieces's T steps of B streams from an
// explicit state, returns the logits after each step and leaves the state after the last. It runs the same
// Workspace.forward as training and evaluation, so steps over a text give the whole-text logits bit for bit
// on every backend when each piece has at least 4 rows (T·B ≥ 4). A 1-row piece (one stream, one character)
// is a matrix-vector product that native and wasm sum in another order: equal to within rounding only.
import type { FloatArray } from '../backend/types.js';
import { invalidInput } from '../errors.js';
import type { Model } from './model.js';
import { RecurrentState } from './state.js';
import { Workspace } from './workspace.js';

export interface LanguageModelStreamOptions {
  /** Streams advanced together (the batch). Default 1. */
  batch?: number;
  /** The longest piece one step takes (its buffers are allocated once for it). Default 64. */
  maxSteps?: number;
}

export class LanguageModelStream {
  readonly batch: number;
  readonly maxSteps: number;
  private readonly workspace: Workspace;

  constructor(
    readonly model: Model,
    options: LanguageModelStreamOptions = {},
  ) {
    this.batch = options.batch ?? 1;
    this.maxSteps = options.maxSteps ?? 64;
    this.workspace = new Workspace(model, this.maxSteps, this.batch);
  }

  /** Frees the backend buffers (states are plain arrays and stay usable). */
  dispose(): void {
    this.workspace.dispose();
  }

  /** A zero state (the start of a text) for this stream's batch. */
  createState(): RecurrentState {
    return new RecurrentState(this.model.config, this.batch);
  }

  /**
   * Runs ids [T·B] (time-major: ids[t·B + b], T ≤ maxSteps) from `state`, which it advances in place and
   * returns. logits [T,B,V] (the next-token logits after each step) is a view valid until the next step.
   */
  step(ids: ArrayLike<number>, state: RecurrentState): { logits: FloatArray; state: RecurrentState } {
    const B = this.batch,
      V = this.model.config.vocabSize,
      T = ids.length / B;
    if (!Number.isInteger(T) || T < 1 || T > this.maxSteps) {
      throw new RangeError(`step: ${ids.length} ids are not 1 to ${this.maxSteps} steps (maxSteps) of ${B} stream(s)`);
    }
    state.check(this.model.config, B, 'step');
    const w = this.workspace,
      data = w.ids.data;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!(Number.isInteger(id) && id >= 0 && id < V))
        throw invalidInput(`step: id ${id} at position ${i} is outside [0, ${V})`);
      data[i] = id;
    }
    this.load(state);
    w.forward(T, false);
    this.store(state);
    return { logits: w.logits(T).data, state };
  }

  /** Steps through ids of any length (pieces of maxSteps); the logits [B,V] after the last step (a view). */
  feed(ids: ArrayLike<number>, state: RecurrentState): { logits: FloatArray; state: RecurrentState } {
    const B = this.batch,
      V = this.model.config.vocabSize,
      T = ids.length / B;
    if (!Number.isInteger(T) || T < 1)
      throw new RangeError(`feed: ${ids.length} ids are not a whole number (≥ 1) of steps of ${B} stream(s)`);
    let logits: FloatArray = new Float32Array(0);
    for (let start = 0; start < T; start += this.maxSteps) {
      const steps = Math.min(this.maxSteps, T - start);
      logits = this.step(
        Array.prototype.slice.call(ids, start * B, (start + steps) * B) as number[],
        state,
      ).logits.subarray((steps - 1) * B * V);
    }
    return { logits, state };
  }

  /** The state into the workspace's carried state (which its forward starts from): one copy of [L,B,H]. */
  private load(state: RecurrentState): void {
    const carried = this.workspace.carriedState();
    carried.h.data.set(state.h);
    carried.c?.data.set(state.c!);
  }

  private store(state: RecurrentState): void {
    const carried = this.workspace.carriedState();
    state.h.set(carried.h.data);
    state.c?.set(carried.c!.data);
  }
}
