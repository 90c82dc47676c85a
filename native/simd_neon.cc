// The AArch64 NEON kernels: simd_ops.inc with 4-float vectors, a 6×16 micro-tile (24 of the 32 vector
// registers as accumulators), K blocks of 256 (a 256×16 panel block is 16 KiB). Advanced SIMD is part of
// the AArch64 baseline, so no run-time check and no target attribute are needed; the packing routines
// are the portable ones (pack_generic.inc). Checked from x86 under qemu by scripts/check-arm64.sh.
#include "engine.h"

#if RNNKIT_ARM_SIMD
#include <arm_neon.h>

#include <chrono>
#include <cstdint>

namespace rnnkit {
namespace neon {
namespace {

using Vec = float32x4_t;
using Mask = uint32x4_t;
constexpr int W = 4, NV = 4, MR = 6, KC = 256, NACC = 16;
constexpr const char* kName = "neon";

inline Vec vzero() { return vdupq_n_f32(0.0f); }
inline Vec vset(float x) { return vdupq_n_f32(x); }
inline Vec vload(const float* p) { return vld1q_f32(p); }
inline void vstore(float* p, Vec x) { vst1q_f32(p, x); }
// The first n (< 4) lanes, through a small buffer: nothing past them is touched.
inline Vec vloadn(const float* p, int n) {
  float lanes[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (int i = 0; i < n; i++) lanes[i] = p[i];
  return vld1q_f32(lanes);
}
inline void vstoren(float* p, Vec x, int n) {
  float lanes[4];
  vst1q_f32(lanes, x);
  for (int i = 0; i < n; i++) p[i] = lanes[i];
}
inline Vec vbcast(const float* p) { return vld1q_dup_f32(p); }
inline Vec vfma(Vec a, Vec b, Vec c) { return vfmaq_f32(c, a, b); }   // a·b + c
inline Vec vfnma(Vec a, Vec b, Vec c) { return vfmsq_f32(c, a, b); }  // c − a·b
inline Vec vadd(Vec a, Vec b) { return vaddq_f32(a, b); }
inline Vec vsub(Vec a, Vec b) { return vsubq_f32(a, b); }
inline Vec vmul(Vec a, Vec b) { return vmulq_f32(a, b); }
inline Vec vdiv(Vec a, Vec b) { return vdivq_f32(a, b); }
// fmax/fmin return NaN when either operand is NaN, so NaN propagates as the vocabulary requires.
inline Vec vmaxn(Vec lo, Vec x) { return vmaxq_f32(lo, x); }
inline Vec vminn(Vec hi, Vec x) { return vminq_f32(hi, x); }
inline Vec vround(Vec x) { return vrndnq_f32(x); }
// 2^n for integral n in [−126, 127], by building the exponent field.
inline Vec vpow2i(Vec n) {
  return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127)), 23));
}
inline Vec vabs(Vec x) { return vabsq_f32(x); }
inline Vec vcopysign(Vec mag, Vec sign) { return vbslq_f32(vdupq_n_u32(0x80000000u), sign, vabsq_f32(mag)); }
inline Mask vlt(Vec a, Vec b) { return vcltq_f32(a, b); }
inline Vec vselect(Mask m, Vec t, Vec f) { return vbslq_f32(m, t, f); }
inline void vprefetch(const float* p) { __builtin_prefetch(p); }

#include "simd_ops.inc"

}  // namespace
}  // namespace neon

const SimdOps* neon_ops() { return &neon::kOps; }

}  // namespace rnnkit

#endif  // RNNKIT_ARM_SIMD
