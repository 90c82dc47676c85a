// Mean and max pooling over each stream's valid steps (Backend.poolForward / poolBackward in
// src/backend/types.ts): x [T,B,D] time-major, lengths [B] i32 each in [1, T], out [B,D], argmax [B,D] i32
// (max only; 0 for mean). Validated by the caller. The loops run over D, four floats at a time.

// Must match POOL_MODES in src/backend/types.ts
export const enum PoolMode {
  Mean = 0,
  Max = 1,
}

@inline function lengthOf(lengths: usize, b: i32): i32 {
  return load<i32>(lengths + (<usize>b << 2));
}

/** dst[D] = src[D] / steps (dst may be src). */
@inline function divideRow(dst: usize, src: usize, D: i32, steps: f32): void {
  let d = 0;
  for (; d + 4 <= D; d += 4) {
    const p = <usize>d << 2;
    v128.store(dst + p, f32x4.div(v128.load(src + p), f32x4.splat(steps)));
  }
  for (; d < D; d++) {
    const p = <usize>d << 2;
    store<f32>(dst + p, load<f32>(src + p) / steps);
  }
}

/** out[b] = mean or max over t < lengths[b] of x[t,b]; for max, argmax[b,d] = the first t reaching it. */
export function poolForward(mode: i32, T: i32, B: i32, D: i32, x: usize, lengths: usize, out: usize, argmax: usize): void {
  const rowD = <usize>D << 2;
  const stepD = <usize>B * rowD;
  const D4 = D & ~3;
  for (let b = 0; b < B; b++) {
    const L = lengthOf(lengths, b);
    const o = out + <usize>b * rowD;
    const first = x + <usize>b * rowD;
    memory.copy(o, first, rowD); // step 0
    if (mode == PoolMode.Mean) {
      for (let t = 1; t < L; t++) {
        const row = first + <usize>t * stepD;
        let d = 0;
        for (; d < D4; d += 4) {
          const p = <usize>d << 2;
          v128.store(o + p, f32x4.add(v128.load(o + p), v128.load(row + p)));
        }
        for (; d < D; d++) {
          const p = <usize>d << 2;
          store<f32>(o + p, load<f32>(o + p) + load<f32>(row + p));
        }
      }
      divideRow(o, o, D, <f32>L);
    } else {
      const at = argmax + <usize>b * rowD;
      memory.fill(at, 0, rowD);
      for (let t = 1; t < L; t++) {
        const row = first + <usize>t * stepD;
        const step = i32x4.splat(t);
        let d = 0;
        for (; d < D4; d += 4) {
          const p = <usize>d << 2;
          const value = v128.load(row + p), best = v128.load(o + p);
          const greater = f32x4.gt(value, best); // strictly: the first step wins ties (a NaN at step 0 stays)
          v128.store(o + p, v128.bitselect(value, best, greater));
          v128.store(at + p, v128.bitselect(step, v128.load(at + p), greater));
        }
        for (; d < D; d++) {
          const p = <usize>d << 2;
          const value = load<f32>(row + p);
          if (value > load<f32>(o + p)) {
            store<f32>(o + p, value);
            store<i32>(at + p, t);
          }
        }
      }
    }
  }
}

/** dx [T,B,D] = the gradient of poolForward for dOut [B,D]: overwritten, zero where no step contributed. */
export function poolBackward(mode: i32, T: i32, B: i32, D: i32, dOut: usize, lengths: usize, argmax: usize, dx: usize): void {
  const rowD = <usize>D << 2;
  const stepD = <usize>B * rowD;
  memory.fill(dx, 0, <usize>T * stepD);
  for (let b = 0; b < B; b++) {
    const g = dOut + <usize>b * rowD;
    const first = dx + <usize>b * rowD;
    if (mode == PoolMode.Mean) {
      const L = lengthOf(lengths, b);
      for (let t = 0; t < L; t++) divideRow(first + <usize>t * stepD, g, D, <f32>L);
    } else {
      const at = argmax + <usize>b * rowD;
      for (let d = 0; d < D; d++) {
        const p = <usize>d << 2;
        store<f32>(first + <usize>load<i32>(at + p) * stepD + p, load<f32>(g + p));
      }
    }
  }
}
