// host_ops.cc: page-locked host memory, and the driver table other addons use (JS thread).
//
//   allocPinned(device, bytes) -> Uint8Array   cuMemHostAlloc (portable) with `device`'s context
//                                             current; freed with cuMemFreeHost when the
//                                             ArrayBuffer is garbage-collected (bytes > 0)
//   hostApi() -> External                      the tw_cuda_host_api table over the driver this
//                                             addon opened (tensorwire/cuda_host_api.h)
// Allocation runs on the JS thread, as cuMemAlloc does (it does not wait for the GPU).
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "devices.h"
#include "driver_library.h"
#include "guard.h"
#include "js_args.h"
#include "ops.h"
#include "tensorwire/cuda_host_api.h"
#include "tensorwire/errors.h"

namespace twcuda {

namespace {

/** Driver results of the table's functions; C++ failures (no driver, bad device) become one. */
template <typename F>
int Call(F&& f) noexcept {
  try {
    return f();
  } catch (const tensorwire::CodedError& e) {
    if (e.code() == "ERR_OUT_OF_RANGE") return CUDA_ERROR_INVALID_DEVICE;
    if (e.code() == "CUDA_UNAVAILABLE") return CUDA_ERROR_NOT_INITIALIZED;
    return CUDA_ERROR_UNKNOWN;
  } catch (...) {
    return CUDA_ERROR_UNKNOWN;
  }
}

int ApiDeviceCount() {
  try {
    return DeviceCount();
  } catch (...) {
    return -1;
  }
}

int ApiMakeCurrent(int device) {
  return Call([&] {
    MakeCurrent(device);
    return CUDA_SUCCESS;
  });
}

int ApiHostAlloc(void** out, size_t bytes) {
  return Call([&] { return Fn().cuMemHostAlloc(out, bytes, CU_MEMHOSTALLOC_PORTABLE); });
}

int ApiHostFree(void* ptr) {
  return Call([&] { return Fn().cuMemFreeHost(ptr); });
}

int ApiStreamCreate(void** out) {
  return Call([&] { return Fn().cuStreamCreate(reinterpret_cast<CUstream*>(out), CU_STREAM_NON_BLOCKING); });
}

int ApiStreamDestroy(void* stream) {
  return Call([&] { return Fn().cuStreamDestroy(static_cast<CUstream>(stream)); });
}

int ApiStreamSynchronize(void* stream) {
  return Call([&] { return Fn().cuStreamSynchronize(static_cast<CUstream>(stream)); });
}

int ApiDtoH(void* dst, uint64_t src, size_t bytes, void* stream) {
  return Call([&] { return Fn().cuMemcpyDtoHAsync(dst, src, bytes, static_cast<CUstream>(stream)); });
}

int ApiHtoD(uint64_t dst, const void* src, size_t bytes, void* stream) {
  return Call([&] { return Fn().cuMemcpyHtoDAsync(dst, src, bytes, static_cast<CUstream>(stream)); });
}

void ApiDescribe(int result, char* out, size_t outBytes) {
  if (!out || outBytes == 0) return;
  std::string text;
  try {
    text = Driver::Get().ErrorName(result) + " (" + Driver::Get().ErrorText(result) + ")";
  } catch (...) {
    text = "CUDA error " + std::to_string(result);
  }
  std::snprintf(out, outBytes, "%s", text.c_str());
}

/** The table; `library` is filled in once the driver is open (hostApi() needs it open). */
tw_cuda_host_api& Table() {
  static tw_cuda_host_api table = {
      TW_CUDA_HOST_API_MAGIC, TW_CUDA_HOST_API_VERSION, sizeof(tw_cuda_host_api), "",
      &ApiDeviceCount,        &ApiMakeCurrent,          &ApiHostAlloc,              &ApiHostFree,
      &ApiStreamCreate,       &ApiStreamDestroy,        &ApiStreamSynchronize,      &ApiDtoH,
      &ApiHtoD,               &ApiDescribe,
  };
  return table;
}

/** Finalizer hint of a pinned ArrayBuffer. */
struct PinnedHint {
  int device;
  int64_t bytes;
};

Napi::Value AllocPinned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = ArgDevice(info, 0);
  size_t bytes = ArgSize(info, 1, "bytes");
  if (bytes == 0) tensorwire::ThrowTypeError(env, "allocPinned: bytes must be positive (the driver refuses 0)", "ERR_OUT_OF_RANGE");
  void* p = Guard(env, [&] {
    MakeCurrent(device);
    void* out = nullptr;
    Check(Fn().cuMemHostAlloc(&out, bytes, CU_MEMHOSTALLOC_PORTABLE), "cuMemHostAlloc");
    return out;
  });
  auto* hint = new PinnedHint{device, static_cast<int64_t>(bytes)};
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(
      env, p, bytes,
      [](Napi::Env env, void* data, PinnedHint* h) {
        int64_t ignored = 0;
        napi_adjust_external_memory(env, -h->bytes, &ignored);
        try {
          MakeCurrent(h->device);
          Fn().cuMemFreeHost(data);  // a failure here cannot be reported: nothing to do but go on
        } catch (...) {
        }
        delete h;
      },
      hint);
  int64_t ignored = 0;
  napi_adjust_external_memory(env, hint->bytes, &ignored);  // so that V8 collects dropped buffers
  return Napi::Uint8Array::New(env, bytes, ab, 0);
}

Napi::Value HostApi(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Guard(env, [&] {
    DeviceCount();  // throws unless the driver is open
    return 0;
  });
  static std::string library;  // outlives every reader of the table
  library = Driver::Get().path();
  Table().library = library.c_str();
  return Napi::External<tw_cuda_host_api>::New(env, &Table());
}

}  // namespace

void ExportHostOps(Napi::Env env, Napi::Object exports) {
  exports.Set("allocPinned", Napi::Function::New(env, AllocPinned));
  exports.Set("hostApi", Napi::Function::New(env, HostApi));
}

}  // namespace twcuda
