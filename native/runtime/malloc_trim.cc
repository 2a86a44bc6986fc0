#include "malloc_trim.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace fathom {

#if defined(__GLIBC__)
namespace {
constexpr int64_t kPeriodNs = 2'000'000'000;

bool enabled() {
  const char* v = std::getenv("FATHOM_MALLOC_TRIM");
  return !(v && std::strcmp(v, "0") == 0);
}
}  // namespace

void release_free_memory() {
  static const bool on = enabled();
  static std::atomic<int64_t> next{0};
  if (!on) return;
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t due = next.load(std::memory_order_relaxed);
  if (now < due || !next.compare_exchange_strong(due, now + kPeriodNs, std::memory_order_relaxed)) return;
  malloc_trim(0);
}
#else
void release_free_memory() {}
#endif

}  // namespace fathom
