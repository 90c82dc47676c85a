// The recurrent loops (Backend.cellForward / cellBackward in src/backend/types.ts), PyTorch's equations and
// gate order: LSTM i,f,g,o; GRU r,z,n with b_hn inside the reset product.
// Sizes: T steps, B streams, H hidden, G gates (rnn 1, gru 3, lstm 4), GH = G·H, CW = cache floats per row.
// W_hh is used T times per call: it is packed for the GEMM micro-kernel ONCE per call into the GEMM's packed-B
// scratch when it fits there (opsScratch: 4 MiB, LSTM H <= 512) and a step has at least 4 rows (B >= 4);
// otherwise every step reads it through gemmRecurrent (which packs per step, or not at all for B < 4). The
// per-step hidden projection W_hh·h_{t-1} is written straight into the output that the gate math then
// overwrites in place (hs[t+1] for rnn, the cache row for lstm/gru, whose 4·H floats hold the G·H raw sums),
// and the backward carries dh/dc in dh0/dc0.
import { gemmPackB, gemmPackedB, gemmPacks, gemmRecurrent, opsScratch, packedBFloats, partStart } from './gemm';
import { ld, st, vsigmoid, vtanh } from './math';
import { sumRowsStrided } from './ops';

/** Where to pack W_hh (op(B) [K,N]) once for the call, or 0 to let every step use gemmRecurrent. */
@inline function packOnce(B: i32, K: i32, N: i32): usize {
  return gemmPacks(B) ? opsScratch(<usize>packedBFloats(K, N) << 2) : 0;
}

// Must match CELL_KINDS in src/backend/types.ts
export const enum CellKind {
  RnnTanh = 0,
  RnnRelu = 1,
  Lstm = 2,
  Gru = 3,
}

@inline function gatesOf(kind: i32): i32 {
  return kind == CellKind.Lstm ? 4 : kind == CellKind.Gru ? 3 : 1;
}

@inline function cacheWidthOf(kind: i32): i32 {
  return kind == CellKind.Lstm || kind == CellKind.Gru ? 4 : 0;
}

/** One gate block's pre-activation at element off: (x + b_ih) + (W_hh·h + b_hh). */
@inline function gate(x: usize, bIh: usize, gh: usize, bHh: usize, off: i32, wide: bool): v128 {
  return f32x4.add(f32x4.add(ld(x, off, wide), ld(bIh, off, wide)), f32x4.add(ld(gh, off, wide), ld(bHh, off, wide)));
}

// One step of the gate math for elements j..j+3 (wide) or element j (the scalar tail, computed on splatted
// lanes by the same code). The hidden-side raw sums are read from and overwritten in place.

@inline function rnnForward(tanh: bool, H: i32, x: usize, bIh: usize, bHh: usize, hn: usize, j: i32, wide: bool): void {
  const a = gate(x, bIh, hn, bHh, j, wide);
  st(hn, j, tanh ? vtanh(a) : f32x4.max(a, f32x4.splat(0)), wide);
}

@inline function lstmForward(H: i32, x: usize, bIh: usize, bHh: usize, k: usize, cp: usize, cn: usize, hn: usize, j: i32, wide: bool): void {
  const i = vsigmoid(gate(x, bIh, k, bHh, j, wide));
  const f = vsigmoid(gate(x, bIh, k, bHh, H + j, wide));
  const g = vtanh(gate(x, bIh, k, bHh, 2 * H + j, wide));
  const o = vsigmoid(gate(x, bIh, k, bHh, 3 * H + j, wide));
  const c = f32x4.add(f32x4.mul(f, ld(cp, j, wide)), f32x4.mul(i, g));
  st(cn, j, c, wide);
  st(hn, j, f32x4.mul(o, vtanh(c)), wide);
  st(k, j, i, wide);
  st(k, H + j, f, wide);
  st(k, 2 * H + j, g, wide);
  st(k, 3 * H + j, o, wide);
}

@inline function gruForward(H: i32, x: usize, bIh: usize, bHh: usize, k: usize, hp: usize, hn: usize, j: i32, wide: bool): void {
  const r = vsigmoid(gate(x, bIh, k, bHh, j, wide));
  const z = vsigmoid(gate(x, bIh, k, bHh, H + j, wide));
  const nh = f32x4.add(ld(k, 2 * H + j, wide), ld(bHh, 2 * H + j, wide));
  const n = vtanh(f32x4.add(f32x4.add(ld(x, 2 * H + j, wide), ld(bIh, 2 * H + j, wide)), f32x4.mul(r, nh)));
  st(hn, j, f32x4.add(f32x4.mul(f32x4.sub(f32x4.splat(1), z), n), f32x4.mul(z, ld(hp, j, wide))), wide);
  st(k, j, r, wide);
  st(k, H + j, z, wide);
  st(k, 2 * H + j, n, wide);
  st(k, 3 * H + j, nh, wide);
}

// Packed sequences: lengths (0: none) [B] i32, each in [0, T] (validated by the caller). Stream b runs while
// t < lengths[b]; afterwards its rows are zeroed instead of computed.

@inline function finished(lengths: usize, b: i32, t: i32): bool {
  return lengths != 0 && t >= load<i32>(lengths + (<usize>b << 2));
}

/** How many of streams b0..b1 a step must multiply: up to the last one still running at step t (finished ones
 *  before it are multiplied and then zeroed; with lengths sorted longest first, as PyTorch packs them, none are). */
function runningRows(lengths: usize, b0: i32, b1: i32, t: i32): i32 {
  if (lengths == 0) return b1 - b0;
  let rows = 0;
  for (let b = b0; b < b1; b++) if (t < load<i32>(lengths + (<usize>b << 2))) rows = b - b0 + 1;
  return rows;
}

// ---- the split over threads ------------------------------------------------------------------------------
// The streams are independent (each stream's h_t needs only its own h_{t-1}), so part p of P takes the streams
// of chunks [p·n/P, (p+1)·n/P) of STREAMS each and runs all T steps on them alone: no step waits for another
// thread. Each part packs W_hh into its own scratch, the GEMM path is chosen for all B streams, and the bias
// gradients are summed afterwards over all rows in a fixed order (cellBiasGradPart), so every output is the
// same bits whatever P is.

/** Streams per chunk: one micro-tile of rows. */
const STREAMS: i32 = 4;
/** Below this many multiply-adds per step the cells run as one part. */
const MIN_SPLIT_STEP_WORK: f64 = <f64>(1 << 16);

/** How many parts a cell call can be cut into (1: not worth splitting). */
export function cellParts(kind: i32, B: i32, H: i32): i32 {
  const GH = gatesOf(kind) * H;
  if (<f64>B * <f64>GH * <f64>H < MIN_SPLIT_STEP_WORK) return 1;
  return (B + STREAMS - 1) / STREAMS;
}

/**
 * xProj [T,B,GH], wHh [GH,H], bIh [GH], bHh [GH]; hs [T+1,B,H] (slot 0 = h0); cs [T+1,B,H] (lstm only);
 * cache [T,B,CW]. xIds (0: none) [T,B]: xProj is a table [R,GH] and step t, stream b reads its row
 * xIds[t·B+b] (validated by the caller). lengths (0: none) [B]: past its length a stream's hs, cs and cache
 * rows are written as zeros and its xProj/xIds rows are not read.
 */
export function cellForward(
  kind: i32, T: i32, B: i32, H: i32,
  xProj: usize, wHh: usize, bIh: usize, bHh: usize, hs: usize, cs: usize, cache: usize, xIds: usize, lengths: usize,
): void {
  cellForwardPart(0, 1, kind, T, B, H, xProj, wHh, bIh, bHh, hs, cs, cache, xIds, lengths);
}

/** Part p of P of cellForward: its streams (see the split above). */
export function cellForwardPart(
  part: i32, parts: i32, kind: i32, T: i32, B: i32, H: i32,
  xProj: usize, wHh: usize, bIh: usize, bHh: usize, hs: usize, cs: usize, cache: usize, xIds: usize, lengths: usize,
): void {
  const b0 = partStart(part, parts, B, STREAMS), b1 = partStart(part + 1, parts, B, STREAMS);
  const packs = gemmPacks(B);
  const G = gatesOf(kind);
  const GH = G * H;
  const CW = cacheWidthOf(kind) * H;
  const rowH = <usize>H << 2;
  const rowGH = <usize>GH << 2;
  const rowCW = <usize>CW << 2;
  const stepH = <usize>B * rowH;
  // op(B) = W_hhᵀ [H, GH], packed once for all T steps.
  const pack = packOnce(B, H, GH);
  if (pack != 0) gemmPackB(true, H, GH, wHh, rowH, pack);
  for (let t = 0; t < T; t++) {
    const hPrev = hs + <usize>t * stepH;
    const hNext = hPrev + stepH;
    const cPrev = cs + <usize>t * stepH;
    const cNext = cPrev + stepH;
    const kStep = cache + <usize>t * <usize>B * rowCW;
    // Raw hidden-side sums W_hh·h_{t-1} for all B streams, [B][GH] with row stride rowH or rowCW.
    const out = CW == 0 ? hNext : kStep;
    const ldo = CW == 0 ? rowH : rowCW;
    const rows = runningRows(lengths, b0, b1, t);
    if (rows > 0) {
      const h0 = hPrev + <usize>b0 * rowH, o0 = out + <usize>b0 * ldo;
      if (pack != 0) gemmPackedB(false, rows, GH, H, 1, h0, rowH, pack, 0, o0, ldo);
      else gemmRecurrent(packs, true, rows, GH, H, h0, rowH, wHh, rowH, 0, o0, ldo);
    }
    for (let b = b0; b < b1; b++) {
      const row = <usize>t * <usize>B + <usize>b;
      const hp = hPrev + <usize>b * rowH;
      const hn = hNext + <usize>b * rowH;
      const k = kStep + <usize>b * rowCW;
      if (finished(lengths, b, t)) {
        memory.fill(hn, 0, rowH);
        if (kind == CellKind.Lstm) memory.fill(cNext + <usize>b * rowH, 0, rowH);
        memory.fill(k, 0, rowCW);
        continue;
      }
      const x = xProj + (xIds != 0 ? <usize>load<i32>(xIds + (row << 2)) : row) * rowGH;
      let j = 0;
      if (kind == CellKind.RnnTanh) {
        for (; j + 4 <= H; j += 4) rnnForward(true, H, x, bIh, bHh, hn, j, true);
        for (; j < H; j++) rnnForward(true, H, x, bIh, bHh, hn, j, false);
      } else if (kind == CellKind.RnnRelu) {
        for (; j + 4 <= H; j += 4) rnnForward(false, H, x, bIh, bHh, hn, j, true);
        for (; j < H; j++) rnnForward(false, H, x, bIh, bHh, hn, j, false);
      } else if (kind == CellKind.Lstm) {
        const cp = cPrev + <usize>b * rowH;
        const cn = cNext + <usize>b * rowH;
        for (; j + 4 <= H; j += 4) lstmForward(H, x, bIh, bHh, k, cp, cn, hn, j, true);
        for (; j < H; j++) lstmForward(H, x, bIh, bHh, k, cp, cn, hn, j, false);
      } else {
        for (; j + 4 <= H; j += 4) gruForward(H, x, bIh, bHh, k, hp, hn, j, true);
        for (; j < H; j++) gruForward(H, x, bIh, bHh, k, hp, hn, j, false);
      }
    }
  }
}

/** out[j] = a[j] + b[j] for j < n (the gradient w.r.t. h_t, for dhSteps). */
@inline function addRows(n: i32, a: usize, b: usize, out: usize): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) st(out, j, f32x4.add(ld(a, j, true), ld(b, j, true)), true);
  for (; j < n; j++) st(out, j, f32x4.add(ld(a, j, false), ld(b, j, false)), false);
}

// The backward gate math for elements j..j+3 (wide) or j. dh = dhs_t + the carried dh (in dh0).

@inline function rnnBackward(tanh: bool, dy: usize, dhb: usize, hc: usize, gx: usize, gh: usize, j: i32, wide: bool): void {
  const dh = f32x4.add(ld(dy, j, wide), ld(dhb, j, wide));
  const y = ld(hc, j, wide);
  const da = tanh
    ? f32x4.mul(dh, f32x4.sub(f32x4.splat(1), f32x4.mul(y, y)))
    : v128.and(dh, f32x4.gt(y, f32x4.splat(0)));
  st(gx, j, da, wide);
  st(gh, j, da, wide);
}

@inline function lstmBackward(
  H: i32, dy: usize, dhb: usize, dcb: usize, k: usize, cp: usize, cc: usize, gx: usize, gh: usize, j: i32, wide: bool,
): void {
  const one = f32x4.splat(1);
  const dh = f32x4.add(ld(dy, j, wide), ld(dhb, j, wide));
  const i = ld(k, j, wide);
  const f = ld(k, H + j, wide);
  const g = ld(k, 2 * H + j, wide);
  const o = ld(k, 3 * H + j, wide);
  const tc = vtanh(ld(cc, j, wide));
  const dc = f32x4.add(ld(dcb, j, wide), f32x4.mul(f32x4.mul(dh, o), f32x4.sub(one, f32x4.mul(tc, tc))));
  const di = f32x4.mul(f32x4.mul(f32x4.mul(dc, g), i), f32x4.sub(one, i));
  const df = f32x4.mul(f32x4.mul(f32x4.mul(dc, ld(cp, j, wide)), f), f32x4.sub(one, f));
  const dg = f32x4.mul(f32x4.mul(dc, i), f32x4.sub(one, f32x4.mul(g, g)));
  const dO = f32x4.mul(f32x4.mul(f32x4.mul(dh, tc), o), f32x4.sub(one, o));
  st(gx, j, di, wide);
  st(gh, j, di, wide);
  st(gx, H + j, df, wide);
  st(gh, H + j, df, wide);
  st(gx, 2 * H + j, dg, wide);
  st(gh, 2 * H + j, dg, wide);
  st(gx, 3 * H + j, dO, wide);
  st(gh, 3 * H + j, dO, wide);
  st(dcb, j, f32x4.mul(dc, f), wide);
}

@inline function gruBackward(H: i32, dy: usize, dhb: usize, k: usize, hp: usize, gx: usize, gh: usize, j: i32, wide: bool): void {
  const one = f32x4.splat(1);
  const dh = f32x4.add(ld(dy, j, wide), ld(dhb, j, wide));
  const r = ld(k, j, wide);
  const z = ld(k, H + j, wide);
  const n = ld(k, 2 * H + j, wide);
  const nh = ld(k, 3 * H + j, wide);
  const dn = f32x4.mul(f32x4.mul(dh, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
  const dz = f32x4.mul(f32x4.mul(f32x4.mul(dh, f32x4.sub(ld(hp, j, wide), n)), z), f32x4.sub(one, z));
  const dr = f32x4.mul(f32x4.mul(f32x4.mul(dn, nh), r), f32x4.sub(one, r));
  st(gx, j, dr, wide);
  st(gh, j, dr, wide);
  st(gx, H + j, dz, wide);
  st(gh, H + j, dz, wide);
  st(gx, 2 * H + j, dn, wide);
  st(gh, 2 * H + j, f32x4.mul(dn, r), wide);
  st(dhb, j, f32x4.mul(dh, z), wide); // the direct path z⊙dh; the GEMM in cellBackward adds W_hhᵀ·dGh
}

/**
 * The reverse loop. Reads wHh, hs, cs, cache (as cellForward wrote them), dhs [T,B,H], dhN [B,H], dcN [B,H]
 * (lstm only); writes dGx, dGh [T,B,GH], dh0 [B,H], dc0 [B,H] (lstm only). dh0/dc0 carry dh_t/dc_t meanwhile.
 * dbIh, dbHh [GH] (0: none) += the sum of the rows of dGx, dGh (the bias gradients), rows in order.
 * lengths (0: none) [B]: past its length a stream's dGx and dGh rows are zeros, its dhs rows are not read and
 * its carried dh (dc) passes through unchanged.
 * dhSteps (0: none) [T,B,H] receives dh_t = dhs_t + the carried gradient at each step (zero rows past a length).
 */
export function cellBackward(
  kind: i32, T: i32, B: i32, H: i32,
  wHh: usize, hs: usize, cs: usize, cache: usize, dhs: usize, dhN: usize, dcN: usize,
  dGx: usize, dGh: usize, dh0: usize, dc0: usize, dbIh: usize, dbHh: usize, lengths: usize, dhSteps: usize,
): void {
  cellBackwardPart(0, 1, kind, T, B, H, wHh, hs, cs, cache, dhs, dhN, dcN, dGx, dGh, dh0, dc0, lengths, dhSteps);
  const GH = gatesOf(kind) * H;
  if (dbIh != 0) cellBiasGradPart(0, 1, T * B, GH, dGx, dbIh);
  if (dbHh != 0) cellBiasGradPart(0, 1, T * B, GH, dGh, dbHh);
}

/** How many parts the bias gradients' sums (cellBiasGradPart) can be cut into. */
export function cellBiasGradParts(rows: i32, GH: i32): i32 {
  return <f64>rows * <f64>GH < MIN_SPLIT_STEP_WORK ? 1 : (GH + BIAS_COLUMNS - 1) / BIAS_COLUMNS;
}

const BIAS_COLUMNS: i32 = 64;

/** Part p of P of db [GH] += the sum of the rows [rows, GH] of dG, rows in order: its columns. */
export function cellBiasGradPart(part: i32, parts: i32, rows: i32, GH: i32, dG: usize, db: usize): void {
  const j0 = partStart(part, parts, GH, BIAS_COLUMNS), j1 = partStart(part + 1, parts, GH, BIAS_COLUMNS);
  sumRowsStrided(rows, j1 - j0, dG + (<usize>j0 << 2), <usize>GH << 2, db + (<usize>j0 << 2));
}

/** Part p of P of cellBackward without the bias gradients (cellBiasGradPart sums them afterwards): its streams. */
export function cellBackwardPart(
  part: i32, parts: i32, kind: i32, T: i32, B: i32, H: i32,
  wHh: usize, hs: usize, cs: usize, cache: usize, dhs: usize, dhN: usize, dcN: usize,
  dGx: usize, dGh: usize, dh0: usize, dc0: usize, lengths: usize, dhSteps: usize,
): void {
  const b0 = partStart(part, parts, B, STREAMS), b1 = partStart(part + 1, parts, B, STREAMS);
  const packs = gemmPacks(B);
  const G = gatesOf(kind);
  const GH = G * H;
  const CW = cacheWidthOf(kind) * H;
  const rowH = <usize>H << 2;
  const rowGH = <usize>GH << 2;
  const rowCW = <usize>CW << 2;
  const stepH = <usize>B * rowH;
  const first = <usize>b0 * rowH, streams = <usize>(b1 - b0) * rowH;
  memory.copy(dh0 + first, dhN + first, streams);
  if (kind == CellKind.Lstm) memory.copy(dc0 + first, dcN + first, streams);
  // op(B) = W_hh [GH, H] as it is, packed once for all T steps.
  const pack = packOnce(B, GH, H);
  if (pack != 0) gemmPackB(false, GH, H, wHh, rowH, pack);
  for (let t = T - 1; t >= 0; t--) {
    const gStep = (<usize>t * <usize>B + <usize>b0) * rowGH;
    for (let b = b0; b < b1; b++) {
      const row = <usize>t * <usize>B + <usize>b;
      const gx = dGx + row * rowGH;
      const gh = dGh + row * rowGH;
      if (finished(lengths, b, t)) {
        memory.fill(gx, 0, rowGH);
        memory.fill(gh, 0, rowGH);
        if (dhSteps != 0) memory.fill(dhSteps + row * rowH, 0, rowH);
        continue;
      }
      const dy = dhs + row * rowH;
      const dhb = dh0 + <usize>b * rowH;
      if (dhSteps != 0) addRows(H, dy, dhb, dhSteps + row * rowH);
      const hp = hs + row * rowH;
      const hc = hp + stepH;
      const k = cache + row * rowCW;
      let j = 0;
      if (kind == CellKind.RnnTanh) {
        for (; j + 4 <= H; j += 4) rnnBackward(true, dy, dhb, hc, gx, gh, j, true);
        for (; j < H; j++) rnnBackward(true, dy, dhb, hc, gx, gh, j, false);
      } else if (kind == CellKind.RnnRelu) {
        for (; j + 4 <= H; j += 4) rnnBackward(false, dy, dhb, hc, gx, gh, j, true);
        for (; j < H; j++) rnnBackward(false, dy, dhb, hc, gx, gh, j, false);
      } else if (kind == CellKind.Lstm) {
        const cp = cs + row * rowH;
        const cc = cp + stepH;
        const dcb = dc0 + <usize>b * rowH;
        for (; j + 4 <= H; j += 4) lstmBackward(H, dy, dhb, dcb, k, cp, cc, gx, gh, j, true);
        for (; j < H; j++) lstmBackward(H, dy, dhb, dcb, k, cp, cc, gx, gh, j, false);
      } else {
        for (; j + 4 <= H; j += 4) gruBackward(H, dy, dhb, k, hp, gx, gh, j, true);
        for (; j < H; j++) gruBackward(H, dy, dhb, k, hp, gx, gh, j, false);
      }
      // With lengths the GEMM below accumulates (finished streams keep their carry): a running rnn/lstm
      // stream's carry is used up, so clear it here.
      if (lengths != 0 && kind != CellKind.Gru) memory.fill(dhb, 0, rowH);
    }
    // dh_{t-1}[B,H] = dGh_t[B,GH]·W_hh[GH,H] (+ the GRU's direct path already in dh0; + the carry of finished
    // streams, whose dGh rows are zero).
    const beta: f32 = kind == CellKind.Gru || lengths != 0 ? 1 : 0;
    const rows = runningRows(lengths, b0, b1, t);
    if (rows == 0) continue;
    if (pack != 0) gemmPackedB(false, rows, H, GH, 1, dGh + gStep, rowGH, pack, beta, dh0 + first, rowH);
    else gemmRecurrent(packs, false, rows, H, GH, dGh + gStep, rowGH, wHh, rowH, beta, dh0 + first, rowH);
  }
}
