// CTC loss for the reference backend (Backend.ctcLoss in types.ts): the forward-backward recursions of
// Graves et al. (2006) in log space, as PyTorch's CPU ctc_loss computes them, written to be read.
// Extended labels l' = blank, l1, blank, l2, …, lU, blank (2U+1 states); α(t,s) and β(t,s) both include
// the emission log p(l'_s | t), so α·β/p(t,l'_s) is the probability of the paths through (t,s).
import type { FloatArray } from './types.js';

/** log(e^a + e^b) without overflow; −∞ when both are −∞ (never NaN). */
export function logAddExp(a: number, b: number): number {
  const max = Math.max(a, b);
  if (max === -Infinity) return -Infinity;
  return max + Math.log(Math.exp(a - max) + Math.exp(b - max));
}

export interface CtcArrays {
  logits: FloatArray;
  targets: Int32Array;
  inputLengths: Int32Array;
  targetLengths: Int32Array;
  work: FloatArray;
  losses: FloatArray;
  dLogits: FloatArray | undefined;
}

/** The whole kernel: per-sequence losses, the mean it returns, and the gradient of that mean. */
export function ctcLossReference(
  T: number,
  B: number,
  C: number,
  S: number,
  zeroInfinity: boolean,
  a: CtcArrays,
): number {
  a.dLogits?.fill(0);
  const states = 2 * S + 1;
  const perSequence = T * (2 * states + 1);
  let mean = 0;
  for (let b = 0; b < B; b++) {
    const L = a.inputLengths[b]!,
      U = a.targetLengths[b]!;
    const base = b * perSequence;
    const alpha = base,
      beta = base + T * states,
      lse = base + 2 * T * states;
    const x = (t: number, c: number): number => a.logits[(t * B + b) * C + c]!;
    // Log-softmax normaliser of each row: log p(c|t) = x(t,c) − lse(t).
    for (let t = 0; t < L; t++) {
      let norm = -Infinity;
      for (let c = 0; c < C; c++) norm = logAddExp(norm, x(t, c));
      a.work[lse + t] = norm;
    }
    const logp = (t: number, c: number): number => x(t, c) - a.work[lse + t]!;
    const label = (s: number): number => (s % 2 === 0 ? 0 : a.targets[b * S + (s - 1) / 2]!);
    // A state may be entered from two back (skipping a blank) unless it is a blank or repeats that label.
    const canSkip = (s: number, other: number): boolean =>
      s % 2 === 1 && other >= 0 && other < 2 * U + 1 && label(other) !== label(s);
    const last = 2 * U; // states 0 … 2U are used
    for (let t = 0; t < L; t++) {
      for (let s = 0; s <= last; s++) {
        let sum: number;
        if (t === 0) sum = s <= 1 ? 0 : -Infinity;
        else {
          const prev = alpha + (t - 1) * states;
          sum = a.work[prev + s]!;
          if (s >= 1) sum = logAddExp(sum, a.work[prev + s - 1]!);
          if (canSkip(s, s - 2)) sum = logAddExp(sum, a.work[prev + s - 2]!);
        }
        a.work[alpha + t * states + s] = sum === -Infinity ? -Infinity : sum + logp(t, label(s));
      }
    }
    for (let t = L - 1; t >= 0; t--) {
      for (let s = last; s >= 0; s--) {
        let sum: number;
        if (t === L - 1) sum = s >= last - 1 ? 0 : -Infinity;
        else {
          const next = beta + (t + 1) * states;
          sum = a.work[next + s]!;
          if (s < last) sum = logAddExp(sum, a.work[next + s + 1]!);
          if (canSkip(s, s + 2)) sum = logAddExp(sum, a.work[next + s + 2]!);
        }
        a.work[beta + t * states + s] = sum === -Infinity ? -Infinity : sum + logp(t, label(s));
      }
    }
    const end = alpha + (L - 1) * states;
    const nll = -(U > 0 ? logAddExp(a.work[end + last]!, a.work[end + last - 1]!) : a.work[end]!);
    const infinite = nll === Infinity;
    a.losses[b] = infinite && zeroInfinity ? 0 : nll;
    mean += a.losses[b]! / Math.max(U, 1) / B;
    if (!a.dLogits || infinite) continue;
    // d(mean)/dx(t,c) = w·(p(c|t) − Σ_{s: l'_s = c} α(t,s)β(t,s) / (p(c|t)·P)), with w = 1/(max(U,1)·B).
    const weight = 1 / Math.max(U, 1) / B;
    const occupancy = new Array<number>(C);
    for (let t = 0; t < L; t++) {
      occupancy.fill(-Infinity);
      for (let s = 0; s <= last; s++) {
        const c = label(s);
        occupancy[c] = logAddExp(occupancy[c]!, a.work[alpha + t * states + s]! + a.work[beta + t * states + s]!);
      }
      for (let c = 0; c < C; c++) {
        const lp = logp(t, c);
        a.dLogits[(t * B + b) * C + c] = weight * (Math.exp(lp) - Math.exp(occupancy[c]! + nll - lp));
      }
    }
  }
  return mean;
}
