// What the fp32 and bf16 GEMM drivers (gemm.cc, gemm_bf16.cc) share: the arguments of one call, the
// even cut of a block's rows into micro-tiles, and the split of C over the threads.
#ifndef RNNKIT_GEMM_BLOCKING_H
#define RNNKIT_GEMM_BLOCKING_H

#include <algorithm>
#include <cstdint>

namespace rnnkit {

struct GemmArgs {
  bool transA, transB;
  int64_t M, N, K;
  float alpha;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float beta;
  float* C;
  int64_t ldc;
};

// Address of op(A)[i, k] and op(B)[k, j].
inline const float* a_at(const GemmArgs& g, int64_t i, int64_t k) {
  return g.transA ? g.A + k * g.lda + i : g.A + i * g.lda + k;
}
inline const float* b_at(const GemmArgs& g, int64_t k, int64_t j) {
  return g.transB ? g.B + j * g.ldb + k : g.B + k * g.ldb + j;
}

inline int64_t round_up(int64_t x, int64_t unit) { return (x + unit - 1) / unit * unit; }

// m rows cut into ceil(m/mr) row tiles as even as possible (32 rows with mr 6: 6,6,5,5,5,5), so every
// tile of a block with m >= 4 has >= 4 rows (enough accumulators to hide the FMA latency).
struct RowTiles {
  int64_t count, base, extra;  // tiles; rows per tile; the first `extra` tiles have one more
  RowTiles(int64_t m, int mr) : count((m + mr - 1) / mr), base(count ? m / count : 0), extra(count ? m % count : 0) {}
  int64_t rows(int64_t t) const { return base + (t < extra ? 1 : 0); }
  int64_t first(int64_t t) const { return t * base + std::min(t, extra); }
};

// Below this many multiply-adds a GEMM runs on the calling thread alone (waking a worker costs more).
constexpr double kMinWorkPerPart = 1 << 18;

// How C [M,N] is shared by the threads: by columns in units of nr when M is small (each thread packs
// and keeps its own share of B), by rows in units of mr when M is large. Part p owns whole units.
struct GemmSplit {
  bool byColumns;
  int64_t unit;
  int parts;
  GemmSplit(int64_t M, int64_t N, int64_t K, int64_t nr, int64_t mr, int threads)
      : byColumns(M < 128), unit(byColumns ? nr : mr), parts(1) {
    const int64_t units = ((byColumns ? N : M) + unit - 1) / unit;
    const double work = double(M) * double(N) * double(K);
    parts = static_cast<int>(std::max<int64_t>(
        1, std::min<int64_t>({int64_t(threads), units, static_cast<int64_t>(work / kMinWorkPerPart)})));
  }
  // Part p's block C[i0:i1, j0:j1] (empty when i0 >= i1 or j0 >= j1).
  void block(int p, int64_t M, int64_t N, int64_t& i0, int64_t& i1, int64_t& j0, int64_t& j1) const {
    const int64_t total = byColumns ? N : M, units = (total + unit - 1) / unit;
    const int64_t begin = std::min(total, units * p / parts * unit),
                  end = std::min(total, units * (p + 1) / parts * unit);
    i0 = byColumns ? 0 : begin, i1 = byColumns ? M : end;
    j0 = byColumns ? begin : 0, j1 = byColumns ? end : N;
  }
};

}  // namespace rnnkit

#endif  // RNNKIT_GEMM_BLOCKING_H
