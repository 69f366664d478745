// addon.cc: module entry of tensorwire_nccl.node.
//
// Exports:
//   open(ncclPath, cudaPath)   loads NCCL and the CUDA driver @tensorwire/cuda opened (once per
//                              process): { ok, stage?, message?, version, mock } (libraries.h)
//   uniqueId()                 ncclGetUniqueId: a Buffer(128) for every rank's connect
//   pciBusId(device)           'domain:bus:device' of a visible device (which GPU it is, for
//                              telling two ranks on one GPU apart)
//   setEnv(name, value)        setenv() before NCCL reads its variables
//   communicatorsCreated()     how many communicators this process has initialized
//   NcclGroup                  group_wrap.h
//   barePingPong(options)      the benchmark's bare-NCCL ceiling (bare_bench.h)
#include <napi.h>

#include <cstdio>
#include <cstdlib>

#include "addon_data.h"
#include "bare_bench.h"
#include "engine.h"
#include "group_wrap.h"
#include "js_args.h"
#include "libraries.h"
#include "tensorwire/addon.h"

namespace twnccl {
namespace {

void NeedOpen(Napi::Env env) {
  if (!Libraries::Get().ready()) {
    tensorwire::ThrowError(env, "NCCL is not open in this process: call open(ncclPath, cudaPath) first", "NCCL_UNAVAILABLE");
  }
}

Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) {
    tensorwire::ThrowTypeError(env, "open(ncclPath, cudaPath): expected two strings");
  }
  OpenResult r = Libraries::Get().Open(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value());
  Napi::Object out = Napi::Object::New(env);
  out.Set("ok", Napi::Boolean::New(env, r.ok));
  if (!r.ok) {
    out.Set("stage", Napi::String::New(env, r.stage));
    out.Set("message", Napi::String::New(env, r.message));
  }
  out.Set("version", Napi::Number::New(env, r.version));
  out.Set("mock", Napi::Boolean::New(env, r.mock));
  return out;
}

Napi::Value UniqueId(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NeedOpen(env);
  ncclUniqueId id{};
  ncclResult_t r = Nccl().ncclGetUniqueId(&id);
  if (r != ncclSuccess) {
    const char* last = Nccl().ncclGetLastError(nullptr);
    tensorwire::ThrowError(env,
                           std::string("ncclGetUniqueId failed: NCCL ") + Libraries::ResultName(r) + " (" +
                               Libraries::Get().ResultText(r) + ")" + (last && *last ? std::string(": ") + last : ""),
                           "NCCL_SYSTEM_ERROR");
  }
  return Napi::Buffer<char>::Copy(env, id.internal, NCCL_UNIQUE_ID_BYTES);
}

Napi::Value PciBusId(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NeedOpen(env);
  int device = static_cast<int>(IntegerArg(env, info[0], "pciBusId: device", 0, 1023));
  return tensorwire::GuardJs(env, "NCCL_CUDA", [&]() -> Napi::Value {
    CUdevice dev = 0;
    CheckCuda(Cuda().cuDeviceGet(&dev, device), "cuDeviceGet");
    int domain = 0, bus = 0, slot = 0;
    CheckCuda(Cuda().cuDeviceGetAttribute(&domain, CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID, dev), "cuDeviceGetAttribute");
    CheckCuda(Cuda().cuDeviceGetAttribute(&bus, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, dev), "cuDeviceGetAttribute");
    CheckCuda(Cuda().cuDeviceGetAttribute(&slot, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, dev), "cuDeviceGetAttribute");
    char text[32];
    std::snprintf(text, sizeof(text), "%04x:%02x:%02x", domain, bus, slot);
    return Napi::String::New(env, text);
  });
}

Napi::Value SetEnv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) tensorwire::ThrowTypeError(env, "setEnv(name, value)");
  setenv(info[0].As<Napi::String>().Utf8Value().c_str(), info[1].As<Napi::String>().Utf8Value().c_str(), 1);
  return env.Undefined();
}

Napi::Value Created(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), CommunicatorsCreated()); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->completer = tensorwire::Completer::Create(env, "tensorwire-nccl");
  env.SetInstanceData<AddonData>(data);
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("uniqueId", Napi::Function::New(env, UniqueId, "uniqueId"));
  exports.Set("pciBusId", Napi::Function::New(env, PciBusId, "pciBusId"));
  exports.Set("setEnv", Napi::Function::New(env, SetEnv, "setEnv"));
  exports.Set("communicatorsCreated", Napi::Function::New(env, Created, "communicatorsCreated"));
  exports.Set("NcclGroup", GroupWrap::Define(env));
  exports.Set("barePingPong", Napi::Function::New(env, BarePingPong, "barePingPong"));
  return exports;
}

}  // namespace
}  // namespace twnccl

static Napi::Object InitTensorwireNccl(Napi::Env env, Napi::Object exports) { return twnccl::Init(env, exports); }

NODE_API_MODULE(tensorwire_nccl, InitTensorwireNccl)
