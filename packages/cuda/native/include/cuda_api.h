// cuda_api.h: the few CUDA driver API types, constants and function signatures this package
// uses, declared here so that neither the addon nor the mock needs a CUDA toolkit to build.
//
// Values and signatures follow NVIDIA's published driver API reference (cuda.h). The addon never
// links libcuda: it loads it at run time (dlopen) and looks these functions up by name
// (driver_library.cc), taking the _v2 symbol where one exists, as cuda.h's macros would. The mock
// library (native/mock) exports the same names.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;  // 64-bit hosts only
typedef struct CUctx_st* CUcontext;
typedef struct CUstream_st* CUstream;
typedef struct CUevent_st* CUevent;

/** Opaque 64-byte handles that another process turns back into memory / an event. */
enum { CU_IPC_HANDLE_SIZE = 64 };
typedef struct CUipcMemHandle_st {
  char reserved[CU_IPC_HANDLE_SIZE];
} CUipcMemHandle;
typedef struct CUipcEventHandle_st {
  char reserved[CU_IPC_HANDLE_SIZE];
} CUipcEventHandle;

// CUresult values this package names (others are reported by number and cuGetErrorName).
enum : CUresult {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NOT_INITIALIZED = 3,
  CUDA_ERROR_DEINITIALIZED = 4,
  CUDA_ERROR_STUB_LIBRARY = 34,
  CUDA_ERROR_INSUFFICIENT_DRIVER = 35,
  CUDA_ERROR_NO_DEVICE = 100,
  CUDA_ERROR_INVALID_DEVICE = 101,
  CUDA_ERROR_INVALID_CONTEXT = 201,
  CUDA_ERROR_MAP_FAILED = 205,
  CUDA_ERROR_PEER_ACCESS_UNSUPPORTED = 217,
  CUDA_ERROR_INVALID_HANDLE = 400,
  CUDA_ERROR_NOT_FOUND = 500,
  CUDA_ERROR_NOT_READY = 600,
  CUDA_ERROR_ILLEGAL_ADDRESS = 700,
  CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED = 704,
  CUDA_ERROR_NOT_PERMITTED = 800,
  CUDA_ERROR_NOT_SUPPORTED = 801,
  CUDA_ERROR_UNKNOWN = 999,
};

// cuStreamCreate flags
enum : unsigned { CU_STREAM_DEFAULT = 0x0, CU_STREAM_NON_BLOCKING = 0x1 };

// cuEventCreate flags
enum : unsigned {
  CU_EVENT_DEFAULT = 0x0,
  CU_EVENT_BLOCKING_SYNC = 0x1,
  CU_EVENT_DISABLE_TIMING = 0x2,
  CU_EVENT_INTERPROCESS = 0x4,
};

// cuMemHostAlloc flags
enum : unsigned { CU_MEMHOSTALLOC_PORTABLE = 0x01, CU_MEMHOSTALLOC_DEVICEMAP = 0x02, CU_MEMHOSTALLOC_WRITECOMBINED = 0x04 };

// cuIpcOpenMemHandle flags
enum : unsigned { CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS = 0x1 };

// cuDeviceGetAttribute attributes
typedef int CUdevice_attribute;
enum : CUdevice_attribute {
  CU_DEVICE_ATTRIBUTE_PCI_BUS_ID = 33,
  CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID = 34,
  CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID = 50,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
};

// cuPointerGetAttribute attributes
typedef int CUpointer_attribute;
enum : CUpointer_attribute {
  CU_POINTER_ATTRIBUTE_MEMORY_TYPE = 2,
  CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL = 9,
  CU_POINTER_ATTRIBUTE_RANGE_START_ADDR = 11,
  CU_POINTER_ATTRIBUTE_RANGE_SIZE = 12,
};

// CU_POINTER_ATTRIBUTE_MEMORY_TYPE values
enum : unsigned { CU_MEMORYTYPE_HOST = 1, CU_MEMORYTYPE_DEVICE = 2 };

// The functions, as pointer types (addon) and names (mock). Keep this list and
// driver_library.cc's symbol table in the same order.
#define TW_CUDA_FUNCTIONS(X)                                                                          \
  X(cuInit, "cuInit", CUresult, (unsigned flags))                                                     \
  X(cuDriverGetVersion, "cuDriverGetVersion", CUresult, (int* version))                               \
  X(cuGetErrorName, "cuGetErrorName", CUresult, (CUresult error, const char** name))                  \
  X(cuGetErrorString, "cuGetErrorString", CUresult, (CUresult error, const char** text))              \
  X(cuDeviceGetCount, "cuDeviceGetCount", CUresult, (int* count))                                     \
  X(cuDeviceGet, "cuDeviceGet", CUresult, (CUdevice * device, int ordinal))                           \
  X(cuDeviceGetName, "cuDeviceGetName", CUresult, (char* name, int len, CUdevice device))             \
  X(cuDeviceTotalMem, "cuDeviceTotalMem_v2", CUresult, (size_t * bytes, CUdevice device))             \
  X(cuDeviceGetAttribute, "cuDeviceGetAttribute", CUresult,                                           \
    (int* value, CUdevice_attribute attribute, CUdevice device))                                      \
  X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", CUresult, (CUcontext * ctx, CUdevice dev))  \
  X(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", CUresult, (CUdevice dev))              \
  X(cuCtxSetCurrent, "cuCtxSetCurrent", CUresult, (CUcontext ctx))                                    \
  X(cuDeviceCanAccessPeer, "cuDeviceCanAccessPeer", CUresult, (int* canAccess, CUdevice dev, CUdevice peer)) \
  X(cuCtxEnablePeerAccess, "cuCtxEnablePeerAccess", CUresult, (CUcontext peer, unsigned flags))        \
  X(cuMemAlloc, "cuMemAlloc_v2", CUresult, (CUdeviceptr * ptr, size_t bytes))                         \
  X(cuMemFree, "cuMemFree_v2", CUresult, (CUdeviceptr ptr))                                           \
  X(cuMemGetInfo, "cuMemGetInfo_v2", CUresult, (size_t * free, size_t * total))                       \
  X(cuMemHostAlloc, "cuMemHostAlloc", CUresult, (void** ptr, size_t bytes, unsigned flags))            \
  X(cuMemFreeHost, "cuMemFreeHost", CUresult, (void* ptr))                                            \
  X(cuMemGetAddressRange, "cuMemGetAddressRange_v2", CUresult,                                        \
    (CUdeviceptr * base, size_t * size, CUdeviceptr ptr))                                             \
  X(cuPointerGetAttribute, "cuPointerGetAttribute", CUresult,                                         \
    (void* data, CUpointer_attribute attribute, CUdeviceptr ptr))                                     \
  X(cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2", CUresult,                                              \
    (CUdeviceptr dst, const void* src, size_t bytes, CUstream stream))                                \
  X(cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2", CUresult,                                              \
    (void* dst, CUdeviceptr src, size_t bytes, CUstream stream))                                      \
  X(cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2", CUresult,                                              \
    (CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream))                                \
  X(cuMemcpyPeerAsync, "cuMemcpyPeerAsync", CUresult,                                                 \
    (CUdeviceptr dst, CUcontext dstCtx, CUdeviceptr src, CUcontext srcCtx, size_t bytes, CUstream s)) \
  X(cuMemsetD8Async, "cuMemsetD8Async", CUresult,                                                     \
    (CUdeviceptr dst, unsigned char value, size_t count, CUstream stream))                            \
  X(cuMemsetD16Async, "cuMemsetD16Async", CUresult,                                                   \
    (CUdeviceptr dst, unsigned short value, size_t count, CUstream stream))                           \
  X(cuMemsetD32Async, "cuMemsetD32Async", CUresult,                                                   \
    (CUdeviceptr dst, unsigned int value, size_t count, CUstream stream))                             \
  X(cuMemsetD2D32Async, "cuMemsetD2D32Async", CUresult,                                               \
    (CUdeviceptr dst, size_t pitch, unsigned int value, size_t width, size_t height, CUstream s))     \
  X(cuStreamCreate, "cuStreamCreate", CUresult, (CUstream * stream, unsigned flags))                  \
  X(cuStreamDestroy, "cuStreamDestroy_v2", CUresult, (CUstream stream))                               \
  X(cuStreamSynchronize, "cuStreamSynchronize", CUresult, (CUstream stream))                          \
  X(cuStreamWaitEvent, "cuStreamWaitEvent", CUresult, (CUstream stream, CUevent event, unsigned f))   \
  X(cuEventCreate, "cuEventCreate", CUresult, (CUevent * event, unsigned flags))                      \
  X(cuEventDestroy, "cuEventDestroy_v2", CUresult, (CUevent event))                                   \
  X(cuEventRecord, "cuEventRecord", CUresult, (CUevent event, CUstream stream))                       \
  X(cuEventSynchronize, "cuEventSynchronize", CUresult, (CUevent event))                              \
  X(cuEventQuery, "cuEventQuery", CUresult, (CUevent event))                                          \
  X(cuIpcGetMemHandle, "cuIpcGetMemHandle", CUresult, (CUipcMemHandle * handle, CUdeviceptr ptr))     \
  X(cuIpcOpenMemHandle, "cuIpcOpenMemHandle_v2", CUresult,                                            \
    (CUdeviceptr * ptr, CUipcMemHandle handle, unsigned flags))                                       \
  X(cuIpcCloseMemHandle, "cuIpcCloseMemHandle", CUresult, (CUdeviceptr ptr))                          \
  X(cuIpcGetEventHandle, "cuIpcGetEventHandle", CUresult, (CUipcEventHandle * handle, CUevent event)) \
  X(cuIpcOpenEventHandle, "cuIpcOpenEventHandle", CUresult, (CUevent * event, CUipcEventHandle handle))

}  // extern "C"
