// A running prediction while a text arrives: step(ids, state) adds the piece's characters to the text the
// state stands for and returns the class probabilities of the text so far, equal to one classification of
// the whole text (ClassifierWorkspace.forward). A forward-only model with 'last' pooling carries its
// recurrent state, so a step costs only its own characters. Bidirectional models and mean/max pooling need
// the whole text at every step (the backward direction starts from its end; the pooling spans all of it):
// their state keeps the ids so far and each step runs the text so far again.
// With maxLen (a checkpoint's max_len), the stream classifies as the classifier does, which cuts every input
// to its first max_len characters: characters past maxLen are checked but change nothing, and step() keeps
// returning the probabilities of the first maxLen.
import { OwnedBuffers } from '../backend/owned.js';
import type { FloatSpan } from '../backend/types.js';
import { invalidInput } from '../errors.js';
import { ClassifierWorkspace, type Pooling } from './classifier.js';
import { directionsOf } from './config.js';
import type { Model } from './model.js';
import { RecurrentState } from './state.js';

export class ClassifierState {
  /** The carried recurrent state (forward-only 'last' models), else null. */
  readonly recurrent: RecurrentState | null;
  /** The ids so far (models that need the whole text), else empty. */
  private ids: Int32Array;
  /** Characters classified so far (at most the stream's maxLen). */
  length = 0;
  /** The probabilities of the text so far (null before the first step). */
  probabilities: Float32Array | null = null;

  constructor(model: Model, carries: boolean) {
    this.recurrent = carries ? new RecurrentState(model.config, 1) : null;
    this.ids = new Int32Array(carries ? 0 : 64);
  }

  /** The ids so far (a view). */
  text(): Int32Array {
    return this.ids.subarray(0, this.length);
  }

  append(ids: ArrayLike<number>): void {
    if (this.recurrent) {
      this.length += ids.length;
      return;
    }
    if (this.length + ids.length > this.ids.length) {
      const grown = new Int32Array(Math.max(2 * this.ids.length, this.length + ids.length));
      grown.set(this.text());
      this.ids = grown;
    }
    for (let i = 0; i < ids.length; i++) this.ids[this.length + i] = ids[i]!;
    this.length += ids.length;
  }

  copy(): ClassifierState {
    const copy = Object.create(ClassifierState.prototype) as ClassifierState;
    Object.assign(copy, {
      recurrent: this.recurrent?.copy() ?? null,
      ids: this.ids.slice(),
      length: this.length,
      probabilities: this.probabilities?.slice() ?? null,
    });
    return copy;
  }

  /** Back to an empty text. */
  reset(): void {
    this.recurrent?.reset();
    this.length = 0;
    this.probabilities = null;
  }
}

export interface ClassifierStreamOptions {
  /** The longest piece one step takes (forward-only 'last' models). Default 64. */
  maxSteps?: number;
  /** Classify only the first maxLen characters, as the classifier does with a checkpoint's max_len; 0 (the
   *  checkpoint's "no limit") or absent: no limit. */
  maxLen?: number;
}

export class ClassifierStream {
  readonly maxSteps: number;
  /** Characters classified at most (Infinity: no limit). */
  readonly maxLen: number;
  /** Whether the state carries the recurrent state (forward-only, 'last' pooling) instead of the text. */
  readonly carriesState: boolean;
  private workspace: ClassifierWorkspace;
  private readonly owned: OwnedBuffers;
  private readonly h0: FloatSpan;
  private readonly c0: FloatSpan | null;

  constructor(
    readonly model: Model,
    readonly pool: Pooling,
    options: ClassifierStreamOptions = {},
  ) {
    this.owned = new OwnedBuffers(model.backend);
    this.maxSteps = options.maxSteps ?? 64;
    const maxLen = options.maxLen ?? 0;
    if (!(Number.isSafeInteger(maxLen) && maxLen >= 0))
      throw new RangeError(`ClassifierStream: maxLen must be an integer >= 0 (0: no limit), not ${maxLen}`);
    this.maxLen = maxLen === 0 ? Infinity : maxLen;
    this.carriesState = directionsOf(model.config) === 1 && pool === 'last';
    this.workspace = new ClassifierWorkspace(model, this.maxSteps, 1, pool);
    const size = model.config.layers * model.config.hidden;
    this.h0 = this.owned.float(size);
    this.c0 = model.config.cell === 'lstm' ? this.owned.float(size) : null;
  }

  /** Frees the backend buffers (states are plain arrays and stay usable). */
  dispose(): void {
    this.workspace.dispose();
    this.owned.dispose();
  }

  /** The state of an empty text. */
  createState(): ClassifierState {
    return new ClassifierState(this.model, this.carriesState);
  }

  /** Adds ids (a piece of the text, each in [0, V); at most maxSteps for a carried state) to `state`, which
   *  it advances in place and returns, with the class probabilities [C] of the text so far. */
  step(ids: ArrayLike<number>, state: ClassifierState): { probabilities: Float32Array; state: ClassifierState } {
    const V = this.model.config.vocabSize;
    if (ids.length < 1 || (this.carriesState && ids.length > this.maxSteps)) {
      throw new RangeError(
        `step: ${ids.length} ids; a step takes 1 to ${this.carriesState ? this.maxSteps : 'any number of'} ids`,
      );
    }
    if ((state.recurrent !== null) !== this.carriesState)
      throw new TypeError(
        'step: the state was made by a stream of another kind of model (createState() of this stream)',
      );
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!(Number.isInteger(id) && id >= 0 && id < V))
        throw invalidInput(`step: id ${id} at position ${i} is outside [0, ${V})`);
    }
    state.recurrent?.check(this.model.config, 1, 'step');
    const kept = Math.min(ids.length, this.maxLen - state.length);
    if (kept > 0) {
      const piece = kept < ids.length ? Array.prototype.slice.call(ids, 0, kept) : ids;
      state.append(piece);
      state.probabilities = this.carriesState ? this.stepCarried(piece, state.recurrent!) : this.runText(state.text());
    }
    return { probabilities: state.probabilities!.slice(), state };
  }

  /** From the carried state over the new ids only; the state becomes the final one. */
  private stepCarried(ids: ArrayLike<number>, recurrent: RecurrentState): Float32Array {
    const w = this.workspace,
      T = ids.length;
    for (let i = 0; i < T; i++) w.ids.data[i] = ids[i]!;
    w.lengths.data[0] = T;
    this.h0.data.set(recurrent.h);
    this.c0?.data.set(recurrent.c!);
    w.forward(T, 1, false, undefined, { h0: this.h0, c0: this.c0 });
    const final = w.stack.finalState(1);
    recurrent.h.set(final.h.data);
    recurrent.c?.set(final.c!.data);
    return w.probabilities(1);
  }

  /** The whole text so far in one forward (the workspace grows to its length). */
  private runText(text: Int32Array): Float32Array {
    if (text.length > this.workspace.maxT) {
      const maxT = Math.max(2 * this.workspace.maxT, text.length);
      this.workspace.dispose();
      this.workspace = new ClassifierWorkspace(this.model, maxT, 1, this.pool);
    }
    const w = this.workspace;
    w.ids.data.set(text);
    w.lengths.data[0] = text.length;
    w.forward(text.length, 1, false);
    return w.probabilities(1);
  }
}
