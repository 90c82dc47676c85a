// The AVX-512 BF16 kernels (contract in bf16.h): packing that rounds fp32 to bf16 pair words
// (VCVTNE2PS2BF16), an 8×48 micro-tile on VDPBF16PS (24 zmm accumulators, like the fp32 AVX-512
// tile, each instruction doing twice the FMA's work) and the peak loop. Every function here carries
// target("avx512f,avx512bw,avx512bf16") and is reached only through bf16_ops(), which checks the CPU first.
#include "bf16.h"
#include "engine.h"

#if RNNKIT_X86_SIMD
#include <immintrin.h>

#include <chrono>
#include <cstdint>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512bf16"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512bf16")
#endif

namespace rnnkit {
namespace avx512_bf16 {
namespace {

constexpr int W = 16, NV = 3, NR = NV * W, MR = 8, KP = 512, NACC = 24;

inline __mmask16 tail_mask(int64_t n) { return n >= W ? __mmask16(0xffff) : static_cast<__mmask16>((1u << n) - 1u); }
inline __m512 load_n(const float* p, int64_t n) {
  return n >= W ? _mm512_loadu_ps(p) : n <= 0 ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(tail_mask(n), p);
}

// Pair words of two rows: word j = bf16(even[j]) | bf16(odd[j]) << 16 for 16 columns.
inline __m512i pairs_of_rows(__m512 even, __m512 odd) {
  // cvtne2ps gives the 16 bf16 of `even` in the low half and of `odd` in the high half; interleave.
  const __m512i halves = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(odd, even));
  const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6,
                                         21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_permutexvar_epi16(order, halves);
}
// Pair words along a row: word p = bf16(x[2p]) | bf16(x[2p+1]) << 16 for 16 pairs (32 floats).
inline __m512i pairs_along(__m512 lo, __m512 hi) { return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo)); }

// dst[p·stride] = pair words of row x[0 : kc] (zero-padded to even), p < ceil(kc/2).
void row_to_pairs(const float* x, int64_t kc, float alpha, uint32_t* dst, int64_t stride) {
  const __m512 va = _mm512_set1_ps(alpha);
  alignas(64) uint32_t words[W];
  for (int64_t k = 0; k < kc; k += 2 * W) {
    __m512 lo = load_n(x + k, kc - k), hi = load_n(x + k + W, kc - k - W);
    if (alpha != 1.0f) {
      lo = _mm512_mul_ps(lo, va);
      hi = _mm512_mul_ps(hi, va);
    }
    _mm512_store_si512(words, pairs_along(lo, hi));
    const int64_t pairs = (kc - k + 1) / 2 < W ? (kc - k + 1) / 2 : W;
    for (int64_t p = 0; p < pairs; p++) dst[(k / 2 + p) * stride] = words[p];
  }
}

// dst[p·stride + c] = pair(rows k = 2p, 2p+1 of a row-major block)[c] for c < n <= 16: rows are
// contiguous in the column index (op(B) = B, or op(A) = Aᵀ).
void rows_to_pairs(const float* x, int64_t ld, int64_t kc, int64_t n, float alpha, uint32_t* dst, int64_t stride,
                   bool fullStore) {
  const __m512 va = _mm512_set1_ps(alpha);
  alignas(64) uint32_t words[W];
  for (int64_t k = 0; k < kc; k += 2) {
    __m512 even = load_n(x + k * ld, n), odd = k + 1 < kc ? load_n(x + (k + 1) * ld, n) : _mm512_setzero_ps();
    if (alpha != 1.0f) {
      even = _mm512_mul_ps(even, va);
      odd = _mm512_mul_ps(odd, va);
    }
    const __m512i w = pairs_of_rows(even, odd);
    uint32_t* d = dst + (k / 2) * stride;
    if (fullStore) {
      _mm512_storeu_si512(d, w);  // a panel's 16 columns, zeros past n
    } else {
      _mm512_store_si512(words, w);
      for (int64_t c = 0; c < n; c++) d[c] = words[c];
    }
  }
}

void pack_a(bool transA, const float* A, int64_t lda, int64_t m, int64_t kc, float alpha, uint32_t* dst) {
  if (transA) {
    rows_to_pairs(A, lda, kc, m, alpha, dst, m, false);
    return;
  }
  for (int64_t r = 0; r < m; r++) row_to_pairs(A + r * lda, kc, alpha, dst + r, m);
}

void pack_b(bool transB, const float* B, int64_t ldb, int64_t kc, int64_t n, uint32_t* dst) {
  const int64_t kp = (kc + 1) / 2;
  for (int64_t j0 = 0; j0 < n; j0 += NR) {
    const int64_t nn = n - j0 < NR ? n - j0 : NR;
    uint32_t* d = dst + (j0 / NR) * kp * NR;
    for (int v = 0; v < NV; v++) {
      const int64_t c0 = v * W, cols = nn - c0;
      if (!transB) {
        rows_to_pairs(B + j0 + c0, ldb, kc, cols, 1.0f, d + c0, NR, true);
        continue;
      }
      // Column c of the panel is row j0+c of B: convert it along k, one column at a time.
      for (int64_t c = 0; c < W; c++) {
        if (c < cols) {
          row_to_pairs(B + (j0 + c0 + c) * ldb, kc, 1.0f, d + c0 + c, NR);
        } else {
          for (int64_t p = 0; p < kp; p++) d[p * NR + c0 + c] = 0;
        }
      }
    }
  }
}

// C[R, n] = chain from acc = (beta == 0 ? 0 : beta·C) over kp pairs, V <= NV vectors of columns.
template <int R, int V>
void micro_tile(int n, int64_t kp, const uint32_t* __restrict a, const uint32_t* __restrict b, float* C, int64_t ldc,
                float beta) {
  __m512 acc[R][V];
  const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 32
  for (int r = 0; r < R; r++) {
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
      if (beta == 0.0f) {
        acc[r][v] = _mm512_setzero_ps();
      } else {
        const __m512 old = load_n(C + r * ldc + v * W, n - v * W);
        acc[r][v] = beta == 1.0f ? old : _mm512_mul_ps(vb, old);
      }
    }
  }
#pragma GCC unroll 2
  for (int64_t p = 0; p < kp; p++) {
    __m512bh bv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) bv[v] = reinterpret_cast<__m512bh>(_mm512_loadu_si512(b + v * W));
#pragma GCC unroll 32
    for (int r = 0; r < R; r++) {
      const __m512bh av = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(a[r])));
#pragma GCC unroll 4
      for (int v = 0; v < V; v++) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], av, bv[v]);
    }
    a += R;
    b += NR;
  }
#pragma GCC unroll 32
  for (int r = 0; r < R; r++) {
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
      const int left = n - v * W;
      if (left >= W) {
        _mm512_storeu_ps(C + r * ldc + v * W, acc[r][v]);
      } else {
        _mm512_mask_storeu_ps(C + r * ldc + v * W, tail_mask(left), acc[r][v]);
      }
    }
  }
}

using TileFn = void (*)(int, int64_t, const uint32_t*, const uint32_t*, float*, int64_t, float);
struct Tiles {
  TileFn fn[MR][NV];
};
template <int R, int V>
constexpr void fill_tiles(Tiles& t) {
  t.fn[R - 1][V - 1] = &micro_tile<R, V>;
  if constexpr (V > 1) {
    fill_tiles<R, V - 1>(t);
  } else if constexpr (R > 1) {
    fill_tiles<R - 1, NV>(t);
  }
}
constexpr Tiles make_tiles() {
  Tiles t{};
  fill_tiles<MR, NV>(t);
  return t;
}
constexpr Tiles kTiles = make_tiles();

void kernel(int m, int n, int64_t kp, const uint32_t* a, const uint32_t* b, float* C, int64_t ldc, float beta) {
  kTiles.fn[m - 1][(n + W - 1) / W - 1](n, kp, a, b, C, ldc, beta);
}

// NACC independent VDPBF16PS chains; the pairs (x, y) = (1 − 2⁻⁸, 2⁻²⁰) keep the values bounded.
double peak_flops(double seconds) {
  __m512 acc[NACC];
  for (int i = 0; i < NACC; i++) acc[i] = _mm512_set1_ps(1.0f + 0.01f * static_cast<float>(i));
  volatile float vx = 0.99609375f, vy = 1e-6f;
  const __m512bh x = _mm512_cvtne2ps_pbh(_mm512_set1_ps(vx), _mm512_set1_ps(vx));
  const __m512bh y = _mm512_cvtne2ps_pbh(_mm512_set1_ps(vy), _mm512_set1_ps(vy));
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  int64_t iterations = 0;
  do {
    for (int rep = 0; rep < 8192; rep++) {
#pragma GCC unroll 32
      for (int i = 0; i < NACC; i++) acc[i] = _mm512_dpbf16_ps(acc[i], x, y);
    }
    iterations += 8192;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < seconds);
  __m512 sum = acc[0];
  for (int i = 1; i < NACC; i++) sum = _mm512_add_ps(sum, acc[i]);
  alignas(64) float lanes[W];
  _mm512_store_ps(lanes, sum);
  volatile float sink = lanes[0];
  (void)sink;
  return static_cast<double>(iterations) * NACC * W * 4 / elapsed;
}

constexpr Bf16Ops kOps = {"avx512_bf16", MR, NR, KP, &pack_a, &pack_b, &kernel, &peak_flops};

}  // namespace
}  // namespace avx512_bf16
}  // namespace rnnkit

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace rnnkit {
const Bf16Ops* avx512_bf16_ops() { return &avx512_bf16::kOps; }
}  // namespace rnnkit

#endif  // RNNKIT_X86_SIMD
