// memory.cc: device memory of the mock driver: memfd-backed allocations behind fake addresses,
// the translation from device addresses to the mapped host memory, copies and fills.
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "mock.h"

using namespace twmock;

namespace twmock {

Block::~Block() {
  if (host) munmap(host, size);
  if (fd >= 0) close(fd);
}

BlockPtr Find(uint64_t ptr, size_t bytes) {
  std::lock_guard<std::mutex> lock(S().mu);
  auto& blocks = S().blocks;
  auto it = blocks.upper_bound(ptr);
  if (it == blocks.begin()) return nullptr;
  --it;
  const BlockPtr& b = it->second;
  if (ptr < b->base || ptr - b->base > b->size || bytes > b->size - (ptr - b->base)) return nullptr;
  if (bytes == 0 && ptr == b->base + b->size) return nullptr;  // one past the end holds nothing
  return b;
}

}  // namespace twmock

namespace {

constexpr uint64_t kPage = 4096;

uint64_t RoundUp(uint64_t n, uint64_t to) { return (n + to - 1) / to * to; }

/** Host address of device address `ptr` inside `b`. */
uint8_t* HostOf(const BlockPtr& b, CUdeviceptr ptr) { return b->host + (ptr - b->base); }

/** The block holding `bytes` at `ptr`; INVALID_VALUE when any byte is outside device memory. */
CUresult Resolve(CUdeviceptr ptr, size_t bytes, BlockPtr& out) {
  out = Find(ptr, bytes);
  return out ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

/** Delays (TENSORWIRE_MOCK_CUDA_DELAY_US) then copies; what every stream copy runs. */
void SlowCopy(void* dst, const void* src, size_t bytes) {
  long delay = S().delayUs.load();
  if (delay > 0) usleep(static_cast<useconds_t>(delay));
  std::memmove(dst, src, bytes);
}

template <typename T>
CUresult Fill(const char* name, CUdeviceptr dst, T value, size_t count, CUstream stream) {
  if (CUresult r = Enter(name)) return r;
  if (CUresult r = NeedContext()) return r;
  if (count == 0) return CUDA_SUCCESS;
  if (dst % sizeof(T) != 0) return CUDA_ERROR_INVALID_VALUE;
  BlockPtr b;
  if (CUresult r = Resolve(dst, count * sizeof(T), b)) return r;
  return Enqueue(stream, [b, dst, value, count] {
    long delay = S().delayUs.load();
    if (delay > 0) usleep(static_cast<useconds_t>(delay));
    T* p = reinterpret_cast<T*>(HostOf(b, dst));
    for (size_t i = 0; i < count; i++) p[i] = value;
  });
}

}  // namespace

extern "C" {

TWMOCK_API CUresult cuMemAlloc_v2(CUdeviceptr* ptr, size_t bytes) {
  if (CUresult r = Enter("cuMemAlloc_v2")) return r;
  if (CUresult r = NeedContext()) return r;
  if (!ptr || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
  int physical = Current()->physical;
  uint64_t span = RoundUp(bytes, kPage);
  {
    std::lock_guard<std::mutex> lock(S().mu);
    if (S().used[physical] + span > S().memoryPerDevice) return CUDA_ERROR_OUT_OF_MEMORY;
    S().used[physical] += span;  // reserved now, so that concurrent allocations see it
  }
  auto b = std::make_shared<Block>();
  b->size = bytes;
  b->physical = physical;
  b->fd = memfd_create("tensorwire-mockcuda", MFD_CLOEXEC);
  void* host = MAP_FAILED;
  if (b->fd >= 0 && ftruncate(b->fd, static_cast<off_t>(bytes)) == 0)
    host = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
  std::lock_guard<std::mutex> lock(S().mu);
  if (host == MAP_FAILED) {
    S().used[physical] -= span;
    return CUDA_ERROR_OUT_OF_MEMORY;  // the host could not back it: what the caller must handle anyway
  }
  b->host = static_cast<uint8_t*>(host);
  b->base = S().nextAlloc[physical];
  // A guard page between allocations: a copy that runs past the end of one never lands in the next.
  S().nextAlloc[physical] += span + kPage;
  S().blocks[b->base] = b;
  *ptr = b->base;
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuMemFree_v2(CUdeviceptr ptr) {
  if (CUresult r = Enter("cuMemFree_v2")) return r;
  if (CUresult r = NeedContext()) return r;
  DrainAllStreams();  // like the real driver, freeing waits for work already queued
  std::lock_guard<std::mutex> lock(S().mu);
  auto it = S().blocks.find(ptr);
  if (it == S().blocks.end() || it->second->imported) return CUDA_ERROR_INVALID_VALUE;
  S().used[it->second->physical] -= RoundUp(it->second->size, kPage);
  S().blocks.erase(it);  // the mapping goes when the last queued operation that holds it is done
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuMemGetInfo_v2(size_t* free, size_t* total) {
  if (CUresult r = Enter("cuMemGetInfo_v2")) return r;
  if (CUresult r = NeedContext()) return r;
  if (!free || !total) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard<std::mutex> lock(S().mu);
  *total = S().memoryPerDevice;
  *free = S().memoryPerDevice - S().used[Current()->physical];
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuMemGetAddressRange_v2(CUdeviceptr* base, size_t* size, CUdeviceptr ptr) {
  if (CUresult r = Enter("cuMemGetAddressRange_v2")) return r;
  if (CUresult r = NeedContext()) return r;
  BlockPtr b = Find(ptr, 1);
  if (!b) return CUDA_ERROR_NOT_FOUND;
  if (base) *base = b->base;
  if (size) *size = b->size;
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuPointerGetAttribute(void* data, CUpointer_attribute attribute, CUdeviceptr ptr) {
  if (CUresult r = Enter("cuPointerGetAttribute")) return r;
  if (!data) return CUDA_ERROR_INVALID_VALUE;
  BlockPtr b = Find(ptr, 1);
  if (!b) return CUDA_ERROR_INVALID_VALUE;
  switch (attribute) {
    case CU_POINTER_ATTRIBUTE_MEMORY_TYPE: *static_cast<unsigned*>(data) = CU_MEMORYTYPE_DEVICE; return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL: {
      int ordinal = OrdinalOf(b->physical);
      *static_cast<int*>(data) = ordinal;
      return ordinal >= 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
    }
    case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR: *static_cast<CUdeviceptr*>(data) = b->base; return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_RANGE_SIZE: *static_cast<size_t*>(data) = b->size; return CUDA_SUCCESS;
    default: return CUDA_ERROR_NOT_SUPPORTED;
  }
}

TWMOCK_API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t bytes, CUstream stream) {
  if (CUresult r = Enter("cuMemcpyHtoDAsync_v2")) return r;
  if (CUresult r = NeedContext()) return r;
  if (bytes == 0) return CUDA_SUCCESS;
  if (!src || IsDeviceAddress(src)) return CUDA_ERROR_INVALID_VALUE;
  BlockPtr b;
  if (CUresult r = Resolve(dst, bytes, b)) return r;
  // The source is read when the operation runs, as from pinned memory: the caller keeps it
  // unchanged until the stream has run it (stricter than pageable memory, so bugs show).
  return Enqueue(stream, [b, dst, src, bytes] { SlowCopy(HostOf(b, dst), src, bytes); });
}

TWMOCK_API CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t bytes, CUstream stream) {
  if (CUresult r = Enter("cuMemcpyDtoHAsync_v2")) return r;
  if (CUresult r = NeedContext()) return r;
  if (bytes == 0) return CUDA_SUCCESS;
  if (!dst || IsDeviceAddress(dst)) return CUDA_ERROR_INVALID_VALUE;
  BlockPtr b;
  if (CUresult r = Resolve(src, bytes, b)) return r;
  return Enqueue(stream, [b, dst, src, bytes] { SlowCopy(dst, HostOf(b, src), bytes); });
}

TWMOCK_API CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream) {
  if (CUresult r = Enter("cuMemcpyDtoDAsync_v2")) return r;
  if (CUresult r = NeedContext()) return r;
  if (bytes == 0) return CUDA_SUCCESS;
  BlockPtr d, s;
  if (CUresult r = Resolve(dst, bytes, d)) return r;
  if (CUresult r = Resolve(src, bytes, s)) return r;
  return Enqueue(stream, [d, s, dst, src, bytes] { SlowCopy(HostOf(d, dst), HostOf(s, src), bytes); });
}

TWMOCK_API CUresult cuMemcpyPeerAsync(CUdeviceptr dst, CUcontext dstCtx, CUdeviceptr src, CUcontext srcCtx,
                                      size_t bytes, CUstream stream) {
  if (CUresult r = Enter("cuMemcpyPeerAsync")) return r;
  if (CUresult r = NeedContext()) return r;
  if (!dstCtx || !srcCtx) return CUDA_ERROR_INVALID_CONTEXT;
  if (bytes == 0) return CUDA_SUCCESS;
  BlockPtr d, s;
  if (CUresult r = Resolve(dst, bytes, d)) return r;
  if (CUresult r = Resolve(src, bytes, s)) return r;
  return Enqueue(stream, [d, s, dst, src, bytes] { SlowCopy(HostOf(d, dst), HostOf(s, src), bytes); });
}

TWMOCK_API CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t count, CUstream stream) {
  return Fill<uint8_t>("cuMemsetD8Async", dst, value, count, stream);
}

TWMOCK_API CUresult cuMemsetD16Async(CUdeviceptr dst, unsigned short value, size_t count, CUstream stream) {
  return Fill<uint16_t>("cuMemsetD16Async", dst, value, count, stream);
}

TWMOCK_API CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned int value, size_t count, CUstream stream) {
  return Fill<uint32_t>("cuMemsetD32Async", dst, value, count, stream);
}

TWMOCK_API CUresult cuMemsetD2D32Async(CUdeviceptr dst, size_t pitch, unsigned int value, size_t width, size_t height,
                                       CUstream stream) {
  if (CUresult r = Enter("cuMemsetD2D32Async")) return r;
  if (CUresult r = NeedContext()) return r;
  if (width == 0 || height == 0) return CUDA_SUCCESS;
  if (dst % 4 != 0 || pitch % 4 != 0 || (height > 1 && pitch < width * 4)) return CUDA_ERROR_INVALID_VALUE;
  size_t span = pitch * (height - 1) + width * 4;
  BlockPtr b;
  if (CUresult r = Resolve(dst, span, b)) return r;
  return Enqueue(stream, [b, dst, pitch, value, width, height] {
    long delay = S().delayUs.load();
    if (delay > 0) usleep(static_cast<useconds_t>(delay));
    for (size_t row = 0; row < height; row++) {
      auto* p = reinterpret_cast<uint32_t*>(HostOf(b, dst + row * pitch));
      for (size_t i = 0; i < width; i++) p[i] = value;
    }
  });
}

}  // extern "C"
