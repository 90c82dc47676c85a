// A stand-alone check of the bf16 kernels (not part of the addon), built with AddressSanitizer and UBSan:
//
//   g++ -std=c++17 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -pthread \
//       native/bf16_check.cc native/bf16.cc native/gemm_bf16.cc native/simd_avx512_bf16.cc native/engine.cc \
//       native/threadpool.cc native/gemm.cc native/simd_avx2.cc native/simd_avx512.cc \
//       -o /tmp/rnnkit-bf16-check && /tmp/rnnkit-bf16-check
//
// 1. The emulation (bf16.cc) on hand-made cases whose bits are worked out in the comments: rounding
//    ties, subnormals, the order of the two products.
// 2. The AVX-512 BF16 GEMM (sgemm_bf16) against the emulation, bit for bit: 4 transposes, alpha/beta,
//    awkward and K-blocked shapes, 1/2/3 threads; and the few-row product over a weight snapshot
//    (sgemm_bf16_weights, sampling's path) likewise. Skipped (exit 0, said so) when the CPU lacks the
//    instruction. Exit status 0 when everything matches.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "bf16.h"
#include "check_random.h"
#include "engine.h"

using namespace rnnkit;
using rnnkit_check::random_vector;

namespace {

int failures = 0;

uint32_t bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
float from_bits(uint32_t b) {
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

void expect(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAIL %s\n", what);
    failures++;
  }
}

void check_emulation() {
  // Rounding: 1 + 2^-8 is halfway between bf16 1 and 1 + 2^-7: ties to even (1). 1 + 3·2^-8 is halfway
  // between 1 + 2^-7 and 1 + 2^-6: to the even one, 1 + 2^-6 (0x3f82).
  expect(bf16_round(1.0f + std::ldexp(1.0f, -8)) == 0x3f80, "tie to even, down");
  expect(bf16_round(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3f82, "tie to even, up");
  expect(bf16_round(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)) == 0x3f81, "above the tie rounds up");
  expect(bf16_round(from_bits(0x00400000u)) == 0x0000, "subnormal input becomes +0");
  expect(bf16_round(from_bits(0x80400000u)) == 0x8000, "negative subnormal input becomes -0");
  expect(bf16_round(from_bits(0x7f7fffffu)) == 0x7f80, "FLT_MAX rounds to +inf");
  expect(bf16_round(from_bits(0x7fa00001u)) == 0x7fe0, "signalling NaN becomes quiet");
  // Order: acc = 2^24 (fp32 spacing 2 there), odd product 1, even product 2. Odd first: 2^24 + 1 is a
  // tie → 2^24 (even), + 2 → 2^24 + 2. Even first would give 2^24 + 2, + 1 → tie → 2^24 + 4.
  const uint32_t one = 0x3f80, two = 0x4000;
  const float big = 16777216.0f;
  expect(bf16_dot_step(big, two | one << 16, one | one << 16) == big + 2, "odd pair added first");
  // Subnormal accumulator reads as zero; a subnormal result is flushed: 2^-100·2^-40 = 2^-140 → +0.
  expect(bits(bf16_dot_step(from_bits(0x00000001u), 0, 0)) == 0, "subnormal accumulator reads as 0");
  const uint32_t tiny = bf16_round(std::ldexp(1.0f, -100)), small = bf16_round(std::ldexp(1.0f, -40));
  expect(bits(bf16_dot_step(0.0f, tiny, small)) == 0, "subnormal result flushed to 0");
  // An exact product: (1 + 2^-7)·(1 + 2^-7) = 1 + 2^-6 + 2^-14, exact in fp32.
  const uint32_t a = bf16_round(1.0f + std::ldexp(1.0f, -7));
  expect(bf16_dot_step(0.0f, a, a) == 1.0f + std::ldexp(1.0f, -6) + std::ldexp(1.0f, -14), "product exact in fp32");
}

// sgemm_bf16 against the emulation for one case; C starts random (beta ≠ 0 reads it).
void check_gemm(const Bf16Ops& ops, bool tA, bool tB, int64_t M, int64_t N, int64_t K, float alpha, float beta,
                int threads) {
  rnnkit_check::state = static_cast<uint32_t>(M * 131 + N * 7 + K * 3 + (tA ? 1 : 0) + (tB ? 2 : 0));
  const int64_t lda = (tA ? M : K) + 3, ldb = (tB ? K : N) + 5, ldc = N + 2;
  const std::vector<float> A = random_vector((tA ? K : M) * lda), B = random_vector((tB ? N : K) * ldb, 3.0f);
  std::vector<float> want = random_vector(M * ldc), got = want;
  bf16_gemm_emulated(tA, tB, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, want.data(), ldc);
  configure_engine(best_simd_level(), threads);
  sgemm_bf16(ops, tA, tB, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, got.data(), ldc);
  int64_t bad = 0;
  for (size_t i = 0; i < want.size(); i++) bad += bits(want[i]) != bits(got[i]);
  if (bad) {
    std::printf("FAIL gemm tA=%d tB=%d M=%lld N=%lld K=%lld alpha=%g beta=%g threads=%d: %lld elements differ\n", tA,
                tB, (long long)M, (long long)N, (long long)K, alpha, beta, threads, (long long)bad);
    failures++;
  }
}

// sgemm_bf16_weights (A·Wᵀ over a snapshot of W, row strides lda and ldc wider than the matrices) against
// the emulation for one case.
void check_snapshot(const Bf16Ops& ops, int64_t M, int64_t N, int64_t K, float alpha, float beta, int threads) {
  rnnkit_check::state = static_cast<uint32_t>(M * 17 + N * 5 + K);
  const int64_t lda = K + 3, ldc = N + 2;
  const std::vector<float> A = random_vector(M * lda), W = random_vector(N * K, 2.0f);
  std::vector<float> want = random_vector(M * ldc), got = want;
  bf16_gemm_emulated(false, true, M, N, K, alpha, A.data(), lda, W.data(), K, beta, want.data(), ldc);
  configure_engine(best_simd_level(), threads);
  const Bf16Snapshot snapshot(ops, {{W.data(), 1, N, K}});
  sgemm_bf16_weights(ops, *snapshot.find(W.data(), N, K, K), M, alpha, A.data(), lda, beta, got.data(), ldc);
  int64_t bad = 0;
  for (size_t i = 0; i < want.size(); i++) bad += bits(want[i]) != bits(got[i]);
  if (bad) {
    std::printf("FAIL snapshot M=%lld N=%lld K=%lld alpha=%g beta=%g threads=%d: %lld elements differ\n", (long long)M,
                (long long)N, (long long)K, alpha, beta, threads, (long long)bad);
    failures++;
  }
}

}  // namespace

int main() {
  check_emulation();
  const Bf16Ops* ops = bf16_ops();
  if (!ops) {
    std::printf("bf16 kernels skipped: %s\n", bf16_unavailable_reason());
  } else {
    const int64_t shapes[][3] = {{1, 1, 1},       {1, 50, 7},     {7, 1, 33},     {8, 48, 64},    {9, 49, 65},
                                 {13, 97, 1},     {3, 17, 2},     {127, 130, 3},  {128, 47, 129}, {200, 100, 1030},
                                 {31, 300, 2049}, {257, 61, 513}, {64, 2048, 256}};
    const float scalars[][2] = {{1, 0}, {1, 1}, {0.5f, -2}, {-1.25f, 0.75f}};
    int cases = 0;
    for (const auto& s : shapes) {
      for (int t = 0; t < 4; t++) {
        for (const auto& ab : scalars) {
          for (int threads = 1; threads <= 3; threads++) {
            check_gemm(*ops, t & 1, t & 2, s[0], s[1], s[2], ab[0], ab[1], threads);
            cases++;
          }
        }
      }
    }
    std::printf("bf16 gemm (%s): %d cases against the emulation\n", ops->name, cases);
    const int64_t fewShapes[][3] = {{1, 1, 1}, {1, 17, 2}, {2, 64, 33}, {4, 65, 512}, {5, 300, 7}, {9, 2048, 129}};
    int fewCases = 0;
    for (const auto& s : fewShapes) {
      for (const auto& ab : scalars) {
        for (int threads = 1; threads <= 3; threads++, fewCases++)
          check_snapshot(*ops, s[0], s[1], s[2], ab[0], ab[1], threads);
      }
    }
    std::printf("bf16 snapshot products: %d cases against the emulation\n", fewCases);
  }
  std::printf(failures ? "%d FAILURES\n" : "all bf16 checks passed\n", failures);
  return failures ? 1 : 0;
}
