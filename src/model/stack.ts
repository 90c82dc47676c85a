// The recurrent layers of a model over a batch of B ≤ maxB sequences padded to T ≤ maxT steps, time-major:
// masked by per-sequence lengths (PyTorch's packed sequences), optionally bidirectional, with dropout between
// layers. Every numeric step is a backend kernel; JS only builds int32 index arrays (a few T·B ints a batch).
//
// Sizes: T steps, B sequences, H hidden, L layers, D directions (2 when bidirectional), W = D·H the width of
// a layer's output, G gates, V the vocabulary (with embed 0 also the width of one-hot ids), F the width of a
// float frame (frameWidthOf: frameWidth, else V),
// E the embedding width, n = T·B rows.
//
// Layout. Layer l keeps both directions' states in ONE buffer hs [D][maxT+1][maxB][H]; direction d of a batch
// uses the contiguous [T+1,B,H] at the start of its block: slot 0 holds h0, slot s+1 the state after
// processing step s. The reverse direction processes sequence b's valid steps backwards (its step s is time
// L_b−1−s), so it reads its input rows permuted into processing order, and its output for time t sits at the
// mirrored slot. One gatherRows over hs (rows of H) then builds the concatenated output [T,B,D·H]; rows past a
// length point at slots that the masked kernel zeroed. The final state of sequence b is slot L_b in both
// directions. Backward runs the reverse direction in processing order, then permutes its input-side gradient
// back to time order, so the weight and input gradients of both directions are the same GEMMs.
import { OwnedBuffers } from '../backend/owned.js';
import { type Backend, type CellKind, type FloatSpan, type IntSpan, cacheWidth, gatesOf } from '../backend/types.js';
import { invalidOption } from '../errors.js';
import { type ModelConfig, cellKind, directionsOf, frameWidthOf } from './config.js';
import type { Model } from './model.js';

/** Workspaces larger than this many floats (4 GiB) are refused before anything is allocated. */
export const MAX_WORKSPACE_FLOATS = 2 ** 30;

/** 'ids': token ids, embedded or one-hot as the model says. 'frames': float frames [T,B,F] (embed 0). */
export type StackInput = 'ids' | 'frames';

export interface StackOptions {
  input?: StackInput;
  /** Inverted dropout between recurrent layers during training (forward with a dropout seed). */
  dropout?: number;
  /** Frames input: backward() also writes the gradient w.r.t. the frames (inputGrad). */
  inputGradient?: boolean;
  /** Keep room for ∂L/∂h_t of every layer and step (the gradient-flow view; see recordStateGradients). */
  stateGradients?: boolean;
}

export interface StackForwardOptions {
  /** Read `lengths` (default true); false: every sequence runs all T steps. */
  masked?: boolean;
  /** Initial states [L·D,B,H], layer-major, direction-minor (PyTorch's h0, c0); zeros when absent. May be
   *  finalState(B) itself (a carried state): each layer reads its rows before writing its final state. */
  h0?: FloatSpan | null;
  c0?: FloatSpan | null;
  /** A 32-bit integer, new for every training step: turns on dropout between layers. */
  dropoutSeed?: number;
}

interface LayerBuffers {
  hs: FloatSpan; // [D][maxT+1][maxB][H]
  cs: FloatSpan; // the same for the LSTM cell state, else empty
  cache: FloatSpan; // [D][maxT·maxB][cacheWidth·H]
  out: FloatSpan; // [T,B,W] the concatenated output (bidirectional only; unidirectional outputs are hs slots 1..T)
  // Dropout on this layer's input (layers above the first, when dropout > 0), each [T,B,W]:
  dropMask: FloatSpan;
  dropped: FloatSpan;
  dDropped: FloatSpan;
  dhSteps: FloatSpan; // [D][maxT·maxB·H] ∂L/∂h_t of the last backward() that recorded them, processing order (stateGradients)
}

/** Every buffer's size, in one place: the constructor allocates exactly these, stackFloats sums them. */
function bufferSizes(
  config: ModelConfig,
  maxT: number,
  maxB: number,
  input: StackInput,
  dropout: number,
  inputGradient: boolean,
  stateGradients: boolean,
) {
  const { hidden: H, layers: L, embed: E, vocabSize: V } = config;
  const F = frameWidthOf(config); // frames input: the width of one frame
  const kind = cellKind(config);
  const D = directionsOf(config),
    W = D * H,
    GH = gatesOf(kind) * H,
    n = maxT * maxB;
  const bi = D === 2,
    lstm = kind === 'lstm',
    frames = input === 'frames';
  const block = (maxT + 1) * maxB * H;
  const states = L * D * maxB * H;
  return {
    layer: (l: number) => ({
      hs: D * block,
      cs: lstm ? D * block : 0,
      cache: D * n * cacheWidth(kind) * H,
      out: bi ? n * W : 0,
      dhSteps: stateGradients ? D * n * H : 0,
      drop: l > 0 && dropout > 0 ? n * W : 0,
    }),
    floats: {
      frames: frames ? n * F : 0,
      dFrames: frames && inputGradient ? n * F : 0,
      embedded: E > 0 ? n * E : 0,
      xProj: n * GH,
      xRev: bi ? n * Math.max(frames ? F : E, L > 1 ? W : 0) : 0,
      dhs: bi ? D * n * H : 0,
      dGx: n * GH,
      dGh: n * GH,
      dGxTime: bi ? n * GH : 0,
      dLayer: n * Math.max(W, E),
      zeros: n * H,
      hN: states,
      cN: lstm ? states : 0,
      dh0: states,
      dc0: lstm ? states : 0,
    },
    ints: {
      ids: frames ? 0 : n,
      revIds: bi && !frames ? n : 0,
      perm: bi ? n : 0,
      outIndex: bi ? n * D : 0,
      dOutIndex: bi ? D * n : 0,
      finalIndex: D * maxB,
      iota: maxB,
      vocabIds: !frames && E === 0 ? V : 0,
      lengths: maxB,
    },
  };
}

/** Floats (and ints, counted as floats) a stack for maxT steps × maxB sequences allocates. */
export function stackFloats(config: ModelConfig, maxT: number, maxB: number, options: StackOptions = {}): number {
  const sizes = bufferSizes(
    config,
    maxT,
    maxB,
    options.input ?? 'ids',
    options.dropout ?? 0,
    options.inputGradient ?? false,
    options.stateGradients ?? false,
  );
  const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);
  let total = sum(sizes.floats) + sum(sizes.ints);
  for (let l = 0; l < config.layers; l++) {
    const layer = sizes.layer(l);
    total += layer.hs + layer.cs + layer.cache + layer.out + layer.dhSteps + 3 * layer.drop;
  }
  return total;
}

export class RecurrentStack {
  /** [maxT·maxB] input ids, time-major for the batch's own B: ids[t·B + b] (input 'ids'); past a length any
   *  valid id. ids, frames and lengths must stay as forward() saw them until backward(). */
  readonly ids: IntSpan;
  /** [maxT·maxB·F] input frames of F = frameWidthOf(config) features, time-major: frames[(t·B + b)·F + i]
   *  (input 'frames'); past a length any
   *  finite value (those rows meet zero gradients, and 0·NaN would not be 0). */
  readonly frames: FloatSpan;
  /** [maxB] sequence lengths, each in [1, T] (read by a masked forward). */
  readonly lengths: IntSpan;
  readonly input: StackInput;
  readonly dropout: number;
  private readonly kind: CellKind;
  private readonly D: number;
  private readonly H: number;
  private readonly GH: number;
  private readonly layers: LayerBuffers[];
  private readonly owned: OwnedBuffers;
  private readonly embedded: FloatSpan; // [T,B,E] (embedding input)
  private readonly dFrames: FloatSpan; // [T,B,F] (frames input with inputGradient)
  private readonly xProj: FloatSpan; // [T,B,G·H] one direction's input projection, in processing order
  private readonly xRev: FloatSpan; // [T,B,·] the reverse direction's float input in processing order
  private readonly dhs: FloatSpan; // [D][T,B,H] gradient w.r.t. each direction's outputs, in processing order
  private readonly dGx: FloatSpan; // [T,B,G·H]
  private readonly dGh: FloatSpan; // [T,B,G·H]
  private readonly dGxTime: FloatSpan; // [T,B,G·H] the reverse direction's dGx back in time order
  private readonly dLayer: FloatSpan; // [T,B,max(W,E)] gradient w.r.t. the input of the layer just done
  private readonly zeros: FloatSpan; // [maxT·maxB·H] never written: zero states and gradients
  private readonly hN: FloatSpan; // [L·D,B,H]
  private readonly cN: FloatSpan;
  private readonly dh0: FloatSpan; // [L·D,B,H]
  private readonly dc0: FloatSpan;
  private readonly revIds: IntSpan; // [T,B] the ids in the reverse direction's processing order
  private readonly perm: IntSpan; // [T,B] time row ↔ reverse processing row (an involution)
  private readonly outIndex: IntSpan; // [T,B,D] hs row of each output row (row width H)
  private readonly dOutIndex: IntSpan; // [D,T,B] output-gradient row of each processing row
  private readonly finalIndex: IntSpan; // [D,B] hs row of each final state
  private readonly iota: IntSpan; // [maxB] 0, 1, …: copies B rows
  private readonly vocabIds: IntSpan; // [V] 0, 1, …, V−1: gathers all of W_ihᵀ (one-hot input)
  private shape: { T: number; B: number; masked: boolean } | null = null; // of the last forward()
  /** backward() writes ∂L/∂h_t of every layer (stateGradients) while this is true: a few T·B·H stores. */
  recordStateGradients = false;
  private recorded: { T: number; B: number } | null = null; // the shape of the last recorded backward()
  private droppedOut = false; // whether the last forward() applied dropout

  constructor(
    readonly model: Model,
    readonly maxT: number,
    readonly maxB: number,
    options: StackOptions = {},
  ) {
    this.input = options.input ?? 'ids';
    this.dropout = options.dropout ?? 0;
    const inputGradient = options.inputGradient ?? false;
    const config = model.config;
    if (this.input !== 'ids' && this.input !== 'frames')
      throw invalidOption(`input must be ids or frames, got ${String(this.input)}`);
    if (typeof this.dropout !== 'number' || !(this.dropout >= 0 && this.dropout < 1)) {
      throw invalidOption(`dropout must be a probability in [0, 1), got ${String(this.dropout)}`);
    }
    if (inputGradient && this.input !== 'frames')
      throw invalidOption('inputGradient is for frames input (ids have no gradient)');
    if (this.input === 'frames' && config.embed > 0)
      throw invalidOption(
        'float frames need a model without an embedding (embed 0; the frame width is frameWidth, else vocabSize)',
      );
    if (this.input === 'ids' && frameWidthOf(config) !== config.vocabSize)
      throw invalidOption(
        `ids need a model whose frame width is its vocabulary size (one-hot), not ${config.frameWidth}`,
      );
    const floats = stackFloats(config, maxT, maxB, options);
    if (!Number.isInteger(maxT) || !Number.isInteger(maxB) || maxT < 1 || maxB < 1 || floats > MAX_WORKSPACE_FLOATS) {
      throw invalidOption(
        `a stack of ${maxT} steps × ${maxB} sequences for this model needs ${((floats * 4) / 2 ** 30).toFixed(1)} GiB; the limit is ${(MAX_WORKSPACE_FLOATS * 4) / 2 ** 30} GiB (lower the steps, the batch or the model size)`,
      );
    }
    this.kind = cellKind(config);
    this.D = directionsOf(config);
    this.H = config.hidden;
    this.GH = gatesOf(this.kind) * this.H;
    const owned = (this.owned = new OwnedBuffers(model.backend));
    const float = (length: number): FloatSpan => owned.float(length);
    const int = (length: number): IntSpan => owned.int(length);
    const sizes = bufferSizes(
      config,
      maxT,
      maxB,
      this.input,
      this.dropout,
      inputGradient,
      options.stateGradients ?? false,
    );
    this.layers = Array.from({ length: config.layers }, (_, l) => {
      const s = sizes.layer(l);
      return {
        hs: float(s.hs),
        cs: float(s.cs),
        cache: float(s.cache),
        out: float(s.out),
        dropMask: float(s.drop),
        dropped: float(s.drop),
        dDropped: float(s.drop),
        dhSteps: float(s.dhSteps),
      };
    });
    const f = sizes.floats;
    this.frames = float(f.frames);
    this.dFrames = float(f.dFrames);
    this.embedded = float(f.embedded);
    this.xProj = float(f.xProj);
    this.xRev = float(f.xRev);
    this.dhs = float(f.dhs);
    this.dGx = float(f.dGx);
    this.dGh = float(f.dGh);
    this.dGxTime = float(f.dGxTime);
    this.dLayer = float(f.dLayer);
    this.zeros = float(f.zeros);
    this.hN = float(f.hN);
    this.cN = float(f.cN);
    this.dh0 = float(f.dh0);
    this.dc0 = float(f.dc0);
    const i = sizes.ints;
    this.ids = int(i.ids);
    this.revIds = int(i.revIds);
    this.perm = int(i.perm);
    this.outIndex = int(i.outIndex);
    this.dOutIndex = int(i.dOutIndex);
    this.finalIndex = int(i.finalIndex);
    this.iota = int(i.iota);
    this.vocabIds = int(i.vocabIds);
    this.lengths = int(i.lengths);
    // Views only after every allocation (growing WASM memory detaches older views).
    this.iota.data.forEach((_, k, a) => (a[k] = k));
    this.vocabIds.data.forEach((_, k, a) => (a[k] = k));
  }

  /** Frees the stack's memory (not the model's); it is unusable afterwards. */
  dispose(): void {
    this.owned.dispose();
  }

  private get backend(): Backend {
    return this.model.backend;
  }

  /** W = D·H: the width of every layer's output. */
  get width(): number {
    return this.D * this.H;
  }

  /** The top layer's outputs [T,B,D·H] of the last forward(): zeros past each length, forward then backward features. */
  output(T: number, B: number): FloatSpan {
    return this.outputOf(this.layers.length - 1, T, B);
  }

  /** Final states h_n (c_n for LSTM) [L·D,B,H] of the last forward(), ordered as PyTorch's. */
  finalState(B: number): { h: FloatSpan; c: FloatSpan | null } {
    return this.statesOfBatch(this.hN, this.cN, B);
  }

  /** Gradient of the last backward() w.r.t. the initial states h0 (c0), [L·D,B,H]. */
  initialStateGrad(B: number): { h: FloatSpan; c: FloatSpan | null } {
    return this.statesOfBatch(this.dh0, this.dc0, B);
  }

  private statesOfBatch(h: FloatSpan, c: FloatSpan, B: number): { h: FloatSpan; c: FloatSpan | null } {
    const size = this.layers.length * this.D * B * this.H;
    return { h: h.sub(0, size), c: c.length ? c.sub(0, size) : null };
  }

  /** Gradient of the last backward() w.r.t. the frames [T,B,F] (frames input built with inputGradient). */
  inputGrad(T: number, B: number): FloatSpan {
    if (!this.dFrames.length)
      throw new Error('inputGrad() needs a stack with frames input built with inputGradient: true');
    return this.dFrames.sub(0, T * B * frameWidthOf(this.model.config));
  }

  /**
   * ‖∂L/∂h_t‖ (over the batch: the Frobenius norm of the [B,H] gradient) for each layer, direction and step
   * of the last backward() made while recordStateGradients was on: [layer][direction][s], s = 0 … T−1 the
   * direction's processing steps (for direction 0, h_1 … h_T). The backward pass computes these gradients
   * anyway; reading them costs T·L·D sums of squares.
   */
  stateGradientNorms(): number[][][] {
    if (!this.recorded)
      throw new Error(
        'stateGradientNorms() needs a backward() made with recordStateGradients on (a stack built with stateGradients: true)',
      );
    const { T, B } = this.recorded,
      BH = B * this.H,
      backend = this.backend;
    return this.layers.map((layer) =>
      Array.from({ length: this.D }, (_, d) =>
        Array.from({ length: T }, (_, s) =>
          Math.sqrt(backend.sumSquares(layer.dhSteps.sub(d * this.maxT * this.maxB * this.H + s * BH, BH))),
        ),
      ),
    );
  }

  /** Runs every layer over the batch in `ids` (or `frames`) and `lengths`. */
  forward(T: number, B: number, options: StackForwardOptions = {}): void {
    this.checkBatch(T, B);
    const masked = options.masked ?? true;
    if (typeof masked !== 'boolean') throw new TypeError(`masked must be a boolean, got ${String(masked)}`);
    if (masked) this.checkLengths(T, B);
    const h0 = this.stateSpan('h0', options.h0, B, false),
      c0 = this.stateSpan('c0', options.c0, B, true);
    this.shape = null;
    this.buildIndices(T, B, masked);
    this.droppedOut = this.dropout > 0 && options.dropoutSeed !== undefined;
    const backend = this.backend;
    const { D, H } = this,
      n = T * B,
      BH = B * H;
    const lengths = masked ? this.lengths.sub(0, B) : null;
    const iota = this.iota.sub(0, B);
    this.layers.forEach((layer, l) => {
      const x = this.prepareInput(l, T, B, options.dropoutSeed);
      for (let d = 0; d < D; d++) {
        const w = this.model.paramTensors.layers[l]![d]!;
        const hs = this.states(layer.hs, d, T, B),
          cs = this.states(layer.cs, d, T, B);
        const first = (l * D + d) * BH;
        backend.gatherRows(B, H, iota, h0 ? h0.sub(first, BH) : this.zeros.sub(0, BH), hs.sub(0, BH));
        if (cs.length) backend.gatherRows(B, H, iota, c0 ? c0.sub(first, BH) : this.zeros.sub(0, BH), cs.sub(0, BH));
        const { xProj, xIds } = this.project(d, T, B, x, w.wIh);
        backend.cellForward(
          this.kind,
          T,
          B,
          H,
          xProj,
          w.wHh,
          w.bIh,
          w.bHh,
          hs,
          cs,
          this.cacheOf(layer, d, T, B),
          xIds,
          lengths,
        );
      }
      if (D === 2) backend.gatherRows(n * D, H, this.outIndex.sub(0, n * D), layer.hs, layer.out.sub(0, n * D * H));
      const finals = this.finalIndex.sub(0, D * B);
      backend.gatherRows(D * B, H, finals, layer.hs, this.hN.sub(l * D * BH, D * BH));
      if (layer.cs.length) backend.gatherRows(D * B, H, finals, layer.cs, this.cN.sub(l * D * BH, D * BH));
    });
    this.shape = { T, B, masked };
  }

  /**
   * Accumulates parameter gradients for the gradient dOutput [T,B,D·H] w.r.t. output(T, B) (null: zero)
   * and dhN, dcN [L·D,B,H] w.r.t. finalState(B) (null: zero). Writes initialStateGrad and, for frames
   * built with inputGradient, inputGrad.
   */
  backward(
    T: number,
    B: number,
    dOutput: FloatSpan | null,
    dhN: FloatSpan | null = null,
    dcN: FloatSpan | null = null,
  ): void {
    const shape = this.shape;
    if (!shape || shape.T !== T || shape.B !== B)
      throw new Error(`backward(${T}, ${B}) does not follow forward(${T}, ${B})`);
    const { D, H, GH } = this,
      n = T * B,
      BH = B * H,
      W = D * H;
    if (dOutput && dOutput.length !== n * W)
      throw new RangeError(`dOutput has ${dOutput.length} elements, expected ${n * W} (T·B·D·H)`);
    const dh = this.stateSpan('dhN', dhN, B, false),
      dc = this.stateSpan('dcN', dcN, B, true);
    const backend = this.backend,
      { paramTensors, gradTensors } = this.model;
    const lengths = shape.masked ? this.lengths.sub(0, B) : null;
    const ids = this.input === 'ids' ? this.ids.sub(0, n) : null;
    const noState = this.zeros.sub(0, BH),
      noCell = this.kind === 'lstm' ? noState : this.zeros.sub(0, 0);
    const record = this.recordStateGradients;
    if (record && !this.layers[0]!.dhSteps.length)
      throw new Error('recordStateGradients needs a stack built with stateGradients: true');
    this.recorded = null;
    let dAbove = dOutput; // gradient w.r.t. layer l's output, time order
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const layer = this.layers[l]!;
      const dhs = this.directionGradients(dAbove, T, B);
      const x = this.inputOf(l, T, B);
      const dx = this.inputGradTarget(l, T, B);
      for (let d = 0; d < D; d++) {
        const w = paramTensors.layers[l]![d]!,
          dw = gradTensors.layers[l]![d]!;
        const hs = this.states(layer.hs, d, T, B),
          cs = this.states(layer.cs, d, T, B);
        const first = (l * D + d) * BH;
        const dGx = this.dGx.sub(0, n * GH),
          dGh = this.dGh.sub(0, n * GH);
        backend.cellBackward(
          this.kind,
          T,
          B,
          H,
          w.wHh,
          hs,
          cs,
          this.cacheOf(layer, d, T, B),
          dhs[d]!,
          dh ? dh.sub(first, BH) : noState,
          dc ? dc.sub(first, BH) : noCell,
          dGx,
          dGh,
          this.dh0.sub(first, BH),
          cs.length ? this.dc0.sub(first, BH) : this.dc0.sub(0, 0),
          dw.bIh,
          dw.bHh,
          lengths,
          record ? layer.dhSteps.sub(d * this.maxT * this.maxB * H, n * H) : null,
        );
        backend.gemm(true, false, GH, H, n, 1, dGh, hs.sub(0, n * H), 1, dw.wHh);
        let dGxTime = dGx;
        if (d === 1) {
          dGxTime = this.dGxTime.sub(0, n * GH);
          backend.gatherRows(n, GH, this.perm.sub(0, n), dGx, dGxTime);
        }
        if (x) {
          const I = x.length / n;
          backend.gemm(true, false, GH, I, n, 1, dGxTime, x, 1, dw.wIh);
          if (dx) backend.gemm(false, false, n, I, GH, 1, dGxTime, w.wIh, d === 0 ? 0 : 1, dx);
        } else {
          backend.scatterAddColumns(n, GH, ids!, dGxTime, dw.wIh);
        }
      }
      if (l > 0 && this.droppedOut)
        backend.multiply(layer.dDropped.sub(0, n * W), layer.dropMask.sub(0, n * W), this.dLayer.sub(0, n * W));
      if (l === 0 && ids && dx && gradTensors.embed)
        backend.scatterAddRows(n, this.model.config.embed, ids, dx, gradTensors.embed);
      dAbove = this.dLayer.sub(0, n * W);
    }
    if (record) this.recorded = { T, B };
  }

  private checkBatch(T: number, B: number): void {
    if (!Number.isInteger(T) || T < 1 || T > this.maxT)
      throw new RangeError(`a batch of ${T} steps: expected 1 to ${this.maxT}`);
    if (!Number.isInteger(B) || B < 1 || B > this.maxB)
      throw new RangeError(`a batch of ${B} sequences: expected 1 to ${this.maxB}`);
  }

  private checkLengths(T: number, B: number): void {
    const lengths = this.lengths.data;
    for (let b = 0; b < B; b++) {
      const length = lengths[b]!;
      if (length < 1 || length > T) throw new RangeError(`length ${length} of sequence ${b} is outside [1, ${T}]`);
    }
  }

  /** An optional state argument [L·D,B,H] (a cell state only for LSTM), checked; null when absent. */
  private stateSpan(name: string, span: FloatSpan | null | undefined, B: number, cellState: boolean): FloatSpan | null {
    if (!span) return null;
    const expected = this.layers.length * this.D * B * this.H;
    if (cellState && this.kind !== 'lstm')
      throw new TypeError(`${name} is only for LSTM cells, this model has ${this.kind}`);
    if (span.length !== expected)
      throw new RangeError(`${name} has ${span.length} elements, expected ${expected} (L·D·B·H)`);
    return span;
  }

  /** The index arrays of this batch (see the layout at the top). */
  private buildIndices(T: number, B: number, masked: boolean): void {
    const D = this.D,
      S = (this.maxT + 1) * this.maxB,
      n = T * B;
    const lengths = this.lengths.data;
    const lengthOf = (b: number): number => (masked ? lengths[b]! : T);
    const finals = this.finalIndex.data;
    for (let d = 0; d < D; d++) for (let b = 0; b < B; b++) finals[d * B + b] = d * S + lengthOf(b) * B + b;
    if (D === 1) return;
    const perm = this.perm.data,
      out = this.outIndex.data,
      dOut = this.dOutIndex.data;
    const ids = this.input === 'ids' ? this.ids.data : null,
      revIds = this.revIds.data;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const L = lengthOf(b),
          row = t * B + b;
        const s = t < L ? L - 1 - t : t; // the reverse direction's processing step at time t, and vice versa
        perm[row] = s * B + b;
        out[2 * row] = (t + 1) * B + b; // forward: slot t+1 (zeroed past the end)
        out[2 * row + 1] = S + (s + 1) * B + b; // reverse: slot s+1 (zeroed past the end, where s = t)
        dOut[row] = 2 * row; // forward: processing step t is time t
        dOut[n + row] = 2 * (s * B + b) + 1; // reverse: processing step t is time s
        if (ids) revIds[row] = ids[s * B + b]!;
      }
    }
  }

  /** Direction d's slice [T+1,B,H] of a layer's hs (or cs; empty stays empty). */
  private states(buffer: FloatSpan, d: number, T: number, B: number): FloatSpan {
    if (!buffer.length) return buffer;
    return buffer.sub(d * (this.maxT + 1) * this.maxB * this.H, (T + 1) * B * this.H);
  }

  private cacheOf(layer: LayerBuffers, d: number, T: number, B: number): FloatSpan {
    const rowWidth = cacheWidth(this.kind) * this.H;
    return layer.cache.sub(d * this.maxT * this.maxB * rowWidth, T * B * rowWidth);
  }

  /** Layer l's output [T,B,W] of the last forward. */
  private outputOf(l: number, T: number, B: number): FloatSpan {
    const layer = this.layers[l]!,
      n = T * B;
    return this.D === 2 ? layer.out.sub(0, n * this.D * this.H) : layer.hs.sub(B * this.H, n * this.H);
  }

  /** Layer l's float input [T,B,·] in time order as the last forward used it; null for one-hot ids. */
  private inputOf(l: number, T: number, B: number): FloatSpan | null {
    const n = T * B,
      E = this.model.config.embed;
    if (l > 0)
      return this.droppedOut ? this.layers[l]!.dropped.sub(0, n * this.D * this.H) : this.outputOf(l - 1, T, B);
    if (this.input === 'frames') return this.frames.sub(0, n * frameWidthOf(this.model.config));
    return E > 0 ? this.embedded.sub(0, n * E) : null;
  }

  /** Computes layer l's input (embedding lookup; dropout with a fresh mask when a seed is given). */
  private prepareInput(l: number, T: number, B: number, dropoutSeed: number | undefined): FloatSpan | null {
    const n = T * B,
      p = this.model.paramTensors;
    if (l === 0 && this.input === 'ids' && p.embed) {
      this.backend.gatherRows(
        n,
        this.model.config.embed,
        this.ids.sub(0, n),
        p.embed,
        this.embedded.sub(0, n * this.model.config.embed),
      );
    } else if (l > 0 && this.droppedOut) {
      const layer = this.layers[l]!,
        size = n * this.D * this.H;
      const seed = (dropoutSeed! + Math.imul(l, 0x9e3779b9)) >>> 0; // a different mask for every layer
      this.backend.dropout(
        this.outputOf(l - 1, T, B),
        this.dropout,
        seed,
        layer.dropMask.sub(0, size),
        layer.dropped.sub(0, size),
      );
    }
    return this.inputOf(l, T, B);
  }

  /** Direction d's input projection W_ih·x in processing order, or (one-hot ids) a table of W_ihᵀ rows and the ids. */
  private project(
    d: number,
    T: number,
    B: number,
    x: FloatSpan | null,
    wIh: FloatSpan,
  ): { xProj: FloatSpan; xIds: IntSpan | null } {
    const backend = this.backend,
      n = T * B,
      GH = this.GH,
      V = this.model.config.vocabSize;
    if (x) {
      const I = x.length / n;
      let input = x;
      if (d === 1) {
        input = this.xRev.sub(0, n * I);
        backend.gatherRows(n, I, this.perm.sub(0, n), x, input);
      }
      const xProj = this.xProj.sub(0, n * GH);
      backend.gemm(false, true, n, GH, I, 1, input, wIh, 0, xProj);
      return { xProj, xIds: null };
    }
    const ids = (d === 0 ? this.ids : this.revIds).sub(0, n);
    if (n >= V) {
      // At least V tokens: the loop reads the rows of W_ihᵀ [V,G·H] by id instead of a [T,B,G·H] sequence.
      const table = this.xProj.sub(0, V * GH);
      backend.gatherColumns(V, GH, this.vocabIds, wIh, table);
      return { xProj: table, xIds: ids };
    }
    const xProj = this.xProj.sub(0, n * GH);
    backend.gatherColumns(n, GH, ids, wIh, xProj);
    return { xProj, xIds: null };
  }

  /** The gradient w.r.t. each direction's outputs [T,B,H] in processing order, from the time-order dAbove [T,B,W]. */
  private directionGradients(dAbove: FloatSpan | null, T: number, B: number): FloatSpan[] {
    const n = T * B,
      H = this.H,
      D = this.D;
    if (!dAbove) return Array.from({ length: D }, () => this.zeros.sub(0, n * H));
    if (D === 1) return [dAbove];
    this.backend.gatherRows(D * n, H, this.dOutIndex.sub(0, D * n), dAbove, this.dhs.sub(0, D * n * H));
    return Array.from({ length: D }, (_, d) => this.dhs.sub(d * n * H, n * H));
  }

  /** Where layer l's input gradient goes: the layer below's (before dropout's mask), the embedding's, the
   *  frames' (when wanted), or nowhere (one-hot ids, or frames without inputGradient). */
  private inputGradTarget(l: number, T: number, B: number): FloatSpan | null {
    const n = T * B,
      W = this.D * this.H,
      E = this.model.config.embed;
    if (l > 0) return (this.droppedOut ? this.layers[l]!.dDropped : this.dLayer).sub(0, n * W);
    if (this.input === 'frames') return this.dFrames.length ? this.inputGrad(T, B) : null;
    return E > 0 ? this.dLayer.sub(0, n * E) : null;
  }
}
