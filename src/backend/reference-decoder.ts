// The attention decoder loop of the sequence-to-sequence model (issue #11), written plainly as the oracle
// the engines' versions will be tested against. Luong et al. 2015: global attention with the "general"
// score, attentional state h~_t = tanh(W_c [c_t; h_t]), input feeding of h~_{t-1}; the whole T-step loop
// over L stacked layers runs in one call. test/fixtures/seq2seq_model.py is the PyTorch module it follows.
//
// Sizes: T target steps, B pairs, S source steps, E embedding width, H hidden, M memory width (D·H),
// G gates, L layers. Layer 0 reads [embedding of y_{t-1}; h~_{t-1}] (E + H numbers), layer l > 0 reads
// layer l − 1's output.
import * as check from './checks.js';
import { cellStepBackward, cellStepForward } from './reference.js';
import {
  type DecoderGrads,
  type DecoderLayer,
  type DecoderLayerGrads,
  type DecoderMemory,
  type DecoderRecord,
  type DecoderShape,
  type FloatSpan,
  cacheWidth,
  gatesOf,
} from './types.js';

// The shapes of the arguments are the Backend's (src/backend/types.ts); re-exported for the tests.
export type { DecoderGrads, DecoderLayer, DecoderLayerGrads, DecoderMemory, DecoderRecord, DecoderShape };

/** out[0..rows) = W[rows, cols]·x[xAt..xAt+cols). */
function matVec(
  rows: number,
  cols: number,
  w: ArrayLike<number>,
  x: ArrayLike<number>,
  xAt: number,
  out: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += w[r * cols + j]! * x[xAt + j]!;
    out[r] = sum;
  }
}

/** out[0..cols) += Wᵀ·g for W [rows, cols], g[gAt..gAt+rows). */
function matTVecAdd(
  rows: number,
  cols: number,
  w: ArrayLike<number>,
  g: ArrayLike<number>,
  gAt: number,
  out: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    const gr = g[gAt + r]!;
    for (let j = 0; j < cols; j++) out[j] = out[j]! + gr * w[r * cols + j]!;
  }
}

/** The decoder over T steps given `embedded` [T,B,E] (the embeddings of <s>, y_1 … y_{T−1}). */
export function decoderForward(
  shape: DecoderShape,
  layers: readonly DecoderLayer[],
  embedded: FloatSpan,
  mem: DecoderMemory,
  wCombine: FloatSpan,
  rec: DecoderRecord,
): void {
  check.checkDecoderForward(shape, layers, embedded, mem, wCombine, rec);
  const { kind, T, B, S, E, H, M } = shape;
  const GH = gatesOf(kind) * H,
    CW = cacheWidth(kind) * H,
    In0 = E + H,
    MH = M + H;
  const emb = embedded.data,
    keys = mem.keys.data,
    memory = mem.memory.data,
    len = mem.sourceLengths.data;
  const wc = wCombine.data,
    x0 = rec.input0.data,
    att = rec.attention.data,
    comb = rec.combined.data,
    feeds = rec.feeds.data;
  const xProj = new Float64Array(GH),
    gh = new Float64Array(GH),
    pre = new Float64Array(H);
  const top = layers[layers.length - 1]!;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const row = t * B + b;
      x0.set(emb.subarray(row * E, row * E + E), row * In0);
      x0.set(feeds.subarray(row * H, row * H + H), row * In0 + E);
      layers.forEach((layer, l) => {
        const input = l === 0 ? x0 : layers[l - 1]!.hs.data;
        matVec(GH, l === 0 ? In0 : H, layer.wIh.data, input, l === 0 ? row * In0 : (row + B) * H, xProj);
        cellStepForward(
          kind,
          H,
          xProj,
          0,
          layer.bIh.data,
          layer.wHh.data,
          layer.bHh.data,
          layer.hs.data,
          row * H,
          (row + B) * H,
          layer.cs.data,
          layer.cache.data,
          row * CW,
          gh,
        );
      });
      // Attention of the top layer's output q over the pair's source positions.
      const q = top.hs.data,
        qAt = (row + B) * H,
        aAt = row * S,
        n = len[b]!;
      let max = -Infinity;
      for (let s = 0; s < n; s++) {
        let score = 0;
        for (let j = 0; j < H; j++) score += keys[(s * B + b) * H + j]! * q[qAt + j]!;
        att[aAt + s] = score;
        max = Math.max(max, score);
      }
      let total = 0;
      for (let s = 0; s < n; s++) total += att[aAt + s] = Math.exp(att[aAt + s]! - max);
      for (let s = 0; s < S; s++) att[aAt + s] = s < n ? att[aAt + s]! / total : 0;
      const cAt = row * MH;
      comb.fill(0, cAt, cAt + M);
      for (let s = 0; s < n; s++) {
        const a = att[aAt + s]!;
        for (let d = 0; d < M; d++) comb[cAt + d] = comb[cAt + d]! + a * memory[(s * B + b) * M + d]!;
      }
      comb.set(q.subarray(qAt, qAt + H), cAt + M);
      matVec(H, MH, wc, comb, cAt, pre);
      for (let j = 0; j < H; j++) feeds[(row + B) * H + j] = Math.tanh(pre[j]!);
    }
  }
}

/**
 * The reverse loop. dFeeds [T,B,H]: the gradient of the loss w.r.t. h~_1..h~_T from the head; dhN, dcN:
 * per layer [B,H] gradients into the final states (zeros when they are not used; dcN length 0 unless LSTM).
 */
export function decoderBackward(
  shape: DecoderShape,
  layers: readonly DecoderLayer[],
  mem: DecoderMemory,
  wCombine: FloatSpan,
  rec: DecoderRecord,
  dFeeds: FloatSpan,
  dhN: readonly FloatSpan[],
  dcN: readonly FloatSpan[],
  grads: readonly DecoderLayerGrads[],
  out: DecoderGrads,
): void {
  check.checkDecoderBackward(shape, layers, mem, wCombine, rec, dFeeds, dhN, dcN, grads, out);
  const { kind, T, B, S, E, H, M } = shape;
  const L = layers.length,
    GH = gatesOf(kind) * H,
    CW = cacheWidth(kind) * H,
    In0 = E + H,
    MH = M + H;
  const keys = mem.keys.data,
    memory = mem.memory.data,
    len = mem.sourceLengths.data,
    wc = wCombine.data;
  const att = rec.attention.data,
    comb = rec.combined.data,
    feeds = rec.feeds.data,
    dy = dFeeds.data;
  const dEmb = out.dEmbedded.data,
    dKeys = out.dKeys.data,
    dMem = out.dMemory.data,
    dPre = out.dCombine.data;
  dKeys.fill(0);
  dMem.fill(0);
  // Gradients carried from step t+1 back to step t: per layer into h_t (and c_t), and into h~_t.
  const dhCarried = dhN.map((d) => Float64Array.from(d.data));
  const dcCarried = dcN.map((d) => Float64Array.from(d.data));
  const dFeedCarried = new Float64Array(B * H);
  const dComb = new Float64Array(MH),
    dAlpha = new Float64Array(S),
    dh = new Float64Array(H),
    dx = new Float64Array(In0);
  for (let t = T - 1; t >= 0; t--) {
    for (let b = 0; b < B; b++) {
      const row = t * B + b,
        cAt = row * MH,
        aAt = row * S,
        n = len[b]!;
      // h~_t = tanh(W_c [c; q]).
      for (let j = 0; j < H; j++) {
        const f = feeds[(row + B) * H + j]!;
        dPre[row * H + j] = (dy[row * H + j]! + dFeedCarried[b * H + j]!) * (1 - f * f);
      }
      dComb.fill(0);
      matTVecAdd(H, MH, wc, dPre, row * H, dComb);
      // Context c = Σ_s α_s memory_s; scores α = softmax(keys·q) over s < n.
      let weighted = 0;
      for (let s = 0; s < n; s++) {
        let d = 0;
        for (let m = 0; m < M; m++) {
          d += dComb[m]! * memory[(s * B + b) * M + m]!;
          dMem[(s * B + b) * M + m] = dMem[(s * B + b) * M + m]! + att[aAt + s]! * dComb[m]!;
        }
        dAlpha[s] = d;
        weighted += att[aAt + s]! * d;
      }
      dh.fill(0);
      for (let j = 0; j < H; j++) dh[j] = dComb[M + j]!;
      const q = layers[L - 1]!.hs.data,
        qAt = (row + B) * H;
      for (let s = 0; s < n; s++) {
        const dScore = att[aAt + s]! * (dAlpha[s]! - weighted);
        for (let j = 0; j < H; j++) {
          dh[j] = dh[j]! + dScore * keys[(s * B + b) * H + j]!;
          dKeys[(s * B + b) * H + j] = dKeys[(s * B + b) * H + j]! + dScore * q[qAt + j]!;
        }
      }
      // The layers, top down: each one's input gradient joins the gradient of the layer below at this step.
      for (let l = L - 1; l >= 0; l--) {
        const layer = layers[l]!,
          g = grads[l]!,
          carried = dhCarried[l]!;
        for (let j = 0; j < H; j++) dh[j] = dh[j]! + carried[b * H + j]!;
        const gx = g.dGx.data,
          gRow = row * GH;
        cellStepBackward(
          kind,
          H,
          layer.wHh.data,
          layer.hs.data,
          row * H,
          (row + B) * H,
          layer.cs.data,
          layer.cache.data,
          row * CW,
          dh,
          dcCarried[l]!,
          b * H,
          gx,
          g.dGh.data,
          gRow,
          carried,
          b * H,
        );
        const width = l === 0 ? In0 : H;
        dx.fill(0);
        matTVecAdd(GH, width, layer.wIh.data, gx, gRow, dx);
        if (l > 0) for (let j = 0; j < H; j++) dh[j] = dx[j]!;
      }
      for (let e = 0; e < E; e++) dEmb[row * E + e] = dx[e]!;
      for (let j = 0; j < H; j++) dFeedCarried[b * H + j] = dx[E + j]!;
    }
  }
  grads.forEach((g, l) => {
    g.dh0.data.set(dhCarried[l]!);
    g.dc0.data.set(dcCarried[l]!);
    const gx = g.dGx.data,
      gh = g.dGh.data,
      bi = g.dbIh.data,
      bh = g.dbHh.data;
    for (let i = 0; i < T * B * GH; i++) {
      bi[i % GH] = bi[i % GH]! + gx[i]!;
      bh[i % GH] = bh[i % GH]! + gh[i]!;
    }
  });
  out.dFeed0.data.set(dFeedCarried);
}
