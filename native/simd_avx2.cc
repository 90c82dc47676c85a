// The AVX2 + FMA kernels: simd_ops.inc with 8-float vectors, a 6×16 micro-tile (12 ymm accumulators),
// K blocks of 256 (a 256×16 panel block is 16 KiB, half of L1).
// Every function in this file carries target("avx2,fma") (the pragma region below) and is reached only
// through avx2_ops(), which engine.cc calls after __builtin_cpu_supports("avx2") && ("fma"). No code
// here runs at load time (the tables are constexpr), so the .node loads on any x86-64 CPU.
#include "engine.h"
#include "target_region.h"

#if RNNKIT_X86_SIMD
#include <immintrin.h>

#include <chrono>
#include <cstdint>

RNNKIT_TARGET_BEGIN("avx2,fma")

namespace rnnkit {
namespace avx2 {
namespace {

using Vec = __m256;
using Mask = __m256;
constexpr int W = 8, NV = 2, MR = 6, KC = 256, NACC = 12;
constexpr const char* kName = "avx2";

alignas(64) constexpr int32_t kTailMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
inline __m256i tail_mask(int n) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTailMask + 8 - n)); }

inline Vec vzero() { return _mm256_setzero_ps(); }
inline Vec vset(float x) { return _mm256_set1_ps(x); }
inline Vec vload(const float* p) { return _mm256_loadu_ps(p); }
inline void vstore(float* p, Vec x) { _mm256_storeu_ps(p, x); }
inline Vec vloadn(const float* p, int n) { return _mm256_maskload_ps(p, tail_mask(n)); }
inline void vstoren(float* p, Vec x, int n) { _mm256_maskstore_ps(p, tail_mask(n), x); }
inline Vec vbcast(const float* p) { return _mm256_broadcast_ss(p); }
inline Vec vfma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }    // a·b + c
inline Vec vfnma(Vec a, Vec b, Vec c) { return _mm256_fnmadd_ps(a, b, c); }  // c − a·b
inline Vec vadd(Vec a, Vec b) { return _mm256_add_ps(a, b); }
inline Vec vsub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
inline Vec vmul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
inline Vec vdiv(Vec a, Vec b) { return _mm256_div_ps(a, b); }
// vmaxps/vminps return the second operand when either is NaN: x second, so NaN propagates.
inline Vec vmaxn(Vec lo, Vec x) { return _mm256_max_ps(lo, x); }
inline Vec vminn(Vec hi, Vec x) { return _mm256_min_ps(hi, x); }
inline Vec vround(Vec x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
// 2^n for integral n in [−126, 127], by building the exponent field.
inline Vec vpow2i(Vec n) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
}
inline Vec vabs(Vec x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
inline Vec vcopysign(Vec mag, Vec sign) { return _mm256_or_ps(vabs(mag), _mm256_and_ps(_mm256_set1_ps(-0.0f), sign)); }
inline Mask vlt(Vec a, Vec b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
inline Vec vselect(Mask m, Vec t, Vec f) { return _mm256_blendv_ps(f, t, m); }
inline void vprefetch(const float* p) { _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0); }

#include "simd_ops.inc"

}  // namespace
}  // namespace avx2
}  // namespace rnnkit

RNNKIT_TARGET_END

namespace rnnkit {
const SimdOps* avx2_ops() { return &avx2::kOps; }
}  // namespace rnnkit

#endif  // RNNKIT_X86_SIMD
