// The binding's recurrent-layer entries (rnn.cc).
#pragma once
#include <napi.h>

namespace fathom::binding {

// Adds rnnForward and rnnBackward (kernels/rnn.h) to `exports`.
void define_rnn_entries(Napi::Env env, Napi::Object exports);

}  // namespace fathom::binding
