// memory.cc: UCP context, registrations, pool and generation table (see memory.h).
#include "memory.h"

#include <cstdlib>
#include <cstring>

#include "device_table.h"
#include "tensorwire/errors.h"
#include "pool_cache.h"
#include "ucx_config.h"
#include "ucx_status.h"

namespace twnixl {

using tensorwire::CodedError;

UcpContext::UcpContext(const std::string& name, const std::string& requestedNetDevices) {
  UcpConfigPtr config = ReadAgentConfig(requestedNetDevices, &netDevices);

  ucp_params_t params{};
  params.field_mask = UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_MT_WORKERS_SHARED | UCP_PARAM_FIELD_NAME;
  // WAKEUP: an idle progress thread sleeps on the worker's event fd (same transports are selected).
  // AM: the staging path's requests and replies (staging_wire.h).
  params.features = UCP_FEATURE_RMA | UCP_FEATURE_WAKEUP | UCP_FEATURE_AM;
  // Registrations and pool finalizers run on the JS thread while the progress thread owns the worker.
  params.mt_workers_shared = 1;
  params.name = name.c_str();
  ucs_status_t st = ucp_init(&params, config.get(), &handle);
  if (st != UCS_OK) ThrowUcs("UCX_INIT_FAILED", "ucp_init", st);
  ucp_context_attr_t attr{};
  attr.field_mask = UCP_ATTR_FIELD_MEMORY_TYPES;
  const char* path = std::getenv("TENSORWIRE_NIXL_CUDA_PATH");
  bool forceStaged = path && std::string(path) == "staged";
  if (!forceStaged && ucp_context_query(handle, &attr) == UCS_OK) {
    cudaMemory = (attr.memory_types & UCS_BIT(UCS_MEMORY_TYPE_CUDA)) != 0;
  }
}

UcpContext::~UcpContext() {
  if (handle) ucp_cleanup(handle);
}

MappedRegion::~MappedRegion() {
  if (memh) ucp_mem_unmap(ctx->handle, memh);
}

static void PackRkey(MappedRegion& r) {
  void* buf = nullptr;
  size_t len = 0;
  ucs_status_t st = ucp_rkey_pack(r.ctx->handle, r.memh, &buf, &len);
  if (st != UCS_OK) ThrowUcs("UCX_RKEY_PACK_FAILED", "ucp_rkey_pack", st);
  r.rkey.assign(static_cast<const char*>(buf), len);
  ucp_rkey_buffer_release(buf);
}

static RegionPtr Map(const ContextPtr& ctx, void* addr, size_t length, bool allocate) {
  ucp_mem_map_params_t p{};
  p.field_mask = UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH | UCP_MEM_MAP_PARAM_FIELD_FLAGS;
  p.address = addr;
  p.length = length;
  p.flags = allocate ? UCP_MEM_MAP_ALLOCATE : 0;
  auto r = std::make_shared<MappedRegion>();
  r->ctx = ctx;
  ucs_status_t st = ucp_mem_map(ctx->handle, &p, &r->memh);
  if (st != UCS_OK) {
    r->memh = nullptr;
    ThrowUcs(allocate ? "UCX_ALLOC_FAILED" : "UCX_MEM_MAP_FAILED",
             std::string("ucp_mem_map of ") + std::to_string(length) + " bytes", st);
  }
  ucp_mem_attr_t attr{};
  attr.field_mask = UCP_MEM_ATTR_FIELD_ADDRESS | UCP_MEM_ATTR_FIELD_LENGTH;
  st = ucp_mem_query(r->memh, &attr);
  if (st != UCS_OK) ThrowUcs("UCX_MEM_MAP_FAILED", "ucp_mem_query", st);
  r->base = static_cast<uint8_t*>(allocate ? attr.address : addr);
  r->length = allocate ? length : length;
  r->ucxAllocated = allocate;
  PackRkey(*r);
  return r;
}

RegionPtr MapExisting(const ContextPtr& ctx, void* addr, size_t length) { return Map(ctx, addr, length, false); }

RegionPtr MapDevice(const ContextPtr& ctx, uint64_t ptr, size_t length) {
  ucp_mem_map_params_t p{};
  p.field_mask = UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH | UCP_MEM_MAP_PARAM_FIELD_MEMORY_TYPE;
  p.address = reinterpret_cast<void*>(static_cast<uintptr_t>(ptr));
  p.length = length;
  p.memory_type = UCS_MEMORY_TYPE_CUDA;
  auto r = std::make_shared<MappedRegion>();
  r->ctx = ctx;
  ucs_status_t st = ucp_mem_map(ctx->handle, &p, &r->memh);
  if (st != UCS_OK) {
    r->memh = nullptr;
    ThrowUcs("UCX_MEM_MAP_FAILED", "ucp_mem_map of " + std::to_string(length) + " bytes of CUDA memory", st);
  }
  r->base = static_cast<uint8_t*>(p.address);
  r->length = length;
  PackRkey(*r);
  return r;
}
RegionPtr MapAllocate(const ContextPtr& ctx, size_t length) { return Map(ctx, nullptr, length, true); }

MemoryRegistry::MemoryRegistry(ContextPtr ctx, size_t poolCacheBytes)
    : ctx_(std::move(ctx)), devices_(std::make_shared<DeviceTable>()) {
  cache_ = std::make_unique<PoolCache>(ctx_, poolCacheBytes);
  gen_ = MapAllocate(ctx_, kGenSlots * sizeof(uint64_t));
  std::memset(gen_->base, 0, kGenSlots * sizeof(uint64_t));
  freeSlots_.reserve(kGenSlots);
  for (uint32_t i = kGenSlots; i > 0; --i) freeSlots_.push_back(i - 1);
}

static void StoreToken(uint8_t* table, uint32_t slot, uint64_t value) {
  // Readers copy the slot from another process; an aligned 8-byte atomic store is never torn.
  __atomic_store_n(reinterpret_cast<uint64_t*>(table) + slot, value, __ATOMIC_RELEASE);
}

Registration* MemoryRegistry::ReuseOrCheckRoom(uint8_t* addr, size_t size) {
  if (size == 0) throw CodedError("ERR_INVALID_ARG_VALUE", "cannot register 0 bytes");
  auto found = byRange_.find(std::make_pair(reinterpret_cast<uintptr_t>(addr), size));
  if (found != byRange_.end()) {
    Registration& r = regs_.at(found->second);
    ++r.refs;
    return &r;
  }
  if (freeSlots_.empty()) {
    throw CodedError("NIXL_TOO_MANY_REGISTRATIONS",
                     "more than " + std::to_string(kGenSlots) + " live registrations; release some first");
  }
  return nullptr;
}

const Registration& MemoryRegistry::Acquire(uint8_t* addr, size_t size) {
  if (Registration* live = ReuseOrCheckRoom(addr, size)) return *live;
  RegionPtr region = cache_->FindLive(addr, size);
  if (!region) region = MapExisting(ctx_, addr, size);  // may throw; nothing changed yet
  return Insert(addr, size, std::move(region), -1);
}

const Registration& MemoryRegistry::AcquireDevice(int device, uint64_t ptr, size_t size) {
  auto* addr = reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(ptr));
  if (Registration* live = ReuseOrCheckRoom(addr, size)) return *live;
  RegionPtr region = ctx_->cudaMemory ? MapDevice(ctx_, ptr, size) : nullptr;  // may throw
  const Registration& r = Insert(addr, size, std::move(region), device);
  devices_->Add(r.id, DeviceTable::Entry{r.token, device, ptr, size});
  return r;
}

const Registration& MemoryRegistry::Insert(uint8_t* addr, size_t size, RegionPtr region, int device) {
  auto key = std::make_pair(reinterpret_cast<uintptr_t>(addr), size);
  Registration r;
  r.id = nextId_++;
  r.addr = addr;
  r.size = size;
  r.region = std::move(region);
  r.device = device;
  r.refs = 1;
  r.slot = freeSlots_.back();
  freeSlots_.pop_back();
  r.token = nextToken_++;
  StoreToken(gen_->base, r.slot, r.token);
  byRange_[key] = r.id;
  return regs_.emplace(r.id, std::move(r)).first->second;
}

int MemoryRegistry::Release(uint32_t id) {
  auto it = regs_.find(id);
  if (it == regs_.end()) return -1;
  Registration& r = it->second;
  if (--r.refs > 0) return static_cast<int>(r.refs);
  StoreToken(gen_->base, r.slot, 0);
  if (r.device >= 0) devices_->Remove(r.id);  // copies in flight keep their pin (DeviceTable::WhenIdle)
  freeSlots_.push_back(r.slot);
  byRange_.erase(std::make_pair(reinterpret_cast<uintptr_t>(r.addr), r.size));
  regs_.erase(it);  // drops the mapping (or the pool chunk's extra owner)
  return 0;
}

void MemoryRegistry::ReleaseAll() {
  for (auto& kv : regs_) {
    StoreToken(gen_->base, kv.second.slot, 0);
    if (kv.second.device >= 0) devices_->Remove(kv.first);
  }
  regs_.clear();
  byRange_.clear();
}

MemoryRegistry::~MemoryRegistry() = default;

PoolLease MemoryRegistry::AllocatePool(size_t size, bool* reused) { return cache_->Take(size, reused); }

size_t MemoryRegistry::poolChunkCount() const { return cache_->liveCount(); }

void MemoryRegistry::ReturnPool(PoolLease lease) {
  if (lease.slab) {
    // A registration inside this slot (only possible through the raw agent): never reuse it.
    auto lo = reinterpret_cast<uintptr_t>(lease.addr);
    auto it = byRange_.lower_bound(std::make_pair(lo, size_t(0)));
    if (it != byRange_.end() && it->first.first < lo + lease.capacity) return;
  }
  // A released registration's token is gone for good, so descriptors of the memory's previous
  // contents fail with NIXL_REGISTRATION_RELEASED once it is reused (see README).
  cache_->Give(std::move(lease));
}

void MemoryRegistry::Close() {
  ReleaseAll();
  cache_->Close();
}

}  // namespace twnixl
