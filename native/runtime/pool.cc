#include "pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define FATHOM_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define FATHOM_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define FATHOM_CPU_RELAX() ((void)0)
#endif

namespace fathom {
namespace {

thread_local bool t_in_pool = false;
// set_thread_num_threads: the calling thread's own cap on num_threads() (0: none).
thread_local int t_thread_cap = 0;
// pause iterations a worker spins before sleeping (~0.3-1 ms on current x86).
constexpr int kSpin = 30000;

class Pool {
 public:
  explicit Pool(int size) : size_(size), active_(size), tids_(size > 1 ? size - 1 : 0) {
    for (int i = 1; i < size; ++i) threads_.emplace_back([this, i] { loop(i - 1); });
  }
  // Never destroyed: joining threads from a static destructor at process exit
  // can deadlock, and the OS reclaims the threads at exit.

  int size() const { return size_; }
  int active() const { return active_.load(std::memory_order_relaxed); }
  uint64_t jobs_started() const { return jobs_started_.load(std::memory_order_relaxed); }
  // The OS thread ids of the workers that have started (0 for one not yet running; elsewhere than Linux, 0).
  std::vector<int> thread_ids() const {
    std::vector<int> ids;
    for (const auto& t : tids_) ids.push_back(t.load(std::memory_order_acquire));
    return ids;
  }

  void set_active(int n) { active_.store(std::clamp(n, 1, size_), std::memory_order_relaxed); }

  void run(int nth, const TaskFn& fn) {
    nth = std::clamp(nth, 1, active());
    if (nth == 1 || t_in_pool) {
      for (int i = 0; i < nth; ++i) fn(i, nth);
      return;
    }
    std::lock_guard<std::mutex> submit(submit_mu_);
    jobs_started_.fetch_add(1, std::memory_order_relaxed);
    auto job = std::make_shared<Job>(&fn, nth);
    {
      std::lock_guard<std::mutex> lk(mu_);
      job_ = job;
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    // The caller claims shares too: if a worker is descheduled (another
    // process holds its core), its share is simply taken by whoever is free.
    t_in_pool = true;
    job->work();
    t_in_pool = false;
    for (int spin = 0; job->done.load(std::memory_order_acquire) != nth; ++spin) {
      if (spin < 20000) FATHOM_CPU_RELAX();
      else std::this_thread::yield();
    }
    std::lock_guard<std::mutex> lk(mu_);
    job_.reset();
  }

 private:
  // One fork-join job. Shares are claimed dynamically, but share ith always
  // computes the same part of the work, so results do not depend on which
  // thread ran it. Workers hold the job by shared_ptr: one that wakes late
  // finds every share claimed and never touches fn.
  struct Job {
    Job(const TaskFn* f, int n) : fn(f), nth(n) {}
    const TaskFn* fn;
    const int nth;
    std::atomic<int> next{0}, done{0};
    void work() {
      for (;;) {
        const int i = next.fetch_add(1, std::memory_order_acq_rel);
        if (i >= nth) return;
        (*fn)(i, nth);
        done.fetch_add(1, std::memory_order_acq_rel);
      }
    }
  };

  void loop(int k) {
#if defined(__linux__)
    tids_[k].store((int)syscall(SYS_gettid), std::memory_order_release);
#else
    (void)k;
#endif
    t_in_pool = true;
    uint64_t seen = 0;
    for (;;) {
      // Training issues many short jobs back to back: spin (no syscalls) for a
      // while before sleeping, so the next job does not pay a futex wake-up.
      for (int spin = 0; spin < kSpin && generation_.load(std::memory_order_acquire) == seen; ++spin)
        FATHOM_CPU_RELAX();
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return generation_.load(std::memory_order_relaxed) != seen; });
        seen = generation_.load(std::memory_order_relaxed);
        job = job_;
      }
      if (job) job->work();
    }
  }

  const int size_;
  std::atomic<int> active_;
  std::vector<std::thread> threads_;
  std::mutex submit_mu_, mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> jobs_started_{0};
  std::shared_ptr<Job> job_;
  std::vector<std::atomic<int>> tids_;
};

Pool& pool() {
  static Pool* p = [] {
    int n = (int)std::thread::hardware_concurrency();
    if (const char* e = std::getenv("FATHOM_NUM_THREADS")) {
      int v = std::atoi(e);
      if (v > 0) n = v;
    }
    return new Pool(std::clamp(n, 1, 256));
  }();
  return *p;
}

}  // namespace

int num_threads() {
  int n = pool().active();
  return t_thread_cap > 0 && t_thread_cap < n ? t_thread_cap : n;
}
void set_thread_num_threads(int n) { t_thread_cap = n > 0 ? n : 0; }
int max_threads() { return pool().size(); }
void set_num_threads(int n) { pool().set_active(n); }

void parallel_run(int nth, const TaskFn& fn) { pool().run(nth, fn); }
uint64_t pool_jobs_started() { return pool().jobs_started(); }
std::vector<int> pool_thread_ids() { return pool().thread_ids(); }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  int64_t want = std::min<int64_t>(num_threads(), std::max<int64_t>(1, n / grain));
  if (want <= 1) {
    fn(0, n);
    return;
  }
  parallel_run((int)want, [&](int ith, int nth) {
    int64_t b, e;
    partition(n, ith, nth, 16, &b, &e);
    if (b < e) fn(b, e);
  });
}

}  // namespace fathom
