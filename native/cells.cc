// The recurrent loops of RNN (tanh, relu), LSTM and GRU layers, forward and backward, following
// src/backend/reference.ts exactly (PyTorch's equations and gate order). Per step, the only work that
// is not elementwise is one GEMM over all B streams: h_{t-1}·W_hhᵀ forward, dGh_t·W_hh backward.
//
// Threads (see CellSplit): a large W_hh is split by hidden units into fixed ranges [u0, u1) (multiples
// of 16), one per part. A part owns, for its units, the rows g·H+u0 .. g·H+u1 of W_hh (forward) or its
// columns u0..u1 (backward), packed ONCE per call into the part's own panels, which it then reuses for
// all T steps — so each core keeps streaming the same slice of W_hh. Per step a part computes its
// columns of the gate pre-activations, applies the fused (vectorised) gate nonlinearities to its units
// for every stream, and meets the other parts at one barrier (the next step needs all of h_t, or of
// dGh_t). A small W_hh (fits every core's L2) is split by streams instead: each part runs its own
// streams through all units and all T steps with no barrier at all.
// Every element is computed with the same sequence of operations whatever the split, so results do
// not depend on the thread count.
//
// Packed sequences (lengths): a stream past its end is one test per row and step, never per element;
// its rows are zeroed by the part that owns them (its units, or the stream), and each step's GEMM stops
// at the part's last running stream. Without lengths the loops are exactly the unmasked ones.
//
// No allocation inside the loops: the forward pass builds W_hh·h in the row it is about to overwrite
// (the cache row for lstm/gru, the h_t row for rnn), the backward pass carries dh_t and dc_t in dh0
// and dc0; packing space is thread-local and only grows, before the loops.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "bf16.h"
#include "engine.h"
#include "kernels.h"

namespace rnnkit {

const char* const kCellKindNames[kCellKindCount] = {"rnn_tanh", "rnn_relu", "lstm", "gru"};

namespace {

thread_local FloatScratch tl_weights;  // this thread's packed slice of W_hh
thread_local FloatScratch tl_rows;     // h_{t-1}ᵀ packed for the transposed kernel
thread_local FloatScratch tl_sums;     // the per-stream running sums of dGx and dGh (bias gradients)

// The forward pass packs W_hh when it runs at least this many steps (and more than one stream).
constexpr int64_t kMinPackSteps = 4;
// A single step over at least this many streams multiplies W_hh with one GEMM split by rows (see
// cell_forward_with): the GEMM's own row split (gemm_blocking.h) starts here.
constexpr int64_t kOneStepGemmRows = 128;

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// ---- the scalar level's gate functions (std::exp / std::tanh) -------------------------------------

void scalar_cell_row(CellKind kind, const CellRow& r) {
  const int64_t H = r.H;
  const float *x = r.x, *bi = r.bIh, *bh = r.bHh;
  float* g = r.g;
  for (int64_t j = r.u0; j < r.u1; j++) {
    auto pre = [&](int64_t q) { return (x[q * H + j] + bi[q * H + j]) + (g[q * H + j] + bh[q * H + j]); };
    switch (kind) {
      case CellKind::RnnTanh: r.hn[j] = std::tanh(pre(0)); break;
      case CellKind::RnnRelu: {
        const float a = pre(0);
        r.hn[j] = a > 0.0f || std::isnan(a) ? a : 0.0f;
        break;
      }
      case CellKind::Lstm: {
        const float i = sigmoid(pre(0)), f = sigmoid(pre(1)), gg = std::tanh(pre(2)), o = sigmoid(pre(3));
        const float c = f * r.cp[j] + i * gg;
        r.cn[j] = c;
        r.hn[j] = o * std::tanh(c);
        g[j] = i;
        g[H + j] = f;
        g[2 * H + j] = gg;
        g[3 * H + j] = o;
        break;
      }
      case CellKind::Gru: {
        const float rr = sigmoid(pre(0)), z = sigmoid(pre(1));
        const float hnGate = g[2 * H + j] + bh[2 * H + j];  // W_hn·h + b_hn, inside the reset product
        const float n = std::tanh(x[2 * H + j] + bi[2 * H + j] + rr * hnGate);
        r.hn[j] = (1.0f - z) * n + z * r.hp[j];
        g[j] = rr;
        g[H + j] = z;
        g[2 * H + j] = n;
        g[3 * H + j] = hnGate;
        break;
      }
    }
  }
}

void scalar_cell_grad_row(CellKind kind, const CellGradRow& r) {
  const int64_t H = r.H;
  const float* k = r.k;
  for (int64_t j = r.u0; j < r.u1; j++) {
    const float dh = r.dy[j] + r.carry[j];
    switch (kind) {
      case CellKind::RnnTanh:
      case CellKind::RnnRelu: {
        const float y = r.hc[j];
        const float da = dh * (kind == CellKind::RnnTanh ? 1.0f - y * y : y > 0.0f ? 1.0f : 0.0f);
        r.gx[j] = da;
        r.gh[j] = da;
        r.carry[j] = 0.0f;
        break;
      }
      case CellKind::Lstm: {
        const float i = k[j], f = k[H + j], g = k[2 * H + j], o = k[3 * H + j];
        const float tc = std::tanh(r.cc[j]);
        const float dc = r.dc[j] + dh * o * (1.0f - tc * tc);
        const float di = dc * g * i * (1.0f - i);
        const float df = dc * r.cp[j] * f * (1.0f - f);
        const float dg = dc * i * (1.0f - g * g);
        const float dout = dh * tc * o * (1.0f - o);
        r.gx[j] = r.gh[j] = di;
        r.gx[H + j] = r.gh[H + j] = df;
        r.gx[2 * H + j] = r.gh[2 * H + j] = dg;
        r.gx[3 * H + j] = r.gh[3 * H + j] = dout;
        r.dc[j] = dc * f;
        r.carry[j] = 0.0f;
        break;
      }
      case CellKind::Gru: {
        const float rr = k[j], z = k[H + j], n = k[2 * H + j], hnGate = k[3 * H + j];
        const float dn = dh * (1.0f - z) * (1.0f - n * n);
        const float dz = dh * (r.hp[j] - n) * z * (1.0f - z);
        const float dr = dn * hnGate * rr * (1.0f - rr);
        r.gx[j] = r.gh[j] = dr;
        r.gx[H + j] = r.gh[H + j] = dz;
        r.gx[2 * H + j] = dn;
        r.gh[2 * H + j] = dn * rr;
        r.carry[j] = dh * z;  // the direct path h_{t-1} → h_t
        break;
      }
    }
    for (int64_t q = 0; q < gates_of(kind); q++) {
      if (r.sx) r.sx[q * H + j] += r.gx[q * H + j];
      if (r.sh) r.sh[q * H + j] += r.gh[q * H + j];
    }
  }
}

// The row of xProj that holds the input projection of sequence row i (see cell_forward in kernels.h).
inline int64_t input_row(const int32_t* xIds, int64_t xRows, int64_t i) {
  if (!xIds) return i;
  const int64_t id = xIds[i];
  return id >= 0 && id < xRows ? id : 0;
}

// Packed sequences (lengths [B], or null: every stream runs all T steps). Stream b is running at step t
// while t < lengths[b]; a finished stream's rows are zeroed instead of computed.
inline bool finished(const int32_t* lengths, int64_t b, int64_t t) { return lengths && t >= lengths[b]; }

// How many of the streams [b0, b1) a step must multiply: up to the last one still running at step t
// (finished streams before it are multiplied and then zeroed; with lengths sorted longest first, as
// PyTorch packs them, none are).
int64_t running_rows(const int32_t* lengths, int64_t b0, int64_t b1, int64_t t) {
  if (!lengths) return b1 - b0;
  int64_t rows = 0;
  for (int64_t b = b0; b < b1; b++) {
    if (t < lengths[b]) rows = b - b0 + 1;
  }
  return rows;
}

// Zeroes columns q·H+u0 .. q·H+u1 of a row for q < blocks: one part's units of every gate block.
inline void zero_units(float* row, int64_t blocks, int64_t H, int64_t u0, int64_t u1) {
  for (int64_t q = 0; q < blocks; q++) std::fill(row + q * H + u0, row + q * H + u1, 0.0f);
}

// ---- the split ------------------------------------------------------------------------------------

constexpr int64_t kUnitAlign = 16;
// Below this many multiply-adds per step the per-step barrier costs more than a second thread saves.
constexpr double kMinStepWork = 1 << 16;
// A W_hh of at most this many bytes is small enough for every core to keep all of it in its L2.
constexpr int64_t kBatchSplitBytes = 512 << 10;
// Streams per part, at least, when the streams are split (one full micro-tile).
constexpr int64_t kMinBatchRows = 6;
// In bf16 (packed bf16 slices, bf16.h) the streams are split up to this W_hh in bf16 bytes: each part then
// streams all of W_hh from L3 every step (half the bytes of fp32, against twice the arithmetic rate), which
// costs less than meeting the other parts at a barrier every step (measured on Zen 5 for C3 and C4: the
// cells' steps 1.3–1.8× faster on 2 threads of a loaded machine); a part's rows fill the 8-row bf16 tile.
constexpr int64_t kBf16BatchSplitBytes = 4 << 20;
constexpr int64_t kMinBf16BatchRows = 8;

// How a layer's steps are shared by the parts. By units (a large W_hh): part p owns hidden units
// [u0, u1) of every stream and its slice of W_hh, and the parts meet at a barrier after each step. By
// streams (a small W_hh): part p owns streams [b0, b1) for all units and reads all of W_hh; streams
// never depend on each other, so the parts run their T steps without waiting for one another.
struct CellSplit {
  int parts = 1;
  bool byStreams = false;
  // The units [u0, u1) and streams [b0, b1) of part p.
  void ranges(int p, int64_t H, int64_t B, int64_t& u0, int64_t& u1, int64_t& b0, int64_t& b1) const {
    u0 = 0, u1 = H, b0 = 0, b1 = B;
    if (byStreams) {
      b0 = B * p / parts;
      b1 = B * (p + 1) / parts;
    } else {
      const int64_t units = (H + kUnitAlign - 1) / kUnitAlign;
      u0 = std::min(H, units * p / parts * kUnitAlign);
      u1 = std::min(H, units * (p + 1) / parts * kUnitAlign);
    }
  }
};

// bf16: whether the loop multiplies by packed bf16 slices of W_hh.
CellSplit cell_split(int threads, int64_t B, int64_t GH, int64_t H, bool bf16) {
  CellSplit split;
  if (double(B) * double(GH) * double(H) < kMinStepWork) return split;
  const int64_t minRows = bf16 ? kMinBf16BatchRows : kMinBatchRows;
  const bool streams = bf16 ? GH * H * 2 <= kBf16BatchSplitBytes : GH * H * int64_t(sizeof(float)) <= kBatchSplitBytes;
  if (streams && B >= 2 * minRows) {
    split.byStreams = true;
    split.parts = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, B / minRows)));
  } else {
    split.parts = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, (H + kUnitAlign - 1) / kUnitAlign)));
  }
  return split;
}

// A part's packed slice of W_hh: `gates` column groups of n columns, each ceil(n/nr) panels of K×nr.
struct PackedSlice {
  const SimdOps* ops = nullptr;  // null: no packing (scalar level, or no memory): use sgemm_portable
  float* data = nullptr;
  int64_t K = 0, n = 0, panels = 0;
  const float* group(int64_t q) const { return data + q * panels * K * ops->nr; }
};

// C[m, group columns] = A·slice (+ C when accumulate) for every column group. A [m, K] (row stride lda)
// is read in place by the micro-kernel (its rows are contiguous in k); group q's output starts at
// C + q·groupStride (row stride ldc). Loop order: panel, K block, row tile — each panel block (kc×nr)
// is loaded once (the next one prefetched during the first row tile) and reused from L1 by every tile.
void slice_gemm(const PackedSlice& w, const float* A, int64_t lda, int64_t m, float* C, int64_t ldc,
                int64_t groupStride, int64_t groups, bool accumulate) {
  const SimdOps& ops = *w.ops;
  const int64_t nr = ops.nr, K = w.K, KC = std::min<int64_t>(ops.kc, K);
  const int64_t tiles = (m + ops.mr - 1) / ops.mr, base = m / tiles, extra = m % tiles;
  const float* last = w.group(groups - 1) + (w.panels - 1) * K * nr + (K - 1) / KC * KC * nr;  // final block
  if (m == 1) {
    // One stream (batch 1): one row against row_panels panels at a time (enough independent FMA chains).
    for (int64_t q = 0; q < groups; q++) {
      for (int64_t p = 0; p < w.panels; p += ops.row_panels) {
        const int64_t np = std::min<int64_t>(ops.row_panels, w.panels - p);
        const int cols = static_cast<int>(std::min(np * nr, w.n - p * nr));
        for (int64_t k0 = 0; k0 < K; k0 += KC) {
          const int64_t kc = std::min(KC, K - k0);
          ops.kernel_row(static_cast<int>(np), cols, kc, A + k0, w.group(q) + p * K * nr + k0 * nr, K * nr,
                         C + q * groupStride + p * nr, 1.0f, accumulate || k0 > 0 ? 1.0f : 0.0f);
        }
      }
    }
    return;
  }
  for (int64_t q = 0; q < groups; q++) {
    for (int64_t p = 0; p < w.panels; p++) {
      const float* panel = w.group(q) + p * K * nr;
      const int cols = static_cast<int>(std::min(nr, w.n - p * nr));
      float* Cp = C + q * groupStride + p * nr;
      for (int64_t k0 = 0; k0 < K; k0 += KC) {
        const int64_t kc = std::min(KC, K - k0);
        const float* block = panel + k0 * nr;
        const float* next = block == last ? nullptr : block + kc * nr;  // blocks are contiguous
        const float beta = accumulate || k0 > 0 ? 1.0f : 0.0f;
        for (int64_t t = 0, r0 = 0; t < tiles; t++) {
          const int64_t rows_t = base + (t < extra ? 1 : 0);
          ops.kernel_rows(static_cast<int>(rows_t), cols, kc, A + r0 * lda + k0, lda, block, Cp + r0 * ldc, ldc, 1.0f,
                          beta, t == 0 ? next : nullptr);
          r0 += rows_t;
        }
      }
    }
  }
}

}  // namespace

void scalar_activation(Activation f, int64_t n, const float* x, float* out) {
  for (int64_t i = 0; i < n; i++) {
    out[i] = f == Activation::Exp ? std::exp(x[i]) : f == Activation::Tanh ? std::tanh(x[i]) : sigmoid(x[i]);
  }
}

void cell_forward(CellKind kind, int64_t T, int64_t B, int64_t H, const float* xProj, const int32_t* xIds,
                  int64_t xRows, const float* wHh, const float* bIh, const float* bHh, float* hs, float* cs,
                  float* cache, const int32_t* lengths) {
  cell_forward_with(simd_ops(engine_config().level), kind, T, B, H, xProj, xIds, xRows, wHh, bIh, bHh, hs, cs, cache,
                    lengths);
}

void cell_forward_with(const SimdOps* ops, CellKind kind, int64_t T, int64_t B, int64_t H, const float* xProj,
                       const int32_t* xIds, int64_t xRows, const float* wHh, const float* bIh, const float* bHh,
                       float* hs, float* cs, float* cache, const int32_t* lengths) {
  const int64_t G = gates_of(kind), GH = G * H;
  const int64_t CW = cache_width(kind) * H;
  const bool rnn = kind == CellKind::RnnTanh || kind == CellKind::RnnRelu;
  const int64_t ldg = rnn ? H : CW;  // row stride of the gate scratch
  const EngineConfig& config = engine_config();
  void (*row_fn)(CellKind, const CellRow&) = ops ? ops->cell_row : scalar_cell_row;
  const Bf16Ops* bf16 = config.precision == Precision::Bf16 ? bf16_ops() : nullptr;
  const bool packBf16 = bf16 && B > 1 && T >= kMinPackSteps;  // W_hh as packed bf16 slices (below)
  const CellSplit split = cell_split(config.threads, B, GH, H, packBf16);
  PartBarrier barrier(split.byStreams ? 1 : split.parts);
  // A bf16 snapshot of W_hh in use (sampling, bf16.h), grouped by gate so that a part's units are whole
  // panels: it serves the steps that the packed slice below does not (one stream, or a few steps).
  const Bf16Weights* snapshot = bf16 ? bf16_weights_for(wHh, GH, H, H) : nullptr;
  if (snapshot && snapshot->rows != H) snapshot = nullptr;

  // The gate functions of stream b at step t for units [u0, u1), reading W_hh·h_{t-1} from the row they
  // overwrite (the cache row, or h_t's for rnn).
  auto gates = [&](int64_t t, int64_t b, int64_t u0, int64_t u1) {
    float* hNext = hs + ((t + 1) * B + b) * H;
    float* row = cache + (t * B + b) * CW;
    if (finished(lengths, b, t)) {  // past the end: zero output and cache, xProj not read
      zero_units(hNext, 1, H, u0, u1);
      if (kind == CellKind::Lstm) zero_units(cs + ((t + 1) * B + b) * H, 1, H, u0, u1);
      zero_units(row, cache_width(kind), H, u0, u1);
      return;
    }
    const CellRow r{H,
                    u0,
                    u1,
                    xProj + input_row(xIds, xRows, t * B + b) * GH,
                    bIh,
                    bHh,
                    hs + (t * B + b) * H,
                    hNext,
                    rnn ? hNext : row,
                    kind == CellKind::Lstm ? cs + (t * B + b) * H : nullptr,
                    kind == CellKind::Lstm ? cs + ((t + 1) * B + b) * H : nullptr};
    row_fn(kind, r);
  };
  // One step over many streams (a beam search step: B·K rows): W_hh·h_{t-1} as one GEMM split by rows,
  // which reads W_hh from the fp32 snapshot in use when it holds it (decoding packs it once), then the
  // gate functions by streams — no barrier. The GEMM's FMA chains are the per-part products' below.
  if (T == 1 && ops && !bf16 && B >= kOneStepGemmRows) {
    sgemm_with(ops, false, true, running_rows(lengths, 0, B, 0), GH, H, 1.0f, hs, H, wHh, H, 0.0f,
               rnn ? hs + B * H : cache, ldg);
    parallel_ranges(B, B * (CW + 3 * H), [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; b++) gates(0, b, 0, H);
    });
    return;
  }

  auto part = [&](int p) {
    int64_t u0, u1, b0, b1;
    split.ranges(p, H, B, u0, u1, b0, b1);
    const int64_t n = u1 - u0, rows = b1 - b0;
    // bf16 (bf16.h): this part's rows of W_hh packed once as bf16 pairs, h_{t-1} rounded every step —
    // when the packing pays (as packW below); else the snapshot's panels if there is one, else fp32.
    Bf16Slice wb;
    if (packBf16) bf16_pack_slice(bf16, true, wHh + u0 * H, H, H * H, G, H, n, rows, tl_weights, tl_rows, wb);
    const Bf16Weights* ws = wb.ops || n == 0 ? nullptr : snapshot;
    uint32_t* hPairs = ws ? reinterpret_cast<uint32_t*>(tl_rows.reserve(rows * ((H + 1) / 2))) : nullptr;
    if (!hPairs) ws = nullptr;  // no memory: fp32 below
    // Pack this part's rows of W_hh once: op(B) = W_hhᵀ restricted to rows q·H+u0 .. q·H+u1 of each
    // gate q, as panels [H][nr] that every step then streams through the micro-kernel.
    // Packing costs about two more passes over the slice, so it only pays when the slice is used for
    // enough steps and streams. Otherwise W_hh is read in place: one stream → GEMV over its rows; a
    // few steps → the transposed kernel against h_{t-1}ᵀ packed per step (sampling, short chunks).
    const bool gemv = ops && !wb.ops && !ws && B == 1;
    const bool packW = ops && !wb.ops && !ws && !gemv && T >= kMinPackSteps;
    PackedSlice w;
    if (packW && n > 0) {
      w.K = H;
      w.n = n;
      w.panels = (n + ops->nr - 1) / ops->nr;
      w.data = tl_weights.reserve(G * w.panels * H * ops->nr);
      if (w.data) {
        w.ops = ops;
        for (int64_t q = 0; q < G; q++)
          ops->pack_b(true, wHh + (q * H + u0) * H, H, H, n, const_cast<float*>(w.group(q)));
      }
    }
    float* hT = ops && !wb.ops && !ws && !gemv && !packW && n > 0 ? tl_rows.reserve(rows_t_packed_size(*ops, rows, H))
                                                                  : nullptr;
    for (int64_t t = 0; t < T; t++) {
      const float* hPrev = hs + (t * B + b0) * H;  // this part's streams of h_{t-1}, complete (barrier below)
      float* hNext = hs + ((t + 1) * B + b0) * H;
      // gh [rows, ldg]: W_hh·h_{t-1} (no bias) in the rows that the gate functions overwrite.
      float* gh = rnn ? hNext : cache + (t * B + b0) * CW;
      const int64_t m = running_rows(lengths, b0, b1, t);  // rows [0, m) of this part's streams
      if (n > 0 && m > 0) {
        if (wb.ops) {
          bf16_slice_gemm(wb, hPrev, H, m, gh + u0, ldg, H, G, 0.0f);
        } else if (ws) {
          bf16->pack_a(false, hPrev, H, m, H, 1.0f, hPairs);
          for (int64_t q = 0; q < G; q++)
            bf16_weights_product(*bf16, *ws, q, u0, u1, hPairs, m, gh + q * H + u0, ldg, 0.0f);
        } else if (gemv) {
          for (int64_t q = 0; q < G; q++)
            ops->gemv_rows(n, H, hPrev, wHh + (q * H + u0) * H, H, gh + q * H + u0, 1.0f, 0.0f);
        } else if (w.ops) {
          slice_gemm(w, hPrev, H, m, gh + u0, ldg, H, G, false);
        } else if (hT) {
          rows_t_pack(*ops, false, hPrev, H, m, H, hT);
          for (int64_t q = 0; q < G; q++) {
            rows_t_gemm(*ops, hT, m, H, wHh + (q * H + u0) * H, H, n, gh + q * H + u0, ldg, 1.0f, 0.0f);
          }
        } else {
          for (int64_t q = 0; q < G; q++) {
            sgemm_portable(false, true, m, n, H, 1.0f, hPrev, H, wHh + (q * H + u0) * H, H, 0.0f, gh + q * H + u0, ldg);
          }
        }
      }
      for (int64_t b = b0; n > 0 && b < b1; b++) gates(t, b, u0, u1);
      barrier.wait();  // split by units: h_t complete before any part reads it
    }
  };
  parallel_parts(split.parts, part);
}

void cell_backward(CellKind kind, int64_t T, int64_t B, int64_t H, const float* wHh, const float* hs, const float* cs,
                   const float* cache, const float* dhs, const float* dhN, const float* dcN, float* dGx, float* dGh,
                   float* dh0, float* dc0, float* dbIh, float* dbHh, const int32_t* lengths, float* dhSteps) {
  cell_backward_with(simd_ops(engine_config().level), kind, T, B, H, wHh, hs, cs, cache, dhs, dhN, dcN, dGx, dGh, dh0,
                     dc0, dbIh, dbHh, lengths, dhSteps);
}

void cell_backward_with(const SimdOps* ops, CellKind kind, int64_t T, int64_t B, int64_t H, const float* wHh,
                        const float* hs, const float* cs, const float* cache, const float* dhs, const float* dhN,
                        const float* dcN, float* dGx, float* dGh, float* dh0, float* dc0, float* dbIh, float* dbHh,
                        const int32_t* lengths, float* dhSteps) {
  const int64_t G = gates_of(kind), GH = G * H;
  const int64_t CW = cache_width(kind) * H;
  const bool lstm = kind == CellKind::Lstm;
  const EngineConfig& config = engine_config();
  void (*row_fn)(CellKind, const CellGradRow&) = ops ? ops->cell_grad_row : scalar_cell_grad_row;
  const Bf16Ops* bf16 = config.precision == Precision::Bf16 ? bf16_ops() : nullptr;
  const CellSplit split = cell_split(config.threads, B, GH, H, bf16 != nullptr);
  PartBarrier barrier(split.byStreams ? 1 : split.parts);
  // The bias gradients: each stream's rows are summed while they are in cache (by whichever part owns
  // the stream's units or the stream itself, in the same order: t from T−1 down), into sums [B][G·H]
  // of dGx and — for the GRU, whose n gate differs — of dGh; the streams' sums are added below.
  const bool sameSums = kind != CellKind::Gru;  // dGx = dGh
  const bool wantSums = dbIh || dbHh;
  float* sums = wantSums ? tl_sums.reserve((sameSums ? 1 : 2) * B * GH) : nullptr;
  if (sums) std::fill(sums, sums + (sameSums ? 1 : 2) * B * GH, 0.0f);
  float* sumsX = sums;
  float* sumsH = sums && !sameSums ? sums + B * GH : nullptr;

  auto part = [&](int p) {
    int64_t u0, u1, b0, b1;
    split.ranges(p, H, B, u0, u1, b0, b1);
    const int64_t n = u1 - u0;
    // dh0 [B,H] carries the gradient w.r.t. h_t from step t+1 (dc0 the same for c_t): own part only.
    for (int64_t b = b0; b < b1; b++) {
      std::copy(dhN + b * H + u0, dhN + b * H + u1, dh0 + b * H + u0);
      if (lstm) std::copy(dcN + b * H + u0, dcN + b * H + u1, dc0 + b * H + u0);
    }
    // Pack this part's columns u0..u1 of W_hh [G·H, H] once (op(B) = W_hh, K = G·H), as bf16 pairs in bf16.
    Bf16Slice wb;
    if (bf16) bf16_pack_slice(bf16, false, wHh + u0, H, 0, 1, GH, n, b1 - b0, tl_weights, tl_rows, wb);
    PackedSlice w;
    if (ops && !wb.ops && n > 0) {
      w.K = GH;
      w.n = n;
      w.panels = (n + ops->nr - 1) / ops->nr;
      w.data = tl_weights.reserve(w.panels * GH * ops->nr);
      if (w.data) {
        w.ops = ops;
        ops->pack_b(false, wHh + u0, H, GH, n, w.data);
      }
    }
    for (int64_t t = T - 1; t >= 0; t--) {
      for (int64_t b = b0; n > 0 && b < b1; b++) {
        const int64_t row = t * B + b;
        if (finished(lengths, b, t)) {  // past the end: zero rows, dh0/dc0 carry the gradient through
          zero_units(dGx + row * GH, G, H, u0, u1);
          zero_units(dGh + row * GH, G, H, u0, u1);
          if (dhSteps) zero_units(dhSteps + row * H, 1, H, u0, u1);
          continue;
        }
        // dh_t = dhs_t + the carry (this part's units are complete here: see the barrier below).
        if (dhSteps) {
          for (int64_t j = u0; j < u1; j++) dhSteps[row * H + j] = dhs[row * H + j] + dh0[b * H + j];
        }
        const CellGradRow r{H,
                            u0,
                            u1,
                            hs + row * H,
                            hs + (row + B) * H,
                            cache + row * CW,
                            dhs + row * H,
                            dGx + row * GH,
                            dGh + row * GH,
                            dh0 + b * H,
                            lstm ? cs + row * H : nullptr,
                            lstm ? cs + (row + B) * H : nullptr,
                            lstm ? dc0 + b * H : nullptr,
                            sumsX ? sumsX + b * GH : nullptr,
                            sumsH ? sumsH + b * GH : nullptr};
        row_fn(kind, r);
      }
      barrier.wait();                                      // split by units: dGh_t complete before any part reads it
      const int64_t m = running_rows(lengths, b0, b1, t);  // finished streams' rows are zero: += 0
      if (n == 0 || m == 0) continue;
      // dh_{t-1}[b0:b0+m, u0:u1] += dGh_t [b0:b0+m, G·H] · W_hh[:, u0:u1]
      const float* dGhT = dGh + (t * B + b0) * GH;
      if (wb.ops) {
        bf16_slice_gemm(wb, dGhT, GH, m, dh0 + b0 * H + u0, H, 0, 1, 1.0f);
      } else if (w.ops) {
        slice_gemm(w, dGhT, GH, m, dh0 + b0 * H + u0, H, 0, 1, true);
      } else {
        sgemm_portable(false, false, m, n, GH, 1.0f, dGhT, GH, wHh + u0, H, 1.0f, dh0 + b0 * H + u0, H);
      }
      // No barrier needed here: the next step's gate functions read and write only this part's units
      // and streams of dh0/dc0, and write row t-1 of dGx/dGh, which nobody reads until the next barrier.
    }
  };
  parallel_parts(split.parts, part);
  if (!wantSums) return;
  // The streams' sums, in stream order (without memory for them: the rows of dGx and dGh themselves).
  const int64_t rows = sums ? B : T * B;
  if (dbIh) sum_rows(rows, GH, sums ? sumsX : dGx, dbIh);
  if (dbHh) sum_rows(rows, GH, sums ? (sumsH ? sumsH : sumsX) : dGh, dbHh);
}

}  // namespace rnnkit
