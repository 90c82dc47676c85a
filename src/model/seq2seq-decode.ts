// Greedy decoding and beam search for the sequence-to-sequence model (issue #11), batched over inputs.
// Every step is one decoderForward call with T = 1 over B·K rows (B at step 0, where an input's K
// hypotheses would all be the same) whose state is carried from the previous call (slot 1 → slot 0,
// reordered by each row's parent with gatherRows), then the head GEMM, logSoftmax,
// a rank-1 GEMM adding each row's running score, and topK over each input's K·Vt candidates: the arithmetic
// runs in the engine; TypeScript only keeps the hypotheses (tokens, parents, finished lists). Inputs that
// are done leave the batch's rows once they are an eighth of them (the states of the rows left are
// gathered by the same reorder), so later steps run fewer rows.
//
// W_c is folded: W_c[c_t; h_t] = W_c,m·Σ_s α_s m_s + W_c,h·h_t = Σ_s α_s u_s + W_c,h·h_t with u_s = W_c,m·m_s,
// so each batch's memory is projected once (u: width H instead of M) and every step runs decoderForward with
// M = H, memory u and W_c' = [I | W_c,h]: a third fewer products in W_c, half the context's, and a smaller
// memory to gather for the beam rows.
//
// Scores. A hypothesis y_1 … y_n </s> has log-probability log P = Σ log p(y_t | y_<t, x) (with </s>) and
// score log P / lp, lp = ((5 + |Y|)/6)^α (Wu et al. 2016, GNMT), |Y| = n + 1 tokens counting </s>; α = 0
// ranks by log P. <pad> and <s> are never produced. At most maxLength tokens precede </s>: after maxLength
// tokens a hypothesis can only end. Beam search (as fairseq's): each step takes the 2K best candidates of
// every input; those ending in </s> among the first K ranks finish, the best K others stay live; an input
// is done when K hypotheses have finished (so K = 1 is greedy decoding) or none can continue.
import { OwnedBuffers } from '../backend/owned.js';
import {
  type DecoderLayer,
  type DecoderMemory,
  type FloatSpan,
  type InferenceMatrix,
  type IntSpan,
  cacheWidth,
  gatesOf,
} from '../backend/types.js';
import { TARGET_END, TARGET_PAD, TARGET_START } from '../tasks/seq2seq/vocab.js';
import { cellKind } from './config.js';
import type { Model } from './model.js';
import { Seq2SeqWorkspace } from './seq2seq.js';

export interface DecodeOptions {
  /** Beam width K ≥ 1; 1 with `greedy` decoding reads the argmax. */
  beam: number;
  /** α of the GNMT length penalty, ≥ 0. */
  lengthPenalty: number;
  /** Most tokens before </s>, ≥ 1. */
  maxLength: number;
  /** Hypotheses returned per input, 1 ≤ nbest ≤ beam. */
  nbest: number;
}

export interface Hypothesis {
  /** Target ids without <s> and </s>. */
  ids: number[];
  /** log P / lp (see above). */
  score: number;
  /** log P, summed over the tokens and </s>. */
  logProb: number;
}

/** The GNMT length penalty of a hypothesis of `tokens` tokens (</s> counted). */
export const lengthPenalty = (tokens: number, alpha: number): number => ((5 + tokens) / 6) ** alpha;

export function checkDecodeOptions(o: DecodeOptions): void {
  const integer = (name: string, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${v}`);
  };
  integer('--beam', o.beam, 1);
  integer('--max-length', o.maxLength, 1);
  integer('--nbest', o.nbest, 1);
  if (o.nbest > o.beam) throw new RangeError(`--nbest ${o.nbest} is more than the beam holds (--beam ${o.beam})`);
  if (!(o.lengthPenalty >= 0 && o.lengthPenalty <= 10))
    throw new RangeError(`--length-penalty must be in [0, 10], got ${o.lengthPenalty}`);
}

/** A decoder for batches of up to maxB inputs of up to maxS tokens, beams of up to maxK. */
export class Seq2SeqDecoder {
  readonly encoder: Seq2SeqWorkspace;
  private readonly owned: OwnedBuffers;
  private readonly layers: { hs: FloatSpan; cs: FloatSpan; cache: FloatSpan }[]; // hs, cs [2, R, H]; cache [R, cacheWidth·H]
  private readonly keys: FloatSpan; // [maxS, R, H]
  private readonly memory: FloatSpan; // [maxS, R, H] the projected memory u of each row
  private readonly projected: FloatSpan; // [maxS, maxB, H] u of each input
  private readonly combineMemory: FloatSpan; // [H, M] W_c,m
  private readonly combineFolded: FloatSpan; // [H, 2H] [I | W_c,h]
  private readonly lengths: IntSpan; // [R]
  private readonly expand: IntSpan; // [maxS·R]: row s·R + r ← s·B + active[⌊r/K⌋] (rowMemory)
  private readonly parents: IntSpan; // [R]
  private readonly tokens: IntSpan; // [R]
  private readonly embedded: FloatSpan; // [R, E]
  private readonly input0: FloatSpan; // [R, E+H]
  private readonly attention: FloatSpan; // [R, maxS]
  private readonly combined: FloatSpan; // [R, M+H]
  private readonly feeds: FloatSpan; // [2, R, H]
  private readonly logits: FloatSpan; // [R, Vt]
  private readonly logProbs: FloatSpan; // [R, Vt]
  private readonly running: FloatSpan; // [R] each row's log P so far
  private readonly ones: FloatSpan; // [Vt]
  private readonly best: FloatSpan; // [maxB, 2·maxK]
  private readonly bestIndex: IntSpan;
  private readonly maxR: number;
  /** Decoder rows run so far (B·K per step): what the work of decoding is proportional to. */
  rowSteps = 0;

  constructor(
    readonly model: Model,
    readonly maxS: number,
    readonly maxB: number,
    readonly maxK: number,
  ) {
    this.encoder = new Seq2SeqWorkspace(model, maxS, 1, maxB);
    const { H, M, E, Vt } = this.encoder;
    const R = (this.maxR = maxB * maxK);
    const kind = cellKind(model.config);
    const owned = (this.owned = new OwnedBuffers(model.backend));
    const float = (n: number): FloatSpan => owned.float(n);
    const int = (n: number): IntSpan => owned.int(n);
    this.layers = Array.from({ length: model.config.layers }, () => ({
      hs: float(2 * R * H),
      cs: float(kind === 'lstm' ? 2 * R * H : 0),
      cache: float(R * cacheWidth(kind) * H),
    }));
    this.keys = float(maxS * R * H);
    this.memory = float(maxS * R * H);
    this.projected = float(maxS * maxB * H);
    this.combineMemory = float(H * M);
    this.combineFolded = float(2 * H * H);
    this.lengths = int(R);
    this.expand = int(maxS * R);
    this.parents = int(R);
    this.tokens = int(R);
    this.embedded = float(R * E);
    this.input0 = float(R * (E + H));
    this.attention = float(R * maxS);
    this.combined = float(R * 2 * H);
    this.feeds = float(2 * R * H);
    this.logits = float(R * Vt);
    this.logProbs = float(R * Vt);
    this.running = float(R);
    this.ones = float(Vt);
    this.ones.data.fill(1);
    this.best = float(maxB * 2 * maxK);
    this.bestIndex = int(maxB * 2 * maxK);
  }

  dispose(): void {
    this.owned.dispose();
    this.encoder.dispose();
  }

  /** Greedy decoding of `sources` (ids, each of 1 … maxS): the argmax at every step. */
  greedy(sources: readonly Int32Array[], options: Omit<DecodeOptions, 'beam' | 'nbest'>): Hypothesis[] {
    return this.batches(sources, (batch) => this.greedyBatch(batch, options)).map((h) => h[0]!);
  }

  /** Beam search over `sources`: per input, its nbest hypotheses, best first. */
  beamSearch(sources: readonly Int32Array[], options: DecodeOptions): Hypothesis[][] {
    checkDecodeOptions(options);
    if (options.beam > this.maxK) throw new RangeError(`--beam ${options.beam}: this decoder holds ${this.maxK}`);
    return this.batches(sources, (batch) => this.beamBatch(batch, options));
  }

  /** W_c,m and [I | W_c,h] from the model's W_c [H, M+H] (its weights now). */
  private foldCombine(): void {
    const { H, M } = this.encoder,
      wc = this.encoder.p.combine.data,
      memoryPart = this.combineMemory.data,
      folded = this.combineFolded.data;
    folded.fill(0);
    for (let i = 0; i < H; i++) {
      memoryPart.set(wc.subarray(i * (M + H), i * (M + H) + M), i * M);
      folded[i * 2 * H + i] = 1;
      folded.set(wc.subarray(i * (M + H) + M, (i + 1) * (M + H)), i * 2 * H + H);
    }
  }

  /** What every step multiplies, prepared once per call (native: packed, or bf16): each layer's W_ih and W_hh
   *  (a beam step over many rows multiplies W_hh with one GEMM: not `recurrent`), the folded W_c and the head.
   *  (The encoder and the projections of the memory run one product per batch: packing them would save little.) */
  private stepMatrices(): InferenceMatrix[] {
    const { H, E, Vt, p } = this.encoder,
      G = gatesOf(cellKind(this.model.config));
    const dense = (weight: FloatSpan, rows: number, cols: number): InferenceMatrix => ({
      weight,
      groups: 1,
      rows,
      cols,
    });
    return [
      ...p.decoder.flatMap((layer, l) => [
        dense(layer.wIh, G * H, l === 0 ? E + H : H),
        { weight: layer.wHh, groups: G, rows: H, cols: H },
      ]),
      dense(this.combineFolded, H, 2 * H),
      dense(p.headWeight, Vt, H),
    ];
  }

  private batches(sources: readonly Int32Array[], run: (batch: Int32Array[]) => Hypothesis[][]): Hypothesis[][] {
    sources.forEach((s, i) => {
      if (s.length < 1 || s.length > this.maxS)
        throw new RangeError(`input ${i} has ${s.length} tokens: expected 1 to ${this.maxS}`);
    });
    this.foldCombine();
    const weights = this.model.backend.inferenceWeights?.(this.stepMatrices()) ?? null;
    // Batches of inputs of similar lengths, longest first: less padding in the encoder (whose steps stop at
    // the last running input) and the attention, and a batch's hypotheses end at about the same step.
    const order = sources.map((_, i) => i).sort((a, b) => sources[b]!.length - sources[a]!.length || a - b);
    const all = (): Hypothesis[][] => {
      const out: Hypothesis[][] = new Array(sources.length);
      for (let i = 0; i < order.length; i += this.maxB) {
        const batch = order.slice(i, i + this.maxB);
        run(batch.map((j) => sources[j]!)).forEach((h, k) => (out[batch[k]!] = h));
      }
      return out;
    };
    try {
      return weights ? weights.run(all) : all();
    } finally {
      weights?.dispose();
    }
  }

  /** Encodes a batch and lays out the first step's state, one row per input (every hypothesis of an input
   *  starts from the same state and token, so step 0 runs B rows, not B·K): initial states, h~_0 = 0. Returns
   *  the memory of those B rows (the encoder's own; rowMemory expands it for later steps). */
  private start(batch: readonly Int32Array[]): { S: number; first: DecoderMemory } {
    const B = batch.length,
      S = Math.max(...batch.map((s) => s.length));
    const enc = this.encoder,
      H = enc.H;
    const ids = enc.sourceIds.data;
    ids.fill(0, 0, S * B);
    batch.forEach((source, b) => {
      source.forEach((id, s) => (ids[s * B + b] = id));
      enc.sourceLengths.data[b] = source.length;
    });
    enc.encode(S, B);
    const projected = this.projected.sub(0, S * B * H);
    this.model.backend.gemm(false, true, S * B, H, enc.M, 1, enc.memory(S, B), this.combineMemory, 0, projected);
    const first = { keys: enc.keys(S, B), memory: projected, sourceLengths: enc.sourceLengths.sub(0, B) };
    this.layers.forEach((layer, l) => {
      const initial = enc.initialState(l, B);
      layer.hs.data.set(initial.h.data);
      if (initial.c) layer.cs.data.set(initial.c.data);
    });
    this.feeds.data.fill(0, 0, B * H);
    return { S, first };
  }

  /** The memory of K rows per input of `active` (indices into the batch; row r: active[⌊r/K⌋]), gathered
   *  from the encoder's (`first`): keys, memory and source lengths. */
  private rowMemory(
    batch: readonly Int32Array[],
    S: number,
    active: readonly number[],
    K: number,
    first: DecoderMemory,
  ): DecoderMemory {
    const B = batch.length,
      R = active.length * K,
      H = this.encoder.H,
      backend = this.model.backend;
    const expand = this.expand.data,
      lengths = this.lengths.data;
    for (let r = 0; r < R; r++) {
      const b = active[Math.floor(r / K)]!;
      for (let s = 0; s < S; s++) expand[s * R + r] = s * B + b;
      lengths[r] = batch[b]!.length;
    }
    backend.gatherRows(S * R, H, this.expand.sub(0, S * R), first.keys, this.keys.sub(0, S * R * H));
    backend.gatherRows(S * R, H, this.expand.sub(0, S * R), first.memory, this.memory.sub(0, S * R * H));
    return {
      keys: this.keys.sub(0, S * R * H),
      memory: this.memory.sub(0, S * R * H),
      sourceLengths: this.lengths.sub(0, R),
    };
  }

  /** One decoder step over R rows reading `tokens`: log-probabilities [R,Vt] (pad and start at −∞). */
  private step(S: number, R: number, source: DecoderMemory): FloatSpan {
    const backend = this.model.backend,
      enc = this.encoder,
      { H, E, Vt } = enc;
    this.rowSteps += R;
    backend.gatherRows(R, E, this.tokens.sub(0, R), enc.p.targetEmbed, this.embedded.sub(0, R * E));
    const layers: DecoderLayer[] = this.layers.map((layer, l) => ({
      ...enc.p.decoder[l]!,
      hs: layer.hs.sub(0, 2 * R * H),
      cs: layer.cs.sub(0, layer.cs.length ? 2 * R * H : 0),
      cache: layer.cache.sub(0, R * (layer.cache.length / this.maxR)),
    }));
    const shape = { ...enc.shapeOf(1, R, S), M: H }; // the folded W_c (above)
    backend.decoderForward(shape, layers, this.embedded.sub(0, R * E), source, this.combineFolded, {
      input0: this.input0.sub(0, R * (E + H)),
      attention: this.attention.sub(0, R * S),
      combined: this.combined.sub(0, R * 2 * H),
      feeds: this.feeds.sub(0, 2 * R * H),
    });
    const logits = this.logits.sub(0, R * Vt),
      logProbs = this.logProbs.sub(0, R * Vt);
    backend.gemm(false, true, R, Vt, H, 1, this.feeds.sub(R * H, R * H), enc.p.headWeight, 0, logits);
    backend.addBias(R, Vt, enc.p.headBias, logits);
    backend.logSoftmax(R, Vt, logits, logProbs);
    const lp = logProbs.data;
    for (let r = 0; r < R; r++) lp[r * Vt + TARGET_PAD] = lp[r * Vt + TARGET_START] = -Infinity;
    return logProbs;
  }

  /** Carries the state of the `from` rows the last step ran to R rows for the next: row r ← parents[r]. */
  private reorder(R: number, from: number): void {
    const backend = this.model.backend,
      H = this.encoder.H,
      parents = this.parents.sub(0, R);
    const carry = (buffer: FloatSpan): void => {
      // From fewer rows (step 0), slot 1 first moves to where R rows' slot 1 starts, clear of slot 0.
      if (from !== R) buffer.data.copyWithin(R * H, from * H, 2 * from * H);
      backend.gatherRows(R, H, parents, buffer.sub(R * H, from * H), buffer.sub(0, R * H));
    };
    for (const layer of this.layers) {
      carry(layer.hs);
      if (layer.cs.length) carry(layer.cs);
    }
    carry(this.feeds);
  }

  private greedyBatch(batch: readonly Int32Array[], o: Omit<DecodeOptions, 'beam' | 'nbest'>): Hypothesis[][] {
    const B = batch.length,
      Vt = this.encoder.Vt,
      backend = this.model.backend;
    const { S, first } = this.start(batch);
    const out: (Hypothesis | null)[] = new Array(B).fill(null);
    const ids: number[][] = Array.from({ length: B }, () => []);
    const logProb = new Float64Array(B);
    this.tokens.data.fill(TARGET_START, 0, B);
    for (let b = 0; b < B; b++) this.parents.data[b] = b;
    for (let t = 0; out.includes(null); t++) {
      const lp = this.step(S, B, first);
      backend.topK(B, Vt, 1, lp, this.best.sub(0, B), this.bestIndex.sub(0, B));
      const bestIndex = this.bestIndex.data,
        logProbs = lp.data,
        tokens = this.tokens.data;
      for (let b = 0; b < B; b++) {
        if (out[b] !== null) continue;
        const token = t === o.maxLength ? TARGET_END : bestIndex[b]!;
        logProb[b] = logProb[b]! + logProbs[b * Vt + token]!;
        if (token === TARGET_END) {
          const score = logProb[b]! / lengthPenalty(ids[b]!.length + 1, o.lengthPenalty);
          out[b] = { ids: ids[b]!, score, logProb: logProb[b]! };
        } else {
          ids[b]!.push(token);
          tokens[b] = token;
        }
      }
      this.reorder(B, B);
    }
    return out.map((h) => [h!]);
  }

  private beamBatch(batch: readonly Int32Array[], o: DecodeOptions): Hypothesis[][] {
    const B = batch.length,
      K = o.beam,
      Vt = this.encoder.Vt,
      backend = this.model.backend;
    const { S, first } = this.start(batch);
    // The inputs that the step's rows belong to (row r: input active[⌊r / perInput⌋]), all at first. An input
    // that is done keeps dead rows until the done ones are an eighth of the inputs, then they all leave and
    // the memory of the rows left is gathered again (fewer rows for every later step).
    let active = Array.from({ length: B }, (_, b) => b);
    let rest = K === 1 ? first : this.rowMemory(batch, S, active, K, first);
    // Live hypotheses per row of the step (one row per input at step 0, K later): tokens so far and log P;
    // a dead row has log P = −∞.
    let history: number[][] = Array.from({ length: B }, () => []);
    // Each row's log P lives in the engine (the rank-1 GEMM reads it). Views of engine memory are taken
    // again after every step: a step's decoderForward may grow wasm memory, which detaches older views.
    this.running.data.fill(0, 0, B);
    this.tokens.data.fill(TARGET_START, 0, B);
    const finished: Hypothesis[][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);
    const finish = (b: number, ids: number[], logProb: number): void => {
      finished[b]!.push({ ids, logProb, score: logProb / lengthPenalty(ids.length + 1, o.lengthPenalty) });
    };
    for (let t = 0; done.includes(false); t++) {
      const perInput = t === 0 ? 1 : K,
        A = active.length,
        rows = A * perInput;
      const lp = this.step(S, rows, t === 0 ? first : rest);
      const running = this.running.data,
        parents = this.parents.data,
        tokens = this.tokens.data;
      if (t === o.maxLength) {
        // Only </s> may follow maxLength tokens.
        const logProbs = lp.data;
        for (let r = 0; r < rows; r++) {
          const b = active[Math.floor(r / perInput)]!;
          if (!done[b] && running[r]! > -Infinity) finish(b, history[r]!, running[r]! + logProbs[r * Vt + TARGET_END]!);
        }
        break;
      }
      // candidates[i, k·Vt + v] = running[i·perInput + k] + lp[i·perInput + k, v]: a rank-1 update in the engine.
      backend.gemm(false, false, rows, Vt, 1, 1, this.running.sub(0, rows), this.ones, 1, lp);
      const C = Math.min(2 * K, perInput * Vt);
      backend.topK(A, perInput * Vt, C, lp, this.best.sub(0, A * C), this.bestIndex.sub(0, A * C));
      const best = this.best.data,
        bestIndex = this.bestIndex.data;
      // Each active input's next hypotheses: its row of this step (parent), token and log P.
      const chosen = active.map((b, i) => {
        const next: { parent: number; token: number; value: number }[] = [];
        for (let rank = 0; rank < C && !done[b]; rank++) {
          const value = best[i * C + rank]!;
          if (!(value > -Infinity)) break; // sorted: nothing finite follows
          const index = bestIndex[i * C + rank]!,
            parent = i * perInput + Math.floor(index / Vt),
            token = index % Vt;
          if (token === TARGET_END) {
            if (rank < K) finish(b, history[parent]!, value);
          } else if (next.length < K) {
            next.push({ parent, token, value });
          }
        }
        if (finished[b]!.length >= K || next.length === 0) done[b] = true;
        return done[b] ? [] : next;
      });
      const doneCount = active.filter((b) => done[b]).length;
      const leave = doneCount > 0 && doneCount * 8 >= A;
      const kept = leave ? active.flatMap((b, i) => (done[b] ? [] : [i])) : active.map((_, i) => i);
      const R = kept.length * K,
        next: number[][] = new Array(R);
      kept.forEach((i, j) => {
        for (let k = 0; k < K; k++) {
          const r = j * K + k,
            h = chosen[i]![k];
          next[r] = h ? [...history[h.parent]!, h.token] : [];
          parents[r] = h ? h.parent : i * perInput; // any row of the step: a dead row's state is never read
          tokens[r] = h ? h.token : TARGET_END;
          running[r] = h ? h.value : -Infinity;
        }
      });
      history = next;
      if (leave) {
        active = kept.map((i) => active[i]!);
        if (active.length > 0) rest = this.rowMemory(batch, S, active, K, first);
      }
      if (R > 0) this.reorder(R, rows);
    }
    return finished.map((list) => list.sort((a, b) => b.score - a.score).slice(0, o.nbest));
  }
}
