// The language model's chunk of T steps × B streams: token ids and targets, the recurrent stack (run
// unmasked, forward in time, its final state carried into the next chunk as the initial state), the head's
// logits [T][B][V] and the softmax cross-entropy. Allocated once on the backend; forward() and backward()
// are sequences of backend kernel calls and allocate nothing.
import { OwnedBuffers } from '../backend/owned.js';
import type { FloatSpan, IntSpan } from '../backend/types.js';
import { invalidOption } from '../errors.js';
import { type ModelConfig, directionsOf, outputsOf } from './config.js';
import type { Model } from './model.js';
import { MAX_WORKSPACE_FLOATS, RecurrentStack, stackFloats } from './stack.js';

export { MAX_WORKSPACE_FLOATS };

/** Floats a workspace of T steps × B streams allocates (ids and targets counted as floats). */
export function workspaceFloats(config: ModelConfig, T: number, B: number, dropout = 0): number {
  const { hidden: H, vocabSize: V } = config,
    n = T * B;
  return stackFloats(config, T, B, { dropout }) + n + 2 * n * V + n * H; // + targets, logits, dLogits, dTop
}

export interface WorkspaceOptions {
  /** Inverted dropout between recurrent layers during training (forward with a dropout seed). */
  dropout?: number;
  /** Room for ∂L/∂h_t of every step (the gradient-flow view: RecurrentStack.recordStateGradients). */
  stateGradients?: boolean;
}

export function checkWorkspaceSize(config: ModelConfig, T: number, B: number): void {
  const floats = workspaceFloats(config, T, B);
  if (!Number.isInteger(T) || !Number.isInteger(B) || T < 1 || B < 1 || floats > MAX_WORKSPACE_FLOATS) {
    throw invalidOption(
      `a workspace of ${T} steps × ${B} streams for this model needs ${((floats * 4) / 2 ** 30).toFixed(1)} GiB; the limit is ${(MAX_WORKSPACE_FLOATS * 4) / 2 ** 30} GiB (lower --seq, --batch or the model size)`,
    );
  }
}

export class Workspace {
  readonly ids: IntSpan; // [T,B]
  readonly targets: IntSpan; // [T,B]
  readonly dropout: number;
  readonly stack: RecurrentStack;
  private readonly logitsBuf: FloatSpan; // [T,B,V]
  private readonly dLogits: FloatSpan; // [T,B,V]
  private readonly dTop: FloatSpan; // [T,B,H] gradient w.r.t. the top layer's outputs
  private lastSteps = 0; // T of the last forward(), which backward() must follow
  private readonly owned: OwnedBuffers;

  constructor(
    readonly model: Model,
    readonly maxT: number,
    readonly batch: number,
    options: WorkspaceOptions = {},
  ) {
    const { hidden: H, vocabSize: V } = model.config;
    if (directionsOf(model.config) !== 1 || outputsOf(model.config) !== V) {
      throw invalidOption(
        'a language model runs forward in time and predicts its own vocabulary: bidirectional must be false and outputs equal the vocabulary size',
      );
    }
    checkWorkspaceSize(model.config, maxT, batch);
    this.stack = new RecurrentStack(model, maxT, batch, {
      dropout: options.dropout ?? 0,
      stateGradients: options.stateGradients ?? false,
    });
    this.dropout = this.stack.dropout;
    const owned = (this.owned = new OwnedBuffers(model.backend)),
      n = maxT * batch;
    this.ids = this.stack.ids;
    this.targets = owned.int(n);
    this.logitsBuf = owned.float(n * V);
    this.dLogits = owned.float(n * V);
    this.dTop = owned.float(n * H);
  }

  /** Frees the workspace's memory (not the model's); it is unusable afterwards. */
  dispose(): void {
    this.owned.dispose();
    this.stack.dispose();
  }

  /** Start every stream from a zero state (first chunk of an epoch, a new text). */
  resetState(): void {
    const { h, c } = this.stack.finalState(this.batch);
    h.data.fill(0);
    c?.data.fill(0);
  }

  /** Layer l's recurrent state: h (and c for LSTM), [B,H] each, as it stands for the next chunk. */
  state(l: number): { h: FloatSpan; c: FloatSpan | null } {
    return this.layerRows(this.stack.finalState(this.batch), l);
  }

  /** Every layer's carried state: h (and c for LSTM) [L,B,H], as it stands for the next chunk. */
  carriedState(): { h: FloatSpan; c: FloatSpan | null } {
    return this.stack.finalState(this.batch);
  }

  /** Gradient of the last backward() w.r.t. layer l's initial h and c. */
  stateGrad(l: number): { h: FloatSpan; c: FloatSpan | null } {
    return this.layerRows(this.stack.initialStateGrad(this.batch), l);
  }

  /** Logits [T,B,V] of the last forward(). */
  logits(T: number): FloatSpan {
    return this.logitsBuf.sub(0, T * this.batch * this.model.config.vocabSize);
  }

  /** Runs T steps from the carried state over `ids`; with targets, returns the summed cross-entropy
   *  and keeps what backward() needs (dLogits scaled by 1/(T·B)). Without, returns NaN.
   *  A dropout seed (a 32-bit integer, new for every training step) turns on dropout between layers. */
  forward(T: number, withTargets = true, dropoutSeed?: number): number {
    this.checkSteps(T);
    this.lastSteps = 0;
    const backend = this.model.backend,
      { paramTensors } = this.model;
    const { hidden: H, vocabSize: V } = this.model.config;
    const B = this.batch,
      n = T * B;
    // The final state of the last chunk is this chunk's initial state: each layer reads its rows before
    // the stack overwrites them with its new final state.
    const carried = this.stack.finalState(B);
    this.stack.forward(T, B, {
      masked: false,
      h0: carried.h,
      c0: carried.c,
      ...(dropoutSeed === undefined ? {} : { dropoutSeed }),
    });
    const logits = this.logits(T);
    backend.gemm(false, true, n, V, H, 1, this.stack.output(T, B), paramTensors.headWeight, 0, logits);
    backend.addBias(n, V, paramTensors.headBias, logits);
    this.lastSteps = T;
    if (!withTargets) return Number.NaN;
    return backend.softmaxCrossEntropy(n, V, logits, this.targets.sub(0, n), 1 / n, this.dLogits.sub(0, n * V));
  }

  /** Accumulates the gradient of (summed loss)/(T·B) of the last forward(T) into the model's gradient arena. */
  backward(T: number): void {
    this.checkSteps(T);
    if (T !== this.lastSteps) throw new Error(`backward(${T}) does not follow forward(${T})`);
    const backend = this.model.backend,
      { paramTensors, gradTensors } = this.model;
    const { hidden: H, vocabSize: V } = this.model.config;
    const B = this.batch,
      n = T * B;
    const dLogits = this.dLogits.sub(0, n * V),
      dTop = this.dTop.sub(0, n * H);
    backend.gemm(true, false, V, H, n, 1, dLogits, this.stack.output(T, B), 1, gradTensors.headWeight);
    backend.sumRows(n, V, dLogits, gradTensors.headBias);
    backend.gemm(false, false, n, H, V, 1, dLogits, paramTensors.headWeight, 0, dTop);
    this.stack.backward(T, B, dTop); // no gradient from beyond the chunk (truncated BPTT)
  }

  private checkSteps(T: number): void {
    if (!Number.isInteger(T) || T < 1 || T > this.maxT)
      throw new RangeError(`chunk of ${T} steps: expected 1 to ${this.maxT}`);
  }

  /** Layer l's rows [B,H] of a [L,B,H] state pair. */
  private layerRows(states: { h: FloatSpan; c: FloatSpan | null }, l: number): { h: FloatSpan; c: FloatSpan | null } {
    const BH = this.batch * this.model.config.hidden;
    return { h: states.h.sub(l * BH, BH), c: states.c ? states.c.sub(l * BH, BH) : null };
  }
}
