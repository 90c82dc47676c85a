// The recurrent loops of RNN (tanh, relu), LSTM and GRU layers, forward and backward, following
// src/backend/reference.ts exactly (PyTorch's equations and gate order). Per step, the only work that
// is not elementwise is one GEMM over all B streams: h_{t-1}·W_hhᵀ forward, dGh_t·W_hh backward.
// No allocation: the forward pass builds W_hh·h + b_hh in the row it is about to overwrite (the cache
// row for lstm/gru, the h_t row for rnn), the backward pass carries dh_t and dc_t in dh0 and dc0.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels.h"

namespace rnnkit {

const char* const kCellKindNames[kCellKindCount] = {"rnn_tanh", "rnn_relu", "lstm", "gru"};

namespace {

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace

void cell_forward(CellKind kind, int64_t T, int64_t B, int64_t H, const float* xProj, const float* wHh,
                  const float* bIh, const float* bHh, float* hs, float* cs, float* cache) {
  const int64_t GH = gates_of(kind) * H;
  const int64_t CW = cache_width(kind) * H;
  const bool rnn = kind == CellKind::RnnTanh || kind == CellKind::RnnRelu;

  for (int64_t t = 0; t < T; t++) {
    const float* hPrev = hs + t * B * H;  // [B,H]
    float* hNext = hs + (t + 1) * B * H;  // [B,H]
    // gh [B,G·H] with row stride ldg: W_hh·h_{t-1} + b_hh for every stream.
    float* gh = rnn ? hNext : cache + t * B * CW;
    const int64_t ldg = rnn ? H : CW;
    for (int64_t b = 0; b < B; b++) std::copy(bHh, bHh + GH, gh + b * ldg);
    sgemm(false, true, B, GH, H, 1.0f, hPrev, H, wHh, H, 1.0f, gh, ldg);

    for (int64_t b = 0; b < B; b++) {
      const float* x = xProj + (t * B + b) * GH;  // [G·H]
      const float* hp = hPrev + b * H;
      float* hn = hNext + b * H;
      float* g = gh + b * ldg;  // gh on entry, the cache row (lstm, gru) on exit
      switch (kind) {
        case CellKind::RnnTanh:
          for (int64_t j = 0; j < H; j++) hn[j] = std::tanh(x[j] + bIh[j] + g[j]);
          break;
        case CellKind::RnnRelu:
          for (int64_t j = 0; j < H; j++) hn[j] = std::max(x[j] + bIh[j] + g[j], 0.0f);
          break;
        case CellKind::Lstm: {
          const float* cp = cs + t * B * H + b * H;
          float* cn = cs + (t + 1) * B * H + b * H;
          for (int64_t j = 0; j < H; j++) {
            const float i = sigmoid(x[j] + bIh[j] + g[j]);
            const float f = sigmoid(x[H + j] + bIh[H + j] + g[H + j]);
            const float gg = std::tanh(x[2 * H + j] + bIh[2 * H + j] + g[2 * H + j]);
            const float o = sigmoid(x[3 * H + j] + bIh[3 * H + j] + g[3 * H + j]);
            const float c = f * cp[j] + i * gg;
            cn[j] = c;
            hn[j] = o * std::tanh(c);
            g[j] = i;
            g[H + j] = f;
            g[2 * H + j] = gg;
            g[3 * H + j] = o;
          }
          break;
        }
        case CellKind::Gru:
          for (int64_t j = 0; j < H; j++) {
            const float r = sigmoid(x[j] + bIh[j] + g[j]);
            const float z = sigmoid(x[H + j] + bIh[H + j] + g[H + j]);
            const float hnGate = g[2 * H + j];  // W_hn·h + b_hn, inside the reset product
            const float n = std::tanh(x[2 * H + j] + bIh[2 * H + j] + r * hnGate);
            hn[j] = (1.0f - z) * n + z * hp[j];
            g[j] = r;
            g[H + j] = z;
            g[2 * H + j] = n;
            g[3 * H + j] = hnGate;
          }
          break;
      }
    }
  }
}

void cell_backward(CellKind kind, int64_t T, int64_t B, int64_t H, const float* wHh, const float* hs,
                   const float* cs, const float* cache, const float* dhs, const float* dhN, const float* dcN,
                   float* dGx, float* dGh, float* dh0, float* dc0) {
  const int64_t GH = gates_of(kind) * H;
  const int64_t CW = cache_width(kind) * H;
  const bool lstm = kind == CellKind::Lstm;

  // dh0 [B,H] carries the gradient w.r.t. h_t from step t+1 (dc0 the same for c_t).
  std::copy(dhN, dhN + B * H, dh0);
  if (lstm) std::copy(dcN, dcN + B * H, dc0);

  for (int64_t t = T - 1; t >= 0; t--) {
    for (int64_t b = 0; b < B; b++) {
      const int64_t row = t * B + b;
      const float* hp = hs + row * H;             // h_{t-1}
      const float* hc = hs + (row + B) * H;       // h_t
      const float* k = cache + row * CW;          // [cache_width·H]
      const float* dy = dhs + row * H;            // [H]
      float* gx = dGx + row * GH;                 // [G·H]
      float* gh = dGh + row * GH;                 // [G·H]
      float* carry = dh0 + b * H;                 // in: dh_t from above; out: direct part of dh_{t-1}
      switch (kind) {
        case CellKind::RnnTanh:
        case CellKind::RnnRelu:
          for (int64_t j = 0; j < H; j++) {
            const float dh = dy[j] + carry[j];
            const float y = hc[j];
            const float da = dh * (kind == CellKind::RnnTanh ? 1.0f - y * y : y > 0.0f ? 1.0f : 0.0f);
            gx[j] = da;
            gh[j] = da;
            carry[j] = 0.0f;
          }
          break;
        case CellKind::Lstm: {
          const float* cp = cs + row * H;        // c_{t-1}
          const float* cc = cs + (row + B) * H;  // c_t
          float* dcCarry = dc0 + b * H;
          for (int64_t j = 0; j < H; j++) {
            const float dh = dy[j] + carry[j];
            const float i = k[j], f = k[H + j], g = k[2 * H + j], o = k[3 * H + j];
            const float tc = std::tanh(cc[j]);
            const float dc = dcCarry[j] + dh * o * (1.0f - tc * tc);
            const float di = dc * g * i * (1.0f - i);
            const float df = dc * cp[j] * f * (1.0f - f);
            const float dg = dc * i * (1.0f - g * g);
            const float dout = dh * tc * o * (1.0f - o);
            gx[j] = gh[j] = di;
            gx[H + j] = gh[H + j] = df;
            gx[2 * H + j] = gh[2 * H + j] = dg;
            gx[3 * H + j] = gh[3 * H + j] = dout;
            dcCarry[j] = dc * f;
            carry[j] = 0.0f;
          }
          break;
        }
        case CellKind::Gru:
          for (int64_t j = 0; j < H; j++) {
            const float dh = dy[j] + carry[j];
            const float r = k[j], z = k[H + j], n = k[2 * H + j], hnGate = k[3 * H + j];
            const float dn = dh * (1.0f - z) * (1.0f - n * n);
            const float dz = dh * (hp[j] - n) * z * (1.0f - z);
            const float dr = dn * hnGate * r * (1.0f - r);
            gx[j] = gh[j] = dr;
            gx[H + j] = gh[H + j] = dz;
            gx[2 * H + j] = dn;
            gh[2 * H + j] = dn * r;
            carry[j] = dh * z;  // the direct path h_{t-1} → h_t
          }
          break;
      }
    }
    // dh_{t-1} [B,H] += dGh_t [B,G·H] · W_hh [G·H,H]
    sgemm(false, false, B, H, GH, 1.0f, dGh + t * B * GH, GH, wHh, H, 1.0f, dh0, H);
  }
}

}  // namespace rnnkit
