// pool_cache.cc: see pool_cache.h.
#include "pool_cache.h"

#include <algorithm>

namespace twnixl {

namespace {
constexpr size_t kMinClass = 256;  // slots stay 256-byte aligned (any dtype, cache lines)
constexpr size_t kPow2Limit = size_t(1) << 20;
constexpr size_t kLargeStep = size_t(2) << 20;
}  // namespace

size_t PoolCache::ClassOf(size_t n) {
  if (n <= kMinClass) return kMinClass;
  if (n <= kPow2Limit) {
    size_t c = kMinClass;
    while (c < n) c <<= 1;
    return c;
  }
  return (n + kLargeStep - 1) / kLargeStep * kLargeStep;
}

PoolLease PoolCache::Take(size_t n, bool* reused) {
  size_t cls = ClassOf(n);
  if (cls > kMaxSlot) {
    RegionPtr chunk = TakeChunk(cls, reused);
    live_[reinterpret_cast<uintptr_t>(chunk->base)] = chunk;
    return PoolLease{chunk, nullptr, chunk->base, cls};
  }
  auto& partial = slabs_[cls];
  *reused = !partial.empty();
  if (partial.empty()) {
    bool chunkReused = false;
    auto slab = std::make_shared<Slab>();
    slab->chunk = TakeChunk(kSlabBytes, &chunkReused);  // may throw; nothing changed
    slab->slotSize = cls;
    auto slots = static_cast<uint32_t>(kSlabBytes / cls);
    for (uint32_t i = slots; i > 0; --i) slab->free.push_back(i - 1);
    live_[reinterpret_cast<uintptr_t>(slab->chunk->base)] = slab->chunk;
    ++stats_.slabs;
    partial.push_back(std::move(slab));
  } else {
    ++stats_.hits;
  }
  SlabPtr slab = partial.back();
  uint32_t slot = slab->free.back();
  slab->free.pop_back();
  ++slab->used;
  if (slab->free.empty()) partial.pop_back();
  return PoolLease{slab->chunk, slab, slab->chunk->base + size_t(slot) * cls, cls};
}

void PoolCache::Give(PoolLease lease) {
  if (!lease.slab) {
    auto it = live_.find(reinterpret_cast<uintptr_t>(lease.chunk->base));
    if (it != live_.end()) live_.erase(it);
    // use_count 1: only the lease holds it, so no registration refers to it.
    if (lease.chunk.use_count() == 1) GiveChunk(std::move(lease.chunk));
    return;
  }
  if (closed_) return;  // the slab and its chunk go with the last lease
  Slab& slab = *lease.slab;
  auto& partial = slabs_[slab.slotSize];
  bool wasFull = slab.free.empty();
  slab.free.push_back(static_cast<uint32_t>((lease.addr - slab.chunk->base) / slab.slotSize));
  --slab.used;
  if (wasFull) partial.push_back(lease.slab);
  // An empty slab goes back to the chunk cache, unless it is the last one of its size class
  // (a steady alloc/free of one small buffer must not cycle a slab).
  if (slab.used == 0 && partial.size() > 1) {
    partial.erase(std::find(partial.begin(), partial.end(), lease.slab));
    live_.erase(reinterpret_cast<uintptr_t>(slab.chunk->base));
    --stats_.slabs;
    RegionPtr chunk = std::move(slab.chunk);
    lease.chunk.reset();
    lease.slab.reset();
    if (chunk.use_count() == 1) GiveChunk(std::move(chunk));
  }
}

RegionPtr PoolCache::FindLive(const uint8_t* addr, size_t size) const {
  auto it = live_.upper_bound(reinterpret_cast<uintptr_t>(addr));
  if (it == live_.begin()) return nullptr;
  --it;
  RegionPtr chunk = it->second.lock();
  if (!chunk) return nullptr;
  if (addr >= chunk->base && addr + size <= chunk->base + chunk->length) return chunk;
  return nullptr;
}

RegionPtr PoolCache::TakeChunk(size_t cls, bool* reused) {
  auto it = free_.find(cls);
  if (it != free_.end() && !it->second.empty()) {
    RegionPtr chunk = std::move(it->second.back().second);
    it->second.pop_back();
    if (it->second.empty()) free_.erase(it);
    --stats_.cachedChunks;
    stats_.cachedBytes -= chunk->length;
    ++stats_.hits;
    *reused = true;
    return chunk;
  }
  ++stats_.misses;
  *reused = false;
  return MapAllocate(ctx_, cls);  // may throw UCX_ALLOC_FAILED; nothing changed
}

void PoolCache::GiveChunk(RegionPtr chunk) {
  if (closed_ || chunk->length > stats_.limitBytes) {
    ++stats_.evicted;
    return;  // unmapped here (last owner)
  }
  while (stats_.cachedBytes + chunk->length > stats_.limitBytes) EvictOldest();
  ++stats_.returned;
  ++stats_.cachedChunks;
  stats_.cachedBytes += chunk->length;
  free_[chunk->length].emplace_back(++seq_, std::move(chunk));
}

void PoolCache::EvictOldest() {
  // Few size classes are in use at a time: scanning their oldest entries is cheap.
  auto oldest = free_.end();
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (oldest == free_.end() || it->second.front().first < oldest->second.front().first) oldest = it;
  }
  if (oldest == free_.end()) return;
  stats_.cachedBytes -= oldest->second.front().second->length;
  --stats_.cachedChunks;
  ++stats_.evicted;
  oldest->second.pop_front();  // unmaps it
  if (oldest->second.empty()) free_.erase(oldest);
}

void PoolCache::Close() {
  closed_ = true;
  stats_.evicted += stats_.cachedChunks;
  free_.clear();
  // Slabs hold only free slots' bookkeeping here; slots still in use keep their slab (and its
  // mapping) alive through their leases until their buffers are collected.
  slabs_.clear();
  stats_.slabs = 0;
  stats_.cachedChunks = 0;
  stats_.cachedBytes = 0;
}

}  // namespace twnixl
