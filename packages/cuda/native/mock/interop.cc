// interop.cc: what other mock libraries need from the mock driver (the mock NCCL of
// @tensorwire/nccl runs its sends, receives and reductions as host functions on the mock's
// streams, on the host memory behind the fake device addresses):
//  - cuLaunchHostFunc (a real driver function): runs `fn(userData)` on the stream's thread, in
//    order with the stream's other work, as a kernel would run; the null stream runs it now;
//  - cuCtxGetDevice (a real driver function): the calling thread's current device;
//  - twmock_host_range (the mock's own): the host address of device memory, so that such a
//    library reads and writes what the addon's copies see. The mapping stays valid while the
//    allocation lives; cuMemFree waits for queued stream work first, so a host function queued
//    before a free may use it.
#include "mock.h"

using namespace twmock;

extern "C" {

TWMOCK_API CUresult cuLaunchHostFunc(CUstream stream, CUhostFn fn, void* userData) {
  if (CUresult r = Enter("cuLaunchHostFunc")) return r;
  if (CUresult r = NeedContext()) return r;
  if (!fn) return CUDA_ERROR_INVALID_VALUE;
  return Enqueue(stream, [fn, userData] { fn(userData); });
}

TWMOCK_API CUresult cuCtxGetDevice(CUdevice* device) {
  if (CUresult r = Enter("cuCtxGetDevice")) return r;
  if (!device) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = NeedContext()) return r;
  *device = Current()->ordinal;
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult twmock_host_range(CUdeviceptr ptr, size_t bytes, void** host) {
  if (!host) return CUDA_ERROR_INVALID_VALUE;
  BlockPtr b = Find(ptr, bytes);
  if (!b) return CUDA_ERROR_INVALID_VALUE;
  *host = b->host + (ptr - b->base);
  return CUDA_SUCCESS;
}

}  // extern "C"
