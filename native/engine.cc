// The engine's configuration, the process-wide thread pool, the part barrier, the peak measurement and
// the choice of SIMD kernels (see engine.h).
#include "engine.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <new>
#include <thread>
#include <vector>

#include "bf16.h"
#include "threadpool.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#define RNNKIT_PAUSE() _mm_pause()
#else
#define RNNKIT_PAUSE() ((void)0)
#endif

namespace rnnkit {

#if RNNKIT_X86_SIMD
// Defined in simd_avx2.cc and simd_avx512.cc.
const SimdOps* avx2_ops();
const SimdOps* avx512_ops();
#endif
#if RNNKIT_ARM_SIMD
const SimdOps* neon_ops();  // simd_neon.cc
#endif

namespace {

const char* const kSimdNames[kSimdLevelCount] = {"scalar", "avx2", "avx512", "neon"};

bool cpu_supports(SimdLevel level) {
  switch (level) {
    case SimdLevel::Scalar: return true;
#if RNNKIT_X86_SIMD
    case SimdLevel::Avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case SimdLevel::Avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("fma");
#endif
#if RNNKIT_ARM_SIMD
    case SimdLevel::Neon: return true;  // Advanced SIMD is part of the AArch64 baseline
#endif
    default: return false;
  }
}

// Checked once at load (the CPU does not change under a running process).
struct Capabilities {
  bool supported[kSimdLevelCount];
  SimdLevel best;
  Capabilities() : supported{}, best(SimdLevel::Scalar) {
#if RNNKIT_X86_SIMD
    __builtin_cpu_init();
#endif
    for (int l = 0; l < kSimdLevelCount; l++) {
      supported[l] = cpu_supports(static_cast<SimdLevel>(l));
      if (supported[l]) best = static_cast<SimdLevel>(l);
    }
  }
};
const Capabilities& capabilities() {
  static const Capabilities caps;
  return caps;
}

ThreadPool& pool() {
  static ThreadPool instance;  // destroyed (workers joined) at exit
  return instance;
}

EngineConfig& mutable_config() {
  thread_local EngineConfig config{best_simd_level(), 0, Precision::Fp32};
  if (config.threads == 0) {
    config.threads = 1;  // the pool is started on first use (configure_engine or a parallel kernel)
    configure_engine(config.level, default_thread_count());
  }
  return config;
}

}  // namespace

const char* simd_name(SimdLevel level) {
  const int l = static_cast<int>(level);
  return l >= 0 && l < kSimdLevelCount ? kSimdNames[l] : "unknown";
}

bool simd_supported(SimdLevel level) {
  const int l = static_cast<int>(level);
  return l >= 0 && l < kSimdLevelCount && capabilities().supported[l];
}

SimdLevel best_simd_level() { return capabilities().best; }

int default_thread_count() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(std::min<unsigned>(n, kMaxThreads));
}

const EngineConfig& engine_config() { return mutable_config(); }

bool configure_engine(SimdLevel level, int threads) {
  if (!simd_supported(level) || threads < 1 || threads > kMaxThreads) return false;
  EngineConfig& config = mutable_config();
  // If workers cannot be started, run with the ones we have.
  if (!pool().ensure_workers(threads - 1)) threads = pool().workers() + 1;
  config.level = level;
  config.threads = threads;
  return true;
}

bool configure_precision(Precision precision) {
  if (precision == Precision::Bf16 && !bf16_ops()) return false;
  mutable_config().precision = precision;
  return true;
}

void parallel_for_parts(int parts, void (*fn)(void* context, int part), void* context) {
  pool().run(parts, fn, context);
}

void PartBarrier::wait() {
  if (parts_ <= 1) return;
  const int phase = phase_.load(std::memory_order_acquire);
  if (count_.fetch_add(1, std::memory_order_acq_rel) == parts_ - 1) {
    count_.store(0, std::memory_order_relaxed);
    phase_.store(phase + 1, std::memory_order_release);
    return;
  }
  for (int spins = 0; phase_.load(std::memory_order_acquire) == phase; spins++) {
    if (spins < 4096) {
      RNNKIT_PAUSE();
    } else {
      std::this_thread::yield();  // another process took our core: let the late part run
    }
  }
}

const SimdOps* simd_ops(SimdLevel level) {
  if (!simd_supported(level)) return nullptr;
#if RNNKIT_X86_SIMD
  if (level == SimdLevel::Avx2) return avx2_ops();
  if (level == SimdLevel::Avx512) return avx512_ops();
#endif
#if RNNKIT_ARM_SIMD
  if (level == SimdLevel::Neon) return neon_ops();
#endif
  return nullptr;
}

namespace {

// The scalar level's "peak": what portable C++ reaches with 32 independent multiply-add chains
// (vectorised by the compiler for the baseline ISA).
double scalar_peak_flops(double seconds) {
  float acc[32];
  for (int i = 0; i < 32; i++) acc[i] = 1.0f + 0.01f * static_cast<float>(i);
  volatile float vx = 0.9999999f, vy = 1e-7f;
  const float x = vx, y = vy;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  int64_t iterations = 0;
  do {
    for (int r = 0; r < 4096; r++) {
      for (int i = 0; i < 32; i++) acc[i] = acc[i] * x + y;
    }
    iterations += 4096;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < seconds);
  float sum = 0;
  for (float a : acc) sum += a;
  volatile float sink = sum;
  (void)sink;
  return static_cast<double>(iterations) * 32 * 2 / elapsed;
}

}  // namespace

double measure_peak_gflops(SimdLevel level, int threads, double milliseconds) {
  const SimdOps* ops = simd_ops(level);
  return measure_peak_with(ops ? ops->peak_flops : scalar_peak_flops, threads, milliseconds);
}

double measure_peak_with(double (*peak)(double seconds), int threads, double milliseconds) {
  const double seconds = milliseconds / 1000.0;
  if (threads <= 1) return peak(seconds) / 1e9;
  // Separate threads started together (not the pool: the measurement must not depend on its state).
  std::vector<double> rates(static_cast<size_t>(threads), 0.0);
  std::vector<std::thread> running;
  std::atomic<int> ready{0};
  try {
    for (int t = 0; t < threads; t++) {
      running.emplace_back([&, t] {
        ready.fetch_add(1);
        while (ready.load() < threads) std::this_thread::yield();
        rates[static_cast<size_t>(t)] = peak(seconds);
      });
    }
  } catch (...) {
    ready.store(threads);  // let the started ones run; report what they measured
  }
  for (auto& th : running) th.join();
  double total = 0;
  for (double r : rates) total += r;
  return total / 1e9;
}

namespace {
void free_aligned(float* p) {
#if defined(_MSC_VER)
  _aligned_free(p);
#else
  std::free(p);
#endif
}

std::atomic<int64_t> g_scratch_bytes{0};  // see scratch_bytes()
}  // namespace

int64_t scratch_bytes() { return g_scratch_bytes.load(std::memory_order_relaxed); }

FloatScratch::~FloatScratch() {
  free_aligned(data_);
  g_scratch_bytes.fetch_sub(capacity_ * int64_t(sizeof(float)), std::memory_order_relaxed);
}

float* FloatScratch::reserve(int64_t n) {
  if (n <= capacity_) return data_;
  // Grow geometrically so that a slowly growing shape does not reallocate every call.
  const int64_t want = std::max<int64_t>(n, capacity_ + capacity_ / 2);
  const size_t bytes = (static_cast<size_t>(want) * sizeof(float) + 63) / 64 * 64;
  void* fresh = nullptr;
#if defined(_MSC_VER)
  fresh = _aligned_malloc(bytes, 64);
#else
  if (posix_memalign(&fresh, 64, bytes) != 0) fresh = nullptr;
#endif
  if (!fresh) return nullptr;
  free_aligned(data_);
  g_scratch_bytes.fetch_add((want - capacity_) * int64_t(sizeof(float)), std::memory_order_relaxed);
  data_ = static_cast<float*>(fresh);
  capacity_ = want;
  return data_;
}

}  // namespace rnnkit
