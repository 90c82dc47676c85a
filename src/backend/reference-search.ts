// The two small kernels of beam search, written plainly as the oracle for the engines' versions.
import * as check from './checks.js';
import type { FloatSpan, IntSpan } from './types.js';

/** Whether score a (at column i) ranks before score b (at column j): larger first, NaN above every number
 *  (torch.topk), the lower column first on ties. */
export function ranksBefore(a: number, i: number, b: number, j: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && (!Number.isNaN(b) || i < j);
  return a > b || (a === b && i < j);
}

/** Backend.topK: per row, a sorted list of the best K kept by insertion (K is a beam width: small). */
export function topKReference(
  N: number,
  V: number,
  K: number,
  scores: FloatSpan,
  values: FloatSpan,
  indices: IntSpan,
): void {
  check.checkTopK(N, V, K, scores, values, indices);
  const x = scores.data,
    val = values.data,
    idx = indices.data;
  for (let n = 0; n < N; n++) {
    const row = n * V,
      out = n * K;
    let kept = 0;
    for (let v = 0; v < V; v++) {
      const s = x[row + v]!;
      if (kept === K && !ranksBefore(s, v, val[out + K - 1]!, idx[out + K - 1]!)) continue;
      let at = Math.min(kept, K - 1);
      while (at > 0 && ranksBefore(s, v, val[out + at - 1]!, idx[out + at - 1]!)) {
        val[out + at] = val[out + at - 1]!;
        idx[out + at] = idx[out + at - 1]!;
        at--;
      }
      val[out + at] = s;
      idx[out + at] = v;
      kept = Math.min(kept + 1, K);
    }
  }
}

/** Backend.logSoftmax: x − max − log Σ exp(x − max) per row. */
export function logSoftmaxReference(N: number, V: number, x: FloatSpan, out: FloatSpan): void {
  check.checkLogSoftmax(N, V, x, out);
  const a = x.data,
    o = out.data;
  for (let n = 0; n < N; n++) {
    const row = n * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, a[row + v]!);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(a[row + v]! - max);
    const shift = max + Math.log(sum);
    for (let v = 0; v < V; v++) o[row + v] = a[row + v]! - shift;
  }
}
