// devices.cc: see devices.h.
#include "devices.h"

#include <mutex>
#include <string>
#include <vector>

#include "driver_library.h"
#include "tensorwire/errors.h"

namespace twcuda {

namespace {

std::mutex mu;
int count = -1;
std::vector<CUcontext> contexts;

void RequireDriver() {
  if (!Driver::Get().ready())
    throw tensorwire::CodedError("CUDA_UNAVAILABLE", "the CUDA driver is not loaded (open() did not succeed)");
}

}  // namespace

int DeviceCount() {
  RequireDriver();
  std::lock_guard<std::mutex> lock(mu);
  if (count < 0) {
    int n = 0;
    Check(Fn().cuDeviceGetCount(&n), "cuDeviceGetCount");
    count = n;
    contexts.assign(static_cast<size_t>(n), nullptr);
  }
  return count;
}

void CheckDevice(int device) {
  int n = DeviceCount();
  if (device < 0 || device >= n) {
    throw tensorwire::CodedError("ERR_OUT_OF_RANGE", "cuda:" + std::to_string(device) + " does not exist: this process sees " +
                                                         std::to_string(n) + " CUDA device(s)");
  }
}

CUcontext ContextOf(int device) {
  CheckDevice(device);
  std::lock_guard<std::mutex> lock(mu);
  CUcontext& ctx = contexts[static_cast<size_t>(device)];
  if (!ctx) {
    CUdevice dev = 0;
    Check(Fn().cuDeviceGet(&dev, device), "cuDeviceGet");
    Check(Fn().cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain");
  }
  return ctx;
}

void MakeCurrent(int device) {
  thread_local CUcontext current = nullptr;
  CUcontext ctx = ContextOf(device);
  if (ctx == current) return;
  Check(Fn().cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
  current = ctx;
}

}  // namespace twcuda
