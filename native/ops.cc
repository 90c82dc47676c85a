// Elementwise and indexed kernels: bias, row sums, embedding gather/scatter, softmax cross-entropy,
// clipping, norms and optimizer updates. Float math, double accumulation where a sum is returned.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "engine.h"
#include "kernels.h"

namespace rnnkit {

namespace {

thread_local FloatScratch tl_columns;  // Wᵀ [C][R] (gather_columns), column sums [C][R] (scatter), a softmax row
thread_local FloatScratch tl_doubles;  // per-row losses (softmax), per-block sums (sum_squares), as doubles

// sum_squares adds up blocks of this many floats.
constexpr int64_t kSumBlock = 1 << 14;

// n doubles of the calling thread's scratch (2 floats of the aligned float buffer hold a double), or
// null without memory: the per-row losses of softmax_cross_entropy, the block sums of sum_squares.
double* double_scratch(int64_t n) { return reinterpret_cast<double*>(tl_doubles.reserve(2 * n)); }

// The [C][R] table of gather_columns and scatter_add_columns, for chunks of at least C tokens.
float* column_table(int64_t n, int64_t R, int64_t C) { return n >= C ? tl_columns.reserve(R * C) : nullptr; }

}  // namespace

void add_bias(int64_t M, int64_t N, const float* __restrict bias, float* __restrict C) {
  for (int64_t i = 0; i < M; i++) {
    float* c = C + i * N;
    for (int64_t j = 0; j < N; j++) c[j] += bias[j];
  }
}

void sum_rows(int64_t M, int64_t N, const float* __restrict A, float* __restrict out) {
  // Row by row so that both loops stream contiguous memory; each column sums in row order.
  parallel_ranges(N, M * N, [&](int64_t j0, int64_t j1) {
    for (int64_t i = 0; i < M; i++) {
      const float* __restrict a = A + i * N;
      for (int64_t j = j0; j < j1; j++) out[j] += a[j];
    }
  });
}

void gather_rows(int64_t n, int64_t D, const int32_t* ids, const float* __restrict table, int64_t R,
                 float* __restrict out) {
  // Split over rows: beam search moves every state row this way each step (copies that one core cannot
  // saturate memory with).
  parallel_ranges(n, 2 * n * D, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
      const int64_t id = ids[i];
      if (id < 0 || id >= R) continue;  // validated by the caller; see kernels.h
      std::copy(table + id * D, table + (id + 1) * D, out + i * D);
    }
  });
}

void scatter_add_rows(int64_t n, int64_t D, const int32_t* ids, const float* __restrict dOut, int64_t R,
                      float* __restrict dTable) {
  for (int64_t i = 0; i < n; i++) {
    const int64_t id = ids[i];
    if (id < 0 || id >= R) continue;
    float* t = dTable + id * D;
    const float* g = dOut + i * D;
    for (int64_t d = 0; d < D; d++) t[d] += g[d];
  }
}

// The one-hot input projection: W [R, C] is read a column per token, R floats C apart. For a chunk of
// at least C tokens its rows [r0, r1) are first transposed into a table [C][R] (R·C moves, once per
// call; see column_table), so that each token copies a contiguous run instead of touching a cache line
// per float. Fewer tokens (sampling: one) read their columns in place.
void gather_columns(int64_t n, int64_t R, const int32_t* ids, const float* __restrict W, int64_t C,
                    float* __restrict out) {
  float* table = column_table(n, R, C);
  parallel_ranges(R, n * R, [&](int64_t r0, int64_t r1) {
    if (!table) {  // few tokens (or no memory for the table): column by column
      for (int64_t i = 0; i < n; i++) {
        const int64_t id = ids[i];
        if (id < 0 || id >= C) continue;  // validated by the caller; see kernels.h
        for (int64_t r = r0; r < r1; r++) out[i * R + r] = W[r * C + id];
      }
      return;
    }
    for (int64_t c = 0; c < C; c++) {
      for (int64_t r = r0; r < r1; r++) table[c * R + r] = W[r * C + c];
    }
    for (int64_t i = 0; i < n; i++) {
      const int64_t id = ids[i];
      if (id < 0 || id >= C) continue;
      std::copy(table + id * R + r0, table + id * R + r1, out + i * R + r0);
    }
  });
}

// The gradient of gather_columns: for a chunk of at least C tokens, each token's row is summed into a
// table [C][R] (contiguous adds, in token order), which is then added to dW [R, C] transposed.
void scatter_add_columns(int64_t n, int64_t R, const int32_t* ids, const float* __restrict dOut, int64_t C,
                         float* __restrict dW) {
  float* table = column_table(n, R, C);
  parallel_ranges(R, n * R, [&](int64_t r0, int64_t r1) {
    if (!table) {
      for (int64_t i = 0; i < n; i++) {
        const int64_t id = ids[i];
        if (id < 0 || id >= C) continue;
        for (int64_t r = r0; r < r1; r++) dW[r * C + id] += dOut[i * R + r];
      }
      return;
    }
    for (int64_t c = 0; c < C; c++) std::fill(table + c * R + r0, table + c * R + r1, 0.0f);
    for (int64_t i = 0; i < n; i++) {
      const int64_t id = ids[i];
      if (id < 0 || id >= C) continue;
      float* __restrict t = table + id * R;
      const float* __restrict g = dOut + i * R;
      for (int64_t r = r0; r < r1; r++) t[r] += g[r];
    }
    for (int64_t r = r0; r < r1; r++) {
      for (int64_t c = 0; c < C; c++) dW[r * C + c] += table[c * R + r];
    }
  });
}

double softmax_cross_entropy(int64_t N, int64_t V, const float* __restrict logits, const int32_t* targets, float scale,
                             float* __restrict dLogits, float smoothing) {
  const SimdOps* ops = simd_ops(engine_config().level);
  // Rows are split over threads; each row's loss is kept and the losses are summed in row order at the
  // end, so the total does not depend on the split.
  double* rowLoss = double_scratch(N);
  double unsplitLoss = 0.0;  // without memory for the row losses: one part, a running sum
  parallel_ranges(N, rowLoss ? N * V : 0, [&](int64_t i0, int64_t i1) {
    // exp(x − max) goes to the gradient row, or to a scratch row for the loss alone: the same arithmetic
    float* scratch = dLogits ? nullptr : tl_columns.reserve(V);
    for (int64_t i = i0; i < i1; i++) {
      const float* x = logits + i * V;
      float* d = dLogits ? dLogits + i * V : nullptr;
      const int64_t target = targets[i];
      double loss = 0.0;
      if (target < 0 || target >= V) {  // −1 is padding; anything else was rejected by the caller
        if (d) std::fill(d, d + V, 0.0f);
      } else {
        float max = x[0];
        for (int64_t v = 1; v < V; v++) max = x[v] > max ? x[v] : max;
        float* e = d ? d : scratch;
        double sum = 0.0;
        if (e) {
          for (int64_t v = 0; v < V; v++) e[v] = x[v] - max;
          if (ops) {
            ops->activation(Activation::Exp, V, e, e);  // the SIMD level's vectorised exp
          } else {
            for (int64_t v = 0; v < V; v++) e[v] = std::exp(e[v]);
          }
          for (int64_t v = 0; v < V; v++) sum += e[v];
        } else {  // no memory for a scratch row
          for (int64_t v = 0; v < V; v++) sum += std::exp(x[v] - max);
        }
        if (d) {
          const float factor = static_cast<float>(scale / sum);
          for (int64_t v = 0; v < V; v++) d[v] *= factor;
          if (smoothing > 0.0f) {
            const float spread = static_cast<float>(double(scale) * smoothing / double(V));
            for (int64_t v = 0; v < V; v++) d[v] -= spread;
          }
          d[target] -= smoothing > 0.0f ? static_cast<float>(double(scale) * (1.0 - smoothing)) : scale;
        }
        if (smoothing > 0.0f) {
          // (1 − ε)·(lse − x_target) + (ε/V)·Σ_v (lse − x_v)
          double total = 0.0;
          for (int64_t v = 0; v < V; v++) total += x[v];
          loss = std::log(sum) + max - (1.0 - smoothing) * x[target] - smoothing * total / double(V);
        } else {
          loss = std::log(sum) + max - x[target];
        }
      }
      if (rowLoss) {
        rowLoss[i] = loss;
      } else {
        unsplitLoss += loss;
      }
    }
  });
  if (!rowLoss) return unsplitLoss;
  double total = 0.0;
  for (int64_t i = 0; i < N; i++) total += rowLoss[i];
  return total;
}

void clip_value(int64_t n, float* x, float limit) {
  // min(limit, max(−limit, x)) written with comparisons so that NaN stays NaN (as Math.min/Math.max
  // do); a negative limit therefore yields limit everywhere, like the reference.
  for (int64_t i = 0; i < n; i++) {
    const float low = x[i] < -limit ? -limit : x[i];
    x[i] = low > limit ? limit : low;
  }
}

double sum_squares(int64_t n, const float* x) {
  // Sums of fixed blocks (each a vectorised reduction), added in block order: the same total whatever
  // the thread split.
  const int64_t block = kSumBlock, blocks = (n + block - 1) / block;
  auto block_sum = [x, n, block](int64_t b) {
    const float* p = x + b * block;
    const int64_t m = std::min(block, n - b * block);
    double sum = 0.0;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < m; i++) sum += static_cast<double>(p[i]) * p[i];
    return sum;
  };
  double* partial = double_scratch(blocks);
  double total = 0.0;
  if (!partial) {  // no memory for the partial sums: one thread, the same blocks
    for (int64_t b = 0; b < blocks; b++) total += block_sum(b);
    return total;
  }
  parallel_ranges(blocks, n, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; b++) partial[b] = block_sum(b);
  });
  for (int64_t b = 0; b < blocks; b++) total += partial[b];
  return total;
}

void scale(int64_t n, float* x, float s) {
  for (int64_t i = 0; i < n; i++) x[i] *= s;
}

namespace {
// murmur3's 32-bit finaliser. Must match fmix32 in src/backend/types.ts and assembly/ops.ts.
inline uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  return h ^ (h >> 16);
}
}  // namespace

void dropout(int64_t n, const float* __restrict x, uint32_t threshold, float keep, uint32_t seed,
             float* __restrict mask, float* __restrict out) {
  const uint32_t mixed = fmix32(seed ^ 0x9e3779b9u);
  for (int64_t i = 0; i < n; i++) {
    mask[i] = fmix32(fmix32(static_cast<uint32_t>(i)) ^ mixed) >= threshold ? keep : 0.0f;
    out[i] = x[i] * mask[i];
  }
}

void multiply(int64_t n, const float* __restrict a, const float* __restrict b, float* __restrict out) {
  for (int64_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}

void adagrad_update(int64_t n, float* __restrict param, const float* __restrict grad, float* __restrict sum, float lr,
                    float eps, float weightDecay) {
  parallel_ranges(n, 3 * n, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
      const float g = grad[i] + weightDecay * param[i];
      sum[i] += g * g;
      param[i] -= lr * g / (std::sqrt(sum[i]) + eps);
    }
  });
}

void sgd_update(int64_t n, float* __restrict param, const float* __restrict grad, float lr, float weightDecay) {
  parallel_ranges(n, 2 * n, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) param[i] -= lr * (grad[i] + weightDecay * param[i]);
  });
}

}  // namespace rnnkit
