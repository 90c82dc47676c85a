// The small kernels of beam search (Backend.topK, Backend.logSoftmax in src/backend/types.ts; the oracle is
// src/backend/reference-search.ts). One row per thread range (parallel_ranges): results do not depend on
// the thread count.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "engine.h"
#include "kernels.h"

namespace rnnkit {

namespace {

// Larger first, NaN above every number (torch.topk), the lower column first on ties.
inline bool ranks_before(float a, int32_t i, float b, int32_t j) {
  const bool na = std::isnan(a), nb = std::isnan(b);
  if (na || nb) return na && (!nb || i < j);
  return a > b || (a == b && i < j);
}

}  // namespace

void top_k(int64_t N, int64_t V, int64_t K, const float* scores, float* values, int32_t* indices) {
  parallel_ranges(N, N * V, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      const float* x = scores + n * V;
      float* val = values + n * K;
      int32_t* idx = indices + n * K;
      int64_t kept = 0;
      for (int64_t v = 0; v < V; v++) {
        const float s = x[v];
        const int32_t i = static_cast<int32_t>(v);
        if (kept == K && !ranks_before(s, i, val[K - 1], idx[K - 1])) continue;
        int64_t at = std::min(kept, K - 1);
        for (; at > 0 && ranks_before(s, i, val[at - 1], idx[at - 1]); at--) {
          val[at] = val[at - 1];
          idx[at] = idx[at - 1];
        }
        val[at] = s;
        idx[at] = i;
        kept = std::min(kept + 1, K);
      }
    }
  });
}

void log_softmax(int64_t N, int64_t V, const float* x, float* out) {
  parallel_ranges(N, N * V, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      const float* a = x + n * V;
      float max = -INFINITY;
      for (int64_t v = 0; v < V; v++) max = std::max(max, a[v]);
      double sum = 0.0;
      for (int64_t v = 0; v < V; v++) sum += std::exp(double(a[v]) - double(max));
      const double shift = double(max) + std::log(sum);
      for (int64_t v = 0; v < V; v++) out[n * V + v] = static_cast<float>(double(a[v]) - shift);
    }
  });
}

}  // namespace rnnkit
