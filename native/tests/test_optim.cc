// The stateful optimizer kernels (kernels.h: Optim, OptimHyper): known answers
// of the reference from PyTorch's published rules (the arithmetic in the
// comments), every ISA table against the reference at tile edges, NaN through
// the max() of AMSGrad / Adamax, and ops::optim_step (threaded) against one
// table call.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "helpers.h"
#include "kernels/ops.h"
#include "kernels/ref/ref.h"
#include "runtime/pool.h"
#include "test.h"

using namespace fathom;
using namespace kt;

namespace {

bool near(double got, double want, double rtol = 1e-6) { return std::fabs(got - want) <= rtol * std::fabs(want) + 1e-9; }

// One element, zero state (or `init`), g = 0.5, w = 1; runs `steps` steps of kind k with grads gs.
struct One {
  float w = 1, s[3] = {0, 0, 0};
  void run(Optim k, OptimHyper h, const std::vector<float>& gs) {
    float* sp[3] = {&s[0], &s[1], &s[2]};
    for (size_t i = 0; i < gs.size(); ++i) {
      h.step = (int64_t)i + 1;
      ref_table().optim_step[(int)k](1, &w, &gs[i], sp, h);
    }
  }
};

const char* const kName[] = {"adam", "adagrad", "rmsprop", "adadelta", "adamax"};
static_assert(sizeof(kName) / sizeof(kName[0]) == (size_t)Optim::Count, "one name per Optim kind");

}  // namespace

TEST(ref_optim_known_answers) {
  const double b2f = 0.999f, c2 = 1.0 - b2f;  // 1 - 0.999f as the kernels see it
  {  // Adam t = 1 from zero state: mhat = g, vhat = g^2, a step of lr.
    One o;
    OptimHyper h;
    h.lr = 0.1f, h.beta1 = 0.9f, h.beta2 = 0.999f, h.eps = 1e-8f;
    o.run(Optim::Adam, h, {0.5f});
    CHECK(near(o.w, 0.9) && near(o.s[0], 0.05) && near(o.s[1], c2 * 0.25)) << "adam t=1 " << o.w << " " << o.s[0] << " " << o.s[1];
  }
  {  // AMSGrad: g = 0.5 then 0: v falls to 0.999 * v1, vmax keeps v1 = 0.25 c2.
    // m = 0.045, mhat = 0.045 / (1 - 0.81), w = 0.9 - 0.1 mhat / (sqrt(vmax / (1 - 0.999^2)) + eps)
    for (int ams = 0; ams < 2; ++ams) {
      One o;
      OptimHyper h;
      h.lr = 0.1f, h.beta1 = 0.9f, h.beta2 = 0.999f, h.eps = 1e-8f, h.amsgrad = ams;
      o.run(Optim::Adam, h, {0.5f, 0.0f});
      const double v1 = (double)(float)(c2 * 0.25), v2 = (double)(float)(b2f * v1);
      const double u = ams ? v1 : v2, bc2 = 1.0 - b2f * b2f, mhat = (double)(float)(0.9 * (double)0.05f) / (1.0 - (double)0.9f * 0.9f);
      const double want = (double)0.9f - 0.1 * mhat / (std::sqrt(u / bc2) + 1e-8);
      CHECK(near(o.w, want)) << "adam amsgrad=" << ams << " " << o.w << " want " << want;
      if (ams) CHECK(o.s[2] == (float)v1) << "vmax " << o.s[2];
    }
  }
  {  // AdamW with weight decay 0.1: w = 1 - 0.1 * 0.1 = 0.99 first, then a step of lr.
    One o;
    OptimHyper h;
    h.lr = 0.1f, h.beta1 = 0.9f, h.beta2 = 0.999f, h.eps = 1e-8f, h.weight_decay = 0.1f, h.decoupled = true;
    o.run(Optim::Adam, h, {0.5f});
    CHECK(near(o.w, 0.89)) << "adamw " << o.w;
  }
  {  // Adagrad, initial accumulator 0.1, lrDecay 0.5: sum = 0.35, w = 1 - 0.1 * 0.5 / sqrt(0.35);
     // step 2: clr = 0.1 / 1.5, sum = 0.6, w -= clr * 0.5 / sqrt(0.6).
    One o;
    o.s[0] = 0.1f;
    OptimHyper h;
    h.lr = 0.1f, h.lr_decay = 0.5f, h.eps = 1e-10f;
    o.run(Optim::Adagrad, h, {0.5f, 0.5f});
    const double w1 = 1 - 0.1 * 0.5 / std::sqrt(0.35), w2 = w1 - 0.1 / 1.5 * 0.5 / std::sqrt(0.6);
    CHECK(near(o.w, w2) && near(o.s[0], 0.6)) << "adagrad " << o.w << " want " << w2 << " sum " << o.s[0];
  }
  {  // RMSprop alpha 0.9, centered, momentum 0.9: sq = 0.025, gavg = 0.05, avg = 0.0225,
     // buf = 0.5 / (0.15 + eps), w = 1 - 0.01 buf.
    One o;
    OptimHyper h;
    h.lr = 0.01f, h.alpha = 0.9f, h.eps = 1e-8f, h.momentum = 0.9f, h.centered = true;
    o.run(Optim::RMSprop, h, {0.5f});
    CHECK(near(o.s[0], 0.025) && near(o.s[2], 0.05) && near(o.s[1], 0.5 / 0.15, 1e-5) && near(o.w, 1 - 0.01 * 0.5 / 0.15, 1e-6))
        << "rmsprop " << o.w << " " << o.s[0] << " " << o.s[1] << " " << o.s[2];
    One p;  // plain: sq = 0.025, w = 1 - 0.01 * 0.5 / sqrt(0.025)
    h.momentum = 0, h.centered = false;
    p.run(Optim::RMSprop, h, {0.5f});
    CHECK(near(p.w, 1 - 0.01 * 0.5 / std::sqrt(0.025))) << "rmsprop plain " << p.w;
  }
  {  // Adadelta rho 0.9, eps 1e-6, lr 1: sq = 0.025, delta = sqrt(1e-6) / sqrt(0.025 + 1e-6) * 0.5,
     // acc = 0.1 delta^2, w = 1 - delta.
    One o;
    OptimHyper h;
    h.lr = 1, h.rho = 0.9f, h.eps = 1e-6f;
    o.run(Optim::Adadelta, h, {0.5f});
    const double delta = std::sqrt((double)1e-6f) / std::sqrt(0.025 + (double)1e-6f) * 0.5;
    CHECK(near(o.w, 1 - delta) && near(o.s[1], 0.1 * delta * delta, 1e-5)) << "adadelta " << o.w << " " << o.s[1];
  }
  {  // Adamax: m = 0.05, u = max(0, 0.5 + eps) = 0.5, w = 1 - 0.002 / (1 - 0.9) * 0.05 / 0.5 = 0.998;
     // step 2 with g = 0.1: m = 0.055, u = max(0.999 * 0.5, 0.1) = 0.4995, w -= 0.002 / 0.19 * 0.055 / 0.4995.
    One o;
    OptimHyper h;
    h.lr = 0.002f, h.beta1 = 0.9f, h.beta2 = 0.999f, h.eps = 1e-8f;
    o.run(Optim::Adamax, h, {0.5f, 0.1f});
    const double want = 0.998 - 0.002 / 0.19 * 0.055 / 0.4995;
    CHECK(near(o.w, want, 2e-6) && near(o.s[1], 0.4995)) << "adamax " << o.w << " want " << want << " u " << o.s[1];
  }
}

// Every ISA table against the reference: each kind, each flag combination,
// four steps, sizes at the vector edges; a sentinel after n must stay.
TEST(isa_optim_step_vs_ref) {
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (int64_t n : kSizes) {
      const auto w0 = randv(n, -1, 1, n + 1), g = randv(n, -1, 1, n + 2);
      for (int k = 0; k < (int)Optim::Count; ++k) {
        for (int flags = 0; flags < 8; ++flags) {
          OptimHyper h;
          h.lr = 1e-2f, h.eps = 1e-6f, h.weight_decay = (flags & 4) ? 0.01f : 0.0f;
          h.beta1 = 0.9f, h.beta2 = 0.999f, h.alpha = 0.9f, h.rho = 0.9f, h.lr_decay = (flags & 1) ? 0.1f : 0.0f;
          h.momentum = (flags & 1) ? 0.9f : 0.0f;
          h.amsgrad = h.centered = flags & 2;
          h.decoupled = flags & 1;
          auto wr = w0, wg = w0;
          wr.push_back(7), wg.push_back(7);
          std::vector<std::vector<float>> sr(3, std::vector<float>(n + 1, 0)), sg = sr;
          float *pr[3], *pg[3];
          for (int j = 0; j < 3; ++j) {
            if (k == (int)Optim::Adagrad) std::fill(sr[j].begin(), sr[j].end(), 0.1f), std::fill(sg[j].begin(), sg[j].end(), 0.1f);
            sr[j][n] = sg[j][n] = 7;
            const bool use = optim_uses_state((Optim)k, h, j);
            pr[j] = use ? sr[j].data() : nullptr, pg[j] = use ? sg[j].data() : nullptr;
          }
          for (int64_t step = 1; step <= 4; ++step) {
            h.step = step;
            ref_table().optim_step[k](n, wr.data(), g.data(), pr, h);
            t->optim_step[k](n, wg.data(), g.data(), pg, h);
          }
          const std::string what = std::string(t->isa) + " " + kName[k] + " flags=" + std::to_string(flags) + " n=" + std::to_string(n);
          check_all(what + " w", wg.data(), wr.data(), n + 1, 1e-5, 1e-7);
          for (int j = 0; j < 3; ++j) check_all(what + " s" + std::to_string(j), sg[j].data(), sr[j].data(), n + 1, 1e-5, 1e-9);
        }
      }
    }
  }
}

// max() propagates NaN on every table: a NaN in vmax (AMSGrad) or in the gradient (Adamax) stays NaN.
TEST(optim_step_nan_propagates) {
  std::vector<const KernelTable*> tables = {&ref_table()};
  for (const KernelTable* t : isa_tables()) tables.push_back(t);
  for (const KernelTable* t : tables) {
    for (int64_t n : {1, 9}) {
      std::vector<float> w(n, 1), g(n, 0.5f), a(n, 0), b(n, 0), c(n, kNaN);
      OptimHyper h;
      h.lr = 0.1f, h.beta1 = 0.9f, h.beta2 = 0.999f, h.eps = 1e-8f, h.amsgrad = true;
      float* s[3] = {a.data(), b.data(), c.data()};
      t->optim_step[(int)Optim::Adam](n, w.data(), g.data(), s, h);
      CHECK(std::isnan(c[n - 1]) && std::isnan(w[n - 1])) << t->isa << " amsgrad vmax NaN kept, n=" << n;
      std::vector<float> w2(n, 1), g2(n, kNaN), m(n, 0), u(n, 0);
      float* s2[3] = {m.data(), u.data(), nullptr};
      h.amsgrad = false;
      t->optim_step[(int)Optim::Adamax](n, w2.data(), g2.data(), s2, h);
      CHECK(std::isnan(u[n - 1]) && std::isnan(w2[n - 1])) << t->isa << " adamax NaN gradient, n=" << n;
    }
  }
}

// ops::optim_step splits across threads: bitwise equal to one call of the table.
TEST(ops_optim_step_threaded) {
  set_num_threads(max_threads());
  std::vector<const KernelTable*> tables = {&ref_table()};
  for (const KernelTable* t : isa_tables()) tables.push_back(t);
  const int64_t n = 300007;
  const auto x = randv(n, -3, 3, 1), g = randv(n, -3, 3, 2), s0 = randv(n, 0, 1, 3);
  for (const KernelTable* t : tables) {
    for (int k = 0; k < (int)Optim::Count; ++k) {
      OptimHyper h;
      h.lr = 1e-3f, h.eps = 1e-8f, h.weight_decay = 0.01f, h.beta1 = 0.9f, h.beta2 = 0.999f, h.alpha = 0.99f;
      h.rho = 0.9f, h.momentum = 0.9f, h.lr_decay = 0.01f, h.step = 3, h.amsgrad = true, h.centered = true;
      auto w1 = x, w2 = x;
      std::vector<std::vector<float>> a(3, s0), b(3, s0);
      float* pa[3] = {a[0].data(), a[1].data(), a[2].data()};
      float* pb[3] = {b[0].data(), b[1].data(), b[2].data()};
      t->optim_step[k](n, w1.data(), g.data(), pa, h);
      ops::optim_step(*t, (Optim)k, n, w2.data(), g.data(), pb, h);
      const std::string what = std::string(t->isa) + " ops::optim_step " + kName[k];
      check_all(what + " w", w2.data(), w1.data(), n, 0, 0);
      for (int j = 0; j < 3; ++j) check_all(what + " s" + std::to_string(j), b[j].data(), a[j].data(), n, 0, 0);
    }
  }
}
