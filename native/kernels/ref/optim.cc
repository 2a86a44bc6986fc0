// Optimizer steps (PyTorch semantics), one pass over a parameter.
//
// Shape contract (w, g, v, m: n elements; w, v, m updated in place)
//   sgd   g' = g + wd * w
//         momentum == 0: d = g'
//         else: v = first ? g' : momentum * v + (1 - dampening) * g'
//               d = nesterov ? g' + momentum * v : v
//         w = w - lr * d
//   adam  adamw: w = w - lr * wd * w            (decoupled, before the step)
//         else:  g' = g + wd * w                (L2)
//         m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2
//         mhat = m / (1 - b1^t); vhat = v / (1 - b2^t)
//         w = w - lr * mhat / (sqrt(vhat) + eps)          t >= 1
// Arithmetic in double from the float inputs and float hyper-parameters;
// each stored state (v, m) is rounded to float and that rounded value is what
// later lines of the same step use (as if re-read from the Float32Array).
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

void f32_adam_step__ref(int64_t n, float* w, const float* g, float* m, float* v, float lr,
                        float beta1, float beta2, float eps, float weight_decay, bool adamw,
                        int64_t t) {
  const double b1 = beta1, b2 = beta2, lr_d = lr, wd = weight_decay, ep = eps;
  const double bc1 = 1.0 - std::pow(b1, (double)t), bc2 = 1.0 - std::pow(b2, (double)t);
  for (int64_t i = 0; i < n; ++i) {
    double wi = w[i];
    double gi = g[i];
    if (adamw)
      wi = wi - lr_d * wd * wi;
    else
      gi = gi + wd * wi;
    const float mi = (float)(b1 * (double)m[i] + (1.0 - b1) * gi);
    const float vi = (float)(b2 * (double)v[i] + (1.0 - b2) * gi * gi);
    m[i] = mi;
    v[i] = vi;
    const double mhat = (double)mi / bc1, vhat = (double)vi / bc2;
    w[i] = (float)(wi - lr_d * mhat / (std::sqrt(vhat) + ep));
  }
}

}  // namespace fathom
