// The small kernels of beam search (Backend.topK, Backend.logSoftmax in src/backend/types.ts; the oracle is
// src/backend/reference-search.ts).

/** Larger first, NaN above every number (torch.topk), the lower column first on ties. */
@inline function ranksBefore(a: f32, i: i32, b: f32, j: i32): bool {
  const na = isNaN(a);
  const nb = isNaN(b);
  if (na || nb) return na && (!nb || i < j);
  return a > b || (a == b && i < j);
}

export function topK(N: i32, V: i32, K: i32, scores: usize, values: usize, indices: usize): void {
  for (let n = 0; n < N; n++) {
    const x = scores + (<usize>(n * V) << 2);
    const val = values + (<usize>(n * K) << 2);
    const idx = indices + (<usize>(n * K) << 2);
    let kept = 0;
    for (let v = 0; v < V; v++) {
      const s = load<f32>(x + (<usize>v << 2));
      const last = <usize>(K - 1) << 2;
      if (kept == K && !ranksBefore(s, v, load<f32>(val + last), load<i32>(idx + last))) continue;
      let at = min(kept, K - 1);
      for (; at > 0; at--) {
        const prev = <usize>(at - 1) << 2;
        if (!ranksBefore(s, v, load<f32>(val + prev), load<i32>(idx + prev))) break;
        store<f32>(val + prev + 4, load<f32>(val + prev));
        store<i32>(idx + prev + 4, load<i32>(idx + prev));
      }
      store<f32>(val + (<usize>at << 2), s);
      store<i32>(idx + (<usize>at << 2), v);
      kept = min(kept + 1, K);
    }
  }
}

/** out = x − max − log Σ exp(x − max) per row of V (the sum in f64). */
export function logSoftmax(N: i32, V: i32, x: usize, out: usize): void {
  for (let n = 0; n < N; n++) {
    const a = x + (<usize>(n * V) << 2);
    const o = out + (<usize>(n * V) << 2);
    let mx: f32 = -Infinity;
    for (let v = 0; v < V; v++) mx = Mathf.max(mx, load<f32>(a + (<usize>v << 2)));
    let sum: f64 = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(<f64>load<f32>(a + (<usize>v << 2)) - <f64>mx);
    const shift = <f64>mx + Math.log(sum);
    for (let v = 0; v < V; v++) store<f32>(o + (<usize>v << 2), <f32>(<f64>load<f32>(a + (<usize>v << 2)) - shift));
  }
}
