// CTC loss (kernels.h ctc_loss): the forward-backward recursions of Graves et al. (2006) in log space, as
// PyTorch's CPU ctc_loss computes them. Double arithmetic, float storage in the caller's workspace.
// Extended labels l' = blank, l1, blank, …, lU, blank; α(t,s) and β(t,s) both include the emission
// log p(l'_s | t). The sequences are independent: parts of the thread pool take fixed ranges of them, and
// the mean is summed afterwards in sequence order, so results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "engine.h"
#include "kernels.h"

namespace rnnkit {

namespace {

constexpr double kMinusInf = -std::numeric_limits<double>::infinity();

inline double log_add_exp(double a, double b) {
  const double max = std::max(a, b);
  if (max == kMinusInf) return kMinusInf;
  return max + std::log(std::exp(a - max) + std::exp(b - max));
}

// One sequence's view of the arguments.
struct Sequence {
  int64_t B, C, L, U, states;
  const float* logits;    // row t is logits + t·B·C
  const int32_t* labels;  // [U]
  float* alpha;           // [T, states]
  float* beta;            // [T, states]
  float* lse;             // [T] log-softmax normaliser of each row

  const float* row(int64_t t) const { return logits + t * B * C; }
  int32_t label(int64_t s) const { return (s & 1) == 0 ? 0 : labels[s >> 1]; }
  // Whether state s can be entered from other = s ± 2: s is a label that differs from other's.
  bool can_skip(int64_t s, int64_t other) const {
    return (s & 1) == 1 && other >= 0 && other <= 2 * U && label(other) != label(s);
  }
};

// Fills α, β and the normalisers; returns the negative log-likelihood (+∞ without an alignment).
double sequence_nll(const Sequence& q) {
  for (int64_t t = 0; t < q.L; t++) {
    const float* x = q.row(t);
    double max = kMinusInf;
    for (int64_t c = 0; c < q.C; c++) max = std::max(max, double(x[c]));
    double sum = 0;
    for (int64_t c = 0; c < q.C; c++) sum += std::exp(double(x[c]) - max);
    q.lse[t] = float(max + std::log(sum));
  }
  const int64_t last = 2 * q.U;
  for (int64_t t = 0; t < q.L; t++) {
    const float* x = q.row(t);
    const float* prev = q.alpha + (t - 1) * q.states;
    float* a = q.alpha + t * q.states;
    for (int64_t s = 0; s <= last; s++) {
      double sum;
      if (t == 0) {
        sum = s <= 1 ? 0 : kMinusInf;
      } else {
        sum = prev[s];
        if (s >= 1) sum = log_add_exp(sum, prev[s - 1]);
        if (q.can_skip(s, s - 2)) sum = log_add_exp(sum, prev[s - 2]);
      }
      a[s] = sum == kMinusInf ? -std::numeric_limits<float>::infinity()
                              : float(sum + double(x[q.label(s)]) - double(q.lse[t]));
    }
  }
  for (int64_t t = q.L - 1; t >= 0; t--) {
    const float* x = q.row(t);
    const float* next = q.beta + (t + 1) * q.states;
    float* b = q.beta + t * q.states;
    for (int64_t s = last; s >= 0; s--) {
      double sum;
      if (t == q.L - 1) {
        sum = s >= last - 1 ? 0 : kMinusInf;
      } else {
        sum = next[s];
        if (s < last) sum = log_add_exp(sum, next[s + 1]);
        if (q.can_skip(s, s + 2)) sum = log_add_exp(sum, next[s + 2]);
      }
      b[s] = sum == kMinusInf ? -std::numeric_limits<float>::infinity()
                              : float(sum + double(x[q.label(s)]) - double(q.lse[t]));
    }
  }
  const float* end = q.alpha + (q.L - 1) * q.states;
  return -(q.U > 0 ? log_add_exp(end[last], end[last - 1]) : double(end[0]));
}

// d(mean)/dx(t,c) = weight·(p(c|t) − Σ_{s: l'_s = c} α(t,s)β(t,s) / (p(c|t)·P)) for t < L; each row of
// dLogits first holds the per-symbol log sums.
void sequence_gradient(const Sequence& q, double nll, double weight, float* dLogits) {
  for (int64_t t = 0; t < q.L; t++) {
    const float* x = q.row(t);
    float* d = dLogits + t * q.B * q.C;
    std::fill(d, d + q.C, -std::numeric_limits<float>::infinity());
    const float* a = q.alpha + t * q.states;
    const float* b = q.beta + t * q.states;
    for (int64_t s = 0; s <= 2 * q.U; s++) {
      const int32_t c = q.label(s);
      d[c] = float(log_add_exp(d[c], double(a[s]) + double(b[s])));
    }
    for (int64_t c = 0; c < q.C; c++) {
      const double lp = double(x[c]) - double(q.lse[t]);
      d[c] = float(weight * (std::exp(lp) - std::exp(double(d[c]) + nll - lp)));
    }
  }
}

}  // namespace

double ctc_loss(int64_t T, int64_t B, int64_t C, int64_t S, const float* logits, const int32_t* targets,
                const int32_t* inputLengths, const int32_t* targetLengths, bool zeroInfinity, float* work,
                float* losses, float* dLogits) {
  if (dLogits) std::fill(dLogits, dLogits + T * B * C, 0.0f);
  const int64_t states = 2 * S + 1, perSequence = T * (2 * states + 1);
  auto run = [&](int64_t b) {
    float* base = work + b * perSequence;
    const Sequence q{B,
                     C,
                     inputLengths[b],
                     targetLengths[b],
                     states,
                     logits + b * C,
                     targets + b * S,
                     base,
                     base + T * states,
                     base + 2 * T * states};
    const double nll = sequence_nll(q);
    const bool infinite = std::isinf(nll);
    losses[b] = infinite && zeroInfinity ? 0.0f : float(nll);
    const double weight = 1.0 / double(std::max<int64_t>(q.U, 1)) / double(B);
    if (dLogits && !infinite) sequence_gradient(q, nll, weight, dLogits + b * C);
  };
  // A part per thread when the work is worth waking them (about T·(2S+1) log-add-exps per sequence).
  int64_t parts = std::min<int64_t>(engine_config().threads, B);
  if (T * states * B * 8 < kMinSplitWork) parts = 1;
  auto part = [&](int p) {
    for (int64_t b = B * p / parts; b < B * (p + 1) / parts; b++) run(b);
  };
  parallel_parts(static_cast<int>(parts), part);
  double mean = 0;
  for (int64_t b = 0; b < B; b++)
    mean += double(losses[b]) * (1.0 / double(std::max<int32_t>(targetLengths[b], 1)) / double(B));
  return mean;
}

}  // namespace rnnkit
