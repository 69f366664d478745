// copy_ops.cc: copies and fills, each run on a lane (lane.h), never on the JS thread.
//
//   copyHtoD(device, dst: bigint, src: Uint8Array, options?)
//   copyDtoH(device, dst: Uint8Array, src: bigint, options?)
//   copyDtoD(dstDevice, dst: bigint, srcDevice, src: bigint, bytes, options?)
//   fill(device, dst: bigint, elementBytes: 1|2|4|8, pattern: bigint, count, options?)
//   synchronize(device)      Promise: the device's default lane has run all earlier work
// options: { stream?, after?: Event[], record?: Event, sync?: boolean } (js_args.h). Each returns
// a Promise that resolves when the bytes are in place; with { sync: true } the JS thread waits
// instead and the call returns undefined (for small copies that need an answer now). Host
// buffers are kept alive until the operation has run.
#include <string>

#include "addon_state.h"
#include "devices.h"
#include "driver_library.h"
#include "js_args.h"
#include "ops.h"
#include "tensorwire/buffers.h"
#include "tensorwire/errors.h"

namespace twcuda {

namespace {

Napi::Value Run(const Napi::CallbackInfo& info, StreamOptions& o, std::unique_ptr<LaneJob> job) {
  Napi::Env env = info.Env();
  for (auto& v : o.keep) job->Keep(v);
  return AddonState::Of(env).Run(env, o.lane, std::move(job), o.sync);
}

StreamWork Work(StreamOptions& o, std::function<void(CUstream)> enqueue) {
  StreamWork w;
  w.after = std::move(o.after);
  w.record = std::move(o.record);
  w.enqueue = std::move(enqueue);
  return w;
}

Napi::Value CopyHtoD(const Napi::CallbackInfo& info) {
  int device = ArgDevice(info, 0);
  CUdeviceptr dst = ArgPointer(info, 1, "dst");
  StreamOptions o = ArgStreamOptions(info, 3, device);
  auto job = std::make_unique<LaneJob>(o.lane, StreamWork{});
  tensorwire::ByteView src = job->KeepBytes(info[2], "src");
  job->work() = Work(o, [dst, src](CUstream s) {
    if (src.length) Check(Fn().cuMemcpyHtoDAsync(dst, src.data, src.length, s), "cuMemcpyHtoDAsync");
  });
  return Run(info, o, std::move(job));
}

Napi::Value CopyDtoH(const Napi::CallbackInfo& info) {
  int device = ArgDevice(info, 0);
  CUdeviceptr src = ArgPointer(info, 2, "src");
  StreamOptions o = ArgStreamOptions(info, 3, device);
  auto job = std::make_unique<LaneJob>(o.lane, StreamWork{});
  tensorwire::ByteView dst = job->KeepBytes(info[1], "dst");
  job->work() = Work(o, [dst, src](CUstream s) {
    if (dst.length) Check(Fn().cuMemcpyDtoHAsync(dst.data, src, dst.length, s), "cuMemcpyDtoHAsync");
  });
  return Run(info, o, std::move(job));
}

Napi::Value CopyDtoD(const Napi::CallbackInfo& info) {
  int dstDevice = ArgDevice(info, 0);
  CUdeviceptr dst = ArgPointer(info, 1, "dst");
  int srcDevice = ArgDevice(info, 2);
  CUdeviceptr src = ArgPointer(info, 3, "src");
  size_t bytes = ArgSize(info, 4, "bytes");
  StreamOptions o = ArgStreamOptions(info, 5, dstDevice);
  auto job = std::make_unique<LaneJob>(o.lane, Work(o, [=](CUstream s) {
    if (bytes == 0) return;
    if (srcDevice == dstDevice) {
      Check(Fn().cuMemcpyDtoDAsync(dst, src, bytes, s), "cuMemcpyDtoDAsync");
    } else {
      Check(Fn().cuMemcpyPeerAsync(dst, ContextOf(dstDevice), src, ContextOf(srcDevice), bytes, s), "cuMemcpyPeerAsync");
    }
  }));
  return Run(info, o, std::move(job));
}

Napi::Value Fill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = ArgDevice(info, 0);
  CUdeviceptr dst = ArgPointer(info, 1, "dst");
  size_t size = ArgSize(info, 2, "elementBytes");
  if (size != 1 && size != 2 && size != 4 && size != 8)
    tensorwire::ThrowTypeError(env, "fill: elementBytes must be 1, 2, 4 or 8", "ERR_OUT_OF_RANGE");
  uint64_t pattern = ArgPointer(info, 3, "pattern");  // any 64-bit bigint
  size_t count = ArgSize(info, 4, "count");
  if (dst % size != 0) tensorwire::ThrowTypeError(env, "fill: dst is not aligned for " + std::to_string(size) + "-byte elements", "ERR_OUT_OF_RANGE");
  StreamOptions o = ArgStreamOptions(info, 5, device);
  auto job = std::make_unique<LaneJob>(o.lane, Work(o, [=](CUstream s) {
    if (count == 0) return;
    switch (size) {
      case 1: Check(Fn().cuMemsetD8Async(dst, static_cast<unsigned char>(pattern), count, s), "cuMemsetD8Async"); break;
      case 2: Check(Fn().cuMemsetD16Async(dst, static_cast<unsigned short>(pattern), count, s), "cuMemsetD16Async"); break;
      case 4: Check(Fn().cuMemsetD32Async(dst, static_cast<unsigned>(pattern), count, s), "cuMemsetD32Async"); break;
      default:
        // No 64-bit memset in the driver API: a 2-D 32-bit memset with an 8-byte pitch writes the
        // low words, a second one the high words (little-endian).
        Check(Fn().cuMemsetD2D32Async(dst, 8, static_cast<unsigned>(pattern), 1, count, s), "cuMemsetD2D32Async");
        Check(Fn().cuMemsetD2D32Async(dst + 4, 8, static_cast<unsigned>(pattern >> 32), 1, count, s), "cuMemsetD2D32Async");
    }
  }));
  return Run(info, o, std::move(job));
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  int device = ArgDevice(info, 0);
  StreamOptions o = ArgStreamOptions(info, 1, device);
  return Run(info, o, std::make_unique<LaneJob>(o.lane, Work(o, nullptr)));
}

}  // namespace

void ExportCopyOps(Napi::Env env, Napi::Object exports) {
  exports.Set("copyHtoD", Napi::Function::New(env, CopyHtoD));
  exports.Set("copyDtoH", Napi::Function::New(env, CopyDtoH));
  exports.Set("copyDtoD", Napi::Function::New(env, CopyDtoD));
  exports.Set("fill", Napi::Function::New(env, Fill));
  exports.Set("synchronize", Napi::Function::New(env, Synchronize));
}

}  // namespace twcuda
