// addon.cc: module entry of tensorwire_nixl.node.
#include <napi.h>
#include <ucp/api/ucp.h>

#include <cstdlib>

#include "agent.h"
#include "cuda_link.h"
#include "tensorwire/errors.h"

namespace {

Napi::Value UcxVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), ucp_get_version_string());
}

/** UCX_MEM_EVENTS as libucm saw it when this addon loaded (must be 'no' under Node). */
Napi::Value MemEvents(const Napi::CallbackInfo& info) {
  const char* v = std::getenv("UCX_MEM_EVENTS");
  return v ? Napi::String::New(info.Env(), v) : info.Env().Undefined();
}

/**
 * useCuda(table): adopt @tensorwire/cuda's driver table (an External from its cudaHostApi()),
 * so that this addon's threads call the driver that package loaded. Process-wide, idempotent.
 */
Napi::Value UseCuda(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsExternal())
    tensorwire::ThrowTypeError(env, "useCuda(table): expected the External of @tensorwire/cuda/internal's cudaHostApi()");
  auto* table = info[0].As<Napi::External<const tw_cuda_host_api>>().Data();
  tensorwire::GuardJs(env, "NIXL_CUDA_UNAVAILABLE", [&] {
    twnixl::cuda::Adopt(table);
    return 0;
  });
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Agent", twnixl::Agent::Init(env));
  exports.Set("ucxVersion", Napi::Function::New(env, UcxVersion));
  exports.Set("memEvents", Napi::Function::New(env, MemEvents));
  exports.Set("useCuda", Napi::Function::New(env, UseCuda));
  return exports;
}

}  // namespace

NODE_API_MODULE(tensorwire_nixl, Init)
