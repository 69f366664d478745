// guard.h: runs native code from a JS call, turning C++ failures into JS Errors with a code.
#pragma once

#include <napi.h>

#include <exception>

#include "tensorwire/errors.h"

namespace twcuda {

/**
 * Runs `f`; a tensorwire::CodedError (e.g. CUDA_ERROR_OUT_OF_MEMORY from the driver) or another
 * std::exception becomes a JS Error with the same message and code. JS errors pass through.
 */
template <typename F>
auto Guard(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw tensorwire::MakeError(env, tensorwire::CaptureError(std::current_exception(), "CUDA_ERROR"));
  }
}

}  // namespace twcuda
