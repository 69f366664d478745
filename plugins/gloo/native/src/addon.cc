// addon.cc: module entry of tensorwire_gloo.node.
//
// Exports: GlooGroup (group_wrap.h), glooVersion ("0.5.0"), probeDevice(hostname) -> string
// (creates and drops a TCP device: checks that the address can be bound; throws GLOO_DEVICE).
#include <gloo/config.h>
#include <gloo/transport/tcp/device.h>
#include <napi.h>
#include <sys/socket.h>
#include <tensorwire/addon.h>

#include "addon_data.h"
#include "gloo_errors.h"
#include "group_wrap.h"

namespace tensorwire_gloo {
namespace {

#define TW_STR2(x) #x
#define TW_STR(x) TW_STR2(x)

Napi::Value ProbeDevice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string host = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "127.0.0.1";
  try {
    gloo::transport::tcp::attr attr;
    attr.hostname = host;
    attr.ai_family = AF_INET;
    auto device = gloo::transport::tcp::CreateDevice(attr);
    return Napi::String::New(env, device->str());
  } catch (...) {
    tensorwire::ErrorInfo e = CaptureGlooError(std::current_exception());
    throw tensorwire::MakeError(env, {"GLOO_DEVICE", "cannot create a Gloo TCP device on '" + host + "': " + e.message});
  }
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->completer = tensorwire::Completer::Create(env, "tensorwire-gloo");
  env.SetInstanceData<AddonData>(data);
  exports.Set("GlooGroup", GroupWrap::Define(env));
  exports.Set("glooVersion", Napi::String::New(env, TW_STR(GLOO_VERSION_MAJOR) "." TW_STR(GLOO_VERSION_MINOR) "." TW_STR(
                                                        GLOO_VERSION_PATCH)));
  exports.Set("probeDevice", Napi::Function::New(env, ProbeDevice, "probeDevice"));
  return exports;
}

}  // namespace
}  // namespace tensorwire_gloo

static Napi::Object InitTensorwireGloo(Napi::Env env, Napi::Object exports) {
  return tensorwire_gloo::Init(env, exports);
}

NODE_API_MODULE(tensorwire_gloo, InitTensorwireGloo)
