// The random numbers of the stand-alone check drivers (race_check.cc, simd_check.cc; not part of the
// addon): a 32-bit LCG that each check reseeds (state = …) so that a case always draws the same values.
#ifndef RNNKIT_CHECK_RANDOM_H
#define RNNKIT_CHECK_RANDOM_H

#include <cstdint>
#include <vector>

namespace rnnkit_check {

inline uint32_t state = 1;

// Uniform in [−1, 1).
inline float next_value() {
  state = state * 1664525u + 1013904223u;
  return static_cast<float>(state >> 8) / 16777216.0f * 2.0f - 1.0f;
}

inline std::vector<float> random_vector(int64_t n, float scale = 1.0f) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = next_value() * scale;
  return v;
}

// Packed-sequence lengths [B] in [0, T] for the masked cell cases: stream 0 runs all T steps, the others
// a mix of 0, 1, T and values between (never sorted), so finished streams sit between running ones.
inline std::vector<int32_t> mixed_lengths(int64_t T, int64_t B) {
  std::vector<int32_t> lengths(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; b++)
    lengths[static_cast<size_t>(b)] = static_cast<int32_t>(b == 0 ? T : (b * 7 + 3) % (T + 1));
  return lengths;
}

}  // namespace rnnkit_check

#endif  // RNNKIT_CHECK_RANDOM_H
