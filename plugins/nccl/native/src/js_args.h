// js_args.h: argument checks shared by the addon's entry points; each throws a JS error with a
// `code` that the TypeScript side turns into an NcclError.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace twnccl {

[[noreturn]] void ThrowRange(Napi::Env env, const std::string& message, const char* code);
/** An integer number (or bigint) in [min, max]. */
double IntegerArg(Napi::Env env, const Napi::Value& v, const std::string& what, double min, double max,
                  const char* code = "NCCL_INVALID_ARGUMENT");
/** A device address: a bigint (or a safe-integer number). */
uint64_t PointerArg(Napi::Env env, const Napi::Value& v, const std::string& what);
Napi::Value OptionOr(const Napi::Object& o, const char* key);

}  // namespace twnccl
