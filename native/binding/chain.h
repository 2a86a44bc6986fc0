// The binding's entry for a chain of fully connected layers (chain.cc, #13 infer).
#pragma once
#include <napi.h>

namespace fathom::binding {

// Adds linearChain to `exports`.
void define_chain_entries(Napi::Env env, Napi::Object exports);

}  // namespace fathom::binding
