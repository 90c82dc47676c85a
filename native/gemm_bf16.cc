// The bf16 GEMM driver (contract in bf16.h): the choice of kernels, the split over threads and the
// cache blocking (GotoBLAS loop order, like gemm.cc's packed path), and the recurrent loops' slice
// products. Each C element is one VDPBF16PS chain over the pairs of K in order whatever the split or
// the blocking (a K block leaves its fp32 accumulator in C, the next continues from it), so results
// are bit-identical for any thread count and equal to bf16_gemm_emulated.
#include <algorithm>
#include <cstdint>

#include "bf16.h"
#include "engine.h"
#include "gemm_blocking.h"

namespace rnnkit {

#if RNNKIT_X86_SIMD
const Bf16Ops* avx512_bf16_ops();  // simd_avx512_bf16.cc
#endif

namespace {

bool cpu_has_bf16() {
#if RNNKIT_X86_SIMD
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

}  // namespace

const Bf16Ops* bf16_ops() {
#if RNNKIT_X86_SIMD
  static const bool has = cpu_has_bf16();
  return has ? avx512_bf16_ops() : nullptr;
#else
  return nullptr;
#endif
}

const char* bf16_unavailable_reason() {
#if RNNKIT_X86_SIMD
  return bf16_ops() ? "" : "this CPU lacks AVX-512 BF16 (avx512_bf16 in /proc/cpuinfo)";
#else
  return "this build has no bf16 kernels (they need x86-64 with AVX-512 BF16)";
#endif
}

namespace {

thread_local FloatScratch tl_bf16_a;  // packed op(A) row tiles (pair words)
thread_local FloatScratch tl_bf16_b;  // packed op(B) panels (pair words)

inline uint32_t* words(FloatScratch& scratch, int64_t n) { return reinterpret_cast<uint32_t*>(scratch.reserve(n)); }
inline int64_t pairs(int64_t k) { return (k + 1) / 2; }

// k rows of A per pass when packing op(A) = Aᵀ (even: a pass packs whole pairs).
constexpr int64_t kTransPackRows = 16;

// op(A)[i0 : i0+m, k0 : k0+kc] as row tiles, tile t at dst + first(t)·ceil(kc/2). When transA, a tile's
// rows are a few floats of each of kc rows of A, lda apart: all tiles take kTransPackRows rows of A in
// turn, which stay in L1 while every tile copies its floats out of them (as gemm.cc's pack_a_block).
void pack_a_block(const Bf16Ops& ops, const GemmArgs& g, int64_t i0, int64_t m, int64_t k0, int64_t kc, uint32_t* dst) {
  const RowTiles tiles(m, ops.mr);
  const int64_t step = g.transA ? kTransPackRows : kc, kp = pairs(kc);
  for (int64_t k = 0; k < kc; k += step) {
    for (int64_t t = 0; t < tiles.count; t++) {
      const int64_t first = tiles.first(t), m_t = tiles.rows(t);
      // a [kp][m_t] tile: pass k starts at pair k/2; a row-major tile is packed in one pass
      ops.pack_a(g.transA, a_at(g, i0 + first, k0 + k), g.lda, m_t, std::min(step, kc - k), g.alpha,
                 dst + first * kp + (k / 2) * m_t);
    }
  }
}

// C[i0:i1, j0:j1] on the calling thread. False if the packing space cannot be allocated (nothing
// has been written then).
bool gemm_part(const Bf16Ops& ops, const GemmArgs& g, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  const int64_t m = i1 - i0, n = j1 - j0, nr = ops.nr;
  const int64_t KC = std::min<int64_t>(2 * int64_t(ops.kp), g.K + (g.K & 1));  // even: blocks split whole pairs
  const int64_t MC = 24 * int64_t(ops.mr), NC = round_up(4096, nr);
  const int64_t panelsMax = (std::min(NC, n) + nr - 1) / nr;
  uint32_t* Ap = words(tl_bf16_a, std::min(MC, m) * pairs(KC));
  uint32_t* Bp = words(tl_bf16_b, pairs(KC) * panelsMax * nr);
  if (!Ap || !Bp) return false;
  for (int64_t jc = j0; jc < j1; jc += NC) {
    const int64_t nc = std::min(NC, j1 - jc), panels = (nc + nr - 1) / nr;
    for (int64_t k0 = 0; k0 < g.K; k0 += KC) {
      const int64_t kc = std::min(KC, g.K - k0), kp = pairs(kc);
      const float beta = k0 == 0 ? g.beta : 1.0f;  // later K blocks continue the chain stored in C
      ops.pack_b(g.transB, b_at(g, k0, jc), g.ldb, kc, nc, Bp);
      for (int64_t ic = i0; ic < i1; ic += MC) {
        const int64_t mc = std::min(MC, i1 - ic);
        pack_a_block(ops, g, ic, mc, k0, kc, Ap);
        const RowTiles tiles(mc, ops.mr);
        for (int64_t p = 0; p < panels; p++) {
          const int cols = static_cast<int>(std::min(nr, nc - p * nr));
          float* Cp = g.C + ic * g.ldc + jc + p * nr;
          for (int64_t t = 0; t < tiles.count; t++) {
            const int64_t r0 = tiles.first(t);
            ops.kernel(static_cast<int>(tiles.rows(t)), cols, kp, Ap + r0 * kp, g.transA, Bp + p * kp * nr,
                       Cp + r0 * g.ldc, g.ldc, beta);
          }
        }
      }
    }
  }
  return true;
}

}  // namespace

void sgemm_bf16(const Bf16Ops& ops, bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // no pairs: C = beta·C (beta 0 overwrites)
    for (int64_t i = 0; i < M; i++) {
      for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    }
    return;
  }
  const GemmArgs g{transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc};
  const GemmSplit split(M, N, K, ops.nr, ops.mr, engine_config().threads);
  auto part = [&](int p) {
    int64_t i0, i1, j0, j1;
    split.block(p, M, N, i0, i1, j0, j1);
    if (i0 >= i1 || j0 >= j1) return;
    if (!gemm_part(ops, g, i0, i1, j0, j1)) {  // no packing memory: the oracle's loops (same bits)
      bf16_gemm_emulated(transA, transB, i1 - i0, j1 - j0, K, alpha, a_at(g, i0, 0), lda, b_at(g, 0, j0), ldb, beta,
                         C + i0 * ldc + j0, ldc);
    }
  };
  parallel_parts(split.parts, part);
}

void bf16_pack_slice(const Bf16Ops* ops, bool transB, const float* B, int64_t ldb, int64_t groupStride, int64_t groups,
                     int64_t K, int64_t n, int64_t m, FloatScratch& weights, FloatScratch& rows, Bf16Slice& slice) {
  slice = Bf16Slice{};
  if (!ops || n <= 0) return;
  const int64_t panels = (n + ops->nr - 1) / ops->nr, kp = pairs(K);
  uint32_t* data = words(weights, groups * panels * kp * ops->nr);
  uint32_t* rowSpace = words(rows, std::max<int64_t>(m, 1) * kp);
  if (!data || !rowSpace) return;
  for (int64_t q = 0; q < groups; q++)
    ops->pack_b(transB, B + q * groupStride, ldb, K, n, data + q * panels * kp * ops->nr);
  slice = Bf16Slice{ops, data, rowSpace, K, n, panels};
}

void bf16_slice_gemm(const Bf16Slice& slice, const float* A, int64_t lda, int64_t m, float* C, int64_t ldc,
                     int64_t groupStride, int64_t groups, float beta) {
  const Bf16Ops& ops = *slice.ops;
  const int64_t nr = ops.nr, kp = pairs(slice.K);
  const RowTiles tiles(m, ops.mr);
  for (int64_t t = 0; t < tiles.count; t++) {
    ops.pack_a(false, A + tiles.first(t) * lda, lda, tiles.rows(t), slice.K, 1.0f, slice.rows + tiles.first(t) * kp);
  }
  // One pass over the slice per step: each panel is used by every row tile while it is in L1/L2.
  for (int64_t q = 0; q < groups; q++) {
    for (int64_t p = 0; p < slice.panels; p++) {
      const uint32_t* panel = slice.data + (q * slice.panels + p) * kp * nr;
      const int cols = static_cast<int>(std::min(nr, slice.n - p * nr));
      float* Cp = C + q * groupStride + p * nr;
      for (int64_t t = 0; t < tiles.count; t++) {
        const int64_t r0 = tiles.first(t);
        ops.kernel(static_cast<int>(tiles.rows(t)), cols, kp, slice.rows + r0 * kp, false, panel, Cp + r0 * ldc, ldc,
                   beta);
      }
    }
  }
}

// ---- weight snapshots (sampling) --------------------------------------------------------------------

namespace {
thread_local const Bf16Snapshot* tl_snapshot = nullptr;  // the calling thread's snapshot in use
thread_local FloatScratch tl_bf16_rows;                  // A's rows as pair words for a snapshot product
constexpr int64_t kPanel = 16;                           // columns of a snapshot panel
}  // namespace

Bf16Snapshot::Bf16Snapshot(const Bf16Ops& ops, const std::vector<Matrix>& matrices) {
  int64_t total = 0;
  for (const Matrix& m : matrices) total += m.groups * ((m.rows + kPanel - 1) / kPanel) * pairs(m.K) * kPanel;
  words_.resize(static_cast<size_t>(total));
  int64_t offset = 0;
  for (const Matrix& m : matrices) {
    Bf16Weights w;
    w.source = m.W;
    w.groups = m.groups, w.rows = m.rows, w.K = m.K;
    w.panels = (m.rows + kPanel - 1) / kPanel;
    uint32_t* dst = words_.data() + offset;
    w.data = dst;
    const int64_t panelWords = pairs(m.K) * kPanel;
    for (int64_t g = 0; g < m.groups; g++) {
      for (int64_t p = 0; p < w.panels; p++) {
        const int64_t r0 = g * m.rows + p * kPanel;
        ops.pack_w(m.W + r0 * m.K, m.K, m.K, std::min(kPanel, m.rows - p * kPanel),
                   dst + (g * w.panels + p) * panelWords);
      }
    }
    offset += m.groups * w.panels * panelWords;
    weights_.push_back(w);
  }
}

const Bf16Weights* Bf16Snapshot::find(const float* W, int64_t N, int64_t K, int64_t ldb) const {
  for (const Bf16Weights& w : weights_) {
    if (w.source == W && w.groups * w.rows == N && w.K == K && ldb == K) return &w;
  }
  return nullptr;
}

void bf16_use_snapshot(const Bf16Snapshot* snapshot) { tl_snapshot = snapshot; }
const Bf16Snapshot* bf16_snapshot_in_use() { return tl_snapshot; }

void bf16_weights_product(const Bf16Ops& ops, const Bf16Weights& w, int64_t g, int64_t u0, int64_t u1,
                          const uint32_t* aPairs, int64_t m, float* C, int64_t ldc, float beta) {
  const int64_t kp = pairs(w.K), stride = kp * kPanel, span = kPanel * ops.few_panels;
  const uint32_t* group = w.data + g * w.panels * stride;
  for (int64_t r0 = 0; r0 < m; r0 += ops.few_rows) {
    const int rows = static_cast<int>(std::min<int64_t>(ops.few_rows, m - r0));
    for (int64_t c = u0; c < u1; c += span) {
      const int cols = static_cast<int>(std::min(span, u1 - c));
      ops.kernel_few(rows, static_cast<int>((cols + kPanel - 1) / kPanel), cols, kp, aPairs + r0 * kp,
                     group + (c / kPanel) * stride, stride, C + r0 * ldc + (c - u0), ldc, beta);
    }
  }
}

void sgemm_bf16_weights(const Bf16Ops& ops, const Bf16Weights& w, int64_t M, float alpha, const float* A, int64_t lda,
                        float beta, float* C, int64_t ldc) {
  const int64_t kp = pairs(w.K), N = w.groups * w.rows;
  if (M == 0 || N == 0) return;
  uint32_t* rows = words(tl_bf16_rows, M * kp);
  if (!rows) {  // no memory: the oracle's loops (same bits)
    bf16_gemm_emulated(false, true, M, N, w.K, alpha, A, lda, w.source, w.K, beta, C, ldc);
    return;
  }
  ops.pack_a(false, A, lda, M, w.K, alpha, rows);  // row-major [M][kp]
  // Parts own whole panels of the groups in order (panel q = panel q % panels of group q / panels).
  const int64_t units = w.groups * w.panels;
  const double work = double(M) * double(N) * double(w.K);
  const int parts = static_cast<int>(std::max<int64_t>(
      1, std::min<int64_t>({int64_t(engine_config().threads), units, static_cast<int64_t>(work / kMinWorkPerPart)})));
  auto part = [&](int p) {
    const int64_t q0 = units * p / parts, q1 = units * (p + 1) / parts;
    for (int64_t q = q0; q < q1;) {
      const int64_t g = q / w.panels, first = q % w.panels, last = std::min(w.panels, first + (q1 - q));
      const int64_t u0 = first * kPanel, u1 = std::min(w.rows, last * kPanel);
      bf16_weights_product(ops, w, g, u0, u1, rows, M, C + g * w.rows + u0, ldc, beta);
      q += last - first;
    }
  };
  parallel_parts(parts, part);
}

}  // namespace rnnkit
