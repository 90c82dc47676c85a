// Matrix multiply: the driver that splits C over threads and blocks it for the caches, the packed SIMD
// path (micro-kernels in simd_ops.inc, chosen at run time) and the portable C++ path.
//
// The packed path (GotoBLAS/BLIS loop order) for one part C[i0:i1, j0:j1]:
//   for jc (NC columns):  for kb (KC of K):  pack op(B)[kb, jc] into panels [KC][NR]
//     for ic (MC rows):  pack op(A)[ic, kb] into row tiles [KC][mr]   (once for all jc when the part's
//                                                                       rows fit in one MC block)
//       for each panel (L1-resident, the next one prefetched):  for each row tile:  micro-kernel
// Few rows (M < 128) with C = op(A)·Bᵀ — h·W_hhᵀ, the benchmark's shape — take the transposed path
// instead: B's rows are read in place by SimdOps::kernel_t against op(A)ᵀ packed once (rows_t_pack /
// rows_t_gemm), so the big operand is never packed; M = 1 packs a few panels of B at a time for kernel_row
// (gemm_row_simd). Either path reads B's panels from the fp32 snapshot in use instead of packing them
// when B is one of its weight matrices (sampling and decoding: packed once, Fp32Snapshot in engine.h).
// Threads: the caller and the pool split C by columns when M is small (each thread packs and keeps
// only its share of B) and by rows when M is large. Each element of C is one FMA chain over k in a
// fixed order, whatever the split: results are bit-identical for any thread count at one SIMD level.
// Every path also cuts K into the same blocks (SimdOps::kc) and ends each with the same epilogue, so a
// row of C does not depend on M either: a text stepped one row at a time equals its whole-text product.
//
// The portable path: plain loops ordered so that the innermost loop runs over contiguous memory and
// g++ -O3 vectorises it (axpy over rows of B and C, four rows of B per pass to cut the loads and stores
// of C, or dot products over rows of A and B). It is the scalar level, and the fallback when packing
// space cannot be allocated.
#include <algorithm>
#include <cstdint>
#include <new>

#include "bf16.h"
#include "engine.h"
#include "gemm_blocking.h"
#include "kernels.h"

namespace rnnkit {
namespace {

// y[n] += a·x[n]
inline void axpy(int64_t n, float a, const float* __restrict x, float* __restrict y) {
  for (int64_t j = 0; j < n; j++) y[j] += a * x[j];
}

// y[n] += a0·x0[n] + a1·x1[n] + a2·x2[n] + a3·x3[n]: four rows of B per pass over a row of C.
inline void axpy4(int64_t n, float a0, float a1, float a2, float a3, const float* __restrict x0,
                  const float* __restrict x1, const float* __restrict x2, const float* __restrict x3,
                  float* __restrict y) {
  for (int64_t j = 0; j < n; j++) y[j] += a0 * x0[j] + a1 * x1[j] + a2 * x2[j] + a3 * x3[j];
}

// Σ a[n]·b[n] (vectorised with partial sums: the order differs from a sequential sum).
inline float dot(int64_t n, const float* __restrict a, const float* __restrict b) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t k = 0; k < n; k++) sum += a[k] * b[k];
  return sum;
}

// out[0..4) = Σ a[n]·bq[n] for four rows b0..b3: one pass over a.
inline void dot4(int64_t n, const float* __restrict a, const float* __restrict b0, const float* __restrict b1,
                 const float* __restrict b2, const float* __restrict b3, float out[4]) {
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
  for (int64_t k = 0; k < n; k++) {
    const float x = a[k];
    s0 += x * b0[k];
    s1 += x * b1[k];
    s2 += x * b2[k];
    s3 += x * b3[k];
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
}

// C[M,N] = beta·C, where beta == 0 overwrites (NaN and Inf in C do not survive).
void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  if (beta == 1.0f) return;
  for (int64_t i = 0; i < M; i++) {
    float* c = C + i * ldc;
    if (beta == 0.0f) {
      std::fill(c, c + N, 0.0f);
    } else {
      for (int64_t j = 0; j < N; j++) c[j] *= beta;
    }
  }
}

// Rows of op(A) for transA are columns of A: they are gathered into this many floats on the stack.
constexpr int64_t kColumnBlock = 256;

}  // namespace

void sgemm_portable(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                    const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  scale_c(M, N, beta, C, ldc);
  if (K == 0) return;

  if (!transA && !transB) {
    // C[i,:] += (alpha·A[i,k])·B[k,:], four k at a time
    for (int64_t i = 0; i < M; i++) {
      const float* a = A + i * lda;
      float* c = C + i * ldc;
      int64_t k = 0;
      for (; k + 4 <= K; k += 4) {
        const float* b = B + k * ldb;
        axpy4(N, alpha * a[k], alpha * a[k + 1], alpha * a[k + 2], alpha * a[k + 3], b, b + ldb, b + 2 * ldb,
              b + 3 * ldb, c);
      }
      for (; k < K; k++) axpy(N, alpha * a[k], B + k * ldb, c);
    }
  } else if (transA && !transB) {
    // A is [K,M]: C[i,:] += (alpha·A[k,i])·B[k,:], four k at a time
    for (int64_t i = 0; i < M; i++) {
      float* c = C + i * ldc;
      int64_t k = 0;
      for (; k + 4 <= K; k += 4) {
        const float* a = A + k * lda + i;
        const float* b = B + k * ldb;
        axpy4(N, alpha * a[0], alpha * a[lda], alpha * a[2 * lda], alpha * a[3 * lda], b, b + ldb, b + 2 * ldb,
              b + 3 * ldb, c);
      }
      for (; k < K; k++) axpy(N, alpha * A[k * lda + i], B + k * ldb, c);
    }
  } else if (!transA && transB) {
    // B is [N,K]: C[i,j] += alpha·(A[i,:]·B[j,:]), both rows contiguous, four j at a time.
    for (int64_t i = 0; i < M; i++) {
      const float* a = A + i * lda;
      float* c = C + i * ldc;
      int64_t j = 0;
      for (; j + 4 <= N; j += 4) {
        const float* b = B + j * ldb;
        float sums[4];
        dot4(K, a, b, b + ldb, b + 2 * ldb, b + 3 * ldb, sums);
        for (int q = 0; q < 4; q++) c[j + q] += alpha * sums[q];
      }
      for (; j < N; j++) c[j] += alpha * dot(K, a, B + j * ldb);
    }
  } else {
    // A is [K,M], B is [N,K]: gather column i of A a block of k at a time, then dot with rows of B.
    float column[kColumnBlock];
    for (int64_t i = 0; i < M; i++) {
      float* c = C + i * ldc;
      for (int64_t k0 = 0; k0 < K; k0 += kColumnBlock) {
        const int64_t kn = std::min(kColumnBlock, K - k0);
        for (int64_t k = 0; k < kn; k++) column[k] = A[(k0 + k) * lda + i];
        for (int64_t j = 0; j < N; j++) c[j] += alpha * dot(kn, column, B + j * ldb + k0);
      }
    }
  }
}

namespace {

thread_local FloatScratch tl_pack_a;  // packed op(A) blocks of the calling thread / pool worker
thread_local FloatScratch tl_pack_b;  // packed op(B) panels

// k rows of A per pass when packing op(A) = Aᵀ (see pack_a_block).
constexpr int64_t kTransPackRows = 16;

// Packs op(A)[i0 : i0+m, k0 : k0+kc] as consecutive row tiles (tile t at offset first(t)·kc).
// When transA, a tile's rows are a few floats of each of kc rows of A, lda apart: packing tile by tile
// would walk kc rows at a large power-of-two stride once per tile, and those lines share cache sets, so
// each tile would fetch them again from L3. Instead all tiles take kTransPackRows rows of A in turn,
// which stay in L1 while every tile copies its floats out of them.
void pack_a_block(const SimdOps& ops, const GemmArgs& g, int64_t i0, int64_t m, int64_t k0, int64_t kc, float* dst) {
  const RowTiles tiles(m, ops.mr);
  const int64_t step = g.transA ? kTransPackRows : kc;
  for (int64_t k = 0; k < kc; k += step) {
    const int64_t rows = std::min(step, kc - k);
    if (g.transA) {  // the next pass's rows: the hardware prefetcher does not follow this stride
      for (int64_t kk = k + step; kk < std::min(kc, k + 2 * step); kk++) {
        const float* row = a_at(g, i0, k0 + kk);
        for (int64_t i = 0; i < m; i += 16) __builtin_prefetch(row + i);
      }
    }
    for (int64_t t = 0; t < tiles.count; t++) {
      const int64_t first = tiles.first(t), m_t = tiles.rows(t);
      ops.pack_a(g.transA, a_at(g, i0 + first, k0 + k), g.lda, m_t, rows, dst + first * kc + k * m_t);
    }
  }
}

// The snapshot's panels of op(B) for the K block at k0 (kc deep), from column j (a multiple of nr) on:
// rows_t_pack's layout, ceil(N/nr) panels [kc][nr] per K block.
const float* snapshot_panels(const PackedWeights& w, int64_t nr, int64_t k0, int64_t kc, int64_t j) {
  return w.data + k0 * ((w.N + nr - 1) / nr) * nr + j / nr * kc * nr;
}

// C[i0:i1, j0:j1] with the packed SIMD kernels on the calling thread. False if the packing space
// cannot be allocated (nothing has been written then).
bool gemm_part_simd(const SimdOps& ops, const GemmArgs& g, const PackedWeights* packed, int64_t i0, int64_t i1,
                    int64_t j0, int64_t j1) {
  const int64_t m = i1 - i0, n = j1 - j0, K = g.K;
  const int64_t nr = ops.nr, KC = std::min<int64_t>(ops.kc, K);
  const int64_t MC = 24 * ops.mr;
  const bool aOnce = m <= MC;  // all of op(A) for this part is packed once, for every jc and kb
  // Few rows: B is packed one panel at a time and used at once from L1 by every row tile. Many rows:
  // NC columns of B are packed per K block (L3-resident) and each panel is reused by MC/mr tiles.
  const int64_t NC = aOnce ? nr : round_up(4096, nr);
  float* Ap = tl_pack_a.reserve(aOnce ? m * K : MC * KC);
  float* Bp = packed ? nullptr : tl_pack_b.reserve(KC * round_up(std::min(NC, n), nr));
  if (!Ap || (!packed && !Bp)) return false;

  if (aOnce) {
    for (int64_t k0 = 0; k0 < K; k0 += KC) pack_a_block(ops, g, i0, m, k0, std::min(KC, K - k0), Ap + m * k0);
  }
  for (int64_t jc = j0; jc < j1; jc += NC) {
    const int64_t nc = std::min(NC, j1 - jc);
    const int64_t panels = (nc + nr - 1) / nr;
    for (int64_t k0 = 0; k0 < K; k0 += KC) {
      const int64_t kc = std::min(KC, K - k0);
      const float beta = k0 == 0 ? g.beta : 1.0f;  // later K blocks accumulate
      const float* panels0 = Bp;
      if (packed) {
        panels0 = snapshot_panels(*packed, nr, k0, kc, jc);
      } else {
        ops.pack_b(g.transB, b_at(g, k0, jc), g.ldb, kc, nc, Bp);
      }
      for (int64_t ic = i0; ic < i1; ic += MC) {
        const int64_t mc = std::min(MC, i1 - ic);
        const float* Ablock = Ap + m * k0;
        if (!aOnce) {
          pack_a_block(ops, g, ic, mc, k0, kc, Ap);
          Ablock = Ap;
        }
        const RowTiles tiles(mc, ops.mr);
        for (int64_t p = 0; p < panels; p++) {
          const float* panel = panels0 + p * kc * nr;
          const float* next = p + 1 < panels ? panel + kc * nr : nullptr;
          const int cols = static_cast<int>(std::min(nr, nc - p * nr));
          float* Cp = g.C + ic * g.ldc + jc + p * nr;
          for (int64_t t = 0; t < tiles.count; t++) {
            const int64_t r0 = tiles.first(t);
            ops.kernel(static_cast<int>(tiles.rows(t)), cols, kc, Ablock + r0 * kc, panel, Cp + r0 * g.ldc, g.ldc,
                       g.alpha, beta, t == 0 ? next : nullptr);
          }
        }
      }
    }
  }
  return true;
}

// C[0, j0:j1] for one row of A (a step of one stream): row_panels panels of op(B) packed at a time per K
// block, then kernel_row — or, when B is a weight matrix of the fp32 snapshot in use (`packed`, sampling),
// its panels read as they are. Each element of C is the packed kernel's FMA chain over k in the same K
// blocks and epilogue, so this row equals the same row of a many-row product bit for bit (streaming
// relies on it). j0 is a multiple of nr (the split's unit), so a snapshot's panels line up.
bool gemm_row_simd(const SimdOps& ops, const GemmArgs& g, const PackedWeights* packed, int64_t j0, int64_t j1) {
  const int64_t nr = ops.nr, K = g.K, KC = std::min<int64_t>(ops.kc, K);
  const int64_t group = ops.row_panels * nr;
  float* Bp = packed ? nullptr : tl_pack_b.reserve(KC * std::min(group, round_up(j1 - j0, nr)));
  if (!packed && !Bp) return false;
  for (int64_t k0 = 0; k0 < K; k0 += KC) {
    const int64_t kc = std::min(KC, K - k0);
    const float beta = k0 == 0 ? g.beta : 1.0f;  // later K blocks accumulate
    for (int64_t j = j0; j < j1; j += group) {
      const int64_t n = std::min(group, j1 - j);
      const float* b = Bp;
      if (packed) {
        b = snapshot_panels(*packed, nr, k0, kc, j);
      } else {
        ops.pack_b(g.transB, b_at(g, k0, j), g.ldb, kc, n, Bp);
      }
      ops.kernel_row(static_cast<int>((n + nr - 1) / nr), static_cast<int>(n), kc, a_at(g, 0, k0), b, kc * nr, g.C + j,
                     g.alpha, beta);
    }
  }
  return true;
}

// C[i0:i1, j0:j1] for C = op(A)·Bᵀ with few rows (the h·W_hhᵀ shape): see rows_t_gemm.
bool gemm_part_simd_t(const SimdOps& ops, const GemmArgs& g, const PackedWeights* packed, int64_t i0, int64_t i1,
                      int64_t j0, int64_t j1) {
  const int64_t m = i1 - i0;
  if (g.M == 1 && !g.transA) return gemm_row_simd(ops, g, packed, j0, j1);  // decided by shape, not by the split
  float* Ap = tl_pack_a.reserve(rows_t_packed_size(ops, m, g.K));
  if (!Ap) return false;
  rows_t_pack(ops, g.transA, a_at(g, i0, 0), g.lda, m, g.K, Ap);
  rows_t_gemm(ops, Ap, m, g.K, b_at(g, 0, j0), g.ldb, j1 - j0, g.C + i0 * g.ldc + j0, g.ldc, g.alpha, g.beta);
  return true;
}

void gemm_part_portable(const GemmArgs& g, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  sgemm_portable(g.transA, g.transB, i1 - i0, j1 - j0, g.K, g.alpha, a_at(g, i0, 0), g.lda, b_at(g, 0, j0), g.ldb,
                 g.beta, g.C + i0 * g.ldc + j0, g.ldc);
}

}  // namespace

int64_t rows_t_packed_size(const SimdOps& ops, int64_t m, int64_t K) { return (m + ops.nr - 1) / ops.nr * ops.nr * K; }

void rows_t_pack(const SimdOps& ops, bool transA, const float* A, int64_t lda, int64_t m, int64_t K, float* dst) {
  const int64_t panels = (m + ops.nr - 1) / ops.nr;
  for (int64_t k0 = 0; k0 < K; k0 += ops.kc) {
    // op(A)ᵀ[k, i] = op(A)[i, k]: A[i·lda + k] (transposing pack), or A[k·lda + i] when transA.
    ops.pack_b(!transA, transA ? A + k0 * lda : A + k0, lda, std::min<int64_t>(ops.kc, K - k0), m,
               dst + k0 * panels * ops.nr);
  }
}

void rows_t_gemm(const SimdOps& ops, const float* Ap, int64_t m, int64_t K, const float* Brows, int64_t ldb, int64_t n,
                 float* C, int64_t ldc, float alpha, float beta) {
  const int64_t nr = ops.nr, panels = (m + nr - 1) / nr;
  const RowTiles tiles(n, ops.mr);
  for (int64_t k0 = 0; k0 < K; k0 += ops.kc) {  // the packed kernel's K blocks: the same sums
    const int64_t kc = std::min<int64_t>(ops.kc, K - k0);
    const float b = k0 == 0 ? beta : 1.0f;
    const float* Ablock = Ap + k0 * panels * nr;
    for (int64_t t = 0; t < tiles.count; t++) {
      const int64_t j = tiles.first(t);
      const int rows = static_cast<int>(tiles.rows(t));
      // The rows of the tile are read from memory for the first panel and from L1 for the others.
      for (int64_t p = 0; p < panels; p++) {
        const int lanes = static_cast<int>(std::min(nr, m - p * nr));
        ops.kernel_t(rows, lanes, kc, Brows + j * ldb + k0, ldb, Ablock + p * kc * nr, C + p * nr * ldc + j, ldc, alpha,
                     b);
      }
    }
  }
}

namespace {
thread_local const Fp32Snapshot* tl_fp32_snapshot = nullptr;  // the calling thread's snapshot in use
}  // namespace

Fp32Snapshot::Fp32Snapshot(const SimdOps& ops, const std::vector<Matrix>& matrices) : ops_(&ops) {
  // Every copy starts on a 64-byte line: its panels' rows (nr floats) then stay within whole lines.
  const int64_t line = 64 / sizeof(float);
  int64_t total = 0;
  for (const Matrix& m : matrices) total += round_up(rows_t_packed_size(ops, m.N, m.K), line);
  floats_.reset(static_cast<float*>(::operator new[](size_t(total) * sizeof(float), std::align_val_t(64))));
  int64_t offset = 0;
  for (const Matrix& m : matrices) {
    float* dst = floats_.get() + offset;
    rows_t_pack(ops, false, m.W, m.K, m.N, m.K, dst);  // op(A)ᵀ of A = W: the panels of Wᵀ
    weights_.push_back({m.W, m.N, m.K, dst});
    offset += round_up(rows_t_packed_size(ops, m.N, m.K), line);
  }
}

void Fp32Snapshot::AlignedFree::operator()(float* p) const { ::operator delete[](p, std::align_val_t(64)); }

const PackedWeights* Fp32Snapshot::find(const SimdOps* ops, const float* W, int64_t N, int64_t K, int64_t ldb) const {
  if (ops != ops_) return nullptr;
  for (const PackedWeights& w : weights_) {
    if (w.source == W && w.N == N && w.K == K && ldb == K) return &w;
  }
  return nullptr;
}

void fp32_use_snapshot(const Fp32Snapshot* snapshot) { tl_fp32_snapshot = snapshot; }
const Fp32Snapshot* fp32_snapshot_in_use() { return tl_fp32_snapshot; }

void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  // bf16 where the packed operands are reused: a product with fewer rows than a micro-tile (sampling's
  // one row) would spend more converting B than multiplying, and stays fp32 — unless B is a weight
  // matrix of the snapshot in use (sampling with bf16 weights, rounded once: bf16.h).
  if (engine_config().precision == Precision::Bf16) {
    if (const Bf16Ops* bf16 = bf16_ops()) {
      if (M >= kMinBf16Rows) return sgemm_bf16(*bf16, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      const Bf16Weights* w = !transA && transB ? bf16_weights_for(B, N, K, ldb) : nullptr;
      if (w && K > 0) return sgemm_bf16_weights(*bf16, *w, M, alpha, A, lda, beta, C, ldc);
    }
  }
  sgemm_with(simd_ops(engine_config().level), transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void sgemm_with(const SimdOps* ops, bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  const GemmArgs g{transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc};
  const EngineConfig& config = engine_config();
  // Products with a weight matrix packed once (sampling, decoding; looked up here, on the calling thread).
  const Fp32Snapshot* snapshot = fp32_snapshot_in_use();
  const PackedWeights* packed = snapshot && !transA && transB ? snapshot->find(ops, B, N, K, ldb) : nullptr;

  const GemmSplit split(M, N, K, ops ? ops->nr : 16, ops ? ops->mr : 8, config.threads);

  // The path depends on the shape only (never on the split), so every thread count gives the same bits.
  const bool swapped = split.byColumns && transB;
  auto part = [&](int p) {
    int64_t i0, i1, j0, j1;
    split.block(p, M, N, i0, i1, j0, j1);
    if (i0 >= i1 || j0 >= j1) return;
    bool done = false;
    if (ops) {
      done =
          swapped ? gemm_part_simd_t(*ops, g, packed, i0, i1, j0, j1) : gemm_part_simd(*ops, g, packed, i0, i1, j0, j1);
    }
    if (!done) gemm_part_portable(g, i0, i1, j0, j1);
  };
  parallel_parts(split.parts, part);
}

void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, const float* B,
          float beta, float* C) {
  sgemm(transA, transB, M, N, K, alpha, A, transA ? M : K, B, transB ? K : N, beta, C, N);
}

}  // namespace rnnkit
