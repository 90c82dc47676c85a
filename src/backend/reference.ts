// The reference backend: plain TypeScript loops, written to be obviously correct. It is the oracle every
// other backend is tested against, and in float64 it is precise enough for finite-difference checks.
import * as check from './checks.js';
import { ctcLossReference } from './ctc-reference.js';
import { decoderBackward, decoderForward } from './reference-decoder.js';
import { logSoftmaxReference, topKReference } from './reference-search.js';
import {
  type Backend,
  type BackendInfo,
  type Buf,
  type CellKind,
  type DecoderGrads,
  type DecoderLayer,
  type DecoderLayerGrads,
  type DecoderMemory,
  type DecoderRecord,
  type DecoderShape,
  type Dtype,
  type FloatSpan,
  type FloatArray,
  type IntSpan,
  type PoolMode,
  cacheWidth,
  dropoutBits,
  dropoutSeedMix,
  dropoutThreshold,
  gatesOf,
} from './types.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

class ArrayBuf<A extends FloatArray | Int32Array> implements Buf<A> {
  constructor(readonly data: A) {}
  get length(): number {
    return this.data.length;
  }
}

export class ReferenceBackend implements Backend {
  readonly name = 'reference' as const;
  readonly dtype: Dtype;

  constructor(options: { dtype?: Dtype } = {}) {
    this.dtype = options.dtype ?? 'f32';
  }

  info(): BackendInfo {
    return { name: this.name, dtype: this.dtype, simd: 'none', threads: 1 };
  }

  allocFloat(length: number): Buf<FloatArray> {
    check.checkSize('allocFloat', 'length', length);
    return new ArrayBuf(this.dtype === 'f64' ? new Float64Array(length) : new Float32Array(length));
  }

  allocInt(length: number): Buf<Int32Array> {
    check.checkSize('allocInt', 'length', length);
    return new ArrayBuf(new Int32Array(length));
  }

  gemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: FloatSpan,
    B: FloatSpan,
    beta: number,
    C: FloatSpan,
  ): void {
    check.checkGemm(transA, transB, M, N, K, alpha, A, B, beta, C);
    const a = A.data,
      b = B.data,
      c = C.data;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let sum = 0;
        for (let k = 0; k < K; k++) {
          sum += a[transA ? k * M + i : i * K + k]! * b[transB ? j * K + k : k * N + j]!;
        }
        c[i * N + j] = alpha * sum + (beta === 0 ? 0 : beta * c[i * N + j]!);
      }
    }
  }

  addBias(M: number, N: number, bias: FloatSpan, C: FloatSpan): void {
    check.checkAddBias(M, N, bias, C);
    const b = bias.data,
      c = C.data;
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) c[i * N + j]! += b[j]!;
  }

  sumRows(M: number, N: number, A: FloatSpan, out: FloatSpan): void {
    check.checkSumRows(M, N, A, out);
    const a = A.data,
      o = out.data;
    for (let j = 0; j < N; j++) {
      let sum = 0;
      for (let i = 0; i < M; i++) sum += a[i * N + j]!;
      o[j]! += sum;
    }
  }

  gatherRows(n: number, D: number, ids: IntSpan, table: FloatSpan, out: FloatSpan): void {
    check.checkGatherRows(n, D, ids, table, out);
    const id = ids.data,
      t = table.data,
      o = out.data;
    for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) o[i * D + d] = t[id[i]! * D + d]!;
  }

  scatterAddRows(n: number, D: number, ids: IntSpan, dOut: FloatSpan, dTable: FloatSpan): void {
    check.checkScatterAddRows(n, D, ids, dOut, dTable);
    const id = ids.data,
      g = dOut.data,
      t = dTable.data;
    for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) t[id[i]! * D + d]! += g[i * D + d]!;
  }

  gatherColumns(n: number, R: number, ids: IntSpan, W: FloatSpan, out: FloatSpan): void {
    check.checkGatherColumns(n, R, ids, W, out);
    const cols = W.length / R;
    const id = ids.data,
      w = W.data,
      o = out.data;
    for (let i = 0; i < n; i++) for (let r = 0; r < R; r++) o[i * R + r] = w[r * cols + id[i]!]!;
  }

  scatterAddColumns(n: number, R: number, ids: IntSpan, dOut: FloatSpan, dW: FloatSpan): void {
    check.checkScatterAddColumns(n, R, ids, dOut, dW);
    const cols = dW.length / R;
    const id = ids.data,
      g = dOut.data,
      w = dW.data;
    for (let i = 0; i < n; i++) for (let r = 0; r < R; r++) w[r * cols + id[i]!]! += g[i * R + r]!;
  }

  cellForward(
    kind: CellKind,
    T: number,
    B: number,
    H: number,
    xProj: FloatSpan,
    wHh: FloatSpan,
    bIh: FloatSpan,
    bHh: FloatSpan,
    hs: FloatSpan,
    cs: FloatSpan,
    cache: FloatSpan,
    xIds: IntSpan | null = null,
    lengths: IntSpan | null = null,
  ): void {
    check.checkCellForward(kind, T, B, H, xProj, wHh, bIh, bHh, hs, cs, cache, xIds, lengths);
    const G = gatesOf(kind),
      GH = G * H,
      CW = cacheWidth(kind) * H;
    const x = xProj.data,
      w = wHh.data,
      bi = bIh.data,
      bh = bHh.data,
      h = hs.data,
      c = cs.data,
      k = cache.data;
    const len = lengths?.data;
    const gh = new Float64Array(GH); // W_hh·h_{t-1} + b_hh for one stream
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const hPrev = (t * B + b) * H,
          hNext = ((t + 1) * B + b) * H,
          kRow = (t * B + b) * CW;
        if (len && t >= len[b]!) {
          // Past the end of stream b: zero output, nothing kept.
          h.fill(0, hNext, hNext + H);
          if (c.length) c.fill(0, hNext, hNext + H);
          k.fill(0, kRow, kRow + CW);
          continue;
        }
        const xRow = (xIds ? xIds.data[t * B + b]! : t * B + b) * GH;
        cellStepForward(kind, H, x, xRow, bi, w, bh, h, hPrev, hNext, c, k, kRow, gh);
      }
    }
  }

  cellBackward(
    kind: CellKind,
    T: number,
    B: number,
    H: number,
    wHh: FloatSpan,
    hs: FloatSpan,
    cs: FloatSpan,
    cache: FloatSpan,
    dhs: FloatSpan,
    dhN: FloatSpan,
    dcN: FloatSpan,
    dGx: FloatSpan,
    dGh: FloatSpan,
    dh0: FloatSpan,
    dc0: FloatSpan,
    dbIh: FloatSpan | null = null,
    dbHh: FloatSpan | null = null,
    lengths: IntSpan | null = null,
    dhSteps: FloatSpan | null = null,
  ): void {
    check.checkCellBackward(
      kind,
      T,
      B,
      H,
      wHh,
      hs,
      cs,
      cache,
      dhs,
      dhN,
      dcN,
      dGx,
      dGh,
      dh0,
      dc0,
      dbIh,
      dbHh,
      lengths,
      dhSteps,
    );
    const dhOut = dhSteps?.data;
    const G = gatesOf(kind),
      GH = G * H,
      CW = cacheWidth(kind) * H;
    const w = wHh.data,
      h = hs.data,
      c = cs.data,
      k = cache.data,
      dy = dhs.data;
    const gx = dGx.data,
      gh = dGh.data,
      len = lengths?.data;
    // Gradient w.r.t. h_t (and c_t) carried backwards, per stream: [B,H].
    const dhNext = Float64Array.from(dhN.data);
    const dcNext = Float64Array.from(dcN.data);
    const dh = new Float64Array(H);
    const sumX = new Float64Array(GH),
      sumH = new Float64Array(GH); // Σ dGx, Σ dGh over the rows
    for (let t = T - 1; t >= 0; t--) {
      for (let b = 0; b < B; b++) {
        const hPrev = (t * B + b) * H,
          hCur = ((t + 1) * B + b) * H,
          gRow = (t * B + b) * GH,
          kRow = (t * B + b) * CW;
        if (len && t >= len[b]!) {
          // Past the end of stream b: the carried gradient passes through to step L_b − 1.
          gx.fill(0, gRow, gRow + GH);
          gh.fill(0, gRow, gRow + GH);
          dhOut?.fill(0, (t * B + b) * H, (t * B + b + 1) * H);
          continue;
        }
        for (let j = 0; j < H; j++) dh[j] = dy[(t * B + b) * H + j]! + dhNext[b * H + j]!;
        dhOut?.set(dh, (t * B + b) * H);
        cellStepBackward(kind, H, w, h, hPrev, hCur, c, k, kRow, dh, dcNext, b * H, gx, gh, gRow, dhNext, b * H);
        for (let r = 0; r < GH; r++) {
          sumX[r] = sumX[r]! + gx[gRow + r]!;
          sumH[r] = sumH[r]! + gh[gRow + r]!;
        }
      }
    }
    dh0.data.set(dhNext);
    dc0.data.set(dcNext);
    for (const [db, sum] of [
      [dbIh, sumX],
      [dbHh, sumH],
    ] as const) {
      const d = db?.data;
      if (d) for (let r = 0; r < GH; r++) d[r] = d[r]! + sum[r]!;
    }
  }

  poolForward(
    mode: PoolMode,
    T: number,
    B: number,
    D: number,
    x: FloatSpan,
    lengths: IntSpan,
    out: FloatSpan,
    argmax: IntSpan,
  ): void {
    check.checkPoolForward(mode, T, B, D, x, lengths, out, argmax);
    const a = x.data,
      len = lengths.data,
      o = out.data,
      arg = argmax.data;
    for (let b = 0; b < B; b++) {
      for (let d = 0; d < D; d++) {
        let acc = mode === 'mean' ? 0 : -Infinity,
          at = 0;
        for (let t = 0; t < len[b]!; t++) {
          const value = a[(t * B + b) * D + d]!;
          if (mode === 'mean') acc += value;
          else if (value > acc || t === 0) [acc, at] = [value, t];
        }
        o[b * D + d] = mode === 'mean' ? acc / len[b]! : acc;
        if (mode === 'max') arg[b * D + d] = at;
      }
    }
  }

  poolBackward(
    mode: PoolMode,
    T: number,
    B: number,
    D: number,
    dOut: FloatSpan,
    lengths: IntSpan,
    argmax: IntSpan,
    dx: FloatSpan,
  ): void {
    check.checkPoolBackward(mode, T, B, D, dOut, lengths, argmax, dx);
    const g = dOut.data,
      len = lengths.data,
      arg = argmax.data,
      d = dx.data;
    d.fill(0);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < D; j++) {
        if (mode === 'max') d[(arg[b * D + j]! * B + b) * D + j] = g[b * D + j]!;
        else for (let t = 0; t < len[b]!; t++) d[(t * B + b) * D + j] = g[b * D + j]! / len[b]!;
      }
    }
  }

  decoderForward(
    shape: DecoderShape,
    layers: readonly DecoderLayer[],
    embedded: FloatSpan,
    mem: DecoderMemory,
    wCombine: FloatSpan,
    rec: DecoderRecord,
  ): void {
    decoderForward(shape, layers, embedded, mem, wCombine, rec);
  }

  decoderBackward(
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
    decoderBackward(shape, layers, mem, wCombine, rec, dFeeds, dhN, dcN, grads, out);
  }

  topK(N: number, V: number, K: number, scores: FloatSpan, values: FloatSpan, indices: IntSpan): void {
    topKReference(N, V, K, scores, values, indices);
  }

  logSoftmax(N: number, V: number, x: FloatSpan, out: FloatSpan): void {
    logSoftmaxReference(N, V, x, out);
  }

  softmaxCrossEntropy(
    N: number,
    V: number,
    logits: FloatSpan,
    targets: IntSpan,
    scale: number,
    dLogits: FloatSpan | null,
    labelSmoothing = 0,
  ): number {
    check.checkSoftmaxCrossEntropy(N, V, logits, targets, scale, dLogits, labelSmoothing);
    const eps = labelSmoothing;
    const x = logits.data,
      y = targets.data,
      d = dLogits?.data;
    let loss = 0;
    for (let i = 0; i < N; i++) {
      const row = i * V,
        target = y[i]!;
      if (target < 0) {
        d?.fill(0, row, row + V);
        continue;
      }
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, x[row + v]!);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(x[row + v]! - max);
      if (eps === 0) loss += Math.log(sum) + max - x[row + target]!;
      else {
        // (1 − ε)·(lse − x_target) + (ε/V)·Σ_v (lse − x_v)
        let total = 0;
        for (let v = 0; v < V; v++) total += x[row + v]!;
        loss += Math.log(sum) + max - (1 - eps) * x[row + target]! - (eps * total) / V;
      }
      if (d) {
        for (let v = 0; v < V; v++) d[row + v] = (scale * Math.exp(x[row + v]! - max)) / sum;
        if (eps > 0) for (let v = 0; v < V; v++) d[row + v]! -= (scale * eps) / V;
        d[row + target]! -= scale * (1 - eps);
      }
    }
    return loss;
  }

  ctcLoss(
    T: number,
    B: number,
    C: number,
    S: number,
    logits: FloatSpan,
    targets: IntSpan,
    inputLengths: IntSpan,
    targetLengths: IntSpan,
    zeroInfinity: boolean,
    work: FloatSpan,
    losses: FloatSpan,
    dLogits: FloatSpan | null,
  ): number {
    check.checkCtcLoss(T, B, C, S, logits, targets, inputLengths, targetLengths, zeroInfinity, work, losses, dLogits);
    return ctcLossReference(T, B, C, S, zeroInfinity, {
      logits: logits.data,
      targets: targets.data,
      inputLengths: inputLengths.data,
      targetLengths: targetLengths.data,
      work: work.data,
      losses: losses.data,
      dLogits: dLogits?.data,
    });
  }

  clipValue(x: FloatSpan, limit: number): void {
    check.checkClipValue(x, limit);
    const a = x.data;
    for (let i = 0; i < a.length; i++) a[i] = Math.min(limit, Math.max(-limit, a[i]!));
  }

  sumSquares(x: FloatSpan): number {
    check.checkSumSquares(x);
    const a = x.data;
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += a[i]! * a[i]!;
    return sum;
  }

  scale(x: FloatSpan, s: number): void {
    check.checkScale(x, s);
    const a = x.data;
    for (let i = 0; i < a.length; i++) a[i]! *= s;
  }

  dropout(x: FloatSpan, p: number, seed: number, mask: FloatSpan, out: FloatSpan): void {
    check.checkDropout(x, p, seed, mask, out);
    const a = x.data,
      m = mask.data,
      o = out.data;
    const mixed = dropoutSeedMix(seed),
      threshold = dropoutThreshold(p),
      keep = Math.fround(1 / (1 - p));
    for (let i = 0; i < a.length; i++) {
      m[i] = dropoutBits(mixed, i) >= threshold ? keep : 0;
      o[i] = a[i]! * m[i]!;
    }
  }

  multiply(a: FloatSpan, b: FloatSpan, out: FloatSpan): void {
    check.checkMultiply(a, b, out);
    const x = a.data,
      y = b.data,
      o = out.data;
    for (let i = 0; i < x.length; i++) o[i] = x[i]! * y[i]!;
  }

  adagradUpdate(param: FloatSpan, grad: FloatSpan, sum: FloatSpan, lr: number, eps: number, weightDecay: number): void {
    check.checkAdagradUpdate(param, grad, sum, lr, eps, weightDecay);
    const p = param.data,
      g = grad.data,
      s = sum.data;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i]! + weightDecay * p[i]!;
      s[i]! += gi * gi;
      p[i]! -= (lr * gi) / (Math.sqrt(s[i]!) + eps);
    }
  }

  sgdUpdate(param: FloatSpan, grad: FloatSpan, lr: number, weightDecay: number): void {
    check.checkSgdUpdate(param, grad, lr, weightDecay);
    const p = param.data,
      g = grad.data;
    for (let i = 0; i < p.length; i++) p[i]! -= lr * (g[i]! + weightDecay * p[i]!);
  }

  momentumUpdate(
    param: FloatSpan,
    grad: FloatSpan,
    buf: FloatSpan,
    lr: number,
    momentum: number,
    dampening: number,
    nesterov: boolean,
    weightDecay: number,
    first: boolean,
  ): void {
    check.checkMomentumUpdate(param, grad, buf, lr, momentum, dampening, nesterov, weightDecay, first);
    const p = param.data,
      g = grad.data,
      b = buf.data;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i]! + weightDecay * p[i]!;
      b[i] = first ? gi : momentum * b[i]! + (1 - dampening) * gi;
      p[i]! -= lr * (nesterov ? gi + momentum * b[i]! : b[i]!);
    }
  }

  rmspropUpdate(
    param: FloatSpan,
    grad: FloatSpan,
    sq: FloatSpan,
    lr: number,
    alpha: number,
    eps: number,
    weightDecay: number,
  ): void {
    check.checkRmspropUpdate(param, grad, sq, lr, alpha, eps, weightDecay);
    const p = param.data,
      g = grad.data,
      s = sq.data;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i]! + weightDecay * p[i]!;
      s[i] = alpha * s[i]! + (1 - alpha) * gi * gi;
      p[i]! -= (lr * gi) / (Math.sqrt(s[i]!) + eps);
    }
  }

  adamUpdate(
    param: FloatSpan,
    grad: FloatSpan,
    m: FloatSpan,
    v: FloatSpan,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    decoupled: boolean,
    step: number,
  ): void {
    check.checkAdamUpdate(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, step);
    const p = param.data,
      g = grad.data,
      ma = m.data,
      va = v.data;
    const stepSize = lr / (1 - beta1 ** step),
      correction2 = Math.sqrt(1 - beta2 ** step);
    for (let i = 0; i < p.length; i++) {
      if (decoupled) p[i]! *= 1 - lr * weightDecay;
      const gi = decoupled ? g[i]! : g[i]! + weightDecay * p[i]!;
      ma[i] = beta1 * ma[i]! + (1 - beta1) * gi;
      va[i] = beta2 * va[i]! + (1 - beta2) * gi * gi;
      p[i]! -= (stepSize * ma[i]!) / (Math.sqrt(va[i]!) / correction2 + eps);
    }
  }
}

type Floats = FloatArray | Float64Array;

/**
 * One step of one stream (PyTorch's equations): h[hNext..+H] (and c for the LSTM) from h[hPrev..+H], the
 * input projection x[xRow..+G·H] (no bias) and the biases; the cache row k[kRow..] keeps what the backward
 * step needs. gh is scratch of G·H numbers.
 */
export function cellStepForward(
  kind: CellKind,
  H: number,
  x: Floats,
  xRow: number,
  bi: Floats,
  w: Floats,
  bh: Floats,
  h: Floats,
  hPrev: number,
  hNext: number,
  c: Floats,
  k: Floats,
  kRow: number,
  gh: Float64Array,
): void {
  const GH = gatesOf(kind) * H;
  for (let r = 0; r < GH; r++) {
    let sum = bh[r]!;
    for (let j = 0; j < H; j++) sum += w[r * H + j]! * h[hPrev + j]!;
    gh[r] = sum;
  }
  for (let j = 0; j < H; j++) {
    const gx = (g: number): number => x[xRow + g * H + j]! + bi[g * H + j]!;
    if (kind === 'rnn_tanh' || kind === 'rnn_relu') {
      const a = gx(0) + gh[j]!;
      h[hNext + j] = kind === 'rnn_tanh' ? Math.tanh(a) : Math.max(a, 0);
    } else if (kind === 'lstm') {
      const i = sigmoid(gx(0) + gh[j]!),
        f = sigmoid(gx(1) + gh[H + j]!);
      const g = Math.tanh(gx(2) + gh[2 * H + j]!),
        o = sigmoid(gx(3) + gh[3 * H + j]!);
      const cNew = f * c[hPrev + j]! + i * g;
      c[hNext + j] = cNew;
      h[hNext + j] = o * Math.tanh(c[hNext + j]!);
      k[kRow + j] = i;
      k[kRow + H + j] = f;
      k[kRow + 2 * H + j] = g;
      k[kRow + 3 * H + j] = o;
    } else {
      const r = sigmoid(gx(0) + gh[j]!),
        z = sigmoid(gx(1) + gh[H + j]!);
      const hn = gh[2 * H + j]!;
      const n = Math.tanh(gx(2) + r * hn);
      h[hNext + j] = (1 - z) * n + z * h[hPrev + j]!;
      k[kRow + j] = r;
      k[kRow + H + j] = z;
      k[kRow + 2 * H + j] = n;
      k[kRow + 3 * H + j] = hn;
    }
  }
}

/**
 * The reverse of cellStepForward for one stream: dh [H] is the gradient w.r.t. h[hCur..] (from above plus
 * the carried one), dc[dcAt..+H] the carried cell-state gradient (LSTM; updated in place to the one of the
 * previous step). Writes the gate gradients gx[gRow..+G·H] (input side) and gh[gRow..] (hidden side) and the
 * gradient w.r.t. the previous hidden state into dhPrev[dhAt..+H].
 */
export function cellStepBackward(
  kind: CellKind,
  H: number,
  w: Floats,
  h: Floats,
  hPrev: number,
  hCur: number,
  c: Floats,
  k: Floats,
  kRow: number,
  dh: Floats,
  dc: Floats,
  dcAt: number,
  gx: Floats,
  gh: Floats,
  gRow: number,
  dhPrev: Floats,
  dhAt: number,
): void {
  const GH = gatesOf(kind) * H;
  for (let j = 0; j < H; j++) {
    if (kind === 'rnn_tanh' || kind === 'rnn_relu') {
      const y = h[hCur + j]!;
      const da = dh[j]! * (kind === 'rnn_tanh' ? 1 - y * y : y > 0 ? 1 : 0);
      gx[gRow + j] = da;
      gh[gRow + j] = da;
    } else if (kind === 'lstm') {
      const i = k[kRow + j]!,
        f = k[kRow + H + j]!,
        g = k[kRow + 2 * H + j]!,
        o = k[kRow + 3 * H + j]!;
      const tc = Math.tanh(c[hCur + j]!);
      const dcj = dc[dcAt + j]! + dh[j]! * o * (1 - tc * tc);
      const grads = [
        dcj * g * i * (1 - i),
        dcj * c[hPrev + j]! * f * (1 - f),
        dcj * i * (1 - g * g),
        dh[j]! * tc * o * (1 - o),
      ];
      for (let q = 0; q < 4; q++) {
        gx[gRow + q * H + j] = grads[q]!;
        gh[gRow + q * H + j] = grads[q]!;
      }
      dc[dcAt + j] = dcj * f;
    } else {
      const r = k[kRow + j]!,
        z = k[kRow + H + j]!,
        n = k[kRow + 2 * H + j]!,
        hn = k[kRow + 3 * H + j]!;
      const dn = dh[j]! * (1 - z) * (1 - n * n);
      const dz = dh[j]! * (h[hPrev + j]! - n) * z * (1 - z);
      const dr = dn * hn * r * (1 - r);
      gx[gRow + j] = dr;
      gh[gRow + j] = dr;
      gx[gRow + H + j] = dz;
      gh[gRow + H + j] = dz;
      gx[gRow + 2 * H + j] = dn;
      gh[gRow + 2 * H + j] = dn * r;
    }
  }
  // dh_{t-1} = direct path (GRU: z⊙dh) + W_hhᵀ·dGh_t
  for (let j = 0; j < H; j++) {
    let sum = kind === 'gru' ? dh[j]! * k[kRow + H + j]! : 0;
    for (let r = 0; r < GH; r++) sum += gh[gRow + r]! * w[r * H + j]!;
    dhPrev[dhAt + j] = sum;
  }
}
