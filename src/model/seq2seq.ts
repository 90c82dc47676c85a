// The sequence-to-sequence model over a batch (issue #11), test/fixtures/seq2seq_model.py's Seq2Seq:
// source ids → embedding → encoder RecurrentStack (masked by the source lengths, bidirectional as
// configured) → memory; a bridge tanh(W_b·[final states of encoder layer l] + b) gives decoder layer l's
// initial state (and, for the LSTM, its cell state from the final cell states); keys = memory·W_aᵀ; the
// decoder loop with attention and input feeding (Backend.decoderForward, teacher forcing); the head;
// cross-entropy over the scored target tokens. Buffers are allocated once for maxS × maxT × maxB.
//
// Sizes: S source steps, T target steps (<s> y_1 … y_n: n + 1), B pairs, E embed, H hidden, L layers,
// D encoder directions, M = D·H memory width, G gates, Vt target vocabulary.
import { OwnedBuffers } from '../backend/owned.js';
import {
  type DecoderGrads,
  type DecoderLayer,
  type DecoderLayerGrads,
  type DecoderMemory,
  type DecoderRecord,
  type DecoderShape,
  type FloatSpan,
  type IntSpan,
  cacheWidth,
  gatesOf,
} from '../backend/types.js';
import { cellKind, directionsOf, outputsOf } from './config.js';
import { type LayerParams, type Model, recurrentLayers } from './model.js';
import { isSeq2Seq } from './seq2seq-params.js';
import { RecurrentStack } from './stack.js';

export interface Seq2SeqOptions {
  /** Inverted dropout between the encoder's layers during training (forward with a dropout seed). */
  dropout?: number;
}

/** The decoder's state buffers of one layer, for up to maxT steps × maxB rows. */
interface DecoderBuffers {
  hs: FloatSpan; // [maxT+1, maxB, H]
  cs: FloatSpan; // the same for the LSTM, else empty
  cache: FloatSpan; // [maxT, maxB, cacheWidth·H]
  dGx: FloatSpan; // [maxT, maxB, G·H]
  dGh: FloatSpan;
  dh0: FloatSpan; // [maxB, H]
  dc0: FloatSpan;
}

/** The named parameters besides the encoder (model.p has the source embedding and the encoder's layers). */
export interface Seq2SeqTensors {
  bridgeWeight: FloatSpan;
  bridgeBias: FloatSpan;
  targetEmbed: FloatSpan;
  decoder: LayerParams[];
  attention: FloatSpan;
  combine: FloatSpan;
  headWeight: FloatSpan;
  headBias: FloatSpan;
}

export function seq2seqTensors(model: Model, which: 'params' | 'grads'): Seq2SeqTensors {
  const arena = model[which],
    tensors = model[which === 'params' ? 'paramTensors' : 'gradTensors'];
  return {
    bridgeWeight: arena.get('bridge.weight'),
    bridgeBias: arena.get('bridge.bias'),
    targetEmbed: arena.get('target_embed.weight'),
    decoder: recurrentLayers(arena, 'decoder', model.config.layers, 1).map((layer) => layer[0]!),
    attention: arena.get('attention.weight'),
    combine: arena.get('combine.weight'),
    headWeight: tensors.headWeight,
    headBias: tensors.headBias,
  };
}

export class Seq2SeqWorkspace {
  readonly stack: RecurrentStack;
  /** [maxS·maxB] source ids, time-major: ids[s·B + b]; past a length any valid id (the stack's). */
  readonly sourceIds: IntSpan;
  /** [maxB] source lengths, each in [1, S]. */
  readonly sourceLengths: IntSpan;
  /** [maxT·maxB] what the decoder reads: <s> y_1 … y_n, then any valid id (padding 0). */
  readonly targetIn: IntSpan;
  /** [maxT·maxB] what it is scored on: y_1 … y_n </s>, then −1 (not scored). */
  readonly targetOut: IntSpan;
  readonly p: Seq2SeqTensors;
  readonly g: Seq2SeqTensors;
  readonly H: number;
  readonly M: number;
  readonly E: number;
  readonly Vt: number;
  private readonly layers: DecoderBuffers[];
  private readonly bridgeIn: FloatSpan; // [2·L·maxB, M]: the encoder's final states per layer, h rows then c rows
  private readonly dBridgeIn: FloatSpan;
  private readonly bridgeIndex: IntSpan; // [L·D·maxB]: bridgeIn row (width H) ← final-state row
  private readonly dBridgeIndex: IntSpan; // [L·D·maxB]: the inverse
  private readonly dPre: FloatSpan; // [maxB, H]
  private readonly dhNEncoder: FloatSpan; // [L·D·maxB, H]
  private readonly dcNEncoder: FloatSpan;
  private readonly keysBuf: FloatSpan; // [maxS·maxB, H]
  private readonly dKeys: FloatSpan;
  private readonly dMemory: FloatSpan; // [maxS·maxB, M]
  private readonly embedded: FloatSpan; // [maxT·maxB, E]
  private readonly dEmbedded: FloatSpan;
  private readonly input0: FloatSpan; // [maxT·maxB, E+H]
  private readonly attentionBuf: FloatSpan; // [maxT·maxB·maxS]
  private readonly combined: FloatSpan; // [maxT·maxB, M+H]
  private readonly feeds: FloatSpan; // [(maxT+1)·maxB, H]
  private readonly dFeeds: FloatSpan; // [maxT·maxB, H]
  private readonly dCombine: FloatSpan; // [maxT·maxB, H]
  private readonly dFeed0: FloatSpan; // [maxB, H]
  private readonly zeros: FloatSpan; // [maxB·H]
  private readonly logitsBuf: FloatSpan; // [maxT·maxB, Vt]
  private readonly dLogits: FloatSpan;
  private readonly owned: OwnedBuffers;
  private shape: { S: number; T: number; B: number; scored: number } | null = null;

  constructor(
    readonly model: Model,
    readonly maxS: number,
    readonly maxT: number,
    readonly maxB: number,
    options: Seq2SeqOptions = {},
  ) {
    const config = model.config;
    if (!isSeq2Seq(config)) throw new TypeError('Seq2SeqWorkspace needs a model of architecture seq2seq');
    this.stack = new RecurrentStack(model, maxS, maxB, { input: 'ids', dropout: options.dropout ?? 0 });
    this.sourceIds = this.stack.ids;
    this.sourceLengths = this.stack.lengths;
    const { hidden: H, layers: L, embed: E } = config;
    const D = directionsOf(config),
      kind = cellKind(config),
      lstm = kind === 'lstm',
      GH = gatesOf(kind) * H;
    this.H = H;
    this.E = E;
    this.M = D * H;
    this.Vt = outputsOf(config);
    this.p = seq2seqTensors(model, 'params');
    this.g = seq2seqTensors(model, 'grads');
    const owned = (this.owned = new OwnedBuffers(model.backend));
    const float = (n: number): FloatSpan => owned.float(n);
    const int = (n: number): IntSpan => owned.int(n);
    const nT = maxT * maxB,
      nS = maxS * maxB,
      M = this.M;
    this.targetIn = int(nT);
    this.targetOut = int(nT);
    this.layers = Array.from({ length: L }, () => ({
      hs: float((maxT + 1) * maxB * H),
      cs: float(lstm ? (maxT + 1) * maxB * H : 0),
      cache: float(nT * cacheWidth(kind) * H),
      dGx: float(nT * GH),
      dGh: float(nT * GH),
      dh0: float(maxB * H),
      dc0: float(lstm ? maxB * H : 0),
    }));
    this.bridgeIn = float((lstm ? 2 : 1) * L * maxB * M);
    this.dBridgeIn = float((lstm ? 2 : 1) * L * maxB * M);
    this.bridgeIndex = int(L * D * maxB);
    this.dBridgeIndex = int(L * D * maxB);
    this.dPre = float(maxB * H);
    this.dhNEncoder = float(L * D * maxB * H);
    this.dcNEncoder = float(lstm ? L * D * maxB * H : 0);
    this.keysBuf = float(nS * H);
    this.dKeys = float(nS * H);
    this.dMemory = float(nS * M);
    this.embedded = float(nT * E);
    this.dEmbedded = float(nT * E);
    this.input0 = float(nT * (E + H));
    this.attentionBuf = float(nT * maxS);
    this.combined = float(nT * (M + H));
    this.feeds = float((maxT + 1) * maxB * H);
    this.dFeeds = float(nT * H);
    this.dCombine = float(nT * H);
    this.dFeed0 = float(maxB * H);
    this.zeros = float(maxB * H);
    this.logitsBuf = float(nT * this.Vt);
    this.dLogits = float(nT * this.Vt);
  }

  /** Frees the workspace's memory (not the model's). */
  dispose(): void {
    this.owned.dispose();
    this.stack.dispose();
  }

  private get backend() {
    return this.model.backend;
  }

  /** The encoder's outputs [S,B,M] of the last encode(). */
  memory(S: number, B: number): FloatSpan {
    return this.stack.output(S, B);
  }

  /** keys = memory·W_aᵀ [S,B,H] of the last encode(). */
  keys(S: number, B: number): FloatSpan {
    return this.keysBuf.sub(0, S * B * this.H);
  }

  /** Decoder layer l's initial state [B,H] (and cell state, LSTM) written by the last encode(). */
  initialState(l: number, B: number): { h: FloatSpan; c: FloatSpan | null } {
    const layer = this.layers[l]!,
      size = B * this.H;
    return { h: layer.hs.sub(0, size), c: layer.cs.length ? layer.cs.sub(0, size) : null };
  }

  /** Runs the encoder over sourceIds/sourceLengths and the bridge; writes memory, keys and initial states. */
  encode(S: number, B: number, dropoutSeed?: number): void {
    const backend = this.backend,
      { H, M } = this,
      L = this.layers.length;
    this.stack.forward(S, B, dropoutSeed === undefined ? {} : { dropoutSeed });
    const final = this.stack.finalState(B);
    this.buildBridgeIndices(B);
    const rows = L * directionsOf(this.model.config) * B;
    const index = this.bridgeIndex.sub(0, rows);
    backend.gatherRows(rows, H, index, final.h, this.bridgeIn.sub(0, L * B * M));
    if (final.c) backend.gatherRows(rows, H, index, final.c, this.bridgeIn.sub(L * B * M, L * B * M));
    for (let l = 0; l < L; l++) {
      const state = this.initialState(l, B);
      this.bridge(this.bridgeIn.sub(l * B * M, B * M), state.h, B);
      if (state.c) this.bridge(this.bridgeIn.sub((L + l) * B * M, B * M), state.c, B);
    }
    const memory = this.memory(S, B);
    backend.gemm(false, true, S * B, H, M, 1, memory, this.p.attention, 0, this.keys(S, B));
  }

  /** out [B,H] = tanh(x [B,M]·W_bᵀ + b). */
  private bridge(x: FloatSpan, out: FloatSpan, B: number): void {
    const backend = this.backend;
    backend.gemm(false, true, B, this.H, this.M, 1, x, this.p.bridgeWeight, 0, out);
    backend.addBias(B, this.H, this.p.bridgeBias, out);
    const data = out.data;
    for (let i = 0; i < data.length; i++) data[i] = Math.tanh(data[i]!);
  }

  /** bridgeIn row (l·B + b)·D + d (width H) ← final-state row (l·D + d)·B + b, and the inverse. */
  private buildBridgeIndices(B: number): void {
    const L = this.layers.length,
      D = directionsOf(this.model.config);
    const index = this.bridgeIndex.data,
      inverse = this.dBridgeIndex.data;
    for (let l = 0; l < L; l++)
      for (let d = 0; d < D; d++)
        for (let b = 0; b < B; b++) {
          index[(l * B + b) * D + d] = (l * D + d) * B + b;
          inverse[(l * D + d) * B + b] = (l * B + b) * D + d;
        }
  }

  shapeOf(T: number, B: number, S: number): DecoderShape {
    const c = this.model.config;
    return { kind: cellKind(c), T, B, S, E: this.E, H: this.H, M: this.M };
  }

  /** The decoder's layers for T steps × B rows (their weights and this workspace's state buffers). */
  decoderLayers(T: number, B: number): DecoderLayer[] {
    const H = this.H,
      CW = cacheWidth(cellKind(this.model.config)) * H;
    return this.layers.map((buffers, l) => ({
      ...this.p.decoder[l]!,
      hs: buffers.hs.sub(0, (T + 1) * B * H),
      cs: buffers.cs.sub(0, buffers.cs.length ? (T + 1) * B * H : 0),
      cache: buffers.cache.sub(0, T * B * CW),
    }));
  }

  private record(T: number, B: number, S: number): DecoderRecord {
    const { E, H, M } = this;
    return {
      input0: this.input0.sub(0, T * B * (E + H)),
      attention: this.attentionBuf.sub(0, T * B * S),
      combined: this.combined.sub(0, T * B * (M + H)),
      feeds: this.feeds.sub(0, (T + 1) * B * H),
    };
  }

  private decoderMemory(S: number, B: number): DecoderMemory {
    return { keys: this.keys(S, B), memory: this.memory(S, B), sourceLengths: this.sourceLengths.sub(0, B) };
  }

  /** Attention weights [T,B,S] of the last forward(). */
  attention(T: number, B: number, S: number): FloatSpan {
    return this.attentionBuf.sub(0, T * B * S);
  }

  /** Logits [T,B,Vt] of the last forward(). */
  logits(T: number, B: number): FloatSpan {
    return this.logitsBuf.sub(0, T * B * this.Vt);
  }

  /**
   * Encodes, then decodes targetIn with teacher forcing. With `scored`, returns the cross-entropy summed over
   * the scored tokens of targetOut (and keeps what backward() needs), and their count; without, NaN and 0.
   * labelSmoothing ε: PyTorch's (1 − ε)·NLL + ε·mean over the vocabulary of −log p.
   */
  forward(
    S: number,
    T: number,
    B: number,
    scored: boolean,
    dropoutSeed?: number,
    labelSmoothing = 0,
  ): { loss: number; tokens: number } {
    this.shape = null;
    this.checkBatch(S, T, B);
    const backend = this.backend,
      { E, H, Vt } = this;
    this.encode(S, B, dropoutSeed);
    const n = T * B;
    backend.gatherRows(n, E, this.targetIn.sub(0, n), this.p.targetEmbed, this.embedded.sub(0, n * E));
    const rec = this.record(T, B, S);
    rec.feeds.data.fill(0, 0, B * H); // h~_0 = 0
    backend.decoderForward(
      this.shapeOf(T, B, S),
      this.decoderLayers(T, B),
      this.embedded.sub(0, n * E),
      this.decoderMemory(S, B),
      this.p.combine,
      rec,
    );
    const logits = this.logits(T, B);
    backend.gemm(false, true, n, Vt, H, 1, rec.feeds.sub(B * H, n * H), this.p.headWeight, 0, logits);
    backend.addBias(n, Vt, this.p.headBias, logits);
    if (!scored) return { loss: Number.NaN, tokens: 0 };
    const targets = this.targetOut.sub(0, n);
    let tokens = 0;
    for (const id of targets.data) if (id >= 0) tokens++;
    const scale = tokens > 0 ? 1 / tokens : 0;
    const loss = backend.softmaxCrossEntropy(
      n,
      Vt,
      logits,
      targets,
      scale,
      this.dLogits.sub(0, n * Vt),
      labelSmoothing,
    );
    this.shape = { S, T, B, scored: tokens };
    return { loss, tokens };
  }

  /** Accumulates the gradient of the last forward()'s mean loss (summed loss / scored tokens) into model.grads. */
  backward(S: number, T: number, B: number): void {
    const shape = this.shape;
    if (!shape || shape.S !== S || shape.T !== T || shape.B !== B)
      throw new Error(`backward(${S}, ${T}, ${B}) does not follow a scored forward(${S}, ${T}, ${B})`);
    const backend = this.backend,
      { E, H, M, Vt, p, g } = this;
    const n = T * B,
      L = this.layers.length,
      lstm = this.layers[0]!.cs.length > 0,
      GH = p.decoder[0]!.bIh.length;
    const rec = this.record(T, B, S),
      dLogits = this.dLogits.sub(0, n * Vt);
    const top = rec.feeds.sub(B * H, n * H),
      dFeeds = this.dFeeds.sub(0, n * H);
    backend.gemm(true, false, Vt, H, n, 1, dLogits, top, 1, g.headWeight);
    backend.sumRows(n, Vt, dLogits, g.headBias);
    backend.gemm(false, false, n, H, Vt, 1, dLogits, p.headWeight, 0, dFeeds);

    const layers = this.decoderLayers(T, B);
    const zeros = this.zeros.sub(0, B * H),
      noCell = this.zeros.sub(0, 0);
    const grads: DecoderLayerGrads[] = this.layers.map((buffers, l) => ({
      dGx: buffers.dGx.sub(0, n * GH),
      dGh: buffers.dGh.sub(0, n * GH),
      dh0: buffers.dh0.sub(0, B * H),
      dc0: buffers.dc0.sub(0, lstm ? B * H : 0),
      dbIh: g.decoder[l]!.bIh,
      dbHh: g.decoder[l]!.bHh,
    }));
    const out: DecoderGrads = {
      dEmbedded: this.dEmbedded.sub(0, n * E),
      dKeys: this.dKeys.sub(0, S * B * H),
      dMemory: this.dMemory.sub(0, S * B * M),
      dCombine: this.dCombine.sub(0, n * H),
      dFeed0: this.dFeed0.sub(0, B * H),
    };
    backend.decoderBackward(
      this.shapeOf(T, B, S),
      layers,
      this.decoderMemory(S, B),
      p.combine,
      rec,
      dFeeds,
      layers.map(() => zeros),
      layers.map(() => (lstm ? zeros : noCell)),
      grads,
      out,
    );
    // The weight gradients as whole-sequence GEMMs (the kernel computed the pre-activation gradients).
    layers.forEach((layer, l) => {
      const input = l === 0 ? rec.input0 : layers[l - 1]!.hs.sub(B * H, n * H);
      backend.gemm(true, false, GH, l === 0 ? E + H : H, n, 1, grads[l]!.dGx, input, 1, g.decoder[l]!.wIh);
      backend.gemm(true, false, GH, H, n, 1, grads[l]!.dGh, layer.hs.sub(0, n * H), 1, g.decoder[l]!.wHh);
    });
    backend.gemm(true, false, H, M + H, n, 1, out.dCombine, rec.combined, 1, g.combine);
    backend.scatterAddRows(n, E, this.targetIn.sub(0, n), out.dEmbedded, g.targetEmbed);
    const memory = this.memory(S, B);
    backend.gemm(true, false, H, M, S * B, 1, out.dKeys, memory, 1, g.attention);
    backend.gemm(false, false, S * B, M, H, 1, out.dKeys, p.attention, 1, out.dMemory);

    // The bridge: h0 = tanh(W_b x + b) per layer (and c0 from the cell states).
    const dBridgeIn = this.dBridgeIn;
    for (let l = 0; l < L; l++) {
      const state = this.initialState(l, B);
      this.bridgeBackward(
        state.h,
        grads[l]!.dh0,
        this.bridgeIn.sub(l * B * M, B * M),
        dBridgeIn.sub(l * B * M, B * M),
        B,
      );
      if (state.c)
        this.bridgeBackward(
          state.c,
          grads[l]!.dc0,
          this.bridgeIn.sub((L + l) * B * M, B * M),
          dBridgeIn.sub((L + l) * B * M, B * M),
          B,
        );
    }
    const rows = L * directionsOf(this.model.config) * B;
    const dhN = this.dhNEncoder.sub(0, rows * H),
      inverse = this.dBridgeIndex.sub(0, rows);
    backend.gatherRows(rows, H, inverse, dBridgeIn.sub(0, L * B * M), dhN);
    let dcN: FloatSpan | null = null;
    if (lstm) {
      dcN = this.dcNEncoder.sub(0, rows * H);
      backend.gatherRows(rows, H, inverse, dBridgeIn.sub(L * B * M, L * B * M), dcN);
    }
    this.stack.backward(S, B, out.dMemory, dhN, dcN);
  }

  /** Given dOut [B,H] w.r.t. out = tanh(x·W_bᵀ + b): accumulates dW_b, db and writes dx [B,M]. */
  private bridgeBackward(out: FloatSpan, dOut: FloatSpan, x: FloatSpan, dx: FloatSpan, B: number): void {
    const backend = this.backend,
      H = this.H,
      dPre = this.dPre.sub(0, B * H);
    const o = out.data,
      d = dOut.data,
      pre = dPre.data;
    for (let i = 0; i < B * H; i++) pre[i] = d[i]! * (1 - o[i]! * o[i]!);
    backend.gemm(true, false, H, this.M, B, 1, dPre, x, 1, this.g.bridgeWeight);
    backend.sumRows(B, H, dPre, this.g.bridgeBias);
    backend.gemm(false, false, B, this.M, H, 1, dPre, this.p.bridgeWeight, 0, dx);
  }

  private checkBatch(S: number, T: number, B: number): void {
    const ok = (v: number, max: number): boolean => Number.isInteger(v) && v >= 1 && v <= max;
    if (!ok(S, this.maxS) || !ok(T, this.maxT) || !ok(B, this.maxB))
      throw new RangeError(
        `a batch of ${B} pairs, ${S} source and ${T} target steps: expected at most ${this.maxB}, ${this.maxS} and ${this.maxT}`,
      );
  }
}
