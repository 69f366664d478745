// js_args.cc: see js_args.h.
#include "js_args.h"

#include <cmath>

#include "tensorwire/errors.h"

namespace twnccl {

void ThrowRange(Napi::Env env, const std::string& message, const char* code) {
  Napi::RangeError err = Napi::RangeError::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  throw err;
}

double IntegerArg(Napi::Env env, const Napi::Value& v, const std::string& what, double min, double max, const char* code) {
  double d;
  if (v.IsBigInt()) {
    bool lossless = true;
    d = static_cast<double>(v.As<Napi::BigInt>().Int64Value(&lossless));
  } else if (v.IsNumber()) {
    d = v.As<Napi::Number>().DoubleValue();
  } else {
    tensorwire::ThrowTypeError(env, what + " must be a number", code);
  }
  if (!std::isfinite(d) || std::floor(d) != d || d < min || d > max) {
    ThrowRange(env, what + " must be an integer in [" + std::to_string(static_cast<long long>(min)) + ", " +
                        std::to_string(static_cast<long long>(max)) + "], got " + std::to_string(d),
               code);
  }
  return d;
}

uint64_t PointerArg(Napi::Env env, const Napi::Value& v, const std::string& what) {
  if (v.IsBigInt()) {
    bool lossless = true;
    uint64_t p = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) ThrowRange(env, what + " is not a 64-bit device address", "NCCL_INVALID_ARGUMENT");
    return p;
  }
  if (v.IsNumber()) return static_cast<uint64_t>(IntegerArg(env, v, what, 0, 9007199254740991.0));
  tensorwire::ThrowTypeError(env, what + " must be a device address (bigint)", "NCCL_INVALID_ARGUMENT");
}

Napi::Value OptionOr(const Napi::Object& o, const char* key) { return o.Has(key) ? o.Get(key) : o.Env().Undefined(); }

}  // namespace twnccl
