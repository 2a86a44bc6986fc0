// The binding's convolution, pooling and normalisation entries (layers.cc).
#pragma once
#include <napi.h>

namespace fathom::binding {

// Adds conv2d, conv2dBackward*, the pooling and the normalisation functions to `exports`.
void define_layer_entries(Napi::Env env, Napi::Object exports);

}  // namespace fathom::binding
