// addon.cc: module entry of tensorwire_cuda.node. The functions are documented where they are
// defined: driver_ops.cc (driver, devices, memory, IPC memory), copy_ops.cc (copies and fills),
// host_ops.cc (page-locked host memory, the driver table for other addons),
// stream_wrap.h (Stream), event_wrap.h (Event). src/native.ts types them for TypeScript.
#include <napi.h>

#include "addon_state.h"
#include "event_wrap.h"
#include "ops.h"
#include "stream_wrap.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new twcuda::AddonState(env));
  twcuda::ExportDriverOps(env, exports);
  twcuda::ExportCopyOps(env, exports);
  twcuda::ExportHostOps(env, exports);
  exports.Set("Stream", twcuda::StreamWrap::Init(env));
  exports.Set("Event", twcuda::EventWrap::Init(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(tensorwire_cuda, Init)
