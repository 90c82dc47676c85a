// The attention decoder loop of the sequence-to-sequence model (Backend.decoderForward/decoderBackward in
// src/backend/types.ts; the oracle is src/backend/reference-decoder.ts). Luong et al. 2015: "general" score,
// h~_t = tanh(W_c [c_t; h_t]), input feeding of h~_{t-1}; the whole T-step loop over L layers in one call.
//
// Each step reuses the engine's own pieces, so the decoder inherits their SIMD levels, packing, bf16 and
// thread splits (results do not depend on the thread count):
// - each layer projects its input with one GEMM per step: layer 0 over the step's rows of input0
//   ([embedding; h~_{t-1}], K = E+H, as one GEMM rather than two: beam search calls with T = 1), so a step
//   is the same arithmetic whatever T is;
// - each layer's step is cell_forward / cell_backward with T = 1 on the step's slots of hs, cs and cache;
// - W_c·[c;h] is one GEMM per step;
// - attention (scores, masked softmax, context) is split over fixed ranges of rows b (parallel_ranges):
//   each row is computed by one thread with the same operations whatever the split, the scores and the
//   context by the SIMD level's GEMVs over the row's keys and memory read in place (gemv_rows, gemv_cols).
// Backward: the same steps in reverse; the weight gradients are left to the caller's whole-sequence GEMMs.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "engine.h"
#include "kernels.h"

namespace rnnkit {

namespace {

thread_local FloatScratch tl_decoder;  // the calling thread's decoder scratch (grows only)

// out[s] = q·rows[s·ld .. +K) for s < n: one row's attention scores (or the gradient w.r.t. them).
void scores(const SimdOps* ops, int64_t n, int64_t K, const float* q, const float* rows, int64_t ld, float* out) {
  if (ops) return ops->gemv_rows(n, K, q, rows, ld, out, 1.0f, 0.0f);
  for (int64_t s = 0; s < n; s++) {
    const float* r = rows + s * ld;
    float sum = 0.0f;
    for (int64_t j = 0; j < K; j++) sum += r[j] * q[j];
    out[s] = sum;
  }
}

// y[K] += Σ_{s<n} w[s]·rows[s·ld .. +K): a row's context (or a gradient through it).
void weighted_rows(const SimdOps* ops, int64_t n, int64_t K, const float* w, const float* rows, int64_t ld, float* y) {
  if (ops) return ops->gemv_cols(n, K, w, rows, ld, y);
  for (int64_t s = 0; s < n; s++) {
    const float* r = rows + s * ld;
    for (int64_t j = 0; j < K; j++) y[j] += w[s] * r[j];
  }
}

// The source length of row b, clamped to [1, S] (validated by the caller; the clamp guards a
// SharedArrayBuffer changed after validation).
inline int64_t source_length(const int32_t* lengths, int64_t b, int64_t S) {
  return std::min<int64_t>(S, std::max<int64_t>(1, lengths[b]));
}

// x = tanh(x) for rows [B, H], split over rows.
void tanh_rows(int64_t B, int64_t H, float* x) {
  const SimdOps* ops = simd_ops(engine_config().level);
  parallel_ranges(B, 8 * B * H, [&](int64_t b0, int64_t b1) {
    float* rows = x + b0 * H;
    if (ops)
      ops->activation(Activation::Tanh, (b1 - b0) * H, rows, rows);
    else
      scalar_activation(Activation::Tanh, (b1 - b0) * H, rows, rows);
  });
}

}  // namespace

bool decoder_forward(CellKind kind, int64_t T, int64_t B, int64_t S, int64_t E, int64_t H, int64_t M, int64_t L,
                     const DecoderLayerPtrs* layers, const float* embedded, const float* keys, const float* memory,
                     const int32_t* sourceLengths, const float* wCombine, float* input0, float* attention,
                     float* combined, float* feeds) {
  if (T == 0) return true;
  const int64_t GH = gates_of(kind) * H, CW = cache_width(kind) * H, In0 = E + H, MH = M + H;
  const bool lstm = kind == CellKind::Lstm;
  const SimdOps* ops = simd_ops(engine_config().level);
  float* xp = tl_decoder.reserve(B * GH);  // [B,GH] a layer's input projection, this step
  if (!xp) return false;
  const DecoderLayerPtrs& top = layers[L - 1];
  for (int64_t t = 0; t < T; t++) {
    const float* feed = feeds + t * B * H;
    float* in0 = input0 + t * B * In0;
    parallel_ranges(B, 2 * B * In0, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; b++) {
        std::copy(embedded + (t * B + b) * E, embedded + (t * B + b) * E + E, in0 + b * In0);
        std::copy(feed + b * H, feed + b * H + H, in0 + b * In0 + E);
      }
    });
    for (int64_t l = 0; l < L; l++) {
      const DecoderLayerPtrs& layer = layers[l];
      if (l == 0) {
        sgemm(false, true, B, GH, In0, 1.0f, in0, In0, layer.wIh, In0, 0.0f, xp, GH);
      } else {
        sgemm(false, true, B, GH, H, 1.0f, layers[l - 1].hs + (t + 1) * B * H, H, layer.wIh, H, 0.0f, xp, GH);
      }
      cell_forward(kind, 1, B, H, xp, nullptr, 0, layer.wHh, layer.bIh, layer.bHh, layer.hs + t * B * H,
                   lstm ? layer.cs + t * B * H : nullptr, layer.cache + t * B * CW, nullptr);
    }
    // Attention of the top layer's h_t over each row's source positions, and [c_t; h_t].
    const float* q = top.hs + (t + 1) * B * H;
    parallel_ranges(B, B * S * (H + M), [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; b++) {
        const int64_t n = source_length(sourceLengths, b, S);
        float* a = attention + (t * B + b) * S;
        float* comb = combined + (t * B + b) * MH;
        scores(ops, n, H, q + b * H, keys + b * H, B * H, a);
        float max = -INFINITY;
        for (int64_t s = 0; s < n; s++) max = std::max(max, a[s]);
        float total = 0.0f;
        for (int64_t s = 0; s < n; s++) total += a[s] = std::exp(a[s] - max);
        for (int64_t s = 0; s < S; s++) a[s] = s < n ? a[s] / total : 0.0f;
        std::fill(comb, comb + M, 0.0f);
        weighted_rows(ops, n, M, a, memory + b * M, B * M, comb);
        std::copy(q + b * H, q + b * H + H, comb + M);
      }
    });
    float* next = feeds + (t + 1) * B * H;
    sgemm(false, true, B, H, MH, 1.0f, combined + t * B * MH, MH, wCombine, MH, 0.0f, next, H);
    tanh_rows(B, H, next);
  }
  return true;
}

bool decoder_backward(CellKind kind, int64_t T, int64_t B, int64_t S, int64_t E, int64_t H, int64_t M, int64_t L,
                      const DecoderLayerPtrs* layers, const float* keys, const float* memory,
                      const int32_t* sourceLengths, const float* wCombine, const float* attention,
                      const float* combined, const float* feeds, const float* dFeeds, const DecoderLayerGradPtrs* grads,
                      float* dEmbedded, float* dKeys, float* dMemory, float* dCombine, float* dFeed0) {
  const int64_t GH = gates_of(kind) * H, CW = cache_width(kind) * H, In0 = E + H, MH = M + H;
  const bool lstm = kind == CellKind::Lstm;
  const SimdOps* ops = simd_ops(engine_config().level);
  const int64_t BH = B * H;
  float* scratch = tl_decoder.reserve(B * MH + 3 * BH + 2 * L * BH + B * S);
  if (!scratch) return false;
  float* dComb = scratch;           // [B, M+H] gradient w.r.t. [c_t; h_t]
  float* dA = dComb + B * MH;       // [B,H] the gradient arriving at a layer's output from above
  float* dB = dA + BH;              // [B,H] the next one down (ping-pong with dA)
  float* dFeed = dB + BH;           // [B,H] gradient w.r.t. h~_t carried back through input feeding
  float* carry = dFeed + BH;        // [L,B,H] per layer, the gradient w.r.t. h_t from step t+1
  float* carryC = carry + L * BH;   // [L,B,H] the same for the LSTM's cell state
  float* dAlpha = carryC + L * BH;  // [B,S]
  std::fill(dKeys, dKeys + S * BH, 0.0f);
  std::fill(dMemory, dMemory + S * B * M, 0.0f);
  std::fill(dFeed, dFeed + BH, 0.0f);
  for (int64_t l = 0; l < L; l++) {
    std::copy(grads[l].dhN, grads[l].dhN + BH, carry + l * BH);
    if (lstm) std::copy(grads[l].dcN, grads[l].dcN + BH, carryC + l * BH);
  }
  const DecoderLayerPtrs& top = layers[L - 1];
  for (int64_t t = T - 1; t >= 0; t--) {
    // h~_t = tanh(W_c [c; q]): the gradient before tanh, then w.r.t. [c; q].
    float* dPre = dCombine + t * BH;
    const float* f = feeds + (t + 1) * BH;
    for (int64_t i = 0; i < BH; i++) dPre[i] = (dFeeds[t * BH + i] + dFeed[i]) * (1.0f - f[i] * f[i]);
    sgemm(false, false, B, MH, H, 1.0f, dPre, H, wCombine, MH, 0.0f, dComb, MH);
    // Context c = Σ_s α_s memory_s and scores α = softmax(keys·q) over s < n: each row b alone.
    const float* q = top.hs + (t + 1) * BH;
    parallel_ranges(B, B * S * (H + M), [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; b++) {
        const int64_t n = source_length(sourceLengths, b, S);
        const float* a = attention + (t * B + b) * S;
        const float* dc = dComb + b * MH;
        float* da = dAlpha + b * S;
        scores(ops, n, M, dc, memory + b * M, B * M, da);  // dL/dα_s = dc·memory_s
        float weighted = 0.0f;
        for (int64_t s = 0; s < n; s++) {
          float* dm = dMemory + (s * B + b) * M;
          for (int64_t d = 0; d < M; d++) dm[d] += a[s] * dc[d];
          weighted += a[s] * da[s];
        }
        for (int64_t s = 0; s < n; s++) da[s] = a[s] * (da[s] - weighted);  // now dL/dscore_s
        float* dh = dA + b * H;
        std::copy(dc + M, dc + MH, dh);
        weighted_rows(ops, n, H, da, keys + b * H, B * H, dh);
        for (int64_t s = 0; s < n; s++) {
          float* dk = dKeys + (s * B + b) * H;
          for (int64_t j = 0; j < H; j++) dk[j] += da[s] * q[b * H + j];
        }
      }
    });
    // The layers, top down: each one's input gradient is the gradient of the layer below at this step.
    float* above = dA;
    float* below = dB;
    for (int64_t l = L - 1; l >= 0; l--) {
      const DecoderLayerPtrs& layer = layers[l];
      const DecoderLayerGradPtrs& g = grads[l];
      float* gx = g.dGx + t * B * GH;
      cell_backward(kind, 1, B, H, layer.wHh, layer.hs + t * BH, lstm ? layer.cs + t * BH : nullptr,
                    layer.cache + t * B * CW, above, carry + l * BH, lstm ? carryC + l * BH : nullptr, gx,
                    g.dGh + t * B * GH, g.dh0, lstm ? g.dc0 : nullptr, nullptr, nullptr, nullptr);
      std::copy(g.dh0, g.dh0 + BH, carry + l * BH);
      if (lstm) std::copy(g.dc0, g.dc0 + BH, carryC + l * BH);
      if (l > 0) {
        sgemm(false, false, B, H, GH, 1.0f, gx, GH, layer.wIh, H, 0.0f, below, H);
        std::swap(above, below);
      } else {
        sgemm(false, false, B, E, GH, 1.0f, gx, GH, layer.wIh, In0, 0.0f, dEmbedded + t * B * E, E);
        sgemm(false, false, B, H, GH, 1.0f, gx, GH, layer.wIh + E, In0, 0.0f, dFeed, H);
      }
    }
  }
  for (int64_t l = 0; l < L; l++) {
    const DecoderLayerGradPtrs& g = grads[l];
    std::copy(carry + l * BH, carry + (l + 1) * BH, g.dh0);
    if (lstm) std::copy(carryC + l * BH, carryC + (l + 1) * BH, g.dc0);
    sum_rows(T * B, GH, g.dGx, g.dbIh);
    sum_rows(T * B, GH, g.dGh, g.dbHh);
  }
  std::copy(dFeed, dFeed + BH, dFeed0);
  return true;
}

}  // namespace rnnkit
