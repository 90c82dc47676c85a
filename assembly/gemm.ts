// GEMM: C[M,N] = alpha·op(A)·op(B) + beta·C, row-major (see Backend.gemm in src/backend/types.ts).
// All pointers are byte addresses into linear memory; all row strides (lda, ldb, ldc) are in bytes, so the
// cell kernels can multiply into rows with a wider stride than N (e.g. the LSTM/GRU cache).
//
// The GotoBLAS/BLIS scheme, for every combination of transposes:
//   for jc in N by NC:              op(B)[·, jc..] block
//     for pc in K by KC:            pack op(B)[pc.., jc..] into NR-wide panels, k-major   (once per call)
//       for ic in M by MC:          pack op(A)[ic.., pc..] into MR-high panels, k-major
//         for jr in NR panels:      B micro-panel (KC·NR floats, 8 KiB) stays in L1 ...
//           for ir in MR panels:    ... while the A block (MC·KC floats, 128 KiB) streams from L2
//             4×8 micro-kernel: 8 f32x4 accumulators, per k one A broadcast per row and two B vectors.
// Packing turns every transpose into the same contiguous layout (the 4×4 register transposes are in the
// packing, not in the inner loop) and zero-pads the last panels, so edge tiles run the same SIMD kernel and
// only their store is partial. Cells reuse one packed W_hh for all T steps (gemmPackB + gemmPackedB).
// With fewer than MR rows, op(B) is packed 32 columns at a time and used at once (smallRows), with the same
// sums per element as the micro-kernel: a row of C does not depend on M.
// beta = 0 never reads C, so NaNs already in C do not leak. K = 0 gives C = beta·C.
import { madd } from './math';

/** Micro-tile: MR rows × NR columns (two f32x4 per row). Must match the kernel and the packing below. */
const MR: i32 = 4;
const NR: i32 = 8;
/** Cache blocking: K block (the micro-panels' depth), rows of the packed A block, columns of a B block. */
const KC: i32 = 256;
const MC: i32 = 128;
const NC: i32 = 4096;

const PACK_A_BYTES: usize = <usize>(MC * KC) << 2;
/** 4 MiB: a KC×NC block of op(B), and between GEMMs the cells' whole packed W_hh (LSTM H ≤ 512, GRU H ≤ 591,
 *  RNN H ≤ 1024; larger cells pack W_hh per step instead). Allocated by the host once, up front: a kernel
 *  never grows memory, so JS views taken before a kernel call stay attached. */
const PACK_B_BYTES: usize = <usize>(KC * NC) << 2;
const TILE_BYTES: usize = <usize>(MR * NR) << 2;
const SCRATCH_BYTES: usize = PACK_A_BYTES + PACK_B_BYTES + TILE_BYTES;

// Host-provided scratch (per instance: instances sharing one memory each have their own globals).
let packA: usize = 0;
let packB: usize = 0;
let tile: usize = 0;

/** Bytes of scratch the host should hand to setGemmScratch. */
export function gemmScratchBytes(): usize {
  return SCRATCH_BYTES;
}

/** Registers the host-allocated scratch (at least gemmScratchBytes() bytes, 16-byte aligned). */
export function setGemmScratch(ptr: usize, bytes: usize): bool {
  if (bytes < SCRATCH_BYTES || (ptr & 15) != 0) return false;
  packA = ptr;
  packB = ptr + PACK_A_BYTES;
  tile = packB + PACK_B_BYTES;
  return true;
}

/** The packed-B scratch, for kernels that need up to PACK_B_BYTES of temporary memory while no GEMM packs
 *  op(B) (the cells' packed W_hh, the one-hot column kernels); 0 when it is smaller than `bytes` or not
 *  registered. */
export function opsScratch(bytes: usize): usize {
  return bytes <= PACK_B_BYTES ? packB : 0;
}

@inline function roundUp(n: i32, m: i32): i32 {
  return (n + m - 1) / m * m;
}

/** Floats of a fully packed op(B) [K,N]: K rows of N rounded up to whole panels. */
export function packedBFloats(K: i32, N: i32): i32 {
  return K * roundUp(N, NR);
}

// ---- packing ----------------------------------------------------------------------------------------

/** 4×4 transpose of rows r0..r3 (each 4 consecutive k) stored as 4 k-vectors at dst, dst+step, ... */
@inline function transposeStore(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, step: usize): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(dst + step, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * step, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * step, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

/**
 * Packs op(A)[i0..i0+mc, k0..k0+kc) into MR-row panels [ceil(mc/MR)][kc][MR] at dst, zero rows past mc.
 * op(A)[i,k] = A[i·lda + 4k] (plain) or A[k·lda + 4i] (transA).
 */
function packAPanels(transA: bool, a: usize, lda: usize, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  for (let p = 0; p < mc; p += MR) {
    const rows = min(MR, mc - p);
    const i = i0 + p;
    if (transA) {
      let src = a + <usize>k0 * lda + (<usize>i << 2);
      if (rows == MR) {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, v128.load(src));
          src += lda;
          dst += 16;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, f32x4.splat(0));
          for (let r = 0; r < rows; r++) store<f32>(dst + (<usize>r << 2), load<f32>(src + (<usize>r << 2)));
          src += lda;
          dst += 16;
        }
      }
    } else {
      const s0 = a + <usize>i * lda + (<usize>k0 << 2);
      if (rows == MR) {
        const s1 = s0 + lda, s2 = s1 + lda, s3 = s2 + lda;
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const o = <usize>k << 2;
          transposeStore(v128.load(s0 + o), v128.load(s1 + o), v128.load(s2 + o), v128.load(s3 + o), dst, 16);
          dst += 64;
        }
        for (; k < kc; k++) {
          const o = <usize>k << 2;
          store<f32>(dst, load<f32>(s0 + o));
          store<f32>(dst, load<f32>(s1 + o), 4);
          store<f32>(dst, load<f32>(s2 + o), 8);
          store<f32>(dst, load<f32>(s3 + o), 12);
          dst += 16;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, f32x4.splat(0));
          for (let r = 0; r < rows; r++) store<f32>(dst + (<usize>r << 2), load<f32>(s0 + <usize>r * lda + (<usize>k << 2)));
          dst += 16;
        }
      }
    }
  }
}

/**
 * Packs op(B)[k0..k0+kc, j0..j0+nc) into NR-column panels [ceil(nc/NR)][kc][NR] at dst, zero columns past nc.
 * op(B)[k,j] = B[k·ldb + 4j] (plain) or B[j·ldb + 4k] (transB).
 */
function packBPanels(transB: bool, b: usize, ldb: usize, k0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  for (let p = 0; p < nc; p += NR) {
    const cols = min(NR, nc - p);
    const j = j0 + p;
    if (!transB) {
      let src = b + <usize>k0 * ldb + (<usize>j << 2);
      if (cols == NR) {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
          src += ldb;
          dst += 32;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, f32x4.splat(0));
          v128.store(dst, f32x4.splat(0), 16);
          for (let c = 0; c < cols; c++) store<f32>(dst + (<usize>c << 2), load<f32>(src + (<usize>c << 2)));
          src += ldb;
          dst += 32;
        }
      }
    } else {
      const s0 = b + <usize>j * ldb + (<usize>k0 << 2);
      if (cols == NR) {
        const s1 = s0 + ldb, s2 = s1 + ldb, s3 = s2 + ldb, s4 = s3 + ldb, s5 = s4 + ldb, s6 = s5 + ldb, s7 = s6 + ldb;
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const o = <usize>k << 2;
          transposeStore(v128.load(s0 + o), v128.load(s1 + o), v128.load(s2 + o), v128.load(s3 + o), dst, 32);
          transposeStore(v128.load(s4 + o), v128.load(s5 + o), v128.load(s6 + o), v128.load(s7 + o), dst + 16, 32);
          dst += 128;
        }
        for (; k < kc; k++) {
          const o = <usize>k << 2;
          for (let c = 0; c < NR; c++) store<f32>(dst + (<usize>c << 2), load<f32>(s0 + <usize>c * ldb + o));
          dst += 32;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, f32x4.splat(0));
          v128.store(dst, f32x4.splat(0), 16);
          for (let c = 0; c < cols; c++) store<f32>(dst + (<usize>c << 2), load<f32>(s0 + <usize>c * ldb + (<usize>k << 2)));
          dst += 32;
        }
      }
    }
  }
}

// ---- the micro-kernel and the macro-kernel -----------------------------------------------------------

/** One output vector: alpha·acc (+ beta·C, not read when beta = 0). */
@inline function store4(c: usize, acc: v128, alpha: v128, beta: f32): void {
  let v = f32x4.mul(acc, alpha);
  if (beta == 1) v = f32x4.add(v128.load(c), v);
  else if (beta != 0) v = madd(f32x4.splat(beta), v128.load(c), v);
  v128.store(c, v);
}

/**
 * The 4×8 tile C[0..4, 0..8) (row stride ldc) = alpha·Σ_k pa[k]ᵀ·pb[k] + beta·C over kc steps of the packed
 * A panel (4 floats per k) and B panel (8 floats per k).
 */
function microKernel(kc: i32, pa: usize, pb: usize, alpha: f32, beta: f32, c: usize, ldc: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  // kc >= 1. The loop ends on the B pointer: no counter, one register and one add fewer per k, which V8's
  // code for this loop measurably likes (~10 % on the plain build). Unrolling over k does not pay: V8 then
  // hoists every load of the unrolled steps and spills accumulators.
  const end = pb + (<usize>kc << 5);
  do {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let x = v128.load32_splat(pa);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    x = v128.load32_splat(pa, 4);
    c10 = madd(x, b0, c10);
    c11 = madd(x, b1, c11);
    x = v128.load32_splat(pa, 8);
    c20 = madd(x, b0, c20);
    c21 = madd(x, b1, c21);
    x = v128.load32_splat(pa, 12);
    c30 = madd(x, b0, c30);
    c31 = madd(x, b1, c31);
    pa += 16;
    pb += 32;
  } while (pb < end);
  const va = f32x4.splat(alpha);
  store4(c, c00, va, beta);
  store4(c + 16, c01, va, beta);
  c += ldc;
  store4(c, c10, va, beta);
  store4(c + 16, c11, va, beta);
  c += ldc;
  store4(c, c20, va, beta);
  store4(c + 16, c21, va, beta);
  c += ldc;
  store4(c, c30, va, beta);
  store4(c + 16, c31, va, beta);
}

/** An edge tile (rows < MR or cols < NR): the full tile into `tile`, then the valid part into C. */
function edgeTile(kc: i32, pa: usize, pb: usize, alpha: f32, beta: f32, c: usize, ldc: usize, rows: i32, cols: i32): void {
  microKernel(kc, pa, pb, alpha, 0, tile, <usize>NR << 2);
  const va = f32x4.splat(1);
  for (let r = 0; r < rows; r++) {
    const src = tile + <usize>r * (<usize>NR << 2);
    const dst = c + <usize>r * ldc;
    let j = 0;
    for (; j + 4 <= cols; j += 4) store4(dst + (<usize>j << 2), v128.load(src + (<usize>j << 2)), va, beta);
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      let v = load<f32>(src + o);
      if (beta != 0) v += beta * load<f32>(dst + o);
      store<f32>(dst + o, v);
    }
  }
}

/** C[0..mc, 0..nc) (+)= alpha·(packed A block [mc×kc])·(packed B block [kc×nc]). */
function macroKernel(mc: i32, nc: i32, kc: i32, alpha: f32, pa: usize, pb: usize, beta: f32, c: usize, ldc: usize): void {
  const aPanel = <usize>(kc * MR) << 2;
  const bPanel = <usize>(kc * NR) << 2;
  for (let j = 0; j < nc; j += NR) {
    const cols = min(NR, nc - j);
    let a = pa;
    let cij = c + (<usize>j << 2);
    for (let i = 0; i < mc; i += MR) {
      const rows = min(MR, mc - i);
      if (rows == MR && cols == NR) microKernel(kc, a, pb, alpha, beta, cij, ldc);
      else edgeTile(kc, a, pb, alpha, beta, cij, ldc, rows, cols);
      a += aPanel;
      cij += <usize>MR * ldc;
    }
    pb += bPanel;
  }
}

// ---- few rows ------------------------------------------------------------------------------------------
// With M < MR rows (one generated character, a batch of 1-3 streams) the 4-row micro-tile would be mostly
// padding. op(B) is packed four panels (32 columns) at a time, used at once from L1 by each row of A. Every
// element of C gets the micro-kernel's sums: the same madd chain over k in the same KC blocks and the same
// epilogue (edgeTile's for the last N % 4 columns), so a row of C does not depend on M: a text stepped one
// character at a time equals its whole-text product bit for bit.

/** Below this many rows of C the GEMM does not use the micro-tile (and the cells do not pack W_hh). */
const SMALL_M: i32 = MR;
const SMALL_COLS: i32 = 4 * NR;

/** Whether a GEMM with M rows packs op(B) (cells: whether packing W_hh once per call pays). */
@inline export function gemmPacks(M: i32): bool {
  return M >= SMALL_M;
}

/** Columns [4q, n) of one output vector as edgeTile writes them: alpha·acc, plus beta·C unless beta = 0. */
@inline function storeTail(c: usize, acc: v128, alpha: v128, beta: f32, n: i32): void {
  v128.store(tile, f32x4.mul(acc, alpha));
  for (let j = 0; j < n; j++) {
    const o = <usize>j << 2;
    let v = load<f32>(tile + o);
    if (beta != 0) v += beta * load<f32>(c + o);
    store<f32>(c + o, v);
  }
}

/** Columns [4q, 4q + 4) ∩ [0, nc) of a row of C from accumulator vector q. */
@inline function storeQuad(c: usize, q: i32, acc: v128, alpha: v128, beta: f32, nc: i32): void {
  if (q * 4 + 4 <= nc) store4(c + (<usize>q << 4), acc, alpha, beta);
  else if (q * 4 < nc) storeTail(c + (<usize>q << 4), acc, alpha, beta, nc - q * 4);
}

/** C[M,N] = alpha·op(A)·op(B) + beta·C for M < MR, a(i,k) = A[i·sAi + k·sAk]: SMALL_COLS columns at a time,
 *  eight accumulator vectors (eight independent madd chains) per row of A. */
function smallRows(
  transB: bool, M: i32, N: i32, K: i32, alpha: f32, a: usize, sAi: usize, sAk: usize, b: usize, ldb: usize, beta: f32,
  c: usize, ldc: usize,
): void {
  const va = f32x4.splat(alpha);
  for (let j0 = 0; j0 < N; j0 += SMALL_COLS) {
    const nc = min(SMALL_COLS, N - j0);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = min(KC, K - k0);
      // Panels past nc are not packed: their lanes read stale scratch and are never stored.
      packBPanels(transB, b, ldb, k0, kc, j0, nc, packB);
      const panel = <usize>kc << 5;  // bytes from one packed panel to the next
      const be = k0 == 0 ? beta : 1;
      for (let i = 0; i < M; i++) {
        let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
        let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
        let pa = a + <usize>i * sAi + <usize>k0 * sAk;
        let pb = packB;
        const end = pb + panel;
        do {
          const x = v128.load32_splat(pa);
          c0 = madd(x, v128.load(pb), c0);
          c1 = madd(x, v128.load(pb, 16), c1);
          c2 = madd(x, v128.load(pb + panel), c2);
          c3 = madd(x, v128.load(pb + panel, 16), c3);
          c4 = madd(x, v128.load(pb + 2 * panel), c4);
          c5 = madd(x, v128.load(pb + 2 * panel, 16), c5);
          c6 = madd(x, v128.load(pb + 3 * panel), c6);
          c7 = madd(x, v128.load(pb + 3 * panel, 16), c7);
          pa += sAk;
          pb += 32;
        } while (pb < end);
        const pc = c + <usize>i * ldc + (<usize>j0 << 2);
        storeQuad(pc, 0, c0, va, be, nc);
        storeQuad(pc, 1, c1, va, be, nc);
        storeQuad(pc, 2, c2, va, be, nc);
        storeQuad(pc, 3, c3, va, be, nc);
        storeQuad(pc, 4, c4, va, be, nc);
        storeQuad(pc, 5, c5, va, be, nc);
        storeQuad(pc, 6, c6, va, be, nc);
        storeQuad(pc, 7, c7, va, be, nc);
      }
    }
  }
}

// The cells' recurrent products with few rows (one to three streams) need not match the GEMM's order (every
// step of a text takes the same path), so they keep these faster unpacked loops: op(B) is streamed once per
// row, as axpys over B's rows (smallRowsOfB) or dot products with them (smallDots).

@inline function store1(c: usize, acc: f32, alpha: f32, beta: f32): void {
  let v = alpha * acc;
  if (beta != 0) v += beta * load<f32>(c);
  store<f32>(c, v);
}

/** op(B) = B [K,N] (row stride ldb), a(i,k) = A[i·sAi + k·sAk]: 16 columns of a row of C in four f32x4
 *  accumulators, one broadcast of a(i,k) per k. */
function smallRowsOfB(
  M: i32, N: i32, K: i32, alpha: f32, a: usize, sAi: usize, sAk: usize, b: usize, ldb: usize, beta: f32, c: usize, ldc: usize,
): void {
  const va = f32x4.splat(alpha);
  for (let i = 0; i < M; i++) {
    const pa = a + <usize>i * sAi;
    const pc = c + <usize>i * ldc;
    let j = 0;
    for (; j + 16 <= N; j += 16) {
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let p = pa;
      let pb = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        const x = v128.load32_splat(p);
        c0 = madd(x, v128.load(pb), c0);
        c1 = madd(x, v128.load(pb, 16), c1);
        c2 = madd(x, v128.load(pb, 32), c2);
        c3 = madd(x, v128.load(pb, 48), c3);
        p += sAk;
        pb += ldb;
      }
      const o = pc + (<usize>j << 2);
      store4(o, c0, va, beta);
      store4(o + 16, c1, va, beta);
      store4(o + 32, c2, va, beta);
      store4(o + 48, c3, va, beta);
    }
    for (; j + 4 <= N; j += 4) {
      let c0 = f32x4.splat(0);
      let p = pa;
      let pb = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        c0 = madd(v128.load32_splat(p), v128.load(pb), c0);
        p += sAk;
        pb += ldb;
      }
      store4(pc + (<usize>j << 2), c0, va, beta);
    }
    for (; j < N; j++) {
      let sum: f32 = 0;
      let p = pa;
      let pb = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        sum += load<f32>(p) * load<f32>(pb);
        p += sAk;
        pb += ldb;
      }
      store1(pc + (<usize>j << 2), sum, alpha, beta);
    }
  }
}

@inline function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

/** Scalar Σ over k in [k0, K) for contiguous x, y (the K tail of the dot products). */
@inline function tailDot(x: usize, y: usize, k0: i32, K: i32): f32 {
  let s: f32 = 0;
  for (let k = k0; k < K; k++) s += load<f32>(x + (<usize>k << 2)) * load<f32>(y + (<usize>k << 2));
  return s;
}

/** op(A) = A [M,K] (row stride lda), op(B) = Bᵀ with B [N,K] (row stride ldb): dot products over K, four
 *  rows of B at a time, f32x4 over k, reduced with shuffles into one vector of C. */
function smallDots(M: i32, N: i32, K: i32, alpha: f32, a: usize, lda: usize, b: usize, ldb: usize, beta: f32, c: usize, ldc: usize): void {
  const K4 = K & ~3;
  const va = f32x4.splat(alpha);
  let j = 0;
  // Eight rows of B at a time: eight memory streams in flight (op(B) is read once, from L3 or memory).
  for (; j + 8 <= N; j += 8) {
    const pb0 = b + <usize>j * ldb, pb1 = pb0 + ldb, pb2 = pb1 + ldb, pb3 = pb2 + ldb;
    const pb4 = pb3 + ldb, pb5 = pb4 + ldb, pb6 = pb5 + ldb, pb7 = pb6 + ldb;
    for (let i = 0; i < M; i++) {
      const pa = a + <usize>i * lda;
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const o = <usize>k << 2;
        const x = v128.load(pa + o);
        c0 = madd(x, v128.load(pb0 + o), c0);
        c1 = madd(x, v128.load(pb1 + o), c1);
        c2 = madd(x, v128.load(pb2 + o), c2);
        c3 = madd(x, v128.load(pb3 + o), c3);
        c4 = madd(x, v128.load(pb4 + o), c4);
        c5 = madd(x, v128.load(pb5 + o), c5);
        c6 = madd(x, v128.load(pb6 + o), c6);
        c7 = madd(x, v128.load(pb7 + o), c7);
      }
      let r0 = hsum4(c0, c1, c2, c3);
      let r1 = hsum4(c4, c5, c6, c7);
      if (K4 < K) {
        r0 = f32x4.add(r0, f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(tailDot(pa, pb0, K4, K)),
          1, tailDot(pa, pb1, K4, K)), 2, tailDot(pa, pb2, K4, K)), 3, tailDot(pa, pb3, K4, K)));
        r1 = f32x4.add(r1, f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(tailDot(pa, pb4, K4, K)),
          1, tailDot(pa, pb5, K4, K)), 2, tailDot(pa, pb6, K4, K)), 3, tailDot(pa, pb7, K4, K)));
      }
      const pc = c + <usize>i * ldc + (<usize>j << 2);
      store4(pc, r0, va, beta);
      store4(pc + 16, r1, va, beta);
    }
  }
  for (; j + 4 <= N; j += 4) {
    const pb0 = b + <usize>j * ldb, pb1 = pb0 + ldb, pb2 = pb1 + ldb, pb3 = pb2 + ldb;
    for (let i = 0; i < M; i++) {
      const pa = a + <usize>i * lda;
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const o = <usize>k << 2;
        const x = v128.load(pa + o);
        c0 = madd(x, v128.load(pb0 + o), c0);
        c1 = madd(x, v128.load(pb1 + o), c1);
        c2 = madd(x, v128.load(pb2 + o), c2);
        c3 = madd(x, v128.load(pb3 + o), c3);
      }
      let r = hsum4(c0, c1, c2, c3);
      if (K4 < K) {
        r = f32x4.add(r, f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(tailDot(pa, pb0, K4, K)),
          1, tailDot(pa, pb1, K4, K)), 2, tailDot(pa, pb2, K4, K)), 3, tailDot(pa, pb3, K4, K)));
      }
      store4(c + <usize>i * ldc + (<usize>j << 2), r, va, beta);
    }
  }
  for (; j < N; j++) {
    const pb = b + <usize>j * ldb;
    for (let i = 0; i < M; i++) {
      const pa = a + <usize>i * lda;
      let acc = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) acc = madd(v128.load(pa + (<usize>k << 2)), v128.load(pb + (<usize>k << 2)), acc);
      const sum = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
      store1(c + <usize>i * ldc + (<usize>j << 2), sum + tailDot(pa, pb, K4, K), alpha, beta);
    }
  }
}

/** The cells' per-step product C = op(A)·op(B) with A not transposed: the unpacked loops above when the whole
 *  product (all streams, `packs` false) has fewer than MR rows, else the packed path as gemmStridedPath. */
export function gemmRecurrent(
  packs: bool, transB: bool, M: i32, N: i32, K: i32, a: usize, lda: usize, b: usize, ldb: usize, beta: f32, c: usize,
  ldc: usize,
): void {
  if (M <= 0 || N <= 0 || K <= 0 || packs) {
    gemmStridedPath(packs, false, transB, M, N, K, 1, a, lda, b, ldb, beta, c, ldc);
  } else if (transB) {
    smallDots(M, N, K, 1, a, lda, b, ldb, beta, c, ldc);
  } else {
    smallRowsOfB(M, N, K, 1, a, lda, 4, b, ldb, beta, c, ldc);
  }
}

/** C = beta·C over M×N (the K = 0 case). */
function scaleC(M: i32, N: i32, beta: f32, c: usize, ldc: usize): void {
  for (let i = 0; i < M; i++) {
    const row = c + <usize>i * ldc;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const o = row + (<usize>j << 2);
      v128.store(o, beta == 0 ? f32x4.splat(0) : f32x4.mul(v128.load(o), f32x4.splat(beta)));
    }
    for (; j < N; j++) {
      const o = row + (<usize>j << 2);
      store<f32>(o, beta == 0 ? 0 : beta * load<f32>(o));
    }
  }
}

/**
 * C[M,N] = alpha·op(A)·op(B) + beta·C with op(B) already packed by gemmPackB (bp, for these K and N).
 * Packs op(A) block by block into the scratch.
 */
export function gemmPackedB(
  transA: bool, M: i32, N: i32, K: i32, alpha: f32, a: usize, lda: usize, bp: usize, beta: f32, c: usize, ldc: usize,
): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    scaleC(M, N, beta, c, ldc);
    return;
  }
  const Npad = roundUp(N, NR);
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const b = bp + (<usize>k0 * <usize>Npad << 2);
    const be = k0 == 0 ? beta : 1;
    for (let i0 = 0; i0 < M; i0 += MC) {
      const mc = min(MC, M - i0);
      packAPanels(transA, a, lda, i0, mc, k0, kc, packA);
      macroKernel(mc, N, kc, alpha, packA, b, be, c + <usize>i0 * ldc, ldc);
    }
  }
}

/** Packs all of op(B) [K,N] for gemmPackedB into dst (packedBFloats(K, N) floats, 16-byte aligned): K blocks
 *  of KC in order, each [ceil(N/NR)][kc][NR]. */
export function gemmPackB(transB: bool, K: i32, N: i32, b: usize, ldb: usize, dst: usize): void {
  const Npad = roundUp(N, NR);
  for (let k0 = 0; k0 < K; k0 += KC) {
    packBPanels(transB, b, ldb, k0, min(KC, K - k0), 0, N, dst + (<usize>k0 * <usize>Npad << 2));
  }
}

/** The GEMM with explicit byte row strides, for use inside other kernels. */
export function gemmStrided(
  transA: bool, transB: bool, M: i32, N: i32, K: i32, alpha: f32,
  a: usize, lda: usize, b: usize, ldb: usize, beta: f32, c: usize, ldc: usize,
): void {
  gemmStridedPath(gemmPacks(M), transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
}

/** gemmStrided with the path chosen by the caller: `packs` as gemmPacks() says for the whole product, so that
 *  a part of it (fewer rows) computes every element exactly as the whole product would. */
export function gemmStridedPath(
  packs: bool, transA: bool, transB: bool, M: i32, N: i32, K: i32, alpha: f32,
  a: usize, lda: usize, b: usize, ldb: usize, beta: f32, c: usize, ldc: usize,
): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    scaleC(M, N, beta, c, ldc);
    return;
  }
  if (!packs) {
    smallRows(transB, M, N, K, alpha, a, transA ? 4 : lda, transA ? lda : 4, b, ldb, beta, c, ldc);
    return;
  }
  for (let j0 = 0; j0 < N; j0 += NC) {
    const nc = min(NC, N - j0);
    const cj = c + (<usize>j0 << 2);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = min(KC, K - k0);
      packBPanels(transB, b, ldb, k0, kc, j0, nc, packB);
      const be = k0 == 0 ? beta : 1;
      for (let i0 = 0; i0 < M; i0 += MC) {
        const mc = min(MC, M - i0);
        packAPanels(transA, a, lda, i0, mc, k0, kc, packA);
        macroKernel(mc, nc, kc, alpha, packA, packB, be, cj + <usize>i0 * ldc, ldc);
      }
    }
  }
}

/** Backend.gemm on contiguous matrices: A [M,K] or [K,M] (transA), B [K,N] or [N,K] (transB), C [M,N]. */
export function gemm(transA: bool, transB: bool, M: i32, N: i32, K: i32, alpha: f32, a: usize, b: usize, beta: f32, c: usize): void {
  const lda = <usize>(transA ? M : K) << 2;
  const ldb = <usize>(transB ? K : N) << 2;
  gemmStrided(transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, <usize>N << 2);
}

// ---- the split over threads ----------------------------------------------------------------------------
// A product is cut into fixed chunks of SPLIT rows (or columns) of C; part p of P takes chunks
// [p·n/P, (p+1)·n/P). Chunk edges are multiples of MR, NR and of the small paths' 16 columns, and the path is
// chosen for the whole product, so every element of C is computed by the same operations in the same order
// whatever P is: results are bit-identical for any number of threads.

const SPLIT: i32 = 16;
/** Below this many multiply-adds a product runs as one part (a second thread would cost more than it saves). */
const MIN_SPLIT_WORK: f64 = <f64>(1 << 18);

/** Whether a product is cut by rows (else by columns): by rows when it has more row tiles than column panels. */
@inline function splitsRows(M: i32, N: i32): bool {
  return gemmPacks(M) && (M + MR - 1) / MR >= (N + NR - 1) / NR;
}

/** How many parts a product can be cut into (1: not worth splitting). */
export function gemmParts(M: i32, N: i32, K: i32): i32 {
  if (<f64>M * <f64>N * <f64>K < MIN_SPLIT_WORK) return 1;
  return ((splitsRows(M, N) ? M : N) + SPLIT - 1) / SPLIT;
}

/** First element (row or column) of part p of P over `count` elements in chunks of SPLIT. */
@inline export function partStart(p: i32, parts: i32, count: i32, chunk: i32): i32 {
  const chunks = (count + chunk - 1) / chunk;
  return min(count, <i32>(<i64>chunks * p / parts) * chunk);
}

/** Part p of P of Backend.gemm (see gemm): its rows or columns of C, computed as the whole product would. */
export function gemmPart(
  part: i32, parts: i32, transA: bool, transB: bool, M: i32, N: i32, K: i32, alpha: f32, a: usize, b: usize, beta: f32, c: usize,
): void {
  const lda = <usize>(transA ? M : K) << 2;
  const ldb = <usize>(transB ? K : N) << 2;
  const ldc = <usize>N << 2;
  const packs = gemmPacks(M);
  if (splitsRows(M, N)) {
    const i0 = partStart(part, parts, M, SPLIT), i1 = partStart(part + 1, parts, M, SPLIT);
    const ai = transA ? a + (<usize>i0 << 2) : a + <usize>i0 * lda;
    gemmStridedPath(packs, transA, transB, i1 - i0, N, K, alpha, ai, lda, b, ldb, beta, c + <usize>i0 * ldc, ldc);
  } else {
    const j0 = partStart(part, parts, N, SPLIT), j1 = partStart(part + 1, parts, N, SPLIT);
    const bj = transB ? b + <usize>j0 * ldb : b + (<usize>j0 << 2);
    gemmStridedPath(packs, transA, transB, M, j1 - j0, K, alpha, a, lda, bj, ldb, beta, c + (<usize>j0 << 2), ldc);
  }
}
