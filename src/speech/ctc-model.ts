// The speech recogniser's network: float frames → recurrent stack (masked by each utterance's frames,
// bidirectional by default) → a per-frame linear head over the output symbols plus the blank (index 0) →
// CTC loss (Backend.ctcLoss, PyTorch's mean reduction). Buffers are allocated once for maxT frames ×
// maxB utterances × maxS target symbols.
//
// Sizes: T frames, B utterances, S target symbols (the batch's longest), H hidden, D directions, W = D·H,
// C output symbols including the blank, n = T·B rows.
import { OwnedBuffers } from '../backend/owned.js';
import { type FloatSpan, type IntSpan, ctcWorkspaceSize } from '../backend/types.js';
import { directionsOf, outputsOf } from '../model/config.js';
import type { Model } from '../model/model.js';
import { RecurrentStack } from '../model/stack.js';

export class CtcWorkspace {
  readonly stack: RecurrentStack;
  /** [maxT·maxB·F] frames, time-major: frames[(t·B + b)·F + i]; past an utterance's end, any finite value. */
  readonly frames: FloatSpan;
  /** [maxB] frames of each utterance, each in [1, T]. */
  readonly lengths: IntSpan;
  /** [maxB·maxS] labels of the batch packed as [B,S] for the batch's own S: targets[b·S + s], each in [1, C). */
  readonly targets: IntSpan;
  /** [maxB] labels of each utterance, each in [0, S]. */
  readonly targetLengths: IntSpan;
  /** [maxB] the last forward's per-utterance negative log-likelihoods. */
  readonly losses: FloatSpan;
  private readonly C: number;
  private readonly W: number;
  private readonly logitsBuf: FloatSpan; // [T,B,C]
  private readonly dLogits: FloatSpan; // [T,B,C]
  private readonly dOutput: FloatSpan; // [T,B,W]
  private readonly work: FloatSpan;
  private shape: { T: number; B: number; S: number; labelled: boolean } | null = null;
  private readonly owned: OwnedBuffers;

  constructor(
    readonly model: Model,
    readonly maxT: number,
    readonly maxB: number,
    readonly maxS: number,
    options: { dropout?: number; zeroInfinity?: boolean } = {},
  ) {
    this.stack = new RecurrentStack(model, maxT, maxB, { input: 'frames', dropout: options.dropout ?? 0 });
    this.zeroInfinity = options.zeroInfinity ?? true;
    this.C = outputsOf(model.config);
    this.W = directionsOf(model.config) * model.config.hidden;
    const owned = (this.owned = new OwnedBuffers(model.backend));
    const float = (length: number): FloatSpan => owned.float(length);
    const int = (length: number): IntSpan => owned.int(length);
    this.frames = this.stack.frames;
    this.lengths = this.stack.lengths;
    this.targets = int(maxB * maxS);
    this.targetLengths = int(maxB);
    this.losses = float(maxB);
    this.logitsBuf = float(maxT * maxB * this.C);
    this.dLogits = float(maxT * maxB * this.C);
    this.dOutput = float(maxT * maxB * this.W);
    this.work = float(ctcWorkspaceSize(maxT, maxB, maxS));
  }

  /** Utterances too short for their transcript add 0 (zero_infinity) instead of +∞. */
  readonly zeroInfinity: boolean;

  /** Frees the workspace's buffers and its stack's (a page transcribing again and again reuses the memory). */
  dispose(): void {
    this.owned.dispose();
    this.stack.dispose();
  }

  /** Logits [T,B,C] of the last forward(). */
  logits(T: number, B: number): FloatSpan {
    return this.logitsBuf.sub(0, T * B * this.C);
  }

  /** log_softmax(logits) of utterance b, [L_b][C], for decoding. */
  logProbs(T: number, B: number, b: number): Float32Array {
    const C = this.C,
      L = this.lengths.data[b]!,
      logits = this.logits(T, B).data,
      out = new Float32Array(L * C);
    for (let t = 0; t < L; t++) {
      const row = logits.subarray((t * B + b) * C, (t * B + b + 1) * C);
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, row[c]!);
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(row[c]! - max);
      const norm = max + Math.log(sum);
      for (let c = 0; c < C; c++) out[t * C + c] = row[c]! - norm;
    }
    return out;
  }

  /** Runs the network over the batch; with targets (S labels at most), returns the mean CTC loss (PyTorch's
   *  reduction 'mean') and keeps its gradient for backward(); without, NaN. */
  forward(T: number, B: number, S: number | null, dropoutSeed?: number): number {
    this.shape = null;
    const backend = this.model.backend,
      { C, W } = this,
      n = T * B,
      head = this.model.paramTensors;
    this.stack.forward(T, B, dropoutSeed === undefined ? {} : { dropoutSeed });
    const logits = this.logits(T, B);
    backend.gemm(false, true, n, C, W, 1, this.stack.output(T, B), head.headWeight, 0, logits);
    backend.addBias(n, C, head.headBias, logits);
    this.shape = { T, B, S: S ?? 0, labelled: S !== null };
    if (S === null) return Number.NaN;
    if (!(Number.isInteger(S) && S >= 0 && S <= this.maxS))
      throw new RangeError(`a batch with ${S} target symbols: expected 0 to ${this.maxS}`);
    return backend.ctcLoss(
      T,
      B,
      C,
      S,
      logits,
      this.targets.sub(0, B * S),
      this.lengths.sub(0, B),
      this.targetLengths.sub(0, B),
      this.zeroInfinity,
      this.work.sub(0, ctcWorkspaceSize(T, B, S)),
      this.losses.sub(0, B),
      this.dLogits.sub(0, n * C),
    );
  }

  /** Accumulates the gradient of the last forward's mean loss into model.grads. */
  backward(T: number, B: number): void {
    const shape = this.shape;
    if (!shape || shape.T !== T || shape.B !== B || !shape.labelled)
      throw new Error(`backward(${T}, ${B}) does not follow forward(${T}, ${B}, S)`);
    const backend = this.model.backend,
      { paramTensors, gradTensors } = this.model,
      { C, W } = this,
      n = T * B;
    const dLogits = this.dLogits.sub(0, n * C),
      output = this.stack.output(T, B),
      dOutput = this.dOutput.sub(0, n * W);
    backend.gemm(true, false, C, W, n, 1, dLogits, output, 1, gradTensors.headWeight);
    backend.sumRows(n, C, dLogits, gradTensors.headBias);
    backend.gemm(false, false, n, W, C, 1, dLogits, paramTensors.headWeight, 0, dOutput);
    this.stack.backward(T, B, dOutput);
  }
}
