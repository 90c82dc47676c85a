// The portable bf16 emulation (the oracle of the AVX-512 BF16 kernels; contract in bf16.h).
#include "bf16.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace rnnkit {

namespace {

inline uint32_t bits_of(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
inline float float_of(uint32_t b) {
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}
// Subnormals (and zeros) to a zero of the same sign: the instruction's DAZ on inputs, FTZ on results.
inline float flush(float x) { return (bits_of(x) & 0x7f800000u) == 0 ? float_of(bits_of(x) & 0x80000000u) : x; }

}  // namespace

uint16_t bf16_round(float x) {
  uint32_t b = bits_of(x);
  if (std::isnan(x)) return static_cast<uint16_t>((b >> 16) | 0x40u);             // quiet NaN, payload kept
  if ((b & 0x7f800000u) == 0) return static_cast<uint16_t>((b >> 16) & 0x8000u);  // subnormal → ±0
  b += 0x7fffu + ((b >> 16) & 1u);  // nearest, ties to even (overflow carries into ±inf)
  return static_cast<uint16_t>(b >> 16);
}

float bf16_value(uint16_t h) { return flush(float_of(uint32_t(h) << 16)); }

float bf16_dot_step(float acc, uint32_t aPair, uint32_t bPair) {
  const float a0 = bf16_value(static_cast<uint16_t>(aPair)), a1 = bf16_value(static_cast<uint16_t>(aPair >> 16));
  const float b0 = bf16_value(static_cast<uint16_t>(bPair)), b1 = bf16_value(static_cast<uint16_t>(bPair >> 16));
  acc = flush(std::fma(a1, b1, flush(acc)));  // the odd pair first (Intel's order)
  return flush(std::fma(a0, b0, acc));
}

void bf16_gemm_emulated(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                        int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  const int64_t P = (K + 1) / 2;
  auto a_at = [&](int64_t i, int64_t k) { return k >= K ? 0.0f : alpha * (transA ? A[k * lda + i] : A[i * lda + k]); };
  auto b_at = [&](int64_t k, int64_t j) { return k >= K ? 0.0f : transB ? B[j * ldb + k] : B[k * ldb + j]; };
  std::vector<uint32_t> aPairs(static_cast<size_t>(M * P)), bColumn(static_cast<size_t>(P));
  for (int64_t i = 0; i < M; i++) {
    for (int64_t p = 0; p < P; p++) aPairs[i * P + p] = bf16_pair(a_at(i, 2 * p), a_at(i, 2 * p + 1));
  }
  for (int64_t j = 0; j < N; j++) {
    for (int64_t p = 0; p < P; p++) bColumn[p] = bf16_pair(b_at(2 * p, j), b_at(2 * p + 1, j));
    for (int64_t i = 0; i < M; i++) {
      float& c = C[i * ldc + j];
      float acc = beta == 0.0f ? 0.0f : beta * c;
      for (int64_t p = 0; p < P; p++) acc = bf16_dot_step(acc, aPairs[i * P + p], bColumn[p]);
      c = acc;
    }
  }
}

}  // namespace rnnkit
