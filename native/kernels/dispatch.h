// Kernel tables per ISA and the one chosen at run time.
#pragma once
#include "kernels.h"

// For the fill_<isa> functions, which live in ISA-flagged translation units:
// keeps their own code baseline x86-64 (GCC would otherwise store the table's
// pointers with AVX instructions), so building a table can never fault even
// if it ran before the CPU check in dispatch.cc.
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(_M_X64))
#define FATHOM_BASELINE_FN __attribute__((target("arch=x86-64")))
#else
#define FATHOM_BASELINE_FN
#endif

namespace fathom {

// The portable scalar reference: every entry filled.
const KernelTable& ref_table();
// Tables for each compiled ISA variant: the reference with the entries that
// ISA implements overridden. nullptr when the variant is not compiled into
// this binary (e.g. AVX2 on arm64) or the CPU cannot run it.
const KernelTable* avx2_table();
const KernelTable* avx512_table();
const KernelTable* neon_table();

// Looks a table up by name ("scalar", "avx2", "avx512", "neon"); nullptr when
// unknown, not compiled, or unsupported by this CPU.
const KernelTable* table_by_name(const char* name);

// The active table, chosen once: FATHOM_ISA if set (an unusable value falls
// back to auto and is reported by active_isa_error()), else the best the CPU runs.
const KernelTable& active();
// Non-empty when FATHOM_ISA named an ISA this binary/CPU cannot use.
const char* active_isa_error();

// Per-ISA override hooks, each defined in that ISA's directory. They only
// override the entries the ISA implements.
void fill_avx2(KernelTable& t);
void fill_avx512(KernelTable& t);
void fill_neon(KernelTable& t);
void fill_ref(KernelTable& t);

}  // namespace fathom
