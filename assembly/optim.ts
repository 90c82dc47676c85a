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

// The stateful updates below take their derived constants from the host (src/backend/wasm.ts), which
// computes them in float64 once per call and passes them rounded to f32: 1 − dampening, 1 − α, 1 − β1,
// 1 − β2, Adam's step size lr/(1 − β1^t), its correction sqrt(1 − β2^t) and AdamW's decay 1 − lr·wd
// (the same constants, rounded the same way, as native/optim.cc). The loops run in f32; flags are 0/1.

/**
 * SGD with momentum μ: g' = g + wd·p; buf = first ? g' : μ·buf + dampKeep·g';
 * p −= lr·(nesterov ? g' + μ·buf : buf), with dampKeep = 1 − dampening.
 */
export function momentumUpdate(
  n: i32, param: usize, grad: usize, buf: usize, lr: f32, momentum: f32, dampKeep: f32, nesterov: i32, weightDecay: f32, first: i32,
): void {
  const n4 = n & ~3;
  const vlr = f32x4.splat(lr);
  const vmu = f32x4.splat(momentum);
  const vdk = f32x4.splat(dampKeep);
  const vwd = f32x4.splat(weightDecay);
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const p = v128.load(param + o);
    const g = f32x4.add(v128.load(grad + o), f32x4.mul(vwd, p));
    const b = first ? g : f32x4.add(f32x4.mul(vmu, v128.load(buf + o)), f32x4.mul(vdk, g));
    v128.store(buf + o, b);
    const d = nesterov ? f32x4.add(g, f32x4.mul(vmu, b)) : b;
    v128.store(param + o, f32x4.sub(p, f32x4.mul(vlr, d)));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    const p = load<f32>(param + o);
    const g = load<f32>(grad + o) + weightDecay * p;
    const b = first ? g : momentum * load<f32>(buf + o) + dampKeep * g;
    store<f32>(buf + o, b);
    store<f32>(param + o, p - lr * (nesterov ? g + momentum * b : b));
  }
}

/** RMSprop (not centred, no momentum): g' = g + wd·p; sq = α·sq + alphaKeep·g'²; p −= lr·g' / (sqrt(sq) + eps), alphaKeep = 1 − α. */
export function rmspropUpdate(
  n: i32, param: usize, grad: usize, sq: usize, lr: f32, alpha: f32, alphaKeep: f32, eps: f32, weightDecay: f32,
): void {
  const n4 = n & ~3;
  const vlr = f32x4.splat(lr);
  const valpha = f32x4.splat(alpha);
  const vak = f32x4.splat(alphaKeep);
  const veps = f32x4.splat(eps);
  const vwd = f32x4.splat(weightDecay);
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const p = v128.load(param + o);
    const g = f32x4.add(v128.load(grad + o), f32x4.mul(vwd, p));
    const s = f32x4.add(f32x4.mul(valpha, v128.load(sq + o)), f32x4.mul(vak, f32x4.mul(g, g)));
    v128.store(sq + o, s);
    v128.store(param + o, f32x4.sub(p, f32x4.div(f32x4.mul(vlr, g), f32x4.add(f32x4.sqrt(s), veps))));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    const p = load<f32>(param + o);
    const g = load<f32>(grad + o) + weightDecay * p;
    const s = alpha * load<f32>(sq + o) + alphaKeep * (g * g);
    store<f32>(sq + o, s);
    store<f32>(param + o, p - (lr * g) / (Mathf.sqrt(s) + eps));
  }
}

/**
 * Adam (decoupled 0: g' = g + wd·p) and AdamW (decoupled 1: p *= decay, g' = g):
 * m = β1·m + beta1Keep·g'; v = β2·v + beta2Keep·g'²; p −= stepSize·m / (sqrt(v) / correction2 + eps),
 * with beta1Keep = 1 − β1, beta2Keep = 1 − β2, stepSize = lr/(1 − β1^t), correction2 = sqrt(1 − β2^t),
 * decay = 1 − lr·wd.
 */
export function adamUpdate(
  n: i32, param: usize, grad: usize, m: usize, v: usize, stepSize: f32, beta1: f32, beta1Keep: f32, beta2: f32, beta2Keep: f32,
  correction2: f32, eps: f32, weightDecay: f32, decay: f32, decoupled: i32,
): void {
  const n4 = n & ~3;
  const vstep = f32x4.splat(stepSize);
  const vb1 = f32x4.splat(beta1);
  const vb1k = f32x4.splat(beta1Keep);
  const vb2 = f32x4.splat(beta2);
  const vb2k = f32x4.splat(beta2Keep);
  const vc2 = f32x4.splat(correction2);
  const veps = f32x4.splat(eps);
  const vwd = f32x4.splat(weightDecay);
  const vdecay = f32x4.splat(decay);
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    let p = v128.load(param + o);
    let g = v128.load(grad + o);
    if (decoupled) p = f32x4.mul(p, vdecay);
    else g = f32x4.add(g, f32x4.mul(vwd, p));
    const mi = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vb1k, g));
    const vi = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(vb2k, f32x4.mul(g, g)));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vi), vc2), veps);
    v128.store(param + o, f32x4.sub(p, f32x4.div(f32x4.mul(vstep, mi), denom)));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    let p = load<f32>(param + o);
    let g = load<f32>(grad + o);
    if (decoupled) p *= decay;
    else g += weightDecay * p;
    const mi = beta1 * load<f32>(m + o) + beta1Keep * g;
    const vi = beta2 * load<f32>(v + o) + beta2Keep * (g * g);
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    store<f32>(param + o, p - (stepSize * mi) / (Mathf.sqrt(vi) / correction2 + eps));
  }
}
