// GEMM: C[M,N] = alpha·op(A)·op(B) + beta·C, row-major (see Backend.gemm in src/backend/types.ts).
// All pointers are byte addresses into linear memory; all strides (lda, ldb, ldc, sA*, sB*) are in bytes,
// so the cell kernels can multiply into rows with a wider stride than N (e.g. the LSTM/GRU cache).
// Transposes are handled by loop order (the only copy is the packing of 8-column panels of a plain B into the
// host-provided scratch, for cache reasons):
//   op(B) not transposed       → f32x4 over the columns j of a B row, a(i,k) broadcast (gemmRowsOfB);
//   op(A) plain, op(B) transposed → f32x4 dot products over K with a horizontal sum (gemmDots);
//   both transposed            → f32x4 over the rows i (A[k, i..i+3] contiguous), then a 4×4 transpose.
// beta = 0 never reads C, so NaNs already in C do not leak.
import { hsum, hsum4, madd } from './math';

/** K is processed in blocks of KC so the B panel a register tile walks stays in L1 (C then accumulates
 *  with beta 1 after the first block). */
const KC: i32 = 256;
export const PANEL_BYTES: usize = <usize>KC * 8 * 4;

/** Scratch for one packed K-block × 8 panel of B (KC·8 floats), set by the host (0 = do not pack).
 *  A per-instance global, so instances sharing one memory can each have their own. */
let panel: usize = 0;

/** Bytes of scratch the host should hand to setGemmScratch. */
export function gemmScratchBytes(): usize {
  return PANEL_BYTES;
}

/** Registers the host-allocated scratch (at least PANEL_BYTES bytes, 16-byte aligned). */
export function setGemmScratch(ptr: usize, bytes: usize): bool {
  if (bytes < PANEL_BYTES || (ptr & 15) != 0) return false;
  panel = ptr;
  return true;
}


@inline function store1(c: usize, acc: f32, alpha: f32, beta: f32): void {
  let v = alpha * acc;
  if (beta != 0) v += beta * load<f32>(c);
  store<f32>(c, v);
}

@inline function store4(c: usize, acc: v128, alpha: f32, beta: f32): void {
  let v = f32x4.mul(acc, f32x4.splat(alpha));
  if (beta != 0) v = madd(f32x4.splat(beta), v128.load(c), v);
  v128.store(c, v);
}

@inline function vec4(a: f32, b: f32, c: f32, d: f32): v128 {
  return f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(a), 1, b), 2, c), 3, d);
}

/** Scalar dot product of K elements with byte strides; the leftovers of every layout. */
function scalarTile(
  i0: i32, i1: i32, j0: i32, j1: i32, K: i32, alpha: f32,
  a: usize, sAi: usize, sAk: usize, b: usize, sBk: usize, sBj: usize, beta: f32, c: usize, ldc: usize,
): void {
  for (let i = i0; i < i1; i++) {
    for (let j = j0; j < j1; j++) {
      let pa = a + <usize>i * sAi;
      let pb = b + <usize>j * sBj;
      let sum: f32 = 0;
      for (let k = 0; k < K; k++) {
        sum += load<f32>(pa) * load<f32>(pb);
        pa += sAk;
        pb += sBk;
      }
      store1(c + <usize>i * ldc + (<usize>j << 2), sum, alpha, beta);
    }
  }
}

/** op(B) rows are contiguous (B [K,N], row stride ldb): a(i,k) = A[i·sAi + k·sAk]. 4×8 register tiles. */
function gemmRowsOfB(
  M: i32, N: i32, K: i32, alpha: f32, a: usize, sAi: usize, sAk: usize, b: usize, ldb: usize,
  beta: f32, c: usize, ldc: usize,
): void {
  const sAi2 = sAi << 1;
  const sAi3 = sAi2 + sAi;
  let j = 0;
  for (; j + 8 <= N; j += 8) {
    let bj = b + (<usize>j << 2);
    let sB = ldb;
    if (M > 4 && panel != 0) {
      // Copy the K×8 panel to contiguous memory: rows of B a power-of-two apart would all map to the
      // same L1 set, and the panel is read once per 4 rows of C.
      let src = bj;
      let dst = panel;
      for (let k = 0; k < K; k++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += ldb;
        dst += 32;
      }
      bj = panel;
      sB = 32;
    }
    let i = 0;
    for (; i + 4 <= M; i += 4) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let pa = a + <usize>i * sAi;
      let pb = bj;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        let x = v128.load32_splat(pa);
        c00 = madd(x, b0, c00);
        c01 = madd(x, b1, c01);
        x = v128.load32_splat(pa + sAi);
        c10 = madd(x, b0, c10);
        c11 = madd(x, b1, c11);
        x = v128.load32_splat(pa + sAi2);
        c20 = madd(x, b0, c20);
        c21 = madd(x, b1, c21);
        x = v128.load32_splat(pa + sAi3);
        c30 = madd(x, b0, c30);
        c31 = madd(x, b1, c31);
        pa += sAk;
        pb += sB;
      }
      let pc = c + <usize>i * ldc + (<usize>j << 2);
      store4(pc, c00, alpha, beta);
      store4(pc + 16, c01, alpha, beta);
      pc += ldc;
      store4(pc, c10, alpha, beta);
      store4(pc + 16, c11, alpha, beta);
      pc += ldc;
      store4(pc, c20, alpha, beta);
      store4(pc + 16, c21, alpha, beta);
      pc += ldc;
      store4(pc, c30, alpha, beta);
      store4(pc + 16, c31, alpha, beta);
    }
    for (; i < M; i++) {
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
      let pa = a + <usize>i * sAi;
      let pb = bj;
      for (let k = 0; k < K; k++) {
        const x = v128.load32_splat(pa);
        c0 = madd(x, v128.load(pb), c0);
        c1 = madd(x, v128.load(pb, 16), c1);
        pa += sAk;
        pb += sB;
      }
      const pc = c + <usize>i * ldc + (<usize>j << 2);
      store4(pc, c0, alpha, beta);
      store4(pc + 16, c1, alpha, beta);
    }
  }
  if (j + 4 <= N) {
    const bj = b + (<usize>j << 2);
    for (let i = 0; i < M; i++) {
      let c0 = f32x4.splat(0);
      let pa = a + <usize>i * sAi;
      let pb = bj;
      for (let k = 0; k < K; k++) {
        c0 = madd(v128.load32_splat(pa), v128.load(pb), c0);
        pa += sAk;
        pb += ldb;
      }
      store4(c + <usize>i * ldc + (<usize>j << 2), c0, alpha, beta);
    }
    j += 4;
  }
  if (j < N) scalarTile(0, M, j, N, K, alpha, a, sAi, sAk, b, ldb, 4, beta, c, ldc);
}

/** Σ_k x[k]·y[k] for contiguous x, y: f32x4 over K, scalar tail. */
@inline function dot(x: usize, y: usize, K: i32): f32 {
  const K4 = K & ~3;
  let acc = f32x4.splat(0);
  for (let k = 0; k < K4; k += 4) {
    const o = <usize>k << 2;
    acc = madd(v128.load(x + o), v128.load(y + o), acc);
  }
  let s = hsum(acc);
  for (let k = K4; k < K; k++) s += load<f32>(x + (<usize>k << 2)) * load<f32>(y + (<usize>k << 2));
  return s;
}

/** Scalar Σ over k in [k0, K) for contiguous x, y (the K tail of the dot tiles). */
@inline function tailDot(x: usize, y: usize, k0: i32, K: i32): f32 {
  let s: f32 = 0;
  for (let k = k0; k < K; k++) s += load<f32>(x + (<usize>k << 2)) * load<f32>(y + (<usize>k << 2));
  return s;
}

/** op(A) = A [M,K] (row stride lda), op(B) = Bᵀ with B [N,K] (row stride ldb): dot products over K.
 *  2×4 tiles of f32x4 accumulators, reduced with hsum4 into one vector per C row. */
function gemmDots(
  M: i32, N: i32, K: i32, alpha: f32, a: usize, lda: usize, b: usize, ldb: usize, beta: f32, c: usize, ldc: usize,
): void {
  const K4 = K & ~3;
  // Columns outer, rows inner: each group of 4 B rows is read from memory once and stays in L1 while every
  // row of A (a K-block of it: KC floats each) passes by; A is the small side in the recurrent loop.
  let j = 0;
  for (; j + 4 <= N; j += 4) {
    const pb0 = b + <usize>j * ldb;
    const pb1 = pb0 + ldb;
    const pb2 = pb1 + ldb;
    const pb3 = pb2 + ldb;
    let i = 0;
    for (; i + 2 <= M; i += 2) {
      const pa0 = a + <usize>i * lda;
      const pa1 = pa0 + lda;
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
      let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const o = <usize>k << 2;
        const x0 = v128.load(pa0 + o);
        const x1 = v128.load(pa1 + o);
        let y = v128.load(pb0 + o);
        c00 = madd(x0, y, c00);
        c10 = madd(x1, y, c10);
        y = v128.load(pb1 + o);
        c01 = madd(x0, y, c01);
        c11 = madd(x1, y, c11);
        y = v128.load(pb2 + o);
        c02 = madd(x0, y, c02);
        c12 = madd(x1, y, c12);
        y = v128.load(pb3 + o);
        c03 = madd(x0, y, c03);
        c13 = madd(x1, y, c13);
      }
      let r0 = hsum4(c00, c01, c02, c03);
      let r1 = hsum4(c10, c11, c12, c13);
      if (K4 < K) {
        r0 = f32x4.add(r0, vec4(tailDot(pa0, pb0, K4, K), tailDot(pa0, pb1, K4, K), tailDot(pa0, pb2, K4, K), tailDot(pa0, pb3, K4, K)));
        r1 = f32x4.add(r1, vec4(tailDot(pa1, pb0, K4, K), tailDot(pa1, pb1, K4, K), tailDot(pa1, pb2, K4, K), tailDot(pa1, pb3, K4, K)));
      }
      const pc = c + <usize>i * ldc + (<usize>j << 2);
      store4(pc, r0, alpha, beta);
      store4(pc + ldc, r1, alpha, beta);
    }
    if (i < M) {
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
      if (K4 < K) r = f32x4.add(r, vec4(tailDot(pa, pb0, K4, K), tailDot(pa, pb1, K4, K), tailDot(pa, pb2, K4, K), tailDot(pa, pb3, K4, K)));
      store4(c + <usize>i * ldc + (<usize>j << 2), r, alpha, beta);
    }
  }
  for (; j < N; j++) {
    const pb = b + <usize>j * ldb;
    for (let i = 0; i < M; i++) store1(c + <usize>i * ldc + (<usize>j << 2), dot(a + <usize>i * lda, pb, K), alpha, beta);
  }
}

/** op(A) = Aᵀ with A [K,M] (row stride lda), op(B) = Bᵀ with B [N,K] (row stride ldb): f32x4 over i,
 *  4×4 tiles transposed in registers before the store. Rare in training; kept simple. */
function gemmBothTransposed(
  M: i32, N: i32, K: i32, alpha: f32, a: usize, lda: usize, b: usize, ldb: usize, beta: f32, c: usize, ldc: usize,
): void {
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let pa = a + (<usize>i << 2);
      let pb = b + <usize>j * ldb;
      for (let k = 0; k < K; k++) {
        const x = v128.load(pa);
        a0 = madd(x, v128.load32_splat(pb), a0);
        a1 = madd(x, v128.load32_splat(pb + ldb), a1);
        a2 = madd(x, v128.load32_splat(pb + 2 * ldb), a2);
        a3 = madd(x, v128.load32_splat(pb + 3 * ldb), a3);
        pa += lda;
        pb += 4;
      }
      // a0..a3 are the columns j..j+3 of C over rows i..i+3: transpose to rows.
      const t0 = v128.shuffle<f32>(a0, a1, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(a0, a1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(a2, a3, 0, 4, 1, 5);
      const t3 = v128.shuffle<f32>(a2, a3, 2, 6, 3, 7);
      let pc = c + <usize>i * ldc + (<usize>j << 2);
      store4(pc, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), alpha, beta);
      pc += ldc;
      store4(pc, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), alpha, beta);
      pc += ldc;
      store4(pc, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), alpha, beta);
      pc += ldc;
      store4(pc, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), alpha, beta);
    }
    if (j < N) scalarTile(i, i + 4, j, N, K, alpha, a, 4, lda, b, 4, ldb, beta, c, ldc);
  }
  if (i < M) scalarTile(i, M, 0, N, K, alpha, a, 4, lda, b, 4, ldb, beta, c, ldc);
}

/** The GEMM with explicit byte row strides, for use inside other kernels. */
export function gemmStrided(
  transA: bool, transB: bool, M: i32, N: i32, K: i32, alpha: f32,
  a: usize, lda: usize, b: usize, ldb: usize, beta: f32, c: usize, ldc: usize,
): void {
  // Byte step of one k in A and in B.
  const stepA: usize = transA ? lda : 4;
  const stepB: usize = transB ? 4 : ldb;
  let k0 = 0;
  do {
    const kc = min(KC, K - k0);
    gemmBlock(transA, transB, M, N, kc, alpha, a + <usize>k0 * stepA, lda, b + <usize>k0 * stepB, ldb, k0 == 0 ? beta : 1, c, ldc);
    k0 += kc;
  } while (k0 < K);
}

function gemmBlock(
  transA: bool, transB: bool, M: i32, N: i32, K: i32, alpha: f32,
  a: usize, lda: usize, b: usize, ldb: usize, beta: f32, c: usize, ldc: usize,
): void {
  if (!transB) {
    if (transA) gemmRowsOfB(M, N, K, alpha, a, 4, lda, b, ldb, beta, c, ldc);
    else gemmRowsOfB(M, N, K, alpha, a, lda, 4, b, ldb, beta, c, ldc);
  } else if (!transA) {
    gemmDots(M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    gemmBothTransposed(M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

/** Backend.gemm on contiguous matrices: A [M,K] or [K,M] (transA), B [K,N] or [N,K] (transB), C [M,N]. */
export function gemm(transA: bool, transB: bool, M: i32, N: i32, K: i32, alpha: f32, a: usize, b: usize, beta: f32, c: usize): void {
  const lda = <usize>(transA ? M : K) << 2;
  const ldb = <usize>(transB ? K : N) << 2;
  gemmStrided(transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, <usize>N << 2);
}
