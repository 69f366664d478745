// tensorwire/errors.h: turning C++ failures into JS Errors that carry a `code`.
//
// Worker threads must not touch N-API, so a failure is first captured as plain data
// (ErrorInfo: message + code) on the thread that saw it, then turned into a JS Error on the JS
// thread. Library-specific exceptions (gloo::IoException, ucs_status_t...) are translated by the
// addon into tensorwire::CodedError, or captured by a mapper passed to CaptureError.
#pragma once

#include <napi.h>

#include <exception>
#include <functional>
#include <stdexcept>
#include <string>

namespace tensorwire {

/** An exception that already knows its JS error code (e.g. 'GLOO_TIMEOUT'). */
class CodedError : public std::runtime_error {
 public:
  CodedError(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

/** A failure as plain data: safe to build on any thread, turned into a JS Error later. */
struct ErrorInfo {
  std::string code;
  std::string message;
  bool empty() const noexcept { return code.empty() && message.empty(); }
};

/**
 * Optional translator for library exceptions: given the in-flight exception, fill `out` and
 * return true, or return false to fall back to the generic mapping. Call `std::rethrow_exception`
 * inside a try block to inspect the type.
 */
using ExceptionMapper = std::function<bool(const std::exception_ptr&, ErrorInfo& out)>;

/**
 * Capture an exception as ErrorInfo. Order: the mapper (if any), CodedError, std::exception
 * (code `defaultCode`), anything else ('ERR_NATIVE_UNKNOWN').
 */
inline ErrorInfo CaptureError(const std::exception_ptr& ep, const char* defaultCode = "ERR_NATIVE",
                              const ExceptionMapper& mapper = nullptr) {
  ErrorInfo info;
  if (mapper && mapper(ep, info)) return info;
  try {
    std::rethrow_exception(ep);
  } catch (const CodedError& e) {
    info.code = e.code();
    info.message = e.what();
  } catch (const std::exception& e) {
    info.code = defaultCode;
    info.message = e.what();
  } catch (...) {
    info.code = "ERR_NATIVE_UNKNOWN";
    info.message = "unknown native exception";
  }
  return info;
}

/** Build a JS Error (JS thread only) with `message` and a `code` property. */
inline Napi::Error MakeError(Napi::Env env, const ErrorInfo& info) {
  Napi::Error err = Napi::Error::New(env, info.message.empty() ? info.code : info.message);
  if (!info.code.empty()) err.Set("code", Napi::String::New(env, info.code));
  return err;
}

/** Throw (C++ exception with NAPI_CPP_EXCEPTIONS) a JS TypeError with a code. */
[[noreturn]] inline void ThrowTypeError(Napi::Env env, const std::string& message,
                                        const char* code = "ERR_INVALID_ARG_TYPE") {
  Napi::TypeError err = Napi::TypeError::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  throw err;
}

/** Throw a JS Error with a code (JS thread only). */
[[noreturn]] inline void ThrowError(Napi::Env env, const std::string& message, const char* code) {
  throw MakeError(env, ErrorInfo{code, message});
}

/**
 * Runs `f` on the JS thread; a CodedError (or another std::exception) becomes a JS Error with
 * the same message and code, `defaultCode` when it has none. JS errors pass through. Each addon
 * wraps its entry points with it (through a one-line Guard naming its own default code).
 */
template <typename F>
auto GuardJs(Napi::Env env, const char* defaultCode, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw MakeError(env, CaptureError(std::current_exception(), defaultCode));
  }
}

}  // namespace tensorwire
