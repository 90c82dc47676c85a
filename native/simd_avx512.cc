// The AVX-512 kernels: simd_ops.inc with 16-float vectors, an 8×48 micro-tile (24 zmm accumulators)
// and K blocks of 512, the shape DESIGN.md reports measured at 130–146 GFLOP/s on one AVX-512 core.
// Every function in this file carries target("avx512f,avx512bw,fma") (the pragma region below) and is
// reached only through avx512_ops(), which engine.cc calls after __builtin_cpu_supports("avx512f"),
// ("avx512bw") and ("fma"). No code here runs at load time (the tables are constexpr).
#include "engine.h"
#include "target_region.h"

#if RNNKIT_X86_SIMD
#include <immintrin.h>

#include <chrono>
#include <cstdint>

RNNKIT_TARGET_BEGIN("avx512f,avx512bw,fma")
#if !defined(__clang__)
// GCC 12's avx512fintrin.h initialises _mm512_undefined_ps() from itself: a false "may be used
// uninitialized" for every _mm512_max_ps/_mm512_min_ps.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace rnnkit {
namespace avx512 {
namespace {

using Vec = __m512;
using Mask = __mmask16;
constexpr int W = 16, NV = 3, MR = 8, KC = 512, NACC = 24;
constexpr const char* kName = "avx512";

inline __mmask16 tail_mask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
inline __m512i sign_bits() { return _mm512_set1_epi32(static_cast<int32_t>(0x80000000u)); }

inline Vec vzero() { return _mm512_setzero_ps(); }
inline Vec vset(float x) { return _mm512_set1_ps(x); }
inline Vec vload(const float* p) { return _mm512_loadu_ps(p); }
inline void vstore(float* p, Vec x) { _mm512_storeu_ps(p, x); }
inline Vec vloadn(const float* p, int n) { return _mm512_maskz_loadu_ps(tail_mask(n), p); }
inline void vstoren(float* p, Vec x, int n) { _mm512_mask_storeu_ps(p, tail_mask(n), x); }
inline Vec vbcast(const float* p) { return _mm512_set1_ps(*p); }
inline Vec vfma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }    // a·b + c
inline Vec vfnma(Vec a, Vec b, Vec c) { return _mm512_fnmadd_ps(a, b, c); }  // c − a·b
inline Vec vadd(Vec a, Vec b) { return _mm512_add_ps(a, b); }
inline Vec vsub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
inline Vec vmul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
inline Vec vdiv(Vec a, Vec b) { return _mm512_div_ps(a, b); }
// vmaxps/vminps return the second operand when either is NaN: x second, so NaN propagates.
inline Vec vmaxn(Vec lo, Vec x) { return _mm512_max_ps(lo, x); }
inline Vec vminn(Vec hi, Vec x) { return _mm512_min_ps(hi, x); }
inline Vec vround(Vec x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
// 2^n for integral n in [−126, 127], by building the exponent field.
inline Vec vpow2i(Vec n) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
}
// Bit operations on the integer view (the float forms need AVX512DQ).
inline Vec vabs(Vec x) { return _mm512_castsi512_ps(_mm512_andnot_si512(sign_bits(), _mm512_castps_si512(x))); }
inline Vec vcopysign(Vec mag, Vec sign) {
  return _mm512_castsi512_ps(
      _mm512_or_si512(_mm512_castps_si512(vabs(mag)), _mm512_and_si512(sign_bits(), _mm512_castps_si512(sign))));
}
inline Mask vlt(Vec a, Vec b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
inline Vec vselect(Mask m, Vec t, Vec f) { return _mm512_mask_blend_ps(m, f, t); }
inline void vprefetch(const float* p) { _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0); }

#include "simd_ops.inc"

}  // namespace
}  // namespace avx512
}  // namespace rnnkit

#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif
RNNKIT_TARGET_END

namespace rnnkit {
const SimdOps* avx512_ops() { return &avx512::kOps; }
}  // namespace rnnkit

#endif  // RNNKIT_X86_SIMD
