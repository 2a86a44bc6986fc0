#include "dispatch.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "../cpu/cpu.h"

namespace fathom {
namespace {

KernelTable make(void (*fill)(KernelTable&), const char* isa) {
  KernelTable t{};
  fill_ref(t);
  if (fill) fill(t);
  t.isa = isa;
  return t;
}

std::string g_isa_error;

const KernelTable& choose() {
  const char* want = std::getenv("FATHOM_ISA");
  if (want && *want && std::strcmp(want, "auto") != 0) {
    if (const KernelTable* t = table_by_name(want)) return *t;
    g_isa_error = std::string("FATHOM_ISA=") + want +
                  " is not available on this CPU/binary (choose scalar, avx2, avx512, neon or auto)";
  }
  if (const KernelTable* t = avx512_table()) return *t;
  if (const KernelTable* t = avx2_table()) return *t;
  if (const KernelTable* t = neon_table()) return *t;
  return ref_table();
}

}  // namespace

const KernelTable& ref_table() {
  static const KernelTable t = make(nullptr, "scalar");
  return t;
}

const KernelTable* avx2_table() {
#if defined(__x86_64__) || defined(_M_X64)
  // Check the CPU first: fill_avx2 lives in an AVX2 translation unit.
  if (!cpu_features().avx2_fma) return nullptr;
  static const KernelTable t = make(fill_avx2, "avx2");
  return &t;
#else
  return nullptr;
#endif
}

const KernelTable* avx512_table() {
#if defined(__x86_64__) || defined(_M_X64)
  if (!cpu_features().avx512) return nullptr;
  static const KernelTable t = make(fill_avx512, "avx512");
  return &t;
#else
  return nullptr;
#endif
}

const KernelTable* neon_table() {
#if defined(__aarch64__) || defined(_M_ARM64)
  if (!cpu_features().neon) return nullptr;
  static const KernelTable t = make(fill_neon, "neon");
  return &t;
#else
  return nullptr;
#endif
}

const KernelTable* table_by_name(const char* name) {
  if (std::strcmp(name, "scalar") == 0) return &ref_table();
  if (std::strcmp(name, "avx2") == 0) return avx2_table();
  if (std::strcmp(name, "avx512") == 0) return avx512_table();
  if (std::strcmp(name, "neon") == 0) return neon_table();
  return nullptr;
}

const KernelTable& active() {
  static const KernelTable& t = choose();
  return t;
}

const char* active_isa_error() {
  active();
  return g_isa_error.c_str();
}

}  // namespace fathom
