// Sequence regression from the last step: float frames [T,B,I] → recurrent stack (forward in time, every
// sequence all T steps) → linear head on the top layer's final state h_T → mean squared error against
// targets [B,C] (PyTorch's nn.MSELoss, reduction 'mean' over the B·C values). The adding problem's model.
//
// Sizes: T steps, B sequences, I frame width (config.vocabSize with embed 0), H hidden, L layers, C outputs.
import { type FloatSpan, Span } from '../backend/types.js';
import { invalidOption } from '../errors.js';
import { directionsOf, outputsOf } from './config.js';
import type { Model } from './model.js';
import { RecurrentStack } from './stack.js';

export class RegressorWorkspace {
  /** [maxT·maxB·I] frames, time-major: frames[(t·B + b)·I + i]. */
  readonly frames: FloatSpan;
  /** [maxB·C] targets. */
  readonly targets: FloatSpan;
  readonly stack: RecurrentStack;
  private readonly C: number;
  private readonly predictionsBuf: FloatSpan; // [B,C]
  private readonly dPredictions: FloatSpan; // [B,C]
  private readonly dhN: FloatSpan; // [L,B,H]: zero except the top layer's rows
  private shape: { T: number; B: number; labelled: boolean } | null = null;

  constructor(
    readonly model: Model,
    readonly maxT: number,
    readonly maxB: number,
    options: { dropout?: number; stateGradients?: boolean } = {},
  ) {
    if (directionsOf(model.config) !== 1)
      throw invalidOption('a last-step regressor reads each sequence forward in time: bidirectional must be false');
    this.stack = new RecurrentStack(model, maxT, maxB, {
      input: 'frames',
      dropout: options.dropout ?? 0,
      stateGradients: options.stateGradients ?? false,
    });
    const { hidden: H, layers: L } = model.config;
    this.C = outputsOf(model.config);
    const float = (length: number): FloatSpan => Span.of(model.backend.allocFloat(length));
    this.targets = float(maxB * this.C);
    this.predictionsBuf = float(maxB * this.C);
    this.dPredictions = float(maxB * this.C);
    this.dhN = float(L * maxB * H);
    this.frames = this.stack.frames;
  }

  /** Predictions [B,C] of the last forward(). */
  predictions(B: number): FloatSpan {
    return this.predictionsBuf.sub(0, B * this.C);
  }

  /** Runs the B sequences of T steps in `frames`; with targets, returns the summed squared error and keeps
   *  what backward() needs (the gradient of the mean over B·C values); without, NaN. A dropout seed (new
   *  every training step) turns on dropout between layers. */
  forward(T: number, B: number, withTargets: boolean, dropoutSeed?: number): number {
    this.shape = null;
    const backend = this.model.backend,
      { hidden: H, layers: L } = this.model.config,
      C = this.C;
    this.stack.forward(T, B, { masked: false, ...(dropoutSeed === undefined ? {} : { dropoutSeed }) });
    const top = this.stack.finalState(B).h.sub((L - 1) * B * H, B * H);
    const predictions = this.predictions(B);
    backend.gemm(false, true, B, C, H, 1, top, this.model.paramTensors.headWeight, 0, predictions);
    backend.addBias(B, C, this.model.paramTensors.headBias, predictions);
    this.shape = { T, B, labelled: withTargets };
    if (!withTargets) return Number.NaN;
    // B·C numbers: not worth a kernel (the recurrent loop costs T·B·H² per step).
    const y = predictions.data,
      target = this.targets.data,
      dy = this.dPredictions.data;
    let sum = 0;
    for (let i = 0; i < B * C; i++) {
      const error = y[i]! - target[i]!;
      sum += error * error;
      dy[i] = (2 * error) / (B * C);
    }
    return sum;
  }

  /** Accumulates the gradient of (summed squared error)/(B·C) of the last forward(T, B, true) into model.grads. */
  backward(T: number, B: number): void {
    const shape = this.shape;
    if (!shape || shape.T !== T || shape.B !== B || !shape.labelled)
      throw new Error(`backward(${T}, ${B}) does not follow forward(${T}, ${B}, true)`);
    const backend = this.model.backend,
      { paramTensors, gradTensors } = this.model,
      { hidden: H, layers: L } = this.model.config,
      C = this.C;
    const dPredictions = this.dPredictions.sub(0, B * C);
    const top = this.stack.finalState(B).h.sub((L - 1) * B * H, B * H);
    backend.gemm(true, false, C, H, B, 1, dPredictions, top, 1, gradTensors.headWeight);
    backend.sumRows(B, C, dPredictions, gradTensors.headBias);
    const dhN = this.dhN.sub(0, L * B * H);
    dhN.data.fill(0, 0, (L - 1) * B * H);
    backend.gemm(false, false, B, H, C, 1, dPredictions, paramTensors.headWeight, 0, dhN.sub((L - 1) * B * H, B * H));
    this.stack.backward(T, B, null, dhN);
  }
}
