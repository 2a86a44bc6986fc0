// #11 natops: the binding's tensor-op entries (tensorops.cc).
#pragma once
#include <napi.h>

namespace fathom::binding {

// Adds indexSelect, indexSelectBackward, gather, gatherBackward, cumsum and whereBroadcast (kernels/tensorops.h) to `exports`.
void define_tensorop_entries(Napi::Env env, Napi::Object exports);

}  // namespace fathom::binding
