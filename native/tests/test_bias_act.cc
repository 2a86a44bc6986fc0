// The fused layer epilogue (bias_act, bias_act_bwd): every ISA table against
// the reference at vector edges, in place, on special values, and the
// threaded ops:: entry against one table call.
#include <vector>

#include "helpers.h"
#include "kernels/ops.h"
#include "kernels/ref/ref.h"
#include "runtime/pool.h"
#include "test.h"

using namespace fathom;
using namespace fathom::kt;

namespace {

const Act kActs[] = {Act::None, Act::Relu, Act::Sigmoid, Act::Tanh};
const char* aname(Act a) {
  static const char* n[] = {"none", "relu", "sigmoid", "tanh"};
  return n[(int)a];
}
// Sigmoid/tanh use the AVX2 approximations (<= 2 ulp); the rest is exact.
double act_rtol(Act a) { return a == Act::Sigmoid || a == Act::Tanh ? 6e-7 : 0; }

}  // namespace

TEST(isa_bias_act_vs_ref) {
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (Act act : kActs) {
      for (int64_t n : {1, 3, 17}) {
        for (int64_t d : {1, 7, 8, 9, 16, 33, 257}) {
          std::vector<float> y = randv(n * d, -6, 6, 10 + n * d), bias = randv(d, -1, 1, 11 + d);
          for (bool with_bias : {true, false}) {
            std::vector<float> a = y, b = y;
            t->bias_act(n, d, a.data(), with_bias ? bias.data() : nullptr, act);
            f32_bias_act__ref(n, d, b.data(), with_bias ? bias.data() : nullptr, act);
            check_all(std::string(t->isa) + " bias_act " + aname(act) + " " + std::to_string(n) + "x" +
                          std::to_string(d),
                      a.data(), b.data(), n * d, act_rtol(act), 1e-37);
            // Backward from the reference output; dz written in place over dy.
            std::vector<float> dy = randv(n * d, -1, 1, 12 + n * d);
            std::vector<float> dz1 = dy, dz2(n * d, kNaN), db1(d, kNaN), db2(d, kNaN);
            t->bias_act_bwd(n, d, b.data(), dz1.data(), dz1.data(), db1.data(), act);
            f32_bias_act_bwd__ref(n, d, b.data(), dy.data(), dz2.data(), db2.data(), act);
            check_all(std::string(t->isa) + " bias_act_bwd dz " + aname(act), dz1.data(), dz2.data(), n * d, 0, 0);
            check_all(std::string(t->isa) + " bias_act_bwd dbias " + aname(act), db1.data(), db2.data(), d, 1e-6, 1e-7);
          }
        }
      }
    }
  }
}

TEST(ref_bias_act_known_values) {
  // relu(z) with z = y + b: [-1 + 0.5, 2 + 0.5] -> [0, 2.5]; relu keeps NaN, maps -0 to -0.
  float y[4] = {-1, 2, kNaN, -0.0f}, b[2] = {0.5f, 0.5f};
  f32_bias_act__ref(2, 2, y, b, Act::Relu);
  CHECK(y[0] == 0 && y[1] == 2.5f) << y[0] << " " << y[1];
  CHECK(std::isnan(y[2])) << y[2];
  CHECK(y[3] == 0.5f) << y[3];
  // sigmoid never overflows: sigmoid(-100) ~ 0, sigmoid(100) = 1.
  float s[2] = {-100, 100};
  f32_bias_act__ref(1, 2, s, nullptr, Act::Sigmoid);
  CHECK(s[0] >= 0 && s[0] < 1e-40f && s[1] == 1.0f) << s[0] << " " << s[1];
  // relu' is a select: an Inf gradient where y <= 0 becomes 0 (not NaN).
  float yo[2] = {0, 3}, dy[2] = {kInf, 2}, dz[2], db[2];
  f32_bias_act_bwd__ref(1, 2, yo, dy, dz, db, Act::Relu);
  CHECK(dz[0] == 0 && dz[1] == 2 && db[0] == 0 && db[1] == 2) << dz[0] << " " << dz[1];
}

TEST(ops_bias_act_threaded_matches_one_call) {
  const int64_t n = 1100, d = 257;  // > 256K elements: per-thread bias partials
  std::vector<float> y = randv(n * d, -3, 3, 20);
  f32_bias_act__ref(n, d, y.data(), nullptr, Act::Tanh);
  std::vector<float> dy = randv(n * d, -1, 1, 21);
  const int before = num_threads();
  for (int threads : {1, 2, 3, 7}) {
    set_num_threads(threads);
    std::vector<float> dz(n * d), db(d), dz1(n * d), db1(d);
    ops::bias_act_bwd(ref_table(), n, d, y.data(), dy.data(), dz.data(), db.data(), Act::Tanh);
    f32_bias_act_bwd__ref(n, d, y.data(), dy.data(), dz1.data(), db1.data(), Act::Tanh);
    check_all("threaded dz", dz.data(), dz1.data(), n * d, 0, 0);
    check_all("threaded dbias", db.data(), db1.data(), d, 1e-6, 1e-6);
    std::vector<float> f1 = randv(n * d, -3, 3, 22), f2 = f1, bias = randv(d, -1, 1, 23);
    ops::bias_act(ref_table(), n, d, f1.data(), bias.data(), Act::Relu);
    f32_bias_act__ref(n, d, f2.data(), bias.data(), Act::Relu);
    check_all("threaded bias_act", f1.data(), f2.data(), n * d, 0, 0);
  }
  set_num_threads(before);
}
