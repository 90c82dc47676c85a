// A sequence classifier: ids → recurrent stack (masked, optionally bidirectional) → pooling over each
// sequence's valid steps → linear head → softmax cross-entropy against one label per sequence. The PyTorch
// module it matches is test/fixtures/sequence_classifier.py. Buffers are allocated once for maxT × maxB.
//
// Sizes: T steps, B sequences, H hidden, L layers, D directions, W = D·H pooled features, C classes.
import { OwnedBuffers } from '../backend/owned.js';
import type { FloatSpan, IntSpan, PoolMode } from '../backend/types.js';
import { invalidOption } from '../errors.js';
import { directionsOf, outputsOf } from './config.js';
import type { Model } from './model.js';
import { RecurrentStack } from './stack.js';

/** 'last': the top layer's final states (forward then backward); 'mean', 'max': over the valid steps. */
export type Pooling = 'last' | PoolMode;
export const POOLINGS: readonly Pooling[] = ['last', 'mean', 'max'];

export interface ClassifierOptions {
  /** Inverted dropout between recurrent layers during training (forward with a dropout seed). */
  dropout?: number;
  /** Room for ∂L/∂h_t of every step (the gradient-flow view: RecurrentStack.recordStateGradients). */
  stateGradients?: boolean;
}

export class ClassifierWorkspace {
  /** [maxT·maxB] ids, time-major for the batch's own B: ids[t·B + b]; past a length, any valid id. */
  readonly ids: IntSpan;
  /** [maxB] lengths, each in [1, T]. */
  readonly lengths: IntSpan;
  /** [maxB] classes, each in [0, C). */
  readonly labels: IntSpan;
  readonly stack: RecurrentStack;
  private readonly C: number;
  private readonly W: number;
  private readonly pooled: FloatSpan; // [B,W]
  private readonly argmax: IntSpan; // [B,W] (max pooling)
  private readonly logitsBuf: FloatSpan; // [B,C]
  private readonly dLogits: FloatSpan; // [B,C]
  private readonly dPooled: FloatSpan; // [maxB·D + 1 rows of H]: dPooled [B,W], then one zero row (see backward)
  private readonly dOutput: FloatSpan; // [T,B,W] (mean, max)
  private readonly dhN: FloatSpan; // [L·D,B,H] ('last')
  private readonly lastIndex: IntSpan; // [B,D] row of h_n for each pooled row ('last')
  private readonly dLastIndex: IntSpan; // [L·D,B] row of dPooled (or the zero row) for each row of dhN ('last')
  private shape: { T: number; B: number; labelled: boolean } | null = null;
  private readonly owned: OwnedBuffers;

  constructor(
    readonly model: Model,
    readonly maxT: number,
    readonly maxB: number,
    readonly pool: Pooling,
    options: ClassifierOptions = {},
  ) {
    if (!POOLINGS.includes(pool))
      throw invalidOption(`pooling must be one of ${POOLINGS.join(', ')}, got ${String(pool)}`);
    this.stack = new RecurrentStack(model, maxT, maxB, {
      input: 'ids',
      dropout: options.dropout ?? 0,
      stateGradients: options.stateGradients ?? false,
    });
    const { hidden: H, layers: L } = model.config;
    const D = directionsOf(model.config);
    this.C = outputsOf(model.config);
    this.W = D * H;
    const owned = (this.owned = new OwnedBuffers(model.backend));
    const float = (length: number): FloatSpan => owned.float(length);
    const int = (length: number): IntSpan => owned.int(length);
    const last = pool === 'last';
    this.ids = this.stack.ids;
    this.lengths = this.stack.lengths;
    this.labels = int(maxB);
    this.pooled = float(maxB * this.W);
    this.argmax = int(pool === 'max' ? maxB * this.W : 0);
    this.logitsBuf = float(maxB * this.C);
    this.dLogits = float(maxB * this.C);
    this.dPooled = float((maxB * D + 1) * H);
    this.dOutput = float(last ? 0 : maxT * maxB * this.W);
    this.dhN = float(last ? L * D * maxB * H : 0);
    this.lastIndex = int(last ? maxB * D : 0);
    this.dLastIndex = int(last ? L * D * maxB : 0);
  }

  /** Frees the workspace's memory (not the model's); it is unusable afterwards. */
  dispose(): void {
    this.owned.dispose();
    this.stack.dispose();
  }

  /** Logits [B,C] of the last forward(). */
  logits(B: number): FloatSpan {
    return this.logitsBuf.sub(0, B * this.C);
  }

  /** softmax(logits) [B,C] of the last forward(). */
  probabilities(B: number): Float32Array {
    const C = this.C,
      logits = this.logits(B).data,
      probs = new Float32Array(B * C);
    for (let b = 0; b < B; b++) {
      const row = logits.subarray(b * C, (b + 1) * C);
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, row[c]!);
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(row[c]! - max);
      for (let c = 0; c < C; c++) probs[b * C + c] = Math.exp(row[c]! - max) / sum;
    }
    return probs;
  }

  /** Classifies the B sequences in ids/lengths (from initial states h0, c0 [L·D,B,H] when given, else zeros); with labels, returns the summed cross-entropy (and keeps
   *  what backward() needs), without, NaN. A dropout seed (new every training step) turns on dropout. */
  forward(
    T: number,
    B: number,
    withLabels: boolean,
    dropoutSeed?: number,
    initial: { h0?: FloatSpan | null; c0?: FloatSpan | null } = {},
  ): number {
    this.shape = null;
    if (withLabels) this.checkLabels(B);
    const stack = this.stack,
      backend = this.model.backend,
      { W, C } = this;
    stack.forward(T, B, { ...initial, ...(dropoutSeed === undefined ? {} : { dropoutSeed }) });
    const pooled = this.pooled.sub(0, B * W);
    if (this.pool === 'last') {
      this.buildLastIndices(B);
      const D = directionsOf(this.model.config);
      backend.gatherRows(B * D, this.model.config.hidden, this.lastIndex.sub(0, B * D), stack.finalState(B).h, pooled);
    } else {
      backend.poolForward(
        this.pool,
        T,
        B,
        W,
        stack.output(T, B),
        this.lengths.sub(0, B),
        pooled,
        this.argmax.sub(0, this.pool === 'max' ? B * W : 0),
      );
    }
    const logits = this.logits(B),
      head = this.model.paramTensors;
    backend.gemm(false, true, B, C, W, 1, pooled, head.headWeight, 0, logits);
    backend.addBias(B, C, head.headBias, logits);
    this.shape = { T, B, labelled: withLabels };
    if (!withLabels) return Number.NaN;
    return backend.softmaxCrossEntropy(B, C, logits, this.labels.sub(0, B), 1 / B, this.dLogits.sub(0, B * C));
  }

  /** Accumulates the gradient of (summed loss)/B of the last forward(T, B, true) into model.grads. */
  backward(T: number, B: number): void {
    const shape = this.shape;
    if (!shape || shape.T !== T || shape.B !== B || !shape.labelled)
      throw new Error(`backward(${T}, ${B}) does not follow forward(${T}, ${B}, true)`);
    const backend = this.model.backend,
      { paramTensors, gradTensors } = this.model,
      { W, C } = this;
    const dLogits = this.dLogits.sub(0, B * C),
      pooled = this.pooled.sub(0, B * W),
      dPooled = this.dPooled.sub(0, B * W);
    backend.gemm(true, false, C, W, B, 1, dLogits, pooled, 1, gradTensors.headWeight);
    backend.sumRows(B, C, dLogits, gradTensors.headBias);
    backend.gemm(false, false, B, W, C, 1, dLogits, paramTensors.headWeight, 0, dPooled);
    if (this.pool === 'last') {
      // dh_n: the top layer's rows come from dPooled; every other row points at dPooled's trailing zero row,
      // so the gather writes all of dh_n (nothing stale from an earlier batch).
      const { hidden: H, layers: L } = this.model.config,
        D = directionsOf(this.model.config);
      const dhN = this.dhN.sub(0, L * D * B * H);
      backend.gatherRows(L * D * B, H, this.dLastIndex.sub(0, L * D * B), this.dPooled, dhN);
      this.stack.backward(T, B, null, dhN);
    } else {
      const dOutput = this.dOutput.sub(0, T * B * W);
      backend.poolBackward(
        this.pool,
        T,
        B,
        W,
        dPooled,
        this.lengths.sub(0, B),
        this.argmax.sub(0, this.pool === 'max' ? B * W : 0),
        dOutput,
      );
      this.stack.backward(T, B, dOutput);
    }
  }

  private checkLabels(B: number): void {
    if (!Number.isInteger(B) || B < 1 || B > this.maxB)
      throw new RangeError(`a batch of ${B} sequences: expected 1 to ${this.maxB}`);
    const labels = this.labels.data;
    for (let b = 0; b < B; b++) {
      const label = labels[b]!;
      if (!(label >= 0 && label < this.C))
        throw new RangeError(`label ${label} of sequence ${b} is outside [0, ${this.C})`);
    }
  }

  /** 'last' pooling: pooled row b·D + d is h_n row ((L−1)·D + d)·B + b, and the reverse map for dh_n. */
  private buildLastIndices(B: number): void {
    const { layers: L } = this.model.config,
      D = directionsOf(this.model.config);
    const zeroRow = this.maxB * D,
      top = (L - 1) * D;
    const last = this.lastIndex.data,
      dLast = this.dLastIndex.data;
    dLast.fill(zeroRow, 0, top * B);
    for (let d = 0; d < D; d++) {
      for (let b = 0; b < B; b++) {
        last[b * D + d] = (top + d) * B + b;
        dLast[(top + d) * B + b] = b * D + d;
      }
    }
  }
}
