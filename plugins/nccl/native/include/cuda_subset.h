// cuda_subset.h: the few CUDA driver API declarations the NCCL addon and the mock NCCL use,
// written here so that no CUDA toolkit is needed to build them. Values and signatures follow
// NVIDIA's published driver API reference (cuda.h); @tensorwire/cuda declares the same ones for
// its own addon. The addon loads them from the very library @tensorwire/cuda opened (the real
// driver or its mock), see cuda_library.h.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st* CUcontext;
typedef struct CUstream_st* CUstream;
typedef struct CUevent_st* CUevent;
typedef void (*CUhostFn)(void* userData);

enum : CUresult {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_NOT_READY = 600,
};

enum : unsigned { CU_EVENT_DISABLE_TIMING = 0x2 };

typedef int CUdevice_attribute;
enum : CUdevice_attribute {
  CU_DEVICE_ATTRIBUTE_PCI_BUS_ID = 33,
  CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID = 34,
  CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID = 50,
};

#define TW_NCCL_CUDA_FUNCTIONS(X)                                                                   \
  X(cuGetErrorName, "cuGetErrorName", CUresult, (CUresult error, const char** name))               \
  X(cuDeviceGet, "cuDeviceGet", CUresult, (CUdevice * device, int ordinal))                        \
  X(cuDeviceGetCount, "cuDeviceGetCount", CUresult, (int* count))                                  \
  X(cuDeviceGetAttribute, "cuDeviceGetAttribute", CUresult,                                        \
    (int* value, CUdevice_attribute attribute, CUdevice device))                                   \
  X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", CUresult, (CUcontext * ctx, CUdevice dev)) \
  X(cuCtxSetCurrent, "cuCtxSetCurrent", CUresult, (CUcontext ctx))                                 \
  X(cuMemAlloc, "cuMemAlloc_v2", CUresult, (CUdeviceptr * ptr, size_t bytes))                      \
  X(cuMemFree, "cuMemFree_v2", CUresult, (CUdeviceptr ptr))                                        \
  X(cuMemsetD8Async, "cuMemsetD8Async", CUresult,                                                  \
    (CUdeviceptr dst, unsigned char value, size_t count, CUstream stream))                         \
  X(cuEventCreate, "cuEventCreate", CUresult, (CUevent * event, unsigned flags))                   \
  X(cuEventDestroy, "cuEventDestroy_v2", CUresult, (CUevent event))                                \
  X(cuEventRecord, "cuEventRecord", CUresult, (CUevent event, CUstream stream))                    \
  X(cuEventQuery, "cuEventQuery", CUresult, (CUevent event))                                      \
  X(cuStreamSynchronize, "cuStreamSynchronize", CUresult, (CUstream stream))

}  // extern "C"
