// CTC loss (Backend.ctcLoss in src/backend/types.ts): PyTorch's nn.CTCLoss(blank=0, reduction='mean') of
// log_softmax(logits), with its gradient w.r.t. the logits. Validated by the caller. The forward-backward
// recursions run in log space in f64 arithmetic and store α, β and the row normalisers as f32 in the
// caller's workspace (as PyTorch stores them in float32). Extended labels l' = blank, l1, blank, …, lU,
// blank; α(t,s) and β(t,s) both include the emission log p(l'_s | t).
// logits [T,B,C], targets [B,S] i32, inputLengths [B] i32, targetLengths [B] i32, work [B, T·(2(2S+1)+1)],
// losses [B], dLogits [T,B,C] (0: no gradient).

@inline function f(p: usize, i: i32): f64 {
  return <f64>load<f32>(p + (<usize>i << 2));
}

@inline function setF(p: usize, i: i32, v: f64): void {
  store<f32>(p + (<usize>i << 2), <f32>v);
}

@inline function logAddExp(a: f64, b: f64): f64 {
  const max = Math.max(a, b);
  if (max == -Infinity) return -Infinity;
  return max + Math.log(Math.exp(a - max) + Math.exp(b - max));
}

/** Label of extended state s of a target at `labels`. */
@inline function labelOf(labels: usize, s: i32): i32 {
  return (s & 1) == 0 ? 0 : load<i32>(labels + (<usize>(s >> 1) << 2));
}

/** Whether state s can be entered from `other` = s ± 2 (skipping a blank): s is a label that differs from it. */
@inline function canSkip(labels: usize, s: i32, other: i32, last: i32): bool {
  return (s & 1) == 1 && other >= 0 && other <= last && labelOf(labels, other) != labelOf(labels, s);
}

/** One sequence: fills its workspace, returns its negative log-likelihood. */
function sequenceNll(T: i32, B: i32, C: i32, b: i32, L: i32, U: i32, logits: usize, labels: usize, alpha: usize, beta: usize, lse: usize, states: i32): f64 {
  const rowStride = <usize>B * <usize>C << 2;
  const first = logits + (<usize>b * <usize>C << 2);
  for (let t = 0; t < L; t++) {
    const x = first + <usize>t * rowStride;
    let max: f64 = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, f(x, c));
    let sum: f64 = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(f(x, c) - max);
    setF(lse, t, max + Math.log(sum));
  }
  const last = 2 * U;
  for (let t = 0; t < L; t++) {
    const x = first + <usize>t * rowStride;
    const norm = f(lse, t);
    const row = alpha + (<usize>(t * states) << 2), prev = row - (<usize>states << 2);
    for (let s = 0; s <= last; s++) {
      let sum: f64;
      if (t == 0) sum = s <= 1 ? 0 : -Infinity;
      else {
        sum = f(prev, s);
        if (s >= 1) sum = logAddExp(sum, f(prev, s - 1));
        if (canSkip(labels, s, s - 2, last)) sum = logAddExp(sum, f(prev, s - 2));
      }
      setF(row, s, sum == -Infinity ? -Infinity : sum + f(x, labelOf(labels, s)) - norm);
    }
  }
  for (let t = L - 1; t >= 0; t--) {
    const x = first + <usize>t * rowStride;
    const norm = f(lse, t);
    const row = beta + (<usize>(t * states) << 2), next = row + (<usize>states << 2);
    for (let s = last; s >= 0; s--) {
      let sum: f64;
      if (t == L - 1) sum = s >= last - 1 ? 0 : -Infinity;
      else {
        sum = f(next, s);
        if (s < last) sum = logAddExp(sum, f(next, s + 1));
        if (canSkip(labels, s, s + 2, last)) sum = logAddExp(sum, f(next, s + 2));
      }
      setF(row, s, sum == -Infinity ? -Infinity : sum + f(x, labelOf(labels, s)) - norm);
    }
  }
  const end = alpha + (<usize>((L - 1) * states) << 2);
  return -(U > 0 ? logAddExp(f(end, last), f(end, last - 1)) : f(end, 0));
}

/** d(mean)/dx(t,c) = weight·(p(c|t) − Σ_{s: l'_s = c} α(t,s)β(t,s) / (p(c|t)·P)) for t < L; the row is the
 *  scratch of the per-symbol log sums. */
function sequenceGradient(B: i32, C: i32, b: i32, L: i32, U: i32, logits: usize, labels: usize, alpha: usize, beta: usize, lse: usize, states: i32, nll: f64, weight: f64, dLogits: usize): void {
  const rowStride = <usize>B * <usize>C << 2;
  const last = 2 * U;
  for (let t = 0; t < L; t++) {
    const offset = (<usize>b * <usize>C << 2) + <usize>t * rowStride;
    const x = logits + offset, d = dLogits + offset;
    const norm = f(lse, t);
    for (let c = 0; c < C; c++) setF(d, c, -Infinity);
    const a = alpha + (<usize>(t * states) << 2), be = beta + (<usize>(t * states) << 2);
    for (let s = 0; s <= last; s++) {
      const c = labelOf(labels, s);
      setF(d, c, logAddExp(f(d, c), f(a, s) + f(be, s)));
    }
    for (let c = 0; c < C; c++) {
      const lp = f(x, c) - norm;
      setF(d, c, weight * (Math.exp(lp) - Math.exp(f(d, c) + nll - lp)));
    }
  }
}

export function ctcLoss(
  T: i32, B: i32, C: i32, S: i32, logits: usize, targets: usize, inputLengths: usize, targetLengths: usize,
  zeroInfinity: i32, work: usize, losses: usize, dLogits: usize,
): f64 {
  if (dLogits != 0) memory.fill(dLogits, 0, <usize>T * <usize>B * <usize>C << 2);
  const states = 2 * S + 1;
  const perSequence = <usize>T * <usize>(2 * states + 1) << 2;
  let mean: f64 = 0;
  for (let b = 0; b < B; b++) {
    const L = load<i32>(inputLengths + (<usize>b << 2)), U = load<i32>(targetLengths + (<usize>b << 2));
    const labels = targets + (<usize>b * <usize>S << 2);
    const alpha = work + <usize>b * perSequence;
    const beta = alpha + (<usize>T * <usize>states << 2), lse = beta + (<usize>T * <usize>states << 2);
    const nll = sequenceNll(T, B, C, b, L, U, logits, labels, alpha, beta, lse, states);
    const infinite = nll == Infinity;
    const loss = infinite && zeroInfinity != 0 ? 0 : nll;
    store<f32>(losses + (<usize>b << 2), <f32>loss);
    const weight = 1 / <f64>max(U, 1) / <f64>B;
    mean += <f64><f32>loss * weight;
    if (dLogits != 0 && !infinite) sequenceGradient(B, C, b, L, U, logits, labels, alpha, beta, lse, states, nll, weight, dLogits);
  }
  return mean;
}
