// The AVX-512 BF16 kernels (contract in bf16.h): packing that rounds fp32 to bf16 pair words
// (VCVTNE2PS2BF16), an 8×48 micro-tile on VDPBF16PS (24 zmm accumulators, like the fp32 AVX-512
// tile, each instruction doing twice the FMA's work) and the peak loop. Every function here carries
// target("avx512f,avx512bw,avx512vl,avx512bf16") and is reached only through bf16_ops(), which checks the CPU first.
#include "bf16.h"
#include "engine.h"
#include "target_region.h"

#if RNNKIT_X86_SIMD
#include <immintrin.h>

#include <chrono>
#include <cstdint>

RNNKIT_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx512bf16")

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
  const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21,
                                         5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_permutexvar_epi16(order, halves);
}
// Pair words along a row: word p = bf16(x[2p]) | bf16(x[2p+1]) << 16 for 16 pairs (32 floats).
inline __m512i pairs_along(__m512 lo, __m512 hi) { return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo)); }

// A micro-tile's accumulator for `left` columns of C at c: zero when beta is 0 (C not read), else beta·C
// (one fp32 multiply; C itself for beta 1).
inline __m512 start_acc(const float* c, int left, float beta) {
  if (beta == 0.0f) return _mm512_setzero_ps();
  const __m512 old = load_n(c, left);
  return beta == 1.0f ? old : _mm512_mul_ps(_mm512_set1_ps(beta), old);
}
// Stores the first `left` (<= 0: none) lanes of v at c.
inline void store_acc(float* c, int left, __m512 v) {
  if (left >= W) {
    _mm512_storeu_ps(c, v);
  } else if (left > 0) {
    _mm512_mask_storeu_ps(c, tail_mask(left), v);
  }
}

// dst[p] = pair words of row x[0 : kc] scaled by alpha (zero-padded to even), p < ceil(kc/2).
void row_to_pairs(const float* x, int64_t kc, float alpha, uint32_t* dst) {
  const __m512 va = _mm512_set1_ps(alpha);
  for (int64_t k = 0; k < kc; k += 2 * W) {
    __m512 lo = load_n(x + k, kc - k), hi = load_n(x + k + W, kc - k - W);
    if (alpha != 1.0f) {
      lo = _mm512_mul_ps(lo, va);
      hi = _mm512_mul_ps(hi, va);
    }
    const int64_t pairs = (kc - k + 1) / 2 < W ? (kc - k + 1) / 2 : W;
    _mm512_mask_storeu_epi32(dst + k / 2, tail_mask(pairs), pairs_along(lo, hi));
  }
}

// dst[p·NR + c] = pair(rows k = 2p, 2p+1 of a row-major block)[c] for c < 16, zeros past n: 16 columns
// of a panel whose rows are contiguous in the column index (op(B) = B).
void rows_to_pairs(const float* x, int64_t ld, int64_t kc, int64_t n, uint32_t* dst) {
  for (int64_t k = 0; k < kc; k += 2) {
    const __m512 even = load_n(x + k * ld, n), odd = k + 1 < kc ? load_n(x + (k + 1) * ld, n) : _mm512_setzero_ps();
    _mm512_storeu_si512(dst + (k / 2) * NR, pairs_of_rows(even, odd));
  }
}

// A 16×16 transpose of 32-bit words: r[i] holds row i on entry, column i on exit (unpack within
// 128-bit lanes, then regroup the lanes).
inline void transpose16(__m512i r[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int g = 0; g < 16; g += 4) {  // u[g + j]: rows g..g+3 of columns j, j+4, j+8, j+12 (one per lane)
    u[g] = _mm512_unpacklo_epi64(t[g], t[g + 2]);
    u[g + 1] = _mm512_unpackhi_epi64(t[g], t[g + 2]);
    u[g + 2] = _mm512_unpacklo_epi64(t[g + 1], t[g + 3]);
    u[g + 3] = _mm512_unpackhi_epi64(t[g + 1], t[g + 3]);
  }
  for (int j = 0; j < 4; j++) {
    const __m512i x0 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x44), x1 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xEE);
    const __m512i y0 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x44),
                  y1 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xEE);
    r[j] = _mm512_shuffle_i32x4(x0, y0, 0x88);
    r[j + 4] = _mm512_shuffle_i32x4(x0, y0, 0xDD);
    r[j + 8] = _mm512_shuffle_i32x4(x1, y1, 0x88);
    r[j + 12] = _mm512_shuffle_i32x4(x1, y1, 0xDD);
  }
}

// dst[p·stride + c] = pair words of row c of x (x[c·ld + 2p], x[c·ld + 2p + 1]) for c < 16 (zeros past
// n), p < ceil(kc/2): 16 columns of a panel whose rows are contiguous in k (op(B) = Bᵀ), 16 pairs at a
// time converted along the rows and transposed in registers.
void rows_along_to_pairs(const float* x, int64_t ld, int64_t kc, int64_t n, uint32_t* dst, int64_t stride) {
  for (int64_t k = 0; k < kc; k += 2 * W) {
    __m512i w[W];
    for (int c = 0; c < W; c++) {
      w[c] = c < n ? pairs_along(load_n(x + c * ld + k, kc - k), load_n(x + c * ld + k + W, kc - k - W))
                   : _mm512_setzero_si512();
    }
    transpose16(w);
    const int64_t pairs = (kc - k + 1) / 2 < W ? (kc - k + 1) / 2 : W;
    for (int64_t p = 0; p < pairs; p++) _mm512_storeu_si512(dst + (k / 2 + p) * stride, w[p]);
  }
}

// Tile layouts (Bf16Ops::pack_a): transA → [kp][m] (pairs of two rows of A, 8 lanes at a time);
// otherwise row-major [m][kp] (each row of A converted along k, contiguous stores).
void pack_a(bool transA, const float* A, int64_t lda, int64_t m, int64_t kc, float alpha, uint32_t* dst) {
  if (!transA) {
    for (int64_t r = 0; r < m; r++) row_to_pairs(A + r * lda, kc, alpha, dst + r * ((kc + 1) / 2));
    return;
  }
  const __mmask8 lanes = static_cast<__mmask8>((1u << m) - 1u);
  const __m256 va = _mm256_set1_ps(alpha);
  const __m256i order = _mm256_set_epi16(15, 7, 14, 6, 13, 5, 12, 4, 11, 3, 10, 2, 9, 1, 8, 0);
  for (int64_t k = 0; k < kc; k += 2) {
    __m256 even = _mm256_maskz_loadu_ps(lanes, A + k * lda);
    __m256 odd = k + 1 < kc ? _mm256_maskz_loadu_ps(lanes, A + (k + 1) * lda) : _mm256_setzero_ps();
    if (alpha != 1.0f) {
      even = _mm256_mul_ps(even, va);
      odd = _mm256_mul_ps(odd, va);
    }
    const __m256i halves = reinterpret_cast<__m256i>(_mm256_cvtne2ps_pbh(odd, even));
    _mm256_mask_storeu_epi32(dst + (k / 2) * m, lanes, _mm256_permutexvar_epi16(order, halves));
  }
}

void pack_b(bool transB, const float* B, int64_t ldb, int64_t kc, int64_t n, uint32_t* dst) {
  const int64_t kp = (kc + 1) / 2;
  for (int64_t j0 = 0; j0 < n; j0 += NR) {
    const int64_t nn = n - j0 < NR ? n - j0 : NR;
    uint32_t* d = dst + (j0 / NR) * kp * NR;
    for (int v = 0; v < NV; v++) {
      const int64_t c0 = v * W, cols = nn - c0;
      if (!transB) {
        rows_to_pairs(B + j0 + c0, ldb, kc, cols, d + c0);
        continue;
      }
      rows_along_to_pairs(B + (j0 + c0) * ldb, ldb, kc, cols, d + c0, NR);
    }
  }
}

// C[R, n] = chain from acc = (beta == 0 ? 0 : beta·C) over kp pairs, V <= NV vectors of columns. The
// row tile is [kp][R] words, or with ROWS row-major (row r at a + r·lda).
template <int R, int V, bool ROWS>
void micro_tile(int n, int64_t kp, const uint32_t* __restrict a, int64_t lda, const uint32_t* __restrict b, float* C,
                int64_t ldc, float beta) {
  const uint32_t* rowp[R];
#pragma GCC unroll 32
  for (int r = 0; r < R; r++) rowp[r] = a + r * lda;
  __m512 acc[R][V];
#pragma GCC unroll 32
  for (int r = 0; r < R; r++) {
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) acc[r][v] = start_acc(C + r * ldc + v * W, n - v * W, beta);
  }
#pragma GCC unroll 2
  for (int64_t p = 0; p < kp; p++) {
    __m512bh bv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) bv[v] = reinterpret_cast<__m512bh>(_mm512_loadu_si512(b + v * W));
#pragma GCC unroll 32
    for (int r = 0; r < R; r++) {
      const uint32_t word = ROWS ? rowp[r][p] : a[r];
      const __m512bh av = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(word)));
#pragma GCC unroll 4
      for (int v = 0; v < V; v++) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], av, bv[v]);
    }
    if (!ROWS) a += R;
    b += NR;
  }
#pragma GCC unroll 32
  for (int r = 0; r < R; r++) {
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) store_acc(C + r * ldc + v * W, n - v * W, acc[r][v]);
  }
}

using TileFn = void (*)(int, int64_t, const uint32_t*, int64_t, const uint32_t*, float*, int64_t, float);
struct Tiles {
  TileFn fn[MR][NV][2];  // [rows−1][vectors−1][row-major]
};
template <int R, int V>
constexpr void fill_tiles(Tiles& t) {
  t.fn[R - 1][V - 1][0] = &micro_tile<R, V, false>;
  t.fn[R - 1][V - 1][1] = &micro_tile<R, V, true>;
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

void kernel(int m, int n, int64_t kp, const uint32_t* a, bool transA, const uint32_t* b, float* C, int64_t ldc,
            float beta) {
  kTiles.fn[m - 1][(n + W - 1) / W - 1][transA ? 0 : 1](n, kp, a, kp, b, C, ldc, beta);
}

// ---- a few rows against a weight snapshot (Bf16Ops::pack_w, kernel_few) -------------------------

constexpr int FEW_ROWS = 4, FEW_PANELS = 4;

void pack_w(const float* x, int64_t ld, int64_t K, int64_t n, uint32_t* dst) {
  rows_along_to_pairs(x, ld, K, n, dst, W);
}

// C[M, cols] over NP panels of 16 columns: M·NP independent chains, each panel streamed once for all M
// rows (a batch-1 product is memory-bound: the panels are the bytes that count).
template <int M, int NP>
void few_tile(int cols, int64_t kp, const uint32_t* __restrict a, const uint32_t* __restrict w, int64_t panelStride,
              float* C, int64_t ldc, float beta) {
  __m512 acc[M][NP];
#pragma GCC unroll 4
  for (int r = 0; r < M; r++) {
#pragma GCC unroll 4
    for (int i = 0; i < NP; i++) acc[r][i] = start_acc(C + r * ldc + i * W, cols - i * W, beta);
  }
#pragma GCC unroll 2
  for (int64_t p = 0; p < kp; p++) {
    __m512bh wv[NP];
#pragma GCC unroll 4
    for (int i = 0; i < NP; i++) wv[i] = reinterpret_cast<__m512bh>(_mm512_loadu_si512(w + i * panelStride + p * W));
#pragma GCC unroll 4
    for (int r = 0; r < M; r++) {
      const __m512bh av = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(a[r * kp + p])));
#pragma GCC unroll 4
      for (int i = 0; i < NP; i++) acc[r][i] = _mm512_dpbf16_ps(acc[r][i], av, wv[i]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < M; r++) {
#pragma GCC unroll 4
    for (int i = 0; i < NP; i++) store_acc(C + r * ldc + i * W, cols - i * W, acc[r][i]);
  }
}

using FewFn = void (*)(int, int64_t, const uint32_t*, const uint32_t*, int64_t, float*, int64_t, float);
struct FewTiles {
  FewFn fn[FEW_ROWS][FEW_PANELS];  // [rows−1][panels−1]
};
template <int M, int NP>
constexpr void fill_few(FewTiles& t) {
  t.fn[M - 1][NP - 1] = &few_tile<M, NP>;
  if constexpr (NP > 1) {
    fill_few<M, NP - 1>(t);
  } else if constexpr (M > 1) {
    fill_few<M - 1, FEW_PANELS>(t);
  }
}
constexpr FewTiles make_few() {
  FewTiles t{};
  fill_few<FEW_ROWS, FEW_PANELS>(t);
  return t;
}
constexpr FewTiles kFew = make_few();

void kernel_few(int m, int np, int cols, int64_t kp, const uint32_t* a, const uint32_t* w, int64_t panelStride,
                float* C, int64_t ldc, float beta) {
  kFew.fn[m - 1][np - 1](cols, kp, a, w, panelStride, C, ldc, beta);
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

constexpr Bf16Ops kOps = {"avx512_bf16", MR,       NR,         KP,      &pack_a,     &pack_b,
                          &kernel,       FEW_ROWS, FEW_PANELS, &pack_w, &kernel_few, &peak_flops};

}  // namespace
}  // namespace avx512_bf16
}  // namespace rnnkit

RNNKIT_TARGET_END

namespace rnnkit {
const Bf16Ops* avx512_bf16_ops() { return &avx512_bf16::kOps; }
}  // namespace rnnkit

#endif  // RNNKIT_X86_SIMD
