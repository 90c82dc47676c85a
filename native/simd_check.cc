// A stand-alone check of the SIMD kernel tables (not part of the addon), built with AddressSanitizer and
// UBSan so that an out-of-bounds access in a packing routine, a masked tail or a micro-tile shows up:
//
//   g++ -std=c++17 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -pthread \
//       native/simd_check.cc native/engine.cc native/threadpool.cc native/gemm.cc native/cells.cc native/ops.cc \
//       native/gemm_bf16.cc native/bf16.cc native/simd_avx512_bf16.cc \
//       native/simd_avx2.cc native/simd_avx512.cc -o /tmp/rnnkit-simd-check && /tmp/rnnkit-simd-check
//
// On AArch64 it checks the NEON table; from an x86 machine, cross-built and run under qemu (Debian's
// g++-aarch64-linux-gnu and qemu-user; UBSan only, ASan does not run under qemu-user):
//
//   aarch64-linux-gnu-g++ -std=c++17 -O1 -g -fsanitize=undefined -fno-sanitize-recover=all -pthread \
//       native/simd_check.cc native/engine.cc native/threadpool.cc native/gemm.cc native/cells.cc \
//       native/ops.cc native/gemm_bf16.cc native/bf16.cc native/simd_neon.cc -o /tmp/rnnkit-simd-check-arm64 && \
//       qemu-aarch64 -L /usr/aarch64-linux-gnu /tmp/rnnkit-simd-check-arm64
//
// Tables checked: every level this CPU runs, plus (x86) "emu512": simd_ops.inc instantiated with the AVX-512
// level's shape (16-float vectors, 8×48 micro-tile, K blocks of 512) but each vector made of two AVX2
// halves. It runs on any AVX2 machine and exercises everything in the AVX-512 kernels except the
// AVX-512 intrinsics themselves (the thin wrappers in simd_avx512.cc) — this machine has no AVX-512.
// For each table: GEMM (4 transposes, alpha/beta, awkward and blocked shapes, 1/2/3 threads) against a
// float64 reference, the 1-row product over an fp32 weight snapshot against the same row without it, the four cells
// forward and backward against the portable code, gemv_cols (the attention context) against double, and
// exp/tanh/sigmoid against libm in double (max ulp). Exit status 0
// when everything is within tolerance.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "check_random.h"
#include "engine.h"
#include "kernels.h"
#include "target_region.h"

#if RNNKIT_X86_SIMD
#include <immintrin.h>

RNNKIT_TARGET_BEGIN("avx2,fma")

namespace rnnkit {
namespace emu512 {
namespace {

struct Vec {
  __m256 lo, hi;
};
using Mask = Vec;
constexpr int W = 16, NV = 3, MR = 8, KC = 512, NACC = 24;
constexpr const char* kName = "emu512";

alignas(64) constexpr int32_t kTailMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
inline __m256i half_mask(int n) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTailMask + 8 - n)); }

template <class F>
inline Vec map2(Vec a, Vec b, F f) {
  return {f(a.lo, b.lo), f(a.hi, b.hi)};
}
inline Vec vzero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
inline Vec vset(float x) { return {_mm256_set1_ps(x), _mm256_set1_ps(x)}; }
inline Vec vload(const float* p) { return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
inline void vstore(float* p, Vec x) {
  _mm256_storeu_ps(p, x.lo);
  _mm256_storeu_ps(p + 8, x.hi);
}
inline Vec vloadn(const float* p, int n) {
  return {_mm256_maskload_ps(p, half_mask(std::min(n, 8))),
          n > 8 ? _mm256_maskload_ps(p + 8, half_mask(n - 8)) : _mm256_setzero_ps()};
}
inline void vstoren(float* p, Vec x, int n) {
  _mm256_maskstore_ps(p, half_mask(std::min(n, 8)), x.lo);
  if (n > 8) _mm256_maskstore_ps(p + 8, half_mask(n - 8), x.hi);
}
inline Vec vbcast(const float* p) { return vset(*p); }
inline Vec vfma(Vec a, Vec b, Vec c) { return {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)}; }
inline Vec vfnma(Vec a, Vec b, Vec c) {
  return {_mm256_fnmadd_ps(a.lo, b.lo, c.lo), _mm256_fnmadd_ps(a.hi, b.hi, c.hi)};
}
inline Vec vadd(Vec a, Vec b) {
  return map2(a, b, [](__m256 x, __m256 y) { return _mm256_add_ps(x, y); });
}
inline Vec vsub(Vec a, Vec b) {
  return map2(a, b, [](__m256 x, __m256 y) { return _mm256_sub_ps(x, y); });
}
inline Vec vmul(Vec a, Vec b) {
  return map2(a, b, [](__m256 x, __m256 y) { return _mm256_mul_ps(x, y); });
}
inline Vec vdiv(Vec a, Vec b) {
  return map2(a, b, [](__m256 x, __m256 y) { return _mm256_div_ps(x, y); });
}
inline Vec vmaxn(Vec lo, Vec x) {
  return map2(lo, x, [](__m256 a, __m256 b) { return _mm256_max_ps(a, b); });
}
inline Vec vminn(Vec hi, Vec x) {
  return map2(hi, x, [](__m256 a, __m256 b) { return _mm256_min_ps(a, b); });
}
inline __m256 round_half(__m256 x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
inline Vec vround(Vec x) { return {round_half(x.lo), round_half(x.hi)}; }
inline __m256 pow2_half(__m256 n) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
}
inline Vec vpow2i(Vec n) { return {pow2_half(n.lo), pow2_half(n.hi)}; }
inline __m256 abs_half(__m256 x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
inline Vec vabs(Vec x) { return {abs_half(x.lo), abs_half(x.hi)}; }
inline Vec vcopysign(Vec mag, Vec sign) {
  const __m256 s = _mm256_set1_ps(-0.0f);
  return {_mm256_or_ps(abs_half(mag.lo), _mm256_and_ps(s, sign.lo)),
          _mm256_or_ps(abs_half(mag.hi), _mm256_and_ps(s, sign.hi))};
}
inline Mask vlt(Vec a, Vec b) {
  return map2(a, b, [](__m256 x, __m256 y) { return _mm256_cmp_ps(x, y, _CMP_LT_OQ); });
}
inline Vec vselect(Mask m, Vec t, Vec f) {
  return {_mm256_blendv_ps(f.lo, t.lo, m.lo), _mm256_blendv_ps(f.hi, t.hi, m.hi)};
}
inline void vprefetch(const float* p) { _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0); }

#include "simd_ops.inc"

}  // namespace
}  // namespace emu512
}  // namespace rnnkit

RNNKIT_TARGET_END
#endif  // RNNKIT_X86_SIMD

using namespace rnnkit;
using namespace rnnkit_check;

namespace {

int failures = 0, checks = 0;
void fail(const char* table, const char* what) {
  failures++;
  std::printf("FAIL %s: %s\n", table, what);
}

// |C − C_ref| <= 1e-5·(|alpha|·Σ_k |a||b| + |beta·C0|) + 1e-30 elementwise, reference in double.
void check_gemm(const SimdOps* ops, const char* name, int threads, bool tA, bool tB, int64_t M, int64_t N, int64_t K,
                float alpha, float beta) {
  configure_engine(SimdLevel::Scalar, threads);  // the level is ignored by sgemm_with; threads count
  state = static_cast<uint32_t>(M * 7 + N * 131 + K * 3 + tA + 2 * tB);
  const std::vector<float> A = random_vector(M * K), B = random_vector(K * N);
  // C with a guard band of NaNs around it: beta == 0 must not read C, nothing may write outside it.
  const int64_t guard = 64;
  std::vector<float> C0 = random_vector(M * N);
  std::vector<float> buf(static_cast<size_t>(M * N + 2 * guard), NAN);
  float* C = buf.data() + guard;
  for (int64_t i = 0; i < M * N; i++) C[i] = beta == 0.0f ? NAN : C0[size_t(i)];
  sgemm_with(ops, tA, tB, M, N, K, alpha, A.data(), tA ? M : K, B.data(), tB ? K : N, beta, C, N);
  checks++;
  for (int64_t i = 0; i < M; i++) {
    for (int64_t j = 0; j < N; j++) {
      double sum = 0, mag = 0;
      for (int64_t k = 0; k < K; k++) {
        const double p = double(tA ? A[size_t(k * M + i)] : A[size_t(i * K + k)]) *
                         double(tB ? B[size_t(j * K + k)] : B[size_t(k * N + j)]);
        sum += p;
        mag += std::fabs(p);
      }
      const double old = beta == 0.0f ? 0.0 : double(beta) * C0[size_t(i * N + j)];
      const double ref = double(alpha) * sum + old;
      const double bound = 1e-5 * (std::fabs(alpha) * mag + std::fabs(old)) + 1e-30;
      if (!(std::fabs(C[i * N + j] - ref) <= bound)) {
        char what[200];
        std::snprintf(what, sizeof what,
                      "gemm %c%c M=%lld N=%lld K=%lld alpha=%g beta=%g threads=%d: C[%lld,%lld]=%g, expected %g",
                      tA ? 'T' : 'N', tB ? 'T' : 'N', (long long)M, (long long)N, (long long)K, alpha, beta, threads,
                      (long long)i, (long long)j, C[i * N + j], ref);
        fail(name, what);
        return;
      }
    }
  }
  for (int64_t g = 0; g < guard; g++) {
    if (!std::isnan(buf[size_t(g)]) || !std::isnan(buf[size_t(guard + M * N + g)])) {
      fail(name, "gemm wrote outside C");
      return;
    }
  }
}

// One cell forward + backward; `masked`: with mixed_lengths (packed sequences).
std::vector<float> run_cell(const SimdOps* ops, int threads, CellKind kind, int64_t T, int64_t B, int64_t H,
                            bool masked) {
  configure_engine(SimdLevel::Scalar, threads);
  const std::vector<int32_t> lengths = mixed_lengths(T, B);
  const int32_t* lens = masked ? lengths.data() : nullptr;
  state = static_cast<uint32_t>(T * 7 + B * 13 + H * 5 + int(kind));
  const int64_t GH = gates_of(kind) * H, CW = cache_width(kind) * H;
  const bool lstm = kind == CellKind::Lstm;
  const std::vector<float> x = random_vector(T * B * GH), w = random_vector(GH * H, 1.5f / std::sqrt(float(H)));
  const std::vector<float> bi = random_vector(GH, 0.2f), bh = random_vector(GH, 0.2f);
  std::vector<float> hs(size_t((T + 1) * B * H)), cs(lstm ? hs.size() : 0), cache(size_t(T * B * CW));
  for (int64_t i = 0; i < B * H; i++) hs[size_t(i)] = next_value();
  for (int64_t i = 0; lstm && i < B * H; i++) cs[size_t(i)] = 2 * next_value();
  cell_forward_with(ops, kind, T, B, H, x.data(), nullptr, T * B, w.data(), bi.data(), bh.data(), hs.data(), cs.data(),
                    cache.data(), lens);
  const std::vector<float> dhs = random_vector(T * B * H), dhN = random_vector(B * H);
  const std::vector<float> dcN = lstm ? random_vector(B * H) : std::vector<float>();
  std::vector<float> dGx(size_t(T * B * GH)), dGh(dGx.size()), dh0(size_t(B * H)), dc0(lstm ? dh0.size() : 0);
  std::vector<float> dbIh(static_cast<size_t>(GH)), dbHh(static_cast<size_t>(GH));
  cell_backward_with(ops, kind, T, B, H, w.data(), hs.data(), cs.data(), cache.data(), dhs.data(), dhN.data(),
                     dcN.data(), dGx.data(), dGh.data(), dh0.data(), dc0.data(), dbIh.data(), dbHh.data(), lens);
  std::vector<float> all;
  for (const auto* v : {&hs, &cs, &cache, &dGx, &dGh, &dh0, &dc0, &dbIh, &dbHh}) {
    all.insert(all.end(), v->begin(), v->end());
  }
  return all;
}

void check_cells(const SimdOps* ops, const char* name) {
  const int64_t shapes[][3] = {{1, 1, 1},   {1, 3, 17},   {5, 1, 3},    {4, 3, 33},  {2, 5, 100},
                               {2, 3, 257}, {3, 9, 130},  {2, 13, 600}, {3, 1, 100}, {2, 1, 600},
                               {5, 9, 130}, {4, 13, 600}, {4, 2, 300}};
  for (int k = 0; k < kCellKindCount; k++) {
    for (const auto& s : shapes) {
      for (bool masked : {false, true}) {
        const std::vector<float> ref = run_cell(nullptr, 1, static_cast<CellKind>(k), s[0], s[1], s[2], masked);
        for (int threads : {1, 2, 3}) {
          const std::vector<float> got = run_cell(ops, threads, static_cast<CellKind>(k), s[0], s[1], s[2], masked);
          checks++;
          for (size_t i = 0; i < ref.size(); i++) {
            if (!(std::fabs(got[i] - ref[i]) <= 3e-5 + 3e-4 * std::fabs(ref[i]))) {
              char what[176];
              std::snprintf(what, sizeof what, "%s T=%lld B=%lld H=%lld%s threads=%d: output %zu is %g, portable %g",
                            kCellKindNames[k], (long long)s[0], (long long)s[1], (long long)s[2],
                            masked ? " with lengths" : "", threads, i, got[i], ref[i]);
              fail(name, what);
              break;
            }
          }
        }
      }
    }
  }
}

double ulp_of(double e) {
  const double a = std::fabs(e);
  return a < std::ldexp(1.0, -126) ? std::ldexp(1.0, -149) : std::ldexp(1.0, std::ilogb(a) - 23);
}

// gemv_cols (the attention context): y[j] += Σ_r x[r]·w[r·ldw + j] against double, rows ldw apart, a guard
// band of NaNs past y's n floats (masked tails must not write there).
void check_gemv_cols(const SimdOps* ops, const char* name) {
  for (int64_t R : {0, 1, 3, 12}) {
    for (int64_t n : {1, 15, 16, 17, 64, 65, 257, 512}) {
      checks++;
      state = static_cast<uint32_t>(R * 31 + n);
      const int64_t ldw = n + 5;
      const std::vector<float> x = random_vector(R), w = random_vector(R * ldw), y0 = random_vector(n);
      std::vector<float> y(y0);
      y.resize(size_t(n + 16), NAN);
      ops->gemv_cols(R, n, x.data(), w.data(), ldw, y.data());
      for (int64_t j = 0; j < n + 16; j++) {
        if (j >= n) {
          if (std::isnan(y[size_t(j)])) continue;
          fail(name, "gemv_cols wrote past n");
          return;
        }
        double ref = y0[size_t(j)], mag = std::fabs(ref);
        for (int64_t r = 0; r < R; r++) {
          ref += double(x[size_t(r)]) * w[size_t(r * ldw + j)];
          mag += std::fabs(double(x[size_t(r)]) * w[size_t(r * ldw + j)]);
        }
        if (!(std::fabs(y[size_t(j)] - ref) <= 1e-6 * mag + 1e-30)) {
          char what[160];
          std::snprintf(what, sizeof what, "gemv_cols R=%lld n=%lld: y[%lld]=%g, expected %g", (long long)R,
                        (long long)n, (long long)j, y[size_t(j)], ref);
          fail(name, what);
          return;
        }
      }
    }
  }
}

void check_activations(const SimdOps* ops, const char* name) {
  struct Case {
    Activation f;
    const char* fn;
    double lo, hi, bound;
  } cases[] = {{Activation::Exp, "exp", -87.3, 88.3, 2},
               {Activation::Tanh, "tanh", -12, 12, 3},
               {Activation::Sigmoid, "sigmoid", -87, 40, 3}};
  for (const Case& c : cases) {
    const int64_t n = 1 << 20;
    std::vector<float> x(size_t(n + 5)), out(x.size());
    for (int64_t i = 0; i < n; i++) x[size_t(i)] = float(c.lo + (c.hi - c.lo) * double(i) / double(n));
    for (int64_t i = n; i < n + 5; i++) x[size_t(i)] = float(i - n) * 1e-3f;  // a tail of n % W
    ops->activation(c.f, n + 5, x.data(), out.data());
    double worst = 0;
    for (size_t i = 0; i < x.size(); i++) {
      const double v = x[i];
      const double e = c.f == Activation::Exp    ? std::exp(v)
                       : c.f == Activation::Tanh ? std::tanh(v)
                                                 : 1.0 / (1.0 + std::exp(-v));
      worst = std::max(worst, std::fabs(out[i] - e) / ulp_of(e));
    }
    checks++;
    std::printf("  %s %s: max %.2f ulp\n", name, c.fn, worst);
    if (!(worst <= c.bound)) fail(name, c.fn);
  }
}

// The 1-row product over an fp32 snapshot (sampling) against the same row without it (the panels packed per
// call) and against row 0 of a 41-row product (the transposed few-rows path), bit for bit; the snapshot's
// panels are read under ASan (their padding included).
void check_snapshot(const SimdOps* ops, const char* name) {
  const int64_t shapes[][2] = {{1, 1}, {49, 3}, {145, 257}, {300, 513}, {97, 1030}};
  for (const auto& s : shapes) {
    const int64_t N = s[0], K = s[1], M = 41;
    state = static_cast<uint32_t>(N * 5 + K);
    const std::vector<float> A = random_vector(M * K), W = random_vector(N * K), C0 = random_vector(M * N);
    const Fp32Snapshot snapshot(*ops, {{W.data(), N, K}});
    for (const auto& ab : {std::pair<float, float>{1, 0}, {-0.75f, 0.5f}}) {
      for (int threads : {1, 2, 3}) {
        configure_engine(SimdLevel::Scalar, threads);  // the level is ignored by sgemm_with; threads count
        std::vector<float> many(C0), plain(C0.begin(), C0.begin() + N), packed(plain);
        sgemm_with(ops, false, true, M, N, K, ab.first, A.data(), K, W.data(), K, ab.second, many.data(), N);
        sgemm_with(ops, false, true, 1, N, K, ab.first, A.data(), K, W.data(), K, ab.second, plain.data(), N);
        fp32_use_snapshot(&snapshot);
        sgemm_with(ops, false, true, 1, N, K, ab.first, A.data(), K, W.data(), K, ab.second, packed.data(), N);
        fp32_use_snapshot(nullptr);
        checks++;
        if (!std::equal(packed.begin(), packed.end(), plain.begin()) ||
            !std::equal(packed.begin(), packed.end(), many.begin())) {
          char what[160];
          std::snprintf(what, sizeof what, "fp32 snapshot N=%lld K=%lld alpha=%g beta=%g threads=%d: not the same bits",
                        (long long)N, (long long)K, ab.first, ab.second, threads);
          fail(name, what);
        }
      }
    }
  }
}

void check_table(const SimdOps* ops, const char* name) {
  std::printf("%s: %d-float vectors, %d×%d micro-tile, K blocks of %d\n", name, ops->width, ops->mr, ops->nr, ops->kc);
  const int64_t shapes[][3] = {{1, 1, 1},       {3, 17, 33},    {17, 3, 513},   {33, 100, 17}, {100, 1, 257},
                               {257, 33, 3},    {1, 257, 100},  {3, 3, 0},      {47, 49, 47},  {200, 97, 600},
                               {32, 300, 1100}, {130, 70, 520}, {7, 1000, 100}, {250, 60, 40}, {64, 145, 513},
                               {1, 700, 300},   {1, 9, 1000}};
  for (const auto& s : shapes) {
    for (int t = 0; t < 4; t++) {
      for (const auto& ab : {std::pair<float, float>{1, 0}, {1, 1}, {-0.75f, 0.5f}}) {
        for (int threads : {1, 2, 3})
          check_gemm(ops, name, threads, t & 1, t & 2, s[0], s[1], s[2], ab.first, ab.second);
      }
    }
  }
  check_snapshot(ops, name);
  check_cells(ops, name);
  check_gemv_cols(ops, name);
  check_activations(ops, name);
}

}  // namespace

int main() {
  const auto start = std::chrono::steady_clock::now();
  for (int l = 1; l < kSimdLevelCount; l++) {
    const auto level = static_cast<SimdLevel>(l);
    if (simd_supported(level)) check_table(simd_ops(level), simd_name(level));
  }
#if RNNKIT_X86_SIMD
  if (simd_supported(SimdLevel::Avx2)) check_table(&emu512::kOps, "emu512");
#endif
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("simd check: %d checks, %d failures (%.0f s)\n", checks, failures, seconds);
  return failures ? 1 : 0;
}
