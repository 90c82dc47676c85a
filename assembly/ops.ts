// Elementwise, reduction, indexing and loss kernels (see src/backend/types.ts for the semantics).
// Sizes: M, N rows × columns; n ids; D embedding width; R rows of W; V vocabulary. Pointers are byte addresses.
import { opsScratch } from './gemm';
import { ld, st, vexp } from './math';

/** C[M,N] += bias[N] broadcast over rows. */
export function addBias(M: i32, N: i32, bias: usize, c: usize): void {
  const N4 = N & ~3;
  for (let i = 0; i < M; i++) {
    const row = c + <usize>i * (<usize>N << 2);
    for (let j = 0; j < N4; j += 4) {
      const o = <usize>j << 2;
      v128.store(row + o, f32x4.add(v128.load(row + o), v128.load(bias + o)));
    }
    for (let j = N4; j < N; j++) {
      const o = <usize>j << 2;
      store<f32>(row + o, load<f32>(row + o) + load<f32>(bias + o));
    }
  }
}

/** out[N] += Σ_i A[i,:] for A [M,N]. Rows are streamed in order (four at a time, summed pairwise, then added
 *  to out, which stays in L1), so memory is read sequentially whatever N is. */
export function sumRows(M: i32, N: i32, a: usize, out: usize): void {
  sumRowsStrided(M, N, a, <usize>N << 2, out);
}

/** sumRows over rows `rowBytes` apart (a block of columns of a wider matrix). */
export function sumRowsStrided(M: i32, N: i32, a: usize, rowBytes: usize, out: usize): void {
  const N4 = N & ~3;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const r0 = a + <usize>i * rowBytes, r1 = r0 + rowBytes, r2 = r1 + rowBytes, r3 = r2 + rowBytes;
    for (let j = 0; j < N4; j += 4) {
      const o = <usize>j << 2;
      const s = f32x4.add(f32x4.add(v128.load(r0 + o), v128.load(r1 + o)), f32x4.add(v128.load(r2 + o), v128.load(r3 + o)));
      v128.store(out + o, f32x4.add(v128.load(out + o), s));
    }
    for (let j = N4; j < N; j++) {
      const o = <usize>j << 2;
      store<f32>(out + o, load<f32>(out + o) + ((load<f32>(r0 + o) + load<f32>(r1 + o)) + (load<f32>(r2 + o) + load<f32>(r3 + o))));
    }
  }
  for (; i < M; i++) addInto(out, a + <usize>i * rowBytes, N);
}

/** dst[0..len) += src[0..len), f32x4 with a scalar tail. */
@inline function addInto(dst: usize, src: usize, len: i32): void {
  const len4 = len & ~3;
  for (let d = 0; d < len4; d += 4) {
    const o = <usize>d << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (let d = len4; d < len; d++) {
    const o = <usize>d << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

/** out[i,:] = table[ids[i], :] for table [·,D], out [n,D]. */
export function gatherRows(n: i32, D: i32, ids: usize, table: usize, out: usize): void {
  const row = <usize>D << 2;
  for (let i = 0; i < n; i++) {
    const id = <usize>load<i32>(ids + (<usize>i << 2));
    memory.copy(out + <usize>i * row, table + id * row, row);
  }
}

/** dTable[ids[i], :] += dOut[i, :]. Repeated ids accumulate (sequentially, in id order of appearance). */
export function scatterAddRows(n: i32, D: i32, ids: usize, dOut: usize, dTable: usize): void {
  const row = <usize>D << 2;
  for (let i = 0; i < n; i++) {
    const id = <usize>load<i32>(ids + (<usize>i << 2));
    addInto(dTable + id * row, dOut + <usize>i * row, D);
  }
}

/** dst [C,R] = src [R,C]ᵀ (row strides in floats: C for src, R for dst), 4×4 blocks in registers. When
 *  `add`, dst += srcᵀ instead. */
function transpose(R: i32, C: i32, src: usize, dst: usize, add: bool): void {
  const sRow = <usize>C << 2;
  const dRow = <usize>R << 2;
  let r = 0;
  for (; r + 4 <= R; r += 4) {
    const s0 = src + <usize>r * sRow, s1 = s0 + sRow, s2 = s1 + sRow, s3 = s2 + sRow;
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const r0 = v128.load(s0 + o), r1 = v128.load(s1 + o), r2 = v128.load(s2 + o), r3 = v128.load(s3 + o);
      const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
      const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
      const d = dst + <usize>c * dRow + (<usize>r << 2);
      storeOrAdd(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), add);
      storeOrAdd(d + dRow, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), add);
      storeOrAdd(d + 2 * dRow, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), add);
      storeOrAdd(d + 3 * dRow, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), add);
    }
    for (; c < C; c++) {
      const d = dst + <usize>c * dRow + (<usize>r << 2);
      const o = <usize>c << 2;
      storeOrAdd(d, f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(load<f32>(s0 + o)), 1, load<f32>(s1 + o)), 2, load<f32>(s2 + o)), 3, load<f32>(s3 + o)), add);
    }
  }
  for (; r < R; r++) {
    const s0 = src + <usize>r * sRow;
    for (let c = 0; c < C; c++) {
      const d = dst + <usize>c * dRow + (<usize>r << 2);
      const v = load<f32>(s0 + (<usize>c << 2));
      store<f32>(d, add ? load<f32>(d) + v : v);
    }
  }
}

@inline function storeOrAdd(p: usize, v: v128, add: bool): void {
  v128.store(p, add ? f32x4.add(v128.load(p), v) : v);
}

/** Whether the one-hot kernels go through a transposed copy of W in the GEMM's scratch: when it fits and
 *  n ≥ cols, so the transposition (R·cols floats) costs no more than the n·R strided accesses it replaces. */
@inline function viaTranspose(n: i32, R: i32, cols: i32): usize {
  return n >= cols ? opsScratch(<usize>R * <usize>cols << 2) : 0;
}

/** out[i,r] = W[r, ids[i]] for W [R,cols], out [n,R]: row copies from Wᵀ when it pays (see viaTranspose),
 *  else four rows of W per f32x4 (a gather: wasm has no gather instruction, so lane loads). */
export function gatherColumns(n: i32, R: i32, cols: i32, ids: usize, w: usize, out: usize): void {
  const wRow = <usize>cols << 2;
  const outRow = <usize>R << 2;
  const t = viaTranspose(n, R, cols);
  if (t != 0) {
    transpose(R, cols, w, t, false);
    for (let i = 0; i < n; i++) {
      memory.copy(out + <usize>i * outRow, t + <usize>load<i32>(ids + (<usize>i << 2)) * outRow, outRow);
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    let p = w + (<usize>load<i32>(ids + (<usize>i << 2)) << 2);
    const o = out + <usize>i * outRow;
    let r = 0;
    for (; r + 4 <= R; r += 4) {
      let v = v128.load32_zero(p);
      v = v128.load32_lane(p + wRow, v, 1);
      v = v128.load32_lane(p + 2 * wRow, v, 2);
      v = v128.load32_lane(p + 3 * wRow, v, 3);
      v128.store(o + (<usize>r << 2), v);
      p += 4 * wRow;
    }
    for (; r < R; r++) {
      store<f32>(o + (<usize>r << 2), load<f32>(p));
      p += wRow;
    }
  }
}

/** dW[r, ids[i]] += dOut[i, r] for dW [R,cols], dOut [n,R]: when it pays, the rows of dOut are summed per
 *  id into a zeroed [cols,R] scratch (f32x4) and its transpose is added to dW once; else strided adds. */
export function scatterAddColumns(n: i32, R: i32, cols: i32, ids: usize, dOut: usize, dW: usize): void {
  const wRow = <usize>cols << 2;
  const gRow = <usize>R << 2;
  const t = viaTranspose(n, R, cols);
  if (t != 0) {
    memory.fill(t, 0, <usize>cols * gRow);
    for (let i = 0; i < n; i++) addInto(t + <usize>load<i32>(ids + (<usize>i << 2)) * gRow, dOut + <usize>i * gRow, R);
    transpose(cols, R, t, dW, true);
    return;
  }
  for (let i = 0; i < n; i++) {
    let p = dW + (<usize>load<i32>(ids + (<usize>i << 2)) << 2);
    const g = dOut + <usize>i * gRow;
    for (let r = 0; r < R; r++) {
      store<f32>(p, load<f32>(p) + load<f32>(g + (<usize>r << 2)));
      p += wRow;
    }
  }
}

/**
 * Σ_i −log softmax(logits[i])[targets[i]] over N rows of V (f64 sum); target −1 rows are skipped.
 * When dLogits != 0 it receives scale·(softmax − onehot) (zero rows for skipped targets).
 */
/** labelSmoothing ε in [0, 1] (validated by the host): the target distribution (1 − ε)·onehot + ε/V. */
export function softmaxCrossEntropy(N: i32, V: i32, logits: usize, targets: usize, scale: f32, dLogits: usize, smoothing: f32): f64 {
  const rowBytes = <usize>V << 2;
  const V4 = V & ~3;
  let loss: f64 = 0;
  for (let i = 0; i < N; i++) {
    const x = logits + <usize>i * rowBytes;
    const d = dLogits != 0 ? dLogits + <usize>i * rowBytes : 0;
    const target = load<i32>(targets + (<usize>i << 2));
    if (target < 0) {
      if (d != 0) memory.fill(d, 0, rowBytes);
      continue;
    }
    let mv = f32x4.splat(-Infinity);
    for (let v = 0; v < V4; v += 4) mv = f32x4.max(mv, v128.load(x + (<usize>v << 2)));
    let max = Mathf.max(Mathf.max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), Mathf.max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    for (let v = V4; v < V; v++) max = Mathf.max(max, load<f32>(x + (<usize>v << 2)));
    // Σ e^(x − max): f32x4 exp, summed in f64 (two f64x2 accumulators); e stored in dLogits when wanted.
    const vmax = f32x4.splat(max);
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    let v = 0;
    for (; v + 4 <= V; v += 4) {
      const e = vexp(f32x4.sub(ld(x, v, true), vmax));
      if (d != 0) st(d, v, e, true);
      s0 = f64x2.add(s0, f64x2.promote_low_f32x4(e));
      s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 2, 3)));
    }
    const s01 = f64x2.add(s0, s1);
    let sum = f64x2.extract_lane(s01, 0) + f64x2.extract_lane(s01, 1);
    for (; v < V; v++) {
      const e = vexp(f32x4.sub(ld(x, v, false), vmax));
      if (d != 0) st(d, v, e, false);
      sum += <f64>f32x4.extract_lane(e, 0);
    }
    if (smoothing > 0) {
      // (1 − ε)·(lse − x_target) + (ε/V)·Σ_v (lse − x_v)
      let total: f64 = 0;
      for (let v = 0; v < V; v++) total += <f64>load<f32>(x + (<usize>v << 2));
      loss += Math.log(sum) + <f64>max - (1 - <f64>smoothing) * <f64>load<f32>(x + (<usize>target << 2)) - <f64>smoothing * total / <f64>V;
    } else {
      loss += Math.log(sum) + <f64>max - <f64>load<f32>(x + (<usize>target << 2));
    }
    if (d != 0) {
      const factor = <f32>(<f64>scale / sum);
      const vf = f32x4.splat(factor);
      for (let v = 0; v < V4; v += 4) {
        const o = d + (<usize>v << 2);
        v128.store(o, f32x4.mul(v128.load(o), vf));
      }
      for (let v = V4; v < V; v++) {
        const o = d + (<usize>v << 2);
        store<f32>(o, load<f32>(o) * factor);
      }
      if (smoothing > 0) {
        const spread = <f32>(<f64>scale * <f64>smoothing / <f64>V);
        for (let v = 0; v < V; v++) {
          const o = d + (<usize>v << 2);
          store<f32>(o, load<f32>(o) - spread);
        }
      }
      const o = d + (<usize>target << 2);
      store<f32>(o, load<f32>(o) - (smoothing > 0 ? <f32>(<f64>scale * (1 - <f64>smoothing)) : scale));
    }
  }
  return loss;
}

/** x = min(limit, max(−limit, x)) over n floats (NaN stays NaN). */
export function clipValue(n: i32, x: usize, limit: f32): void {
  const n4 = n & ~3;
  const hi = f32x4.splat(limit);
  const lo = f32x4.splat(-limit);
  for (let i = 0; i < n4; i += 4) {
    const o = x + (<usize>i << 2);
    v128.store(o, f32x4.min(hi, f32x4.max(lo, v128.load(o))));
  }
  for (let i = n4; i < n; i++) {
    const o = x + (<usize>i << 2);
    store<f32>(o, Mathf.min(limit, Mathf.max(-limit, load<f32>(o))));
  }
}

/** Σ x² over n floats, squared and accumulated in f64 (each f32 square is exact in f64). */
export function sumSquares(n: i32, x: usize): f64 {
  const n4 = n & ~3;
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  for (let i = 0; i < n4; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const a = f64x2.promote_low_f32x4(v);
    const b = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
    lo = f64x2.add(lo, f64x2.mul(a, a));
    hi = f64x2.add(hi, f64x2.mul(b, b));
  }
  const s = f64x2.add(lo, hi);
  let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (let i = n4; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    sum += v * v;
  }
  return sum;
}

/** x *= s over n floats. */
export function scale(n: i32, x: usize, s: f32): void {
  const n4 = n & ~3;
  const vs = f32x4.splat(s);
  for (let i = 0; i < n4; i += 4) {
    const o = x + (<usize>i << 2);
    v128.store(o, f32x4.mul(v128.load(o), vs));
  }
  for (let i = n4; i < n; i++) {
    const o = x + (<usize>i << 2);
    store<f32>(o, load<f32>(o) * s);
  }
}


/** murmur3's 32-bit finaliser. Must match fmix32 in src/backend/types.ts and native/ops.cc. */
// @ts-ignore: decorator
@inline
function fmix32(h: u32): u32 {
  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  return h ^ (h >> 16);
}

/** fmix32 on four lanes. */
@inline function vfmix32(h: v128): v128 {
  h = v128.xor(h, i32x4.shr_u(h, 16));
  h = i32x4.mul(h, i32x4.splat(0x85ebca6b));
  h = v128.xor(h, i32x4.shr_u(h, 13));
  h = i32x4.mul(h, i32x4.splat(0xc2b2ae35));
  return v128.xor(h, i32x4.shr_u(h, 16));
}

/** Inverted dropout over n floats: mask[i] = bits(seed, i) >= threshold ? keep : 0, out = x ⊙ mask.
 *  The mask bits are a counter-based hash, the same on every backend (src/backend/types.ts dropoutBits);
 *  four counters per i32x4, scalar tail. */
export function dropout(n: i32, x: usize, threshold: u32, keep: f32, seed: u32, mask: usize, out: usize): void {
  const mixed = fmix32(seed ^ 0x9e3779b9);
  const vMixed = i32x4.splat(mixed);
  const vThreshold = i32x4.splat(threshold);
  const vKeep = f32x4.splat(keep);
  let counter = i32x4(0, 1, 2, 3);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const m = v128.and(i32x4.ge_u(vfmix32(v128.xor(vfmix32(counter), vMixed)), vThreshold), vKeep);
    v128.store(mask + o, m);
    v128.store(out + o, f32x4.mul(v128.load(x + o), m));
    counter = i32x4.add(counter, i32x4.splat(4));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    const m: f32 = fmix32(fmix32(<u32>i) ^ mixed) >= threshold ? keep : 0;
    store<f32>(mask + o, m);
    store<f32>(out + o, load<f32>(x + o) * m);
  }
}

/** out = a ⊙ b over n floats. */
export function multiply(n: i32, a: usize, b: usize, out: usize): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o));
  }
}
