// The optimizer updates that keep state between steps: SGD with momentum, RMSprop, Adam and AdamW, with
// PyTorch's (torch.optim, foreach=False) equations and operation order; see src/backend/types.ts.
//
// Precision: every scalar arrives as the caller's double. The derived constants — 1 − dampening, 1 − α,
// 1 − β1, 1 − β2, Adam's bias corrections lr/(1 − β1^t) and sqrt(1 − β2^t), AdamW's decay 1 − lr·wd —
// are computed here in double once per call (PyTorch computes them in Python floats) and rounded to float
// once; the elementwise loop then runs in float, as PyTorch's float32 tensors do. Flags are template
// parameters so each loop body is branch-free. The elements are split over threads in fixed ranges
// (each element's update is independent, so the bits do not depend on the split).
#include <cmath>
#include <cstdint>

#include "engine.h"
#include "kernels.h"

namespace rnnkit {

namespace {

template <bool kFirst, bool kNesterov>
void momentum_loop(int64_t n, float* __restrict param, const float* __restrict grad, float* __restrict buf, float lr,
                   float momentum, float dampKeep, float weightDecay) {
  for (int64_t i = 0; i < n; i++) {
    const float p = param[i];
    const float g = grad[i] + weightDecay * p;                      // d_p.add(param, alpha=wd)
    const float b = kFirst ? g : momentum * buf[i] + dampKeep * g;  // buf.mul_(μ).add_(d_p, alpha=1−dampening)
    buf[i] = b;
    param[i] = p - lr * (kNesterov ? g + momentum * b : b);  // param.add_(d_p, alpha=−lr)
  }
}

template <bool kDecoupled>
void adam_loop(int64_t n, float* __restrict param, const float* __restrict grad, float* __restrict m,
               float* __restrict v, float stepSize, float beta1, float beta1Keep, float beta2, float beta2Keep,
               float correction2, float eps, float weightDecay, float decay) {
  for (int64_t i = 0; i < n; i++) {
    float p = param[i];
    float g = grad[i];
    if (kDecoupled) {
      p *= decay;  // param.mul_(1 − lr·wd)
    } else {
      g += weightDecay * p;  // grad.add(param, alpha=wd)
    }
    const float mi = beta1 * m[i] + beta1Keep * g;        // exp_avg.mul_(β1).add_(grad, alpha=1−β1)
    const float vi = beta2 * v[i] + beta2Keep * (g * g);  // exp_avg_sq.mul_(β2).addcmul_(grad, grad, value=1−β2)
    m[i] = mi;
    v[i] = vi;
    param[i] = p - (stepSize * mi) / (std::sqrt(vi) / correction2 + eps);  // addcdiv_(exp_avg, denom, −step_size)
  }
}

}  // namespace

void momentum_update(int64_t n, float* param, const float* grad, float* buf, double lr, double momentum,
                     double dampening, bool nesterov, double weightDecay, bool first) {
  const float flr = float(lr), fmomentum = float(momentum), dampKeep = float(1.0 - dampening);
  const float fwd = float(weightDecay);
  parallel_ranges(n, 3 * n, [=](int64_t i0, int64_t i1) {
    const int64_t m = i1 - i0;
    float *p = param + i0, *b = buf + i0;
    const float* g = grad + i0;
    if (first) {
      if (nesterov)
        momentum_loop<true, true>(m, p, g, b, flr, fmomentum, dampKeep, fwd);
      else
        momentum_loop<true, false>(m, p, g, b, flr, fmomentum, dampKeep, fwd);
    } else {
      if (nesterov)
        momentum_loop<false, true>(m, p, g, b, flr, fmomentum, dampKeep, fwd);
      else
        momentum_loop<false, false>(m, p, g, b, flr, fmomentum, dampKeep, fwd);
    }
  });
}

void rmsprop_update(int64_t n, float* __restrict param, const float* __restrict grad, float* __restrict sq, double lr,
                    double alpha, double eps, double weightDecay) {
  const float flr = float(lr), falpha = float(alpha), alphaKeep = float(1.0 - alpha), feps = float(eps);
  const float fwd = float(weightDecay);
  parallel_ranges(n, 3 * n, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
      const float p = param[i];
      const float g = grad[i] + fwd * p;                     // grad.add(param, alpha=wd)
      const float s = falpha * sq[i] + alphaKeep * (g * g);  // square_avg.mul_(α).addcmul_(grad, grad, value=1−α)
      sq[i] = s;
      param[i] = p - (flr * g) / (std::sqrt(s) + feps);  // addcdiv_(grad, sqrt(square_avg) + eps, value=−lr)
    }
  });
}

void adam_update(int64_t n, float* param, const float* grad, float* m, float* v, double lr, double beta1, double beta2,
                 double eps, double weightDecay, bool decoupled, int64_t step) {
  const double t = double(step);
  const float stepSize = float(lr / (1.0 - std::pow(beta1, t)));
  const float correction2 = float(std::sqrt(1.0 - std::pow(beta2, t)));
  const float decay = float(1.0 - lr * weightDecay);
  const float b1 = float(beta1), b1Keep = float(1.0 - beta1), b2 = float(beta2), b2Keep = float(1.0 - beta2);
  const float feps = float(eps), fwd = float(weightDecay);
  parallel_ranges(n, 4 * n, [=](int64_t i0, int64_t i1) {
    const int64_t k = i1 - i0;
    if (decoupled) {
      adam_loop<true>(k, param + i0, grad + i0, m + i0, v + i0, stepSize, b1, b1Keep, b2, b2Keep, correction2, feps,
                      fwd, decay);
    } else {
      adam_loop<false>(k, param + i0, grad + i0, m + i0, v + i0, stepSize, b1, b1Keep, b2, b2Keep, correction2, feps,
                       fwd, decay);
    }
  });
}

}  // namespace rnnkit
