// #13 infer: ops::linear_chain (a chain of fully connected layers in one call) on every
// table: bitwise the same as linear_fwd layer after layer, for 1 and all pool threads, at
// batch sizes 0, 1, 2, 3, 7, 33, 257 (the gemv path, the packed path, thread shares with
// a partial MR tile, row chunks) and layer widths around the tiles; batch 1 and 2 of the
// MNIST MLP never wake the pool and a batch-256 forward is at most one pool job.
#include <algorithm>
#include <string>
#include <vector>

#include "helpers.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"
#include "runtime/pool.h"
#include "test.h"

using namespace fathom;
using namespace fathom::kt;

namespace {

std::vector<const KernelTable*> all_tables() {
  std::vector<const KernelTable*> t{&ref_table()};
  for (const KernelTable* k : isa_tables()) t.push_back(k);
  return t;
}

struct Net {
  std::vector<int64_t> dims;  // in, out_0, out_1, ...
  std::vector<Act> acts;
  std::vector<std::vector<float>> w, b;
  bool bias;
  Net(std::vector<int64_t> d, std::vector<Act> a, bool with_bias, uint64_t seed) : dims(d), acts(a), bias(with_bias) {
    const size_t L = acts.size();
    w.resize(L);
    b.resize(L);
    for (size_t l = 0; l < L; ++l) {
      w[l] = randv(dims[l + 1] * dims[l], -1, 1, seed + 10 * l);
      b[l] = randv(dims[l + 1], -1, 1, seed + 10 * l + 5);
    }
  }
  // (Built on use: the pointers must be this object's, not a copied-from one's.)
  const float* bias_of(size_t l) const { return bias || l == 1 ? b[l].data() : nullptr; }
  std::vector<ops::LinearLayer> layers() const {
    std::vector<ops::LinearLayer> v;
    for (size_t l = 0; l < acts.size(); ++l) v.push_back({dims[l + 1], dims[l], w[l].data(), bias_of(l), acts[l]});
    return v;
  }
  // The reference: linear_fwd layer after layer on table t.
  std::vector<float> layered(const KernelTable& t, int64_t n, const std::vector<float>& x) const {
    std::vector<float> cur = x, next;
    for (size_t l = 0; l < acts.size(); ++l) {
      next.assign((size_t)(n * dims[l + 1]), kNaN);
      ops::linear_fwd(t, n, dims[l + 1], dims[l], cur.data(), w[l].data(), bias_of(l), acts[l], next.data());
      cur.swap(next);
    }
    return cur;
  }
};

}  // namespace

TEST(linear_chain_every_table_matches_linear_fwd_layer_by_layer) {
  const int saved = num_threads();
  const std::vector<Net> nets = {
      Net({9, 17, 5}, {Act::Relu, Act::None}, true, 1),
      Net({33, 16, 31, 7}, {Act::Tanh, Act::Sigmoid, Act::Relu}, false, 2),
      Net({40, 257, 1}, {Act::Sigmoid, Act::Tanh}, true, 3),
      Net({7, 3}, {Act::Relu}, true, 4),
      Net({130, 200, 67}, {Act::Relu, Act::Tanh}, true, 5),  // several gemv column blocks of 64
  };
  for (const KernelTable* t : all_tables())
    for (int th : {1, max_threads()}) {
      set_num_threads(th);
      for (const Net& net : nets)
        for (int64_t n : {0, 1, 2, 3, 7, 33, 257}) {
          const std::vector<float> x = randv(n * net.dims[0], -2, 2, 100 + n);
          const std::vector<float> want = net.layered(*t, n, x);
          std::vector<float> got((size_t)(n * net.dims.back()), kNaN);
          const std::vector<ops::LinearLayer> layers = net.layers();
          for (int call = 0; call < 2; ++call) {  // batch 1 and 2 alternate the column order from call to call
            std::fill(got.begin(), got.end(), kNaN);
            ops::linear_chain(*t, n, (int)layers.size(), layers.data(), x.data(), got.data());
            check_all(std::string(t->isa) + " linear_chain n=" + std::to_string(n) + " in=" + std::to_string(net.dims[0]) +
                          " layers=" + std::to_string(net.acts.size()) + " threads=" + std::to_string(th) +
                          " call " + std::to_string(call),
                      got.data(), want.data(), (int64_t)got.size(), 0, 0);
          }
        }
    }
  set_num_threads(saved);
}

TEST(linear_chain_mnist_mlp_pool_use) {
  if (max_threads() < 2) SKIP("pool has one thread");
  const int saved = num_threads();
  set_num_threads(max_threads());
  const Net net({784, 256, 256, 10}, {Act::Relu, Act::Relu, Act::None}, true, 7);
  const std::vector<ops::LinearLayer> layers = net.layers();
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (int64_t n : {1, 2, 256}) {
      const std::vector<float> x = randv(n * 784, 0, 1, 9 + n);
      std::vector<float> y((size_t)(n * 10), kNaN);
      const uint64_t before = pool_jobs_started();
      ops::linear_chain(*t, n, 3, layers.data(), x.data(), y.data());
      const uint64_t jobs = pool_jobs_started() - before;
      if (n <= 2) CHECK(jobs == 0) << t->isa << " batch " << n << " woke the pool " << jobs << " times";
      else CHECK(jobs <= 1) << t->isa << " batch " << n << ": " << jobs << " pool jobs, expected one";
      const std::vector<float> want = net.layered(*t, n, x);
      check_all(std::string(t->isa) + " MNIST MLP chain batch " + std::to_string(n), y.data(), want.data(), n * 10, 0, 0);
    }
  }
  set_num_threads(saved);
}
