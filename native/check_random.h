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

}  // namespace rnnkit_check

#endif  // RNNKIT_CHECK_RANDOM_H
