// Optimizer steps (PyTorch semantics, torch/optim/*.py), one pass over a parameter.
//
// Shape contract (w, g and every state buffer: n elements; w and the buffers
// updated in place). The formulas of each kind are in kernels.h (OptimHyper).
//   sgd   g' = g + wd * w
//         momentum == 0: d = g'
//         else: v = first ? g' : momentum * v + (1 - dampening) * g'
//               d = nesterov ? g' + momentum * v : v
//         w = w - lr * d
// Arithmetic in double from the float inputs and float hyper-parameters;
// each stored state is rounded to float and that rounded value is what later
// lines of the same step use (as if re-read from the Float32Array). The TS
// twin (lib/backend/ts/kernels/optim.ts) follows the same order line by line.
#include <algorithm>
#include <cmath>

#include "ref.h"

namespace fathom {

void f32_sgd_step__ref(int64_t n, float* w, const float* g, float* v, float lr, float momentum,
                       float dampening, float weight_decay, bool nesterov, bool first) {
  const double lr_d = lr, mom = momentum, damp = 1.0 - (double)dampening, wd = weight_decay;
  for (int64_t i = 0; i < n; ++i) {
    const double wi = w[i];
    const double gp = (double)g[i] + wd * wi;
    double d = gp;
    if (momentum != 0.0f) {
      const float vi = first ? (float)gp : (float)(mom * (double)v[i] + damp * gp);
      v[i] = vi;
      d = nesterov ? gp + mom * (double)vi : (double)vi;
    }
    w[i] = (float)(wi - lr_d * d);
  }
}

namespace {
// max() that propagates NaN (torch.maximum), on the stored float values.
inline float nan_max(float a, float b) { return (a > b || a != a) ? a : b; }
}  // namespace

void f32_adam_step__ref(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h) {
  float *m = s[0], *v = s[1], *vmax = s[2];
  const double b1 = h.beta1, b2 = h.beta2, lr = h.lr, wd = h.weight_decay, eps = h.eps;
  const double bc1 = 1.0 - std::pow(b1, (double)h.step), bc2 = 1.0 - std::pow(b2, (double)h.step);
  for (int64_t i = 0; i < n; ++i) {
    double wi = w[i], gi = g[i];
    if (h.decoupled)
      wi = wi - lr * wd * wi;
    else
      gi = gi + wd * wi;
    const float mi = (float)(b1 * (double)m[i] + (1.0 - b1) * gi);
    const float vi = (float)(b2 * (double)v[i] + (1.0 - b2) * gi * gi);
    m[i] = mi;
    v[i] = vi;
    float ui = vi;
    if (h.amsgrad) vmax[i] = ui = nan_max(vmax[i], vi);
    w[i] = (float)(wi - lr * ((double)mi / bc1) / (std::sqrt((double)ui / bc2) + eps));
  }
}

void f32_adagrad_step__ref(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h) {
  float* sum = s[0];
  const double wd = h.weight_decay, eps = h.eps;
  const double clr = (double)h.lr / (1.0 + (double)(h.step - 1) * (double)h.lr_decay);
  for (int64_t i = 0; i < n; ++i) {
    const double wi = w[i], gi = (double)g[i] + wd * wi;
    const float si = (float)((double)sum[i] + gi * gi);
    sum[i] = si;
    w[i] = (float)(wi - clr * gi / (std::sqrt((double)si) + eps));
  }
}

void f32_rmsprop_step__ref(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h) {
  float *sq = s[0], *buf = s[1], *gavg = s[2];
  const double a = h.alpha, lr = h.lr, wd = h.weight_decay, eps = h.eps, mom = h.momentum;
  const bool use_mom = h.momentum > 0;
  for (int64_t i = 0; i < n; ++i) {
    const double wi = w[i], gi = (double)g[i] + wd * wi;
    const float si = (float)(a * (double)sq[i] + (1.0 - a) * gi * gi);
    sq[i] = si;
    double avg = si;
    if (h.centered) {
      const float ga = (float)(a * (double)gavg[i] + (1.0 - a) * gi);
      gavg[i] = ga;
      // sq − gavg² ≥ 0 in exact arithmetic; rounding can leave it a hair below 0 (alpha = 0: g² − g²).
      avg = std::max((double)si - (double)ga * (double)ga, 0.0);
    }
    const double d = std::sqrt(avg) + eps;
    if (use_mom) {
      const float bi = (float)(mom * (double)buf[i] + gi / d);
      buf[i] = bi;
      w[i] = (float)(wi - lr * (double)bi);
    } else {
      w[i] = (float)(wi - lr * gi / d);
    }
  }
}

void f32_adadelta_step__ref(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h) {
  float *sq = s[0], *acc = s[1];
  const double rho = h.rho, lr = h.lr, wd = h.weight_decay, eps = h.eps;
  for (int64_t i = 0; i < n; ++i) {
    const double wi = w[i], gi = (double)g[i] + wd * wi;
    const float si = (float)(rho * (double)sq[i] + (1.0 - rho) * gi * gi);
    sq[i] = si;
    const double delta = std::sqrt((double)acc[i] + eps) / std::sqrt((double)si + eps) * gi;
    acc[i] = (float)(rho * (double)acc[i] + (1.0 - rho) * delta * delta);
    w[i] = (float)(wi - lr * delta);
  }
}

void f32_adamax_step__ref(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h) {
  float *m = s[0], *u = s[1];
  const double b1 = h.beta1, b2 = h.beta2, wd = h.weight_decay, eps = h.eps;
  const double clr = (double)h.lr / (1.0 - std::pow(b1, (double)h.step));
  for (int64_t i = 0; i < n; ++i) {
    const double wi = w[i], gi = (double)g[i] + wd * wi;
    const float mi = (float)(b1 * (double)m[i] + (1.0 - b1) * gi);
    m[i] = mi;
    const float ui = nan_max((float)(b2 * (double)u[i]), (float)(std::fabs(gi) + eps));
    u[i] = ui;
    w[i] = (float)(wi - clr * (double)mi / (double)ui);
  }
}

}  // namespace fathom
