// The native engine's run-time configuration: which SIMD level the kernels use and how many threads
// they split work over, plus the table of SIMD kernels each level provides.
//
// - SIMD levels are chosen at run time (__builtin_cpu_supports), never by global -march flags: the
//   AVX2 and AVX-512 kernels live in their own translation units (simd_avx2.cc, simd_avx512.cc) whose
//   functions carry per-function target attributes, and are only called after the CPU check.
// - The configuration is per calling thread (thread_local): every JavaScript thread (the main thread,
//   each worker_thread) runs kernels on its own OS thread, so two Node environments can use different
//   settings. The thread pool that executes the parallel parts is shared by the whole process and
//   serves one job at a time.
// - Results never depend on timing, nor on the thread count: work is split by fixed rules, and each
//   output element is computed by one thread with the same sequence of operations whatever the split.
#ifndef RNNKIT_ENGINE_H
#define RNNKIT_ENGINE_H

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels.h"

// x86-64 builds with GCC or Clang carry the AVX2 and AVX-512 kernels, AArch64 builds the NEON ones;
// others have the portable ones only.
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__)) && !defined(RNNKIT_NO_SIMD)
#define RNNKIT_X86_SIMD 1
#else
#define RNNKIT_X86_SIMD 0
#endif
#if defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(RNNKIT_NO_SIMD)
#define RNNKIT_ARM_SIMD 1
#else
#define RNNKIT_ARM_SIMD 0
#endif

namespace rnnkit {

// Must match SIMD_LEVELS in src/backend/native.ts (the names are the strings info() reports). On each
// architecture the supported levels are in increasing speed.
enum class SimdLevel : int { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };
constexpr int kSimdLevelCount = 4;
const char* simd_name(SimdLevel level);
// Whether this CPU (and this build) can run the level. Scalar is always supported.
bool simd_supported(SimdLevel level);
// The fastest supported level.
SimdLevel best_simd_level();

// Must match PRECISIONS in src/backend/native.ts. Bf16: the matrix products (sgemm, the cells' recurrent
// products) round their operands to bf16 and accumulate in fp32 (bf16.h); everything else stays fp32.
enum class Precision : int { Fp32 = 0, Bf16 = 1 };

// The calling thread's configuration. Defaults: the best level, hardware-concurrency threads, fp32.
struct EngineConfig {
  SimdLevel level;
  int threads;  // >= 1: how many parts a parallel kernel is split into (the caller runs part 0)
  Precision precision;
};
const EngineConfig& engine_config();
// Sets the calling thread's configuration (the level must be supported, 1 <= threads <= kMaxThreads)
// and starts pool workers if needed. Never throws; returns false if the arguments are invalid.
bool configure_engine(SimdLevel level, int threads);
constexpr int kMaxThreads = 1024;
// Sets the calling thread's precision; false (nothing changed) if this CPU has no kernels for it.
bool configure_precision(Precision precision);
int default_thread_count();

// Runs fn(part) for part in [0, parts): part 0 on the calling thread, part p on pool worker p (always
// the same worker for the same p). Returns when every part has finished. Jobs from different calling
// threads are serialised. parts must be <= the calling thread's configured thread count.
void parallel_for_parts(int parts, void (*fn)(void* context, int part), void* context);
template <class F>
void parallel_parts(int parts, F& f) {
  if (parts <= 1) {
    f(0);
    return;
  }
  parallel_for_parts(
      parts, [](void* context, int part) { (*static_cast<F*>(context))(part); }, &f);
}

// Below this many floats touched, an elementwise or reduction kernel runs on the calling thread alone
// (waking a worker costs more).
constexpr int64_t kMinSplitWork = 1 << 16;

// Runs fn(j0, j1) over [0, width) (columns, rows or elements) cut into fixed ranges (multiples of 16),
// one per part, with as many parts as the configured threads allow for `work` floats touched in all.
// Each range is one part's alone, so results do not depend on the split.
template <class F>
void parallel_ranges(int64_t width, int64_t work, F&& fn) {
  const int64_t units = (width + 15) / 16;
  int64_t parts = engine_config().threads;
  if (units < parts) parts = units;
  if (work / kMinSplitWork < parts) parts = work / kMinSplitWork;
  if (parts < 1) parts = 1;
  auto part = [&](int p) {
    const int64_t j0 = units * p / parts * 16, j1 = units * (p + 1) / parts * 16;
    if (j0 < width) fn(j0, j1 < width ? j1 : width);
  };
  parallel_parts(static_cast<int>(parts), part);
}

// A barrier for the parts of ONE parallel job (spin, then yield): used between the time steps of a cell.
class PartBarrier {
 public:
  explicit PartBarrier(int parts) : parts_(parts) {}
  void wait();

 private:
  const int parts_;
  alignas(64) std::atomic<int> count_{0};
  alignas(64) std::atomic<int> phase_{0};
};

// GFLOP/s of a register-blocked FMA loop (mul+add for the scalar level) run on `threads` threads at
// once for `milliseconds`: the machine's measured FP32 peak for `level`.
double measure_peak_gflops(SimdLevel level, int threads, double milliseconds);
// The same for any peak loop (FLOP/s on the calling thread for about `seconds`), e.g. bf16's.
double measure_peak_with(double (*peak)(double seconds), int threads, double milliseconds);

// ---- the SIMD kernel table -----------------------------------------------------------------------

// One batch row of a cell's forward step, for hidden units [u0, u1):
//   x [G·H] = W_ih·x_t (no bias)   g [cache_width·H or H]: on entry columns g·H+j hold (W_hh·h)[g·H+j]
//   without bias; on exit the cache row (lstm: i,f,g,o; gru: r,z,n,W_hn·h+b_hn) or h_t itself (rnn,
//   where g == hn).  hp, hn [H]: h_{t-1}, h_t.  cp, cn [H]: c_{t-1}, c_t (lstm only).
struct CellRow {
  int64_t H, u0, u1;
  const float* x;
  const float* bIh;
  const float* bHh;
  const float* hp;
  float* hn;
  float* g;
  const float* cp;
  float* cn;
};
// One batch row of a cell's backward step, for hidden units [u0, u1) (see cell_backward in kernels.h):
//   hp, hc [H]: h_{t-1}, h_t   k: cache row   dy [H]: dL/dh_t from above   gx, gh [G·H]: outputs
//   carry [H]: in dh_t from step t+1, out the direct part of dh_{t-1}   cp, cc, dc [H]: lstm only.
//   sx, sh [G·H] or null: the stream's running sums of gx and gh (the bias gradients), += this row.
struct CellGradRow {
  int64_t H, u0, u1;
  const float* hp;
  const float* hc;
  const float* k;
  const float* dy;
  float* gx;
  float* gh;
  float* carry;
  const float* cp;
  const float* cc;
  float* dc;
  float* sx;
  float* sh;
};

enum class Activation : int { Exp = 0, Tanh = 1, Sigmoid = 2 };

struct SimdOps {
  const char* name;
  int width;  // floats per vector register
  int mr;     // most rows of a micro-tile
  int nr;     // columns of a packed B panel (a multiple of width)
  int kc;     // K block: a kc×nr panel block is reused from L1 by every row tile
  // One row tile of op(A): dst[k·m + r] = op(A)[r, k] for r < m <= mr, k < kc. A points at op(A)[0,0]:
  // op(A)[r,k] is A[r·lda + k], or A[k·lda + r] when transA.
  void (*pack_a)(bool transA, const float* A, int64_t lda, int64_t m, int64_t kc, float* dst);
  // ceil(n/nr) panels of op(B)[0:kc, 0:n], each [kc][nr], zero-padded past n. op(B)[k,j] is
  // B[k·ldb + j], or B[j·ldb + k] when transB. Panel p starts at dst + p·kc·nr.
  void (*pack_b)(bool transB, const float* B, int64_t ldb, int64_t kc, int64_t n, float* dst);
  // C[m, n] = alpha·(a·b) + beta·C for one micro-tile (m <= mr, n <= nr): a is a packed row tile
  // [kc][m], b a packed panel block [kc][nr]. beta == 0 never reads C. If prefetch is not null, the kc·nr
  // floats from there (the next panel block) are prefetched.
  void (*kernel)(int m, int n, int64_t kc, const float* a, const float* b, float* C, int64_t ldc, float alpha,
                 float beta, const float* prefetch);
  // kernel with the m rows of A read in place (row r at a + r·lda, contiguous in k) instead of packed.
  void (*kernel_rows)(int m, int n, int64_t kc, const float* a, int64_t lda, const float* b, float* C, int64_t ldc,
                      float alpha, float beta, const float* prefetch);
  // One row of A (a, contiguous in k) against `panels` <= row_panels consecutive packed panel blocks
  // (panel p at b + p·ps, each [kc][nr]): C[0, j] = alpha·acc + beta·C[0, j] for j < n <= panels·nr.
  void (*kernel_row)(int panels, int n, int64_t kc, const float* a, const float* b, int64_t ps, float* C, float alpha,
                     float beta);
  int row_panels;
  // GEMV with the matrix read in place: y[j] = alpha·Σ_k x[k]·w[j·ldw + k] + beta·y[j] for j < n (x and
  // each row of w contiguous in k). beta == 0 never reads y.
  void (*gemv_rows)(int64_t n, int64_t K, const float* x, const float* w, int64_t ldw, float* y, float alpha,
                    float beta);
  // The other GEMV with the matrix read in place: y[j] += Σ_r x[r]·w[r·ldw + j] for j < n, r < R (each row
  // of w contiguous in j): one FMA chain per y[j] over r in order, whatever the vector blocking.
  void (*gemv_cols)(int64_t R, int64_t n, const float* x, const float* w, int64_t ldw, float* y);
  // The transposed micro-kernel for C = op(A)·Bᵀ when C has few rows: C[i, r] = alpha·Σ_k a[k·nr + i]·
  // bRows[r·ldb + k] + beta·C[i, r] for i < n <= nr, r < rows <= mr. `a` is a packed panel of op(A)ᵀ
  // (pack_b of op(A)ᵀ), bRows points at `rows` rows of B, read in place. beta == 0 never reads C.
  void (*kernel_t)(int rows, int n, int64_t kc, const float* bRows, int64_t ldb, const float* a, float* C, int64_t ldc,
                   float alpha, float beta);
  // The fused gate nonlinearities of one batch row (vectorised exp/tanh/sigmoid).
  void (*cell_row)(CellKind kind, const CellRow& row);
  void (*cell_grad_row)(CellKind kind, const CellGradRow& row);
  // out[n] = f(x[n]) with this level's vectorised function (for the accuracy tests).
  void (*activation)(Activation f, int64_t n, const float* x, float* out);
  // FLOP/s of a register-blocked FMA loop on the calling thread for about `seconds`.
  double (*peak_flops)(double seconds);
};

// The table of a SIMD level, or nullptr for Scalar (and for levels this build does not have).
const SimdOps* simd_ops(SimdLevel level);

// sgemm, cell_forward and cell_backward (kernels.h) with an explicit kernel table instead of the
// configured level's (nullptr: the portable code), still split over the configured thread count. For
// checking a table directly (native/simd_check.cc); the kernels.h entry points call these.
void sgemm_with(const SimdOps* ops, bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void cell_forward_with(const SimdOps* ops, CellKind kind, int64_t T, int64_t B, int64_t H, const float* xProj,
                       const int32_t* xIds, int64_t xRows, const float* wHh, const float* bIh, const float* bHh,
                       float* hs, float* cs, float* cache, const int32_t* lengths);
void cell_backward_with(const SimdOps* ops, CellKind kind, int64_t T, int64_t B, int64_t H, const float* wHh,
                        const float* hs, const float* cs, const float* cache, const float* dhs, const float* dhN,
                        const float* dcN, float* dGx, float* dGh, float* dh0, float* dc0, float* dbIh, float* dbHh,
                        const int32_t* lengths, float* dhSteps = nullptr);

// The portable activations (the scalar level), same contract as SimdOps::activation.
void scalar_activation(Activation f, int64_t n, const float* x, float* out);

// The portable GEMM (plain loops; the scalar level, and the oracle for the SIMD ones), single-threaded.
void sgemm_portable(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                    const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// The few-rows GEMM C = op(A)·Bᵀ through SimdOps::kernel_t, in two steps so that a caller can pack A
// once and multiply it by several row blocks of B (the cells: one per gate):
//   rows_t_pack:  op(A) [m, K] (A [m,K] row-major, or [K,m] when transA) → panels of op(A)ᵀ in dst
//                 (rows_t_packed_size floats), cut in K blocks of ops.kc (the packed kernel's);
//   rows_t_gemm:  C[i, j] = alpha·Σ_k op(A)[i,k]·Brows[j·ldb + k] + beta·C[i, j] for i < m, j < n. The
//                 rows of B are read in place (never packed). beta == 0 never reads C.
int64_t rows_t_packed_size(const SimdOps& ops, int64_t m, int64_t K);
void rows_t_pack(const SimdOps& ops, bool transA, const float* A, int64_t lda, int64_t m, int64_t K, float* dst);
void rows_t_gemm(const SimdOps& ops, const float* Ap, int64_t m, int64_t K, const float* Brows, int64_t ldb, int64_t n,
                 float* C, int64_t ldc, float alpha, float beta);

// ---- fp32 weight snapshots (sampling) -------------------------------------------------------------

// A weight matrix W [N, K] (row-major, row stride K) packed ONCE for the 1-row products C[1, N] = a·Wᵀ that
// sampling runs every character (the dense W_ih above the first layer, the head): rows_t_pack's layout
// (per K block of ops.kc, ceil(N/nr) zero-padded panels [kc][nr] of Wᵀ), which is what the 1-row GEMM
// otherwise packs a few panels at a time on every call. The same kernel_row reads the same panel values,
// so the products have the same bits with or without it; only the packing per call is saved. `source`
// identifies the fp32 matrix; the copy does not follow its later changes.
struct PackedWeights {
  const float* source = nullptr;
  int64_t N = 0, K = 0;
  const float* data = nullptr;
};

// The packed matrices of one model for one SIMD table (a sampling run's `inferenceWeights` in fp32).
class Fp32Snapshot {
 public:
  struct Matrix {
    const float* W;
    int64_t N, K;
  };
  // Packs every matrix with ops' pack_b. Throws std::bad_alloc when memory runs out.
  Fp32Snapshot(const SimdOps& ops, const std::vector<Matrix>& matrices);
  // The packed copy of exactly this operand of a product with Wᵀ (W [N, K], row stride ldb) for the table
  // `ops` (a copy packed for another level's panels is not used), or nullptr.
  const PackedWeights* find(const SimdOps* ops, const float* W, int64_t N, int64_t K, int64_t ldb) const;

 private:
  struct AlignedFree {
    void operator()(float* p) const;
  };
  const SimdOps* ops_;
  std::unique_ptr<float[], AlignedFree> floats_;
  std::vector<PackedWeights> weights_;
};

// The calling thread's snapshot in use (nullptr: none). sgemm looks it up on the calling thread before it
// splits the work, for products with one row.
void fp32_use_snapshot(const Fp32Snapshot* snapshot);
const Fp32Snapshot* fp32_snapshot_in_use();

// A 64-byte aligned float buffer that only grows (used as thread-local packing space: allocated before
// a kernel's loops, never inside them).
class FloatScratch {
 public:
  FloatScratch() = default;
  FloatScratch(const FloatScratch&) = delete;
  FloatScratch& operator=(const FloatScratch&) = delete;
  ~FloatScratch();
  // A buffer of at least n floats (contents unspecified). Returns nullptr if allocation fails.
  float* reserve(int64_t n);

 private:
  float* data_ = nullptr;
  int64_t capacity_ = 0;
};

// Bytes held by all FloatScratch buffers of the process (every thread): it stops growing once the
// kernels have met the shapes of a training run, which is how tests see that the loop allocates nothing.
int64_t scratch_bytes();

}  // namespace rnnkit

#endif  // RNNKIT_ENGINE_H
