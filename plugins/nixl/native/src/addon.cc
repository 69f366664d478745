// addon.cc: module entry of tensorwire_nixl.node.
#include <napi.h>
#include <ucp/api/ucp.h>

#include <cstdlib>

#include "agent.h"

namespace {

Napi::Value UcxVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), ucp_get_version_string());
}

/** UCX_MEM_EVENTS as libucm saw it when this addon loaded (must be 'no' under Node). */
Napi::Value MemEvents(const Napi::CallbackInfo& info) {
  const char* v = std::getenv("UCX_MEM_EVENTS");
  return v ? Napi::String::New(info.Env(), v) : info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Agent", twnixl::Agent::Init(env));
  exports.Set("ucxVersion", Napi::Function::New(env, UcxVersion));
  exports.Set("memEvents", Napi::Function::New(env, MemEvents));
  return exports;
}

}  // namespace

NODE_API_MODULE(tensorwire_nixl, Init)
