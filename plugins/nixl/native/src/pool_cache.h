// pool_cache.h: the registered pool as a caching allocator, in the spirit of PyTorch's.
//
// First touch of fresh memory is expensive here (page faults and zeroing, plus ucp_mem_map and
// rkey packing), so memory whose last JavaScript view was garbage-collected is kept, still mapped,
// registered and touched, and handed out again:
//   - large allocations (> 64 KiB) get a whole chunk of their size class; a returned chunk is
//     cached by class, bounded by a byte limit (oldest unmapped first);
//   - small allocations (<= 64 KiB) get a slot of a 2 MiB slab (itself a chunk), so they never
//     map memory of their own and do not wait for the garbage collector to be cheap.
// JS thread only (allocate and ArrayBuffer finalizers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "memory.h"

namespace twnixl {

/** A 2 MiB chunk cut into equal slots for small allocations. */
struct Slab {
  RegionPtr chunk;
  size_t slotSize = 0;
  std::vector<uint32_t> free;  // free slot indices
  uint32_t used = 0;
};
using SlabPtr = std::shared_ptr<Slab>;

/** What allocate() hands to one ArrayBuffer; its finalizer gives it back. */
struct PoolLease {
  RegionPtr chunk;       // the mapping (the slab's chunk for a slot)
  SlabPtr slab;          // set for a slot
  uint8_t* addr = nullptr;
  size_t capacity = 0;   // bytes reserved: the size class
};

class PoolCache {
 public:
  static constexpr size_t kMaxSlot = size_t(64) << 10;
  static constexpr size_t kSlabBytes = size_t(2) << 20;

  struct Stats {
    size_t cachedChunks = 0, cachedBytes = 0, limitBytes = 0, slabs = 0;
    uint64_t hits = 0, misses = 0, returned = 0, evicted = 0;
  };

  PoolCache(ContextPtr ctx, size_t limitBytes) : ctx_(std::move(ctx)) { stats_.limitBytes = limitBytes; }

  /**
   * The size class of an n-byte allocation: powers of two from 256 bytes to 1 MiB, then multiples
   * of 2 MiB. At most 2x waste for small buffers and < 2 MiB for large ones.
   */
  static size_t ClassOf(size_t n);

  /** Memory for n > 0 bytes: a free slot or cached chunk when there is one (`*reused`), else new. */
  PoolLease Take(size_t n, bool* reused);
  /** The lease's buffer was collected: keep its memory for reuse (bounded) or unmap it. */
  void Give(PoolLease lease);
  /** The in-use chunk that holds [addr, addr+size), for registrations in the pool. */
  RegionPtr FindLive(const uint8_t* addr, size_t size) const;
  /** Unmap everything cached; memory given back later is unmapped at once. */
  void Close();

  size_t liveCount() const { return live_.size(); }
  const Stats& stats() const { return stats_; }

 private:
  RegionPtr TakeChunk(size_t cls, bool* reused);
  void GiveChunk(RegionPtr chunk);
  void EvictOldest();

  ContextPtr ctx_;
  bool closed_ = false;
  uint64_t seq_ = 0;
  // size class -> cached chunks, oldest first (taken from the back: the warmest in CPU caches)
  std::map<size_t, std::deque<std::pair<uint64_t, RegionPtr>>> free_;
  // slot size -> slabs that have a free slot
  std::map<size_t, std::vector<SlabPtr>> slabs_;
  // chunks in use (whole or as slabs), by base address
  std::map<uintptr_t, std::weak_ptr<MappedRegion>> live_;
  Stats stats_;
};

}  // namespace twnixl
