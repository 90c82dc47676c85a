// The attention decoder loop (Backend.decoderForward / decoderBackward in src/backend/types.ts; the oracle is
// src/backend/reference-decoder.ts): Luong's "general" score, h~_t = tanh(W_c [c_t; h_t]), input feeding of
// h~_{t-1}, the whole T-step loop over L layers in one call. Each step reuses the engine's pieces: each layer's
// input projection is one GEMM per step (layer 0's over the step's rows of input0 = [embedding; h~_{t-1}],
// K = E+H: beam search calls with T = 1); every layer's step is cellForward / cellBackward with T = 1 on the
// step's slots; W_c·[c;h] is a GEMM; the attention's dot products and weighted sums are f32x4 loops.
// The host passes a workspace `work` (decoderWorkFloats floats) whose first words hold the layers' pointers:
// forward 7 per layer (wIh, wHh, bIh, bHh, hs, cs, cache), backward 8 more per layer (dhN, dcN, dGx, dGh,
// dh0, dc0, dbIh, dbHh).
import { cellBackward, cellForward } from './cells';
import { gemmStrided } from './gemm';
import { activations, hsum, madd } from './math';
import { sumRows } from './ops';

@inline function gatesOf(kind: i32): i32 {
  return kind == 2 ? 4 : kind == 3 ? 3 : 1; // lstm, gru, rnn (CellKind in cells.ts)
}

@inline function cacheWidthOf(kind: i32): i32 {
  return kind == 2 || kind == 3 ? 4 : 0;
}

/** Words of the pointer table at the start of the workspace, rounded up to whole 16-byte lines. */
@inline function tableWords(L: i32): i32 {
  return (15 * L + 3) & ~3;
}

@inline function ptrAt(table: usize, i: i32): usize {
  return <usize>load<u32>(table + (<usize>i << 2));
}

@inline function f(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

@inline function setF(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}

/** Σ a[j]·b[j] for j < n: eight lanes of partial sums (two chains hide the add latency), then the tail. */
function dot(a: usize, b: usize, n: i32): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const o = <usize>j << 2;
    acc0 = madd(v128.load(a + o), v128.load(b + o), acc0);
    acc1 = madd(v128.load(a + o + 16), v128.load(b + o + 16), acc1);
  }
  let sum = hsum(f32x4.add(acc0, acc1));
  for (; j < n; j++) sum += f(a, j) * f(b, j);
  return sum;
}

/** y[j] += w·x[j] for j < n. */
function axpy(n: i32, w: f32, x: usize, y: usize): void {
  const wv = f32x4.splat(w);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const o = <usize>j << 2;
    v128.store(y + o, madd(v128.load(x + o), wv, v128.load(y + o)));
  }
  for (; j < n; j++) setF(y, j, f(y, j) + w * f(x, j));
}

/** Floats the host provides as `work` (pointer table included). */
export function decoderWorkFloats(kind: i32, T: i32, B: i32, S: i32, H: i32, M: i32, L: i32): i32 {
  const GH = gatesOf(kind) * H;
  const forward = B * GH;
  const backward = B * (M + H) + 3 * B * H + B * S;
  return tableWords(L) + (forward > backward ? forward : backward);
}

export function decoderForward(
  kind: i32, T: i32, B: i32, S: i32, E: i32, H: i32, M: i32, L: i32,
  embedded: usize, keys: usize, mem: usize, sourceLengths: usize, wCombine: usize,
  input0: usize, attention: usize, combined: usize, feeds: usize, work: usize,
): void {
  if (T == 0) return;
  const GH = gatesOf(kind) * H;
  const CW = cacheWidthOf(kind) * H;
  const In0 = E + H;
  const MH = M + H;
  const BH = B * H;
  const lstm = kind == 2;
  const xp = work + (<usize>tableWords(L) << 2); // [B,GH] a layer's input projection, this step
  const top = 7 * (L - 1);
  for (let t = 0; t < T; t++) {
    const feed = feeds + (<usize>(t * BH) << 2);
    const in0 = input0 + (<usize>(t * B * In0) << 2);
    for (let b = 0; b < B; b++) {
      memory.copy(in0 + (<usize>(b * In0) << 2), embedded + (<usize>((t * B + b) * E) << 2), <usize>E << 2);
      memory.copy(in0 + (<usize>(b * In0 + E) << 2), feed + (<usize>(b * H) << 2), <usize>H << 2);
    }
    for (let l = 0; l < L; l++) {
      const at = 7 * l;
      if (l == 0) {
        gemmStrided(false, true, B, GH, In0, 1, in0, <usize>In0 << 2, ptrAt(work, 0), <usize>In0 << 2, 0, xp, <usize>GH << 2);
      } else {
        const below = ptrAt(work, at - 7 + 4) + (<usize>((t + 1) * BH) << 2);
        gemmStrided(false, true, B, GH, H, 1, below, <usize>H << 2, ptrAt(work, at), <usize>H << 2, 0, xp, <usize>GH << 2);
      }
      cellForward(
        kind, 1, B, H, xp, ptrAt(work, at + 1), ptrAt(work, at + 2), ptrAt(work, at + 3),
        ptrAt(work, at + 4) + (<usize>(t * BH) << 2), lstm ? ptrAt(work, at + 5) + (<usize>(t * BH) << 2) : 0,
        ptrAt(work, at + 6) + (<usize>(t * B * CW) << 2), 0, 0,
      );
    }
    // Attention of the top layer's h_t over each row's source positions, and [c_t; h_t].
    const q = ptrAt(work, top + 4) + (<usize>((t + 1) * BH) << 2);
    for (let b = 0; b < B; b++) {
      const n = min(S, max(1, load<i32>(sourceLengths + (<usize>b << 2))));
      const a = attention + (<usize>((t * B + b) * S) << 2);
      const comb = combined + (<usize>((t * B + b) * MH) << 2);
      const qb = q + (<usize>(b * H) << 2);
      let mx: f32 = -Infinity;
      for (let s = 0; s < n; s++) {
        const score = dot(keys + (<usize>((s * B + b) * H) << 2), qb, H);
        setF(a, s, score);
        mx = Mathf.max(mx, score);
      }
      let total: f32 = 0;
      for (let s = 0; s < n; s++) {
        const e = Mathf.exp(f(a, s) - mx);
        setF(a, s, e);
        total += e;
      }
      for (let s = 0; s < S; s++) setF(a, s, s < n ? f(a, s) / total : 0);
      memory.fill(comb, 0, <usize>M << 2);
      for (let s = 0; s < n; s++) {
        const w = f(a, s);
        axpy(M, w, mem + (<usize>((s * B + b) * M) << 2), comb);
      }
      memory.copy(comb + (<usize>M << 2), qb, <usize>H << 2);
    }
    const next = feeds + (<usize>((t + 1) * BH) << 2);
    gemmStrided(false, true, B, H, MH, 1, combined + (<usize>(t * B * MH) << 2), <usize>MH << 2, wCombine, <usize>MH << 2, 0, next, <usize>H << 2);
    activations(1, BH, next, next); // tanh
  }
}

export function decoderBackward(
  kind: i32, T: i32, B: i32, S: i32, E: i32, H: i32, M: i32, L: i32,
  keys: usize, mem: usize, sourceLengths: usize, wCombine: usize, attention: usize, combined: usize, feeds: usize,
  dFeeds: usize, dEmbedded: usize, dKeys: usize, dMemory: usize, dCombine: usize, dFeed0: usize, work: usize,
): void {
  const GH = gatesOf(kind) * H;
  const CW = cacheWidthOf(kind) * H;
  const In0 = E + H;
  const MH = M + H;
  const BH = B * H;
  const rowH = <usize>H << 2;
  const stepH = <usize>BH << 2;
  const lstm = kind == 2;
  const dComb = work + (<usize>tableWords(L) << 2); // [B, M+H] gradient w.r.t. [c_t; h_t]
  const dA = dComb + (<usize>(B * MH) << 2); // [B,H] the gradient arriving at a layer's output from above
  const dB = dA + stepH; // [B,H] the next one down
  const dAlpha = dB + stepH; // [S]
  const grad = 7 * L; // grads' pointers follow the layers' in the table
  memory.fill(dKeys, 0, <usize>(S * BH) << 2);
  memory.fill(dMemory, 0, <usize>(S * B * M) << 2);
  // The carried gradients live in the outputs that receive them at the end: dh0, dc0 per layer, dFeed0.
  memory.fill(dFeed0, 0, stepH);
  for (let l = 0; l < L; l++) {
    const g = grad + 8 * l;
    memory.copy(ptrAt(work, g + 4), ptrAt(work, g), stepH);
    if (lstm) memory.copy(ptrAt(work, g + 5), ptrAt(work, g + 1), stepH);
  }
  const top = 7 * (L - 1);
  for (let t = T - 1; t >= 0; t--) {
    const dPre = dCombine + (<usize>(t * BH) << 2);
    const ft = feeds + (<usize>((t + 1) * BH) << 2);
    const dy = dFeeds + (<usize>(t * BH) << 2);
    for (let i = 0; i < BH; i++) {
      const v = f(ft, i);
      setF(dPre, i, (f(dy, i) + f(dFeed0, i)) * (1 - v * v));
    }
    gemmStrided(false, false, B, MH, H, 1, dPre, rowH, wCombine, <usize>MH << 2, 0, dComb, <usize>MH << 2);
    const q = ptrAt(work, top + 4) + (<usize>((t + 1) * BH) << 2);
    for (let b = 0; b < B; b++) {
      const n = min(S, max(1, load<i32>(sourceLengths + (<usize>b << 2))));
      const a = attention + (<usize>((t * B + b) * S) << 2);
      const dc = dComb + (<usize>(b * MH) << 2);
      let weighted: f32 = 0;
      for (let s = 0; s < n; s++) {
        const m = mem + (<usize>((s * B + b) * M) << 2);
        const dm = dMemory + (<usize>((s * B + b) * M) << 2);
        const da = dot(dc, m, M);
        setF(dAlpha, s, da);
        const as = f(a, s);
        axpy(M, as, dc, dm);
        weighted += as * da;
      }
      const dh = dA + (<usize>(b * H) << 2);
      const qb = q + (<usize>(b * H) << 2);
      memory.copy(dh, dc + (<usize>M << 2), rowH);
      for (let s = 0; s < n; s++) {
        const dScore = f(a, s) * (f(dAlpha, s) - weighted);
        const k = keys + (<usize>((s * B + b) * H) << 2);
        const dk = dKeys + (<usize>((s * B + b) * H) << 2);
        axpy(H, dScore, k, dh);
        axpy(H, dScore, qb, dk);
      }
    }
    // The layers, top down: each one's input gradient is the gradient of the layer below at this step.
    let above = dA;
    let below = dB;
    for (let l = L - 1; l >= 0; l--) {
      const at = 7 * l;
      const g = grad + 8 * l;
      const gx = ptrAt(work, g + 2) + (<usize>(t * B * GH) << 2);
      const dh0 = ptrAt(work, g + 4);
      const dc0 = lstm ? ptrAt(work, g + 5) : 0;
      cellBackward(
        kind, 1, B, H, ptrAt(work, at + 1), ptrAt(work, at + 4) + (<usize>(t * BH) << 2),
        lstm ? ptrAt(work, at + 5) + (<usize>(t * BH) << 2) : 0, ptrAt(work, at + 6) + (<usize>(t * B * CW) << 2),
        above, dh0, dc0, gx, ptrAt(work, g + 3) + (<usize>(t * B * GH) << 2), dh0, dc0, 0, 0, 0, 0,
      );
      const wIh = ptrAt(work, at);
      if (l > 0) {
        gemmStrided(false, false, B, H, GH, 1, gx, <usize>GH << 2, wIh, rowH, 0, below, rowH);
        const swap = above;
        above = below;
        below = swap;
      } else {
        gemmStrided(false, false, B, E, GH, 1, gx, <usize>GH << 2, wIh, <usize>In0 << 2, 0, dEmbedded + (<usize>(t * B * E) << 2), <usize>E << 2);
        gemmStrided(false, false, B, H, GH, 1, gx, <usize>GH << 2, wIh + (<usize>E << 2), <usize>In0 << 2, 0, dFeed0, rowH);
      }
    }
  }
  for (let l = 0; l < L; l++) {
    const g = grad + 8 * l;
    sumRows(T * B, GH, ptrAt(work, g + 2), ptrAt(work, g + 6));
    sumRows(T * B, GH, ptrAt(work, g + 3), ptrAt(work, g + 7));
  }
}
