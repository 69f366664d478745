// guard.h: runs native code from a JS call, turning C++ failures into JS Errors with a code.
#pragma once

#include <napi.h>

#include <exception>
#include <utility>

#include "tensorwire/errors.h"

namespace twcuda {

/**
 * Runs `f`; a tensorwire::CodedError (e.g. CUDA_ERROR_OUT_OF_MEMORY from the driver) or another
 * std::exception becomes a JS Error with the same message and code. JS errors pass through.
 */
template <typename F>
auto Guard(Napi::Env env, F&& f) -> decltype(f()) {
  return tensorwire::GuardJs(env, "CUDA_ERROR", std::forward<F>(f));
}

}  // namespace twcuda
