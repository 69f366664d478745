// host_memory.cc: page-locked host memory of the mock driver (cuMemHostAlloc, cuMemFreeHost).
// The memory is plain anonymous mappings (nothing is locked: the mock has no DMA engine); what
// the mock keeps faithful is the bookkeeping: a context must be current, the allocations are
// counted (stats: pinnedAllocations, pinnedBytes; calls.cuMemHostAlloc), freeing waits for the
// work already queued on streams, and cuMemFreeHost of memory it did not hand out fails.
#include <sys/mman.h>

#include "mock.h"

using namespace twmock;

extern "C" {

TWMOCK_API CUresult cuMemHostAlloc(void** ptr, size_t bytes, unsigned flags) {
  if (CUresult r = Enter("cuMemHostAlloc")) return r;
  if (CUresult r = NeedContext()) return r;
  constexpr unsigned kKnown = CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_WRITECOMBINED;
  if (!ptr || bytes == 0 || (flags & ~kKnown) != 0) return CUDA_ERROR_INVALID_VALUE;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return CUDA_ERROR_OUT_OF_MEMORY;
  std::lock_guard<std::mutex> lock(S().mu);
  S().pinned[reinterpret_cast<uintptr_t>(p)] = bytes;
  *ptr = p;
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuMemFreeHost(void* ptr) {
  if (CUresult r = Enter("cuMemFreeHost")) return r;
  if (CUresult r = NeedContext()) return r;
  DrainAllStreams();  // like the real driver: queued copies from or to it finish first
  size_t bytes = 0;
  {
    std::lock_guard<std::mutex> lock(S().mu);
    auto it = S().pinned.find(reinterpret_cast<uintptr_t>(ptr));
    if (it == S().pinned.end()) return CUDA_ERROR_INVALID_VALUE;
    bytes = it->second;
    S().pinned.erase(it);
  }
  munmap(ptr, bytes);
  return CUDA_SUCCESS;
}

}  // extern "C"
