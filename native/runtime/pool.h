// Fork-join thread pool with a deterministic (ith, nth) partition.
//
// run(nth, fn) calls fn(ith, nth) once for every ith in [0, nth) and returns
// when all have finished. The caller and the workers claim shares as they
// become free (a worker descheduled by another process does not stall the
// job), but kernels split their work by (ith, nth) only, so which thread runs
// a share never changes the result: identical from run to run for a given
// thread count.
//
// One pool per process, shared by every addon instance (main thread and
// worker_threads). Jobs from different threads are serialised; a run() from
// inside a pool task executes inline (nth = 1) instead of deadlocking.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

namespace fathom {

using TaskFn = std::function<void(int ith, int nth)>;

// Number of threads the pool uses (FATHOM_NUM_THREADS, default the core count).
int num_threads();
// Changes the number of threads used by later calls (1 .. the pool's size).
// The pool's size is fixed at first use; asking for more is clamped.
void set_num_threads(int n);
// Caps num_threads() for the calling thread only (0: no cap, the process's
// setting). A worker_thread of an InferencePool that runs each forward pass on
// one thread sets 1: its kernels then run inline and never queue behind another
// thread's pool job (jobs from different threads are serialised).
void set_thread_num_threads(int n);
// The pool's fixed size (upper bound for set_num_threads).
int max_threads();

// Runs fn(ith, nth) for ith in [0, nth), nth = min(requested, num_threads()).
void parallel_run(int nth, const TaskFn& fn);

// Jobs handed to the pool's workers so far (parallel_run calls with nth > 1
// outside a pool task): lets tests check that small problems stay on the
// calling thread.
uint64_t pool_jobs_started();

// The OS thread ids (Linux gettid) of the pool's worker threads, the calling
// thread not included; 0 for a thread not yet started and everywhere off Linux.
// lib/serve/priority.ts lowers their scheduling priority with them (#13).
std::vector<int> pool_thread_ids();

// Static partition of [0, n) into contiguous chunks, one per thread, using
// at most n / grain threads. fn(begin, end) is called for each non-empty chunk.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

// The [begin, end) share of thread ith out of nth for n items, chunks
// rounded to multiples of `align` (the last chunk takes the remainder).
inline void partition(int64_t n, int ith, int nth, int64_t align, int64_t* begin, int64_t* end) {
  int64_t blocks = (n + align - 1) / align;
  int64_t per = blocks / nth, extra = blocks % nth;
  int64_t b = ith * per + (ith < extra ? ith : extra);
  int64_t e = b + per + (ith < extra ? 1 : 0);
  b *= align;
  e *= align;
  *begin = b < n ? b : n;
  *end = e < n ? e : n;
}

}  // namespace fathom
