// Optimizer updates over flat parameter arenas (PyTorch semantics, see src/backend/types.ts).
// n floats each; param, grad, sum are byte pointers.

/** Adagrad (lr_decay 0): g' = g + wd·p; sum += g'²; p −= lr·g' / (sqrt(sum) + eps). */
export function adagradUpdate(n: i32, param: usize, grad: usize, sum: usize, lr: f32, eps: f32, weightDecay: f32): void {
  const n4 = n & ~3;
  const vlr = f32x4.splat(lr);
  const veps = f32x4.splat(eps);
  const vwd = f32x4.splat(weightDecay);
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const p = v128.load(param + o);
    const g = f32x4.add(v128.load(grad + o), f32x4.mul(vwd, p));
    const s = f32x4.add(v128.load(sum + o), f32x4.mul(g, g));
    v128.store(sum + o, s);
    v128.store(param + o, f32x4.sub(p, f32x4.div(f32x4.mul(vlr, g), f32x4.add(f32x4.sqrt(s), veps))));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    const p = load<f32>(param + o);
    const g = load<f32>(grad + o) + weightDecay * p;
    const s = load<f32>(sum + o) + g * g;
    store<f32>(sum + o, s);
    store<f32>(param + o, p - (lr * g) / (Mathf.sqrt(s) + eps));
  }
}

/** Plain SGD: p −= lr·(g + wd·p). */
export function sgdUpdate(n: i32, param: usize, grad: usize, lr: f32, weightDecay: f32): void {
  const n4 = n & ~3;
  const vlr = f32x4.splat(lr);
  const vwd = f32x4.splat(weightDecay);
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const p = v128.load(param + o);
    v128.store(param + o, f32x4.sub(p, f32x4.mul(vlr, f32x4.add(v128.load(grad + o), f32x4.mul(vwd, p)))));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    const p = load<f32>(param + o);
    store<f32>(param + o, p - lr * (load<f32>(grad + o) + weightDecay * p));
  }
}
