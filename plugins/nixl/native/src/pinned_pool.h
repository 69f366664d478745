// pinned_pool.h: page-locked host memory registered with UCX, pooled. The staging path moves a
// CUDA tensor through it on both sides (device -> pinned on the producer, pinned -> pinned over
// UCX, pinned -> device on the consumer), so chunks are made once (cuMemHostAlloc, then
// ucp_mem_map and rkey packing, both slow) and reused: sizes are rounded to the registered
// pool's size classes (PoolCache::ClassOf) and a returned chunk serves the next request of its
// class. The cache is bounded (the agent's poolCacheBytes); beyond it the oldest chunks go.
// Thread-safe: the staging thread takes and returns chunks, the progress thread returns them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "memory.h"

namespace twnixl {

/** One page-locked chunk with its UCX registration; freed by its last owner. */
struct PinnedChunk {
  uint8_t* host = nullptr;
  size_t capacity = 0;
  int device = 0;     // whose context allocated it (cuMemFreeHost needs one current)
  RegionPtr region;   // ucp_mem_map of [host, host + capacity) and its packed rkey
  ~PinnedChunk();     // unmap, then cuMemFreeHost
};
using PinnedChunkPtr = std::shared_ptr<PinnedChunk>;

class PinnedPool {
 public:
  struct Stats {
    uint64_t allocations = 0;  // chunks made (cuMemHostAlloc calls)
    uint64_t hits = 0;         // Take() served from the cache
    size_t cachedChunks = 0, cachedBytes = 0, inUse = 0, limitBytes = 0;
  };

  PinnedPool(ContextPtr ctx, size_t limitBytes);

  /** A chunk of at least `n` (> 0) bytes: a cached one of n's class, else a new one. Throws CodedError. */
  PinnedChunkPtr Take(size_t n, int device);
  /**
   * Back to the cache. Returns the chunks that no longer fit (evicted, or all after Close): the
   * caller drops them where freeing them does not hold up anything (the staging thread).
   */
  std::vector<PinnedChunkPtr> Give(PinnedChunkPtr chunk);
  /** Empty the cache (returned to the caller to drop); later Give()s return the chunk at once. */
  std::vector<PinnedChunkPtr> Close();
  Stats stats() const;

 private:
  ContextPtr ctx_;
  mutable std::mutex mu_;
  bool closed_ = false;
  uint64_t seq_ = 0;
  std::map<size_t, std::deque<std::pair<uint64_t, PinnedChunkPtr>>> free_;  // class -> oldest first
  Stats stats_;
};

}  // namespace twnixl
