// Everything one chunk of T steps × B streams needs, allocated once on the backend: token ids, targets,
// activations laid out [T][B][·] for BPTT, gradients of activations, and the carried recurrent state.
// forward() and backward() are sequences of backend kernel calls; nothing is allocated inside them.
import { type Backend, type CellKind, type F, type I, Span, cacheWidth, gatesOf } from '../backend/types.js';
import { invalidOption } from '../errors.js';
import { type ModelConfig, cellKind, directionsOf, outputsOf } from './config.js';

import { MAX_WORKSPACE_FLOATS } from './stack.js';

export { MAX_WORKSPACE_FLOATS };

/** Floats a workspace of T steps × B streams allocates (ids and targets counted as floats). */
export function workspaceFloats(config: ModelConfig, T: number, B: number): number {
  const { hidden: H, layers: L, embed: E, vocabSize: V } = config;
  const kind = cellKind(config);
  const GH = gatesOf(kind) * H, n = T * B;
  const perLayer = n * GH + 2 * (T + 1) * B * H + n * cacheWidth(kind) * H + 2 * B * H;
  return 2 * n + L * perLayer + n * E + 2 * n * V + n * Math.max(H, E) + 2 * n * GH + B * H + V;
}
import type { Model } from './model.js';

interface LayerBuffers {
  xProj: F; // [T,B,G·H]
  hs: F; // [T+1,B,H], slot 0 = carried state
  cs: F; // [T+1,B,H] for LSTM, else empty
  cache: F; // [T,B,cacheWidth·H]
  dh0: F; // [B,H] gradient w.r.t. the layer's initial state
  dc0: F; // [B,H] for LSTM, else empty
  // Dropout on this layer's input (layers above the first, when dropout > 0), each [T,B,H]:
  dropMask: F; // multiplier per element: 0 or 1/(1−p)
  dropped: F; // the input after dropout
  dDropped: F; // gradient w.r.t. the input after dropout
}

export interface WorkspaceOptions {
  /** Inverted dropout between recurrent layers during training (forward with a dropout seed). */
  dropout?: number;
}

export function checkWorkspaceSize(config: ModelConfig, T: number, B: number): void {
  const floats = workspaceFloats(config, T, B);
  if (!Number.isInteger(T) || !Number.isInteger(B) || T < 1 || B < 1 || floats > MAX_WORKSPACE_FLOATS) {
    throw invalidOption(`a workspace of ${T} steps × ${B} streams for this model needs ${((floats * 4) / 2 ** 30).toFixed(1)} GiB; the limit is ${(MAX_WORKSPACE_FLOATS * 4) / 2 ** 30} GiB (lower --seq, --batch or the model size)`);
  }
}

export class Workspace {
  readonly ids: I; // [T,B]
  readonly targets: I; // [T,B]
  private readonly kind: CellKind;
  private readonly layers: LayerBuffers[];
  private readonly embedded: F | null; // [T,B,E]
  private readonly logitsBuf: F; // [T,B,V]
  private readonly dLogits: F; // [T,B,V]
  private readonly dhs: F; // [T,B,max(H,E)] gradient flowing into a layer's output (or the embedding)
  private readonly dGx: F; // [T,B,G·H]
  private readonly dGh: F; // [T,B,G·H]
  private readonly zeros: F; // [B,H] no gradient from beyond the chunk (truncated BPTT)
  private readonly vocabIds: I; // [V] 0, 1, …, V−1: gathers all of W_ihᵀ
  private carriedSteps = 0; // T of the previous chunk, whose final state the next forward() carries over
  private droppedOut = false; // whether the last forward() applied dropout
  readonly dropout: number;

  constructor(
    readonly model: Model,
    readonly maxT: number,
    readonly batch: number,
    options: WorkspaceOptions = {},
  ) {
    this.dropout = options.dropout ?? 0;
    if (typeof this.dropout !== 'number' || !(this.dropout >= 0 && this.dropout < 1)) {
      throw invalidOption(`dropout must be a probability in [0, 1), got ${String(this.dropout)}`);
    }
    const backend = model.backend;
    const { hidden: H, layers: L, embed: E, vocabSize: V } = model.config;
    if (directionsOf(model.config) !== 1 || outputsOf(model.config) !== V) {
      throw invalidOption('a language model runs forward in time and predicts its own vocabulary: bidirectional must be false and outputs equal the vocabulary size');
    }
    checkWorkspaceSize(model.config, maxT, batch);
    this.kind = cellKind(model.config);
    const GH = gatesOf(this.kind) * H;
    const n = maxT * batch;
    const float = (length: number): F => Span.of(backend.allocFloat(length));
    const stateSize = (maxT + 1) * batch * H;
    this.ids = Span.of(backend.allocInt(n));
    this.targets = Span.of(backend.allocInt(n));
    const droppedSize = (l: number): number => (l > 0 && this.dropout > 0 ? n * H : 0);
    this.layers = Array.from({ length: L }, (_, l) => ({
      xProj: float(n * GH),
      hs: float(stateSize),
      cs: float(this.kind === 'lstm' ? stateSize : 0),
      cache: float(n * cacheWidth(this.kind) * H),
      dh0: float(batch * H),
      dc0: float(this.kind === 'lstm' ? batch * H : 0),
      dropMask: float(droppedSize(l)),
      dropped: float(droppedSize(l)),
      dDropped: float(droppedSize(l)),
    }));
    this.embedded = E > 0 ? float(n * E) : null;
    this.logitsBuf = float(n * V);
    this.dLogits = float(n * V);
    this.dhs = float(n * Math.max(H, E));
    this.dGx = float(n * GH);
    this.dGh = float(n * GH);
    this.zeros = float(batch * H);
    this.vocabIds = Span.of(backend.allocInt(V));
    const vocabIds = this.vocabIds.data;
    for (let v = 0; v < V; v++) vocabIds[v] = v;
  }

  private get backend(): Backend {
    return this.model.backend;
  }

  /** Start every stream from a zero state (first chunk of an epoch, a new text). */
  resetState(): void {
    const BH = this.batch * this.model.config.hidden;
    for (const layer of this.layers) {
      layer.hs.sub(0, BH).data.fill(0);
      if (layer.cs.length) layer.cs.sub(0, BH).data.fill(0);
    }
    this.carriedSteps = 0;
  }

  /** Layer l's recurrent state: h (and c for LSTM), [B,H] each, as it stands for the next chunk. */
  state(l: number): { h: F; c: F | null } {
    const BH = this.batch * this.model.config.hidden;
    const layer = this.layers[l]!;
    const slot = this.carriedSteps * BH;
    return { h: layer.hs.sub(slot, BH), c: layer.cs.length ? layer.cs.sub(slot, BH) : null };
  }

  /** Gradient of the last backward() w.r.t. layer l's initial h and c. */
  stateGrad(l: number): { h: F; c: F | null } {
    const layer = this.layers[l]!;
    return { h: layer.dh0, c: layer.dc0.length ? layer.dc0 : null };
  }

  /** Logits [T,B,V] of the last forward(). */
  logits(T: number): F {
    return this.logitsBuf.sub(0, T * this.batch * this.model.config.vocabSize);
  }

  private checkSteps(T: number): void {
    if (!Number.isInteger(T) || T < 1 || T > this.maxT) throw new RangeError(`chunk of ${T} steps: expected 1 to ${this.maxT}`);
  }

  /** Runs T steps from the carried state over `ids`; with targets, returns the summed cross-entropy
   *  and keeps what backward() needs (dLogits scaled by 1/(T·B)). Without, returns NaN.
   *  A dropout seed (a 32-bit integer, new for every training step) turns on dropout between layers. */
  forward(T: number, withTargets = true, dropoutSeed?: number): number {
    this.checkSteps(T);
    this.carryState();
    const be = this.backend;
    const { hidden: H, embed: E, vocabSize: V } = this.model.config;
    const B = this.batch, n = T * B, BH = B * H;
    const GH = gatesOf(this.kind) * H;
    const p = this.model.p;
    const ids = this.ids.sub(0, n);
    this.droppedOut = this.dropout > 0 && dropoutSeed !== undefined;
    this.layers.forEach((layer, l) => {
      const w = p.layers[l]![0]!;
      let xProj = layer.xProj.sub(0, n * GH);
      let xIds: I | null = null;
      if (l > 0) {
        be.gemm(false, true, n, GH, H, 1, this.layerInput(l, T, dropoutSeed), w.wIh, 0, xProj);
      } else if (this.embedded && p.embed) {
        const x = this.embedded.sub(0, n * E);
        be.gatherRows(n, E, ids, p.embed, x);
        be.gemm(false, true, n, GH, E, 1, x, w.wIh, 0, xProj);
      } else if (n >= V) {
        // One-hot input, at least V tokens: the loop reads the rows of W_ihᵀ [V,G·H] (built here, in
        // xProj's space) by id, instead of a [T,B,G·H] sequence of them.
        xProj = layer.xProj.sub(0, V * GH);
        be.gatherColumns(V, GH, this.vocabIds, w.wIh, xProj);
        xIds = ids;
      } else {
        be.gatherColumns(n, GH, ids, w.wIh, xProj);
      }
      be.cellForward(this.kind, T, B, H, xProj, w.wHh, w.bIh, w.bHh, layer.hs.sub(0, (T + 1) * BH), this.cellState(layer, T), layer.cache.sub(0, layer.cache.length / this.maxT * T), xIds);
    });
    const top = this.layers[this.layers.length - 1]!.hs.sub(BH, n * H);
    const logits = this.logits(T);
    be.gemm(false, true, n, V, H, 1, top, p.headWeight, 0, logits);
    be.addBias(n, V, p.headBias, logits);
    this.carriedSteps = T;
    if (!withTargets) return Number.NaN;
    return be.softmaxCrossEntropy(n, V, logits, this.targets.sub(0, n), 1 / n, this.dLogits.sub(0, n * V));
  }

  /** Accumulates the gradient of (summed loss)/(T·B) of the last forward(T) into the model's gradient arena. */
  backward(T: number): void {
    this.checkSteps(T);
    if (T !== this.carriedSteps) throw new Error(`backward(${T}) does not follow forward(${T})`);
    const be = this.backend;
    const { hidden: H, embed: E, vocabSize: V } = this.model.config;
    const B = this.batch, n = T * B, BH = B * H;
    const GH = gatesOf(this.kind) * H;
    const { p, g } = this.model;
    const dLogits = this.dLogits.sub(0, n * V);
    const top = this.layers[this.layers.length - 1]!.hs.sub(BH, n * H);
    be.gemm(true, false, V, H, n, 1, dLogits, top, 1, g.headWeight);
    be.sumRows(n, V, dLogits, g.headBias);
    const dhs = this.dhs.sub(0, n * H);
    be.gemm(false, false, n, H, V, 1, dLogits, p.headWeight, 0, dhs);
    const dGx = this.dGx.sub(0, n * GH), dGh = this.dGh.sub(0, n * GH);
    const ids = this.ids.sub(0, n);
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const layer = this.layers[l]!, w = p.layers[l]![0]!, dw = g.layers[l]![0]!;
      const hs = layer.hs.sub(0, (T + 1) * BH);
      const dcN = this.kind === 'lstm' ? this.zeros : this.zeros.sub(0, 0);
      be.cellBackward(this.kind, T, B, H, w.wHh, hs, this.cellState(layer, T), layer.cache.sub(0, layer.cache.length / this.maxT * T), dhs, this.zeros, dcN, dGx, dGh, layer.dh0, layer.dc0, dw.bIh, dw.bHh);
      be.gemm(true, false, GH, H, n, 1, dGh, hs.sub(0, n * H), 1, dw.wHh);
      if (l > 0) {
        be.gemm(true, false, GH, H, n, 1, dGx, this.layerInput(l, T), 1, dw.wIh);
        if (this.droppedOut) {
          const dDropped = layer.dDropped.sub(0, n * H);
          be.gemm(false, false, n, H, GH, 1, dGx, w.wIh, 0, dDropped);
          be.multiply(dDropped, layer.dropMask.sub(0, n * H), dhs);
        } else {
          be.gemm(false, false, n, H, GH, 1, dGx, w.wIh, 0, dhs);
        }
      } else if (this.embedded && p.embed && g.embed) {
        const x = this.embedded.sub(0, n * E), dx = this.dhs.sub(0, n * E);
        be.gemm(true, false, GH, E, n, 1, dGx, x, 1, dw.wIh);
        be.gemm(false, false, n, E, GH, 1, dGx, w.wIh, 0, dx);
        be.scatterAddRows(n, E, ids, dx, g.embed);
      } else {
        be.scatterAddColumns(n, GH, ids, dGx, dw.wIh);
      }
    }
  }

  /** The input of layer l > 0: the outputs of layer l−1, after dropout when the forward pass applied it
   *  (a seed given: draw the mask now; none: the one drawn by this chunk's forward). */
  private layerInput(l: number, T: number, dropoutSeed?: number): F {
    const n = T * this.batch, H = this.model.config.hidden;
    const below = this.layers[l - 1]!.hs.sub(this.batch * H, n * H);
    if (!this.droppedOut) return below;
    const layer = this.layers[l]!;
    const dropped = layer.dropped.sub(0, n * H);
    if (dropoutSeed !== undefined) {
      const seed = (dropoutSeed + Math.imul(l, 0x9e3779b9)) >>> 0; // a different mask for every layer
      this.backend.dropout(below, this.dropout, seed, layer.dropMask.sub(0, n * H), dropped);
    }
    return dropped;
  }

  private cellState(layer: LayerBuffers, T: number): F {
    return layer.cs.length ? layer.cs.sub(0, (T + 1) * this.batch * this.model.config.hidden) : layer.cs;
  }

  /** Moves the final state of the previous chunk into slot 0, where the next chunk starts. */
  private carryState(): void {
    if (this.carriedSteps === 0) return;
    const BH = this.batch * this.model.config.hidden;
    const from = this.carriedSteps * BH;
    for (const layer of this.layers) {
      layer.hs.data.copyWithin(0, from, from + BH);
      if (layer.cs.length) layer.cs.data.copyWithin(0, from, from + BH);
    }
    this.carriedSteps = 0;
  }
}
