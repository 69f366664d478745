// tensorwire/cuda_host_api.h: the C interface through which another addon of the same process
// (e.g. @tensorwire/nixl's) uses the CUDA driver that @tensorwire/cuda's addon loaded.
//
// Why: a process must use one driver library, the one @tensorwire/cuda opened (libcuda.so.1 or
// what TENSORWIRE_LIBCUDA names, e.g. the mock). Another addon that opened libcuda on its own
// could get a different library (the real driver beside the mock, or a second copy) with its
// own contexts and pointers. So @tensorwire/cuda hands out this table of functions over the
// driver it loaded: JavaScript gets it from `require('@tensorwire/cuda/internal').cudaHostApi()`
// (an External) and passes it to the other addon, which checks `magic`, `version` and `size`
// before use.
//
// Every function may be called from any thread, never throws, and returns a CUresult (0 is
// success); `describe` turns one into "CUDA_ERROR_X (the driver's text)". Memory and stream
// calls need a context current on the calling thread: call `make_current(device)` first, once
// per thread and device (it is cheap when that context is current already).
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {

/** "twcudaha": what `magic` holds in a real table. */
#define TW_CUDA_HOST_API_MAGIC 0x7477637564616861ull
/** Raised when a function is added (at the end: the layout of version 1 stays valid). */
#define TW_CUDA_HOST_API_VERSION 1u

typedef struct tw_cuda_host_api {
  uint64_t magic;
  uint32_t version;
  /** sizeof the table as built: a reader checks it covers the functions it calls. */
  uint32_t size;
  /** The driver library in use (a path or 'libcuda.so.1'), for messages. */
  const char* library;
  /** Number of visible devices, or -1 when the driver is not open. */
  int (*device_count)(void);
  /** Makes the primary context of `device` current on the calling thread. */
  int (*make_current)(int device);
  /** cuMemHostAlloc with CU_MEMHOSTALLOC_PORTABLE: page-locked memory every context may use. */
  int (*host_alloc)(void** out, size_t bytes);
  /** cuMemFreeHost. */
  int (*host_free)(void* ptr);
  /** cuStreamCreate (non-blocking) on the current context. */
  int (*stream_create)(void** out);
  int (*stream_destroy)(void* stream);
  int (*stream_synchronize)(void* stream);
  /** cuMemcpyDtoHAsync / cuMemcpyHtoDAsync on `stream` (device addresses as 64-bit integers). */
  int (*memcpy_dtoh_async)(void* dst, uint64_t src, size_t bytes, void* stream);
  int (*memcpy_htod_async)(uint64_t dst, const void* src, size_t bytes, void* stream);
  /** Writes "CUDA_ERROR_X (text)" for `result` into `out` (always NUL-terminated). */
  void (*describe)(int result, char* out, size_t outBytes);
} tw_cuda_host_api;

}  // extern "C"
