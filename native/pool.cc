// Mean and max pooling over each stream's valid steps, forward and backward (see kernels.h), following
// src/backend/reference.ts. The work is B·D·L floats, small beside the cells, so it runs on the calling
// thread; the inner loops run over D (contiguous) so that the compiler vectorises them.
#include <algorithm>
#include <cstdint>

#include "kernels.h"

namespace rnnkit {

const char* const kPoolModeNames[kPoolModeCount] = {"mean", "max"};

namespace {

// Stream b's length, clamped to [1, T]: validated by the caller, clamped again so that a SharedArrayBuffer
// written by another thread after validation cannot send a loop past x.
inline int64_t valid_steps(const int32_t* lengths, int64_t b, int64_t T) {
  return std::min<int64_t>(T, std::max<int64_t>(1, lengths[b]));
}

}  // namespace

void pool_forward(PoolMode mode, int64_t T, int64_t B, int64_t D, const float* x, const int32_t* lengths, float* out,
                  int32_t* argmax) {
  for (int64_t b = 0; b < B; b++) {
    const int64_t L = valid_steps(lengths, b, T);
    float* o = out + b * D;
    std::copy(x + b * D, x + (b + 1) * D, o);  // step 0
    if (mode == PoolMode::Mean) {
      for (int64_t t = 1; t < L; t++) {
        const float* row = x + (t * B + b) * D;
        for (int64_t d = 0; d < D; d++) o[d] += row[d];
      }
      const float steps = static_cast<float>(L);
      for (int64_t d = 0; d < D; d++) o[d] /= steps;
    } else {
      int32_t* at = argmax + b * D;
      std::fill(at, at + D, 0);
      for (int64_t t = 1; t < L; t++) {
        const float* row = x + (t * B + b) * D;
        for (int64_t d = 0; d < D; d++) {
          const bool greater = row[d] > o[d];  // strictly: the first step wins ties (a NaN at step 0 stays)
          o[d] = greater ? row[d] : o[d];
          at[d] = greater ? static_cast<int32_t>(t) : at[d];
        }
      }
    }
  }
}

void pool_backward(PoolMode mode, int64_t T, int64_t B, int64_t D, const float* dOut, const int32_t* lengths,
                   const int32_t* argmax, float* dx) {
  std::fill(dx, dx + T * B * D, 0.0f);
  for (int64_t b = 0; b < B; b++) {
    const float* g = dOut + b * D;
    if (mode == PoolMode::Mean) {
      const int64_t L = valid_steps(lengths, b, T);
      const float steps = static_cast<float>(L);
      for (int64_t t = 0; t < L; t++) {
        float* row = dx + (t * B + b) * D;
        for (int64_t d = 0; d < D; d++) row[d] = g[d] / steps;
      }
    } else {
      for (int64_t d = 0; d < D; d++) {
        const int64_t t = argmax[b * D + d];
        if (t >= 0 && t < T) dx[(t * B + b) * D + d] = g[d];  // an id changed after validation is skipped
      }
    }
  }
}

}  // namespace rnnkit
