// devices.cc: initialization, error names, devices and primary contexts of the mock driver.
#include <cstdio>
#include <cstring>

#include "mock.h"

using namespace twmock;

namespace twmock {

Context*& Current() {
  thread_local Context* current = nullptr;
  return current;
}

CUresult NeedContext() {
  {
    std::lock_guard<std::mutex> lock(S().mu);
    if (!S().initialized) return CUDA_ERROR_NOT_INITIALIZED;
  }
  return Current() ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

}  // namespace twmock

namespace {

struct ErrorText {
  CUresult code;
  const char* name;
  const char* text;
};

const ErrorText kErrors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {CUDA_ERROR_DEINITIALIZED, "CUDA_ERROR_DEINITIALIZED", "driver shutting down"},
    {CUDA_ERROR_STUB_LIBRARY, "CUDA_ERROR_STUB_LIBRARY", "CUDA driver is a stub library"},
    {CUDA_ERROR_INSUFFICIENT_DRIVER, "CUDA_ERROR_INSUFFICIENT_DRIVER",
     "CUDA driver version is insufficient for CUDA runtime version"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {CUDA_ERROR_MAP_FAILED, "CUDA_ERROR_MAP_FAILED", "mapping of buffer object failed"},
    {CUDA_ERROR_PEER_ACCESS_UNSUPPORTED, "CUDA_ERROR_PEER_ACCESS_UNSUPPORTED", "peer access is not supported between these two devices"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_NOT_READY, "CUDA_ERROR_NOT_READY", "device not ready"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED, "CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED",
     "peer access is already enabled"},
    {CUDA_ERROR_NOT_PERMITTED, "CUDA_ERROR_NOT_PERMITTED", "operation not permitted"},
    {CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
    {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

const ErrorText* Lookup(CUresult code) {
  for (const auto& e : kErrors)
    if (e.code == code) return &e;
  return nullptr;
}

/** CUDA_ERROR_INVALID_DEVICE unless `device` is a visible ordinal. Needs cuInit. */
CUresult CheckDevice(CUdevice device) {
  std::lock_guard<std::mutex> lock(S().mu);
  if (!S().initialized) return CUDA_ERROR_NOT_INITIALIZED;
  if (device < 0 || device >= static_cast<int>(S().visible.size())) return CUDA_ERROR_INVALID_DEVICE;
  return CUDA_SUCCESS;
}

}  // namespace

extern "C" {

TWMOCK_API CUresult cuInit(unsigned flags) {
  if (CUresult r = Enter("cuInit")) return r;
  if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard<std::mutex> lock(S().mu);
  if (S().visible.empty()) return CUDA_ERROR_NO_DEVICE;
  S().initialized = true;
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuDriverGetVersion(int* version) {
  if (CUresult r = Enter("cuDriverGetVersion")) return r;
  if (!version) return CUDA_ERROR_INVALID_VALUE;
  *version = 12080;  // CUDA 12.8
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuGetErrorName(CUresult error, const char** name) {
  if (!name) return CUDA_ERROR_INVALID_VALUE;
  const ErrorText* e = Lookup(error);
  *name = e ? e->name : nullptr;
  return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

TWMOCK_API CUresult cuGetErrorString(CUresult error, const char** text) {
  if (!text) return CUDA_ERROR_INVALID_VALUE;
  const ErrorText* e = Lookup(error);
  *text = e ? e->text : nullptr;
  return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

TWMOCK_API CUresult cuDeviceGetCount(int* count) {
  if (CUresult r = Enter("cuDeviceGetCount")) return r;
  if (!count) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard<std::mutex> lock(S().mu);
  if (!S().initialized) return CUDA_ERROR_NOT_INITIALIZED;
  *count = static_cast<int>(S().visible.size());
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuDeviceGet(CUdevice* device, int ordinal) {
  if (CUresult r = Enter("cuDeviceGet")) return r;
  if (!device) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = CheckDevice(ordinal)) return r;
  *device = ordinal;  // a CUdevice is its ordinal here, as on the real driver
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuDeviceGetName(char* name, int len, CUdevice device) {
  if (CUresult r = Enter("cuDeviceGetName")) return r;
  if (!name || len <= 0) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = CheckDevice(device)) return r;
  std::snprintf(name, static_cast<size_t>(len), "tensorwire mock GPU %d", S().visible[device]);
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice device) {
  if (CUresult r = Enter("cuDeviceTotalMem_v2")) return r;
  if (!bytes) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = CheckDevice(device)) return r;
  std::lock_guard<std::mutex> lock(S().mu);
  *bytes = S().memoryPerDevice;
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuDeviceGetAttribute(int* value, CUdevice_attribute attribute, CUdevice device) {
  if (CUresult r = Enter("cuDeviceGetAttribute")) return r;
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = CheckDevice(device)) return r;
  switch (attribute) {
    case CU_DEVICE_ATTRIBUTE_PCI_BUS_ID: *value = S().visible[device]; return CUDA_SUCCESS;  // the physical index
    case CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID: *value = 0; return CUDA_SUCCESS;
    case CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID: *value = 0; return CUDA_SUCCESS;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *value = 9; return CUDA_SUCCESS;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *value = 0; return CUDA_SUCCESS;
    default: return CUDA_ERROR_INVALID_VALUE;
  }
}

TWMOCK_API CUresult cuDevicePrimaryCtxRetain(CUcontext* ctx, CUdevice device) {
  if (CUresult r = Enter("cuDevicePrimaryCtxRetain")) return r;
  if (!ctx) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = CheckDevice(device)) return r;
  std::lock_guard<std::mutex> lock(S().mu);
  Context* c = S().contexts[device].get();
  c->retains++;
  *ctx = reinterpret_cast<CUcontext>(c);
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device) {
  if (CUresult r = Enter("cuDevicePrimaryCtxRelease_v2")) return r;
  if (CUresult r = CheckDevice(device)) return r;
  std::lock_guard<std::mutex> lock(S().mu);
  Context* c = S().contexts[device].get();
  if (c->retains <= 0) return CUDA_ERROR_INVALID_CONTEXT;
  c->retains--;
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuDeviceCanAccessPeer(int* canAccess, CUdevice device, CUdevice peer) {
  if (CUresult r = Enter("cuDeviceCanAccessPeer")) return r;
  if (!canAccess) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = CheckDevice(device)) return r;
  if (CUresult r = CheckDevice(peer)) return r;
  std::lock_guard<std::mutex> lock(S().mu);
  // As on the real driver: a device is never its own peer.
  *canAccess = device != peer && S().peerAccess ? 1 : 0;
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuCtxEnablePeerAccess(CUcontext peer, unsigned flags) {
  if (CUresult r = Enter("cuCtxEnablePeerAccess")) return r;
  if (CUresult r = NeedContext()) return r;
  if (flags != 0 || !peer) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard<std::mutex> lock(S().mu);
  bool known = false;
  for (auto& c : S().contexts) known = known || reinterpret_cast<CUcontext>(c.get()) == peer;
  if (!known) return CUDA_ERROR_INVALID_CONTEXT;
  int from = Current()->physical;
  int to = reinterpret_cast<Context*>(peer)->physical;
  if (from == to) return CUDA_ERROR_INVALID_DEVICE;
  if (!S().peerAccess) return CUDA_ERROR_PEER_ACCESS_UNSUPPORTED;
  for (auto& pair : S().peerEnabled)
    if (pair.first == from && pair.second == to) return CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED;
  S().peerEnabled.emplace_back(from, to);
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuCtxSetCurrent(CUcontext ctx) {
  if (CUresult r = Enter("cuCtxSetCurrent")) return r;
  {
    std::lock_guard<std::mutex> lock(S().mu);
    if (!S().initialized) return CUDA_ERROR_NOT_INITIALIZED;
    bool known = ctx == nullptr;
    for (auto& c : S().contexts) known = known || reinterpret_cast<CUcontext>(c.get()) == ctx;
    if (!known) return CUDA_ERROR_INVALID_CONTEXT;
  }
  Current() = reinterpret_cast<Context*>(ctx);
  return CUDA_SUCCESS;
}

}  // extern "C"
