// pinned_pool.cc: see pinned_pool.h.
#include "pinned_pool.h"

#include "cuda_link.h"
#include "pool_cache.h"

namespace twnixl {

PinnedChunk::~PinnedChunk() {
  region.reset();  // ucp_mem_unmap before the memory goes
  if (!host) return;
  if (const tw_cuda_host_api* api = cuda::Api()) {
    // Nothing to report to from a destructor: a failure leaves the memory pinned until exit.
    if (api->make_current(device) == 0) api->host_free(host);
  }
}

PinnedPool::PinnedPool(ContextPtr ctx, size_t limitBytes) : ctx_(std::move(ctx)) { stats_.limitBytes = limitBytes; }

PinnedChunkPtr PinnedPool::Take(size_t n, int device) {
  size_t cls = PoolCache::ClassOf(n);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.find(cls);
    if (it != free_.end() && !it->second.empty()) {
      PinnedChunkPtr chunk = std::move(it->second.back().second);
      it->second.pop_back();
      stats_.cachedChunks--;
      stats_.cachedBytes -= cls;
      stats_.hits++;
      stats_.inUse++;
      return chunk;
    }
  }
  const tw_cuda_host_api& api = cuda::Require();
  auto chunk = std::make_shared<PinnedChunk>();
  chunk->device = device;
  cuda::Check(api.make_current(device), "making the context of cuda:" + std::to_string(device) + " current");
  void* host = nullptr;
  cuda::Check(api.host_alloc(&host, cls), "cuMemHostAlloc of " + std::to_string(cls) + " bytes");
  chunk->host = static_cast<uint8_t*>(host);
  chunk->capacity = cls;
  chunk->region = MapExisting(ctx_, host, cls);  // may throw: the chunk frees the memory
  std::lock_guard<std::mutex> lock(mu_);
  stats_.allocations++;
  stats_.inUse++;
  return chunk;
}

std::vector<PinnedChunkPtr> PinnedPool::Give(PinnedChunkPtr chunk) {
  std::vector<PinnedChunkPtr> out;
  if (!chunk) return out;
  std::lock_guard<std::mutex> lock(mu_);
  stats_.inUse--;
  if (closed_ || chunk->capacity > stats_.limitBytes) {
    out.push_back(std::move(chunk));
    return out;
  }
  size_t cls = chunk->capacity;
  free_[cls].emplace_back(++seq_, std::move(chunk));
  stats_.cachedChunks++;
  stats_.cachedBytes += cls;
  while (stats_.cachedBytes > stats_.limitBytes) {  // evict the oldest chunk of any class
    auto oldest = free_.end();
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (!it->second.empty() && (oldest == free_.end() || it->second.front().first < oldest->second.front().first)) oldest = it;
    }
    if (oldest == free_.end()) break;
    stats_.cachedChunks--;
    stats_.cachedBytes -= oldest->first;
    out.push_back(std::move(oldest->second.front().second));
    oldest->second.pop_front();
  }
  return out;
}

std::vector<PinnedChunkPtr> PinnedPool::Close() {
  std::vector<PinnedChunkPtr> out;
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  for (auto& kv : free_) {
    for (auto& entry : kv.second) out.push_back(std::move(entry.second));
  }
  free_.clear();
  stats_.cachedChunks = 0;
  stats_.cachedBytes = 0;
  return out;
}

PinnedPool::Stats PinnedPool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace twnixl
