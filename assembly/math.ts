// Small @inline helpers shared by the kernels: horizontal sums, lane loads/stores, and f32x4 exp, tanh and
// sigmoid (Cephes-style polynomials; their accuracy is checked lane by lane in test/wasm-kernels.test.ts
// through the `activations` export).

/** acc + a·b, lane-wise. The plain-SIMD build multiplies then adds; the relaxed-SIMD build
 *  (asconfig target "relaxed") uses f32x4.relaxed_madd, which the host may fuse (one rounding) or not. */
@inline export function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** Sum of the four lanes of an f32x4 vector. */
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** [hsum(a), hsum(b), hsum(c), hsum(d)] with shuffles only. */
@inline export function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7)); // a0+a2 b0+b2 a1+a3 b1+b3
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

/** Loads 4 floats at element i of p (wide), or element i into every lane (the scalar tail of a loop).
 *  `wide` is a compile-time constant at every call site, so the branch folds away. */
@inline export function ld(p: usize, i: i32, wide: bool): v128 {
  const a = p + (<usize>i << 2);
  return wide ? v128.load(a) : v128.load32_splat(a);
}

/** Stores 4 floats at element i of p (wide), or lane 0 only. */
@inline export function st(p: usize, i: i32, v: v128, wide: bool): void {
  const a = p + (<usize>i << 2);
  if (wide) v128.store(a, v);
  else v128.store_lane<f32>(a, v, 0);
}

@inline function splat(x: f32): v128 {
  return f32x4.splat(x);
}

/**
 * e^x per lane: n = round(x·log2 e), r = x − n·ln 2 (ln 2 in two parts), e^r by Cephes' degree-5 polynomial,
 * scaled by 2^n built in the exponent bits. x is clamped to [−87.3365, 88]: results stay normal floats
 * (≥ 1.18e−38 instead of denormals or 0, ≤ 1.65e38 instead of overflow), which the callers (softmax with
 * x ≤ 0, sigmoid, tanh) tolerate. NaN stays NaN.
 */
@inline export function vexp(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, splat(-87.33654)), splat(88.0));
  const n = f32x4.nearest(f32x4.mul(x, splat(1.44269504)));
  let r = f32x4.sub(x, f32x4.mul(n, splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, splat(-2.12194440e-4)));
  let p = splat(1.9875691500e-4);
  p = madd(p, r, splat(1.3981999507e-3));
  p = madd(p, r, splat(8.3334519073e-3));
  p = madd(p, r, splat(4.1665795894e-2));
  p = madd(p, r, splat(1.6666665459e-1));
  p = madd(p, r, splat(5.0000001201e-1));
  p = f32x4.add(madd(p, f32x4.mul(r, r), r), splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

/** tanh per lane: |x| < 0.625 by Cephes' odd polynomial, else ±(1 − 2/(e^{2|x|} + 1)). NaN stays NaN. */
@inline export function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  const one = splat(1);
  const e = vexp(f32x4.add(ax, ax));
  const big = v128.or(f32x4.sub(one, f32x4.div(splat(2), f32x4.add(e, one))), v128.and(x, splat(-0.0)));
  const z = f32x4.mul(x, x);
  let p = splat(-5.70498872745e-3);
  p = madd(p, z, splat(2.06390887954e-2));
  p = madd(p, z, splat(-5.37397155531e-2));
  p = madd(p, z, splat(1.33314422036e-1));
  p = madd(p, z, splat(-3.33332819422e-1));
  const small = madd(f32x4.mul(p, z), x, x);
  return v128.bitselect(small, big, f32x4.lt(ax, splat(0.625)));
}

/** The logistic function per lane: 1 / (1 + e^−x). */
@inline export function vsigmoid(x: v128): v128 {
  const one = splat(1);
  return f32x4.div(one, f32x4.add(one, vexp(f32x4.neg(x))));
}

/** out[i] = f(x[i]) for n floats, f = exp (0), tanh (1) or sigmoid (2): exported so tests can measure the
 *  accuracy of the vector functions lane by lane (the tail uses the same code on splatted lanes). */
export function activations(fn: i32, n: i32, x: usize, out: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) st(out, i, activation(fn, ld(x, i, true)), true);
  for (; i < n; i++) st(out, i, activation(fn, ld(x, i, false)), false);
}

@inline function activation(fn: i32, v: v128): v128 {
  return fn == 0 ? vexp(v) : fn == 1 ? vtanh(v) : vsigmoid(v);
}

/** Which build this is: 2 = relaxed SIMD (asconfig target "relaxed"), 1 = plain f32x4 SIMD. */
export function simdLevel(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 2 : 1;
}
