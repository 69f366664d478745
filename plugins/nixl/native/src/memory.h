// memory.h: the producer side of NIXL's model. UCP context, memory registrations (ucp_mem_map of
// existing memory, reference-counted per buffer), the registered pool (UCX-allocated memory,
// which peers read with a true one-sided shared-memory copy) and the generation table that lets
// a reader detect that a registration was released.
//
// Everything here runs on the JavaScript thread (registrations and pool finalizers); the UCP
// context is created with mt_workers_shared so these calls may overlap the progress thread.
#pragma once

#include <ucp/api/ucp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace twnixl {

/** Owns the ucp_context; destroyed after the last mapped region that uses it. */
struct UcpContext {
  ucp_context_h handle = nullptr;
  /** The UCX_NET_DEVICES list in force (see ucx_config.h): what the worker's tcp interfaces bind. */
  std::string netDevices;
  /**
   * This UCX can register CUDA memory (ucp_context_query lists UCS_MEMORY_TYPE_CUDA): CUDA
   * tensors are then registered and read directly. False on Debian's UCX (built without CUDA),
   * or when TENSORWIRE_NIXL_CUDA_PATH=staged: CUDA tensors then go through pinned host memory.
   */
  bool cudaMemory = false;
  /** `netDevices`: a UCX_NET_DEVICES list, empty for loopback only (UCX_NET_DEVICES set by the user wins). */
  UcpContext(const std::string& name, const std::string& netDevices);
  ~UcpContext();
  UcpContext(const UcpContext&) = delete;
  UcpContext& operator=(const UcpContext&) = delete;
};
using ContextPtr = std::shared_ptr<UcpContext>;

/** One ucp_mem_map'd range with its packed rkey; unmapped when the last owner drops it. */
struct MappedRegion {
  ContextPtr ctx;
  ucp_mem_h memh = nullptr;
  uint8_t* base = nullptr;
  size_t length = 0;
  bool ucxAllocated = false;
  std::string rkey;  // packed remote key bytes
  ~MappedRegion();
};
using RegionPtr = std::shared_ptr<MappedRegion>;

/** Register existing memory (Node's). Throws CodedError('UCX_MEM_MAP_FAILED'). */
RegionPtr MapExisting(const ContextPtr& ctx, void* addr, size_t length);
/** Allocate registered memory with UCP_MEM_MAP_ALLOCATE (shared memory here). */
RegionPtr MapAllocate(const ContextPtr& ctx, size_t length);
/** Register CUDA device memory (memory type CUDA); only when ctx->cudaMemory. */
RegionPtr MapDevice(const ContextPtr& ctx, uint64_t ptr, size_t length);

class DeviceTable;

class PoolCache;
struct PoolLease;

/** A live registration as handed to JavaScript (and put in the descriptor). */
struct Registration {
  uint32_t id = 0;
  uint8_t* addr = nullptr;
  size_t size = 0;
  RegionPtr region;      // Node memory: its own mapping; pool memory: the pool chunk's; CUDA
                         // memory: its mapping when UCX registers CUDA memory, else null (staged)
  int device = -1;       // CUDA memory of this device (addr is then a device address)
  uint32_t refs = 0;
  uint32_t slot = 0;     // index in the generation table
  uint64_t token = 0;    // value of that slot while this registration lives
};

/**
 * Registrations and the pool of one agent. JS thread only.
 *
 * The generation table is a small UCX-allocated array of 64-bit tokens, one slot per live
 * registration. A reader fetches the slot (one-sided) before reading the data: a mismatch means
 * the producer released the registration, and the read fails cleanly instead of reading memory
 * that may have been freed.
 */
class MemoryRegistry {
 public:
  static constexpr uint32_t kGenSlots = 65536;

  MemoryRegistry(ContextPtr ctx, size_t poolCacheBytes);
  ~MemoryRegistry();

  /** Register [addr, addr+size) or take one more reference on the existing registration. */
  const Registration& Acquire(uint8_t* addr, size_t size);
  /**
   * The same for CUDA memory of `device`: mapped with memory type CUDA when this UCX can, and in
   * every case entered in the device table, so that peers without CUDA-capable UCX can have it
   * staged.
   */
  const Registration& AcquireDevice(int device, uint64_t ptr, size_t size);
  /** Drop one reference; returns the references left, or -1 if the id is unknown. */
  int Release(uint32_t id);
  /** Drop every registration (close). */
  void ReleaseAll();

  /**
   * A pool chunk of at least `size` bytes (its size class): a cached one when there is one
   * (`*reused` true: mapped, registered and touched already), else a new mapping. The caller's
   * ArrayBuffer finalizer hands it back with ReturnPoolChunk.
   */
  PoolLease AllocatePool(size_t size, bool* reused);
  /**
   * The last JS view of a lease was garbage-collected: keep its memory for the next allocate().
   * Memory that a registration still covers (registered through the raw agent and never
   * released; the endpoint prevents this) is never reused: a whole chunk is unmapped when that
   * registration is released, a slab slot stays out of use.
   */
  void ReturnPool(PoolLease lease);
  /** close(): drop registrations and unmap every cached chunk; later returns unmap at once. */
  void Close();

  const RegionPtr& genTable() const { return gen_; }
  const std::shared_ptr<DeviceTable>& devices() const { return devices_; }
  size_t registrationCount() const { return regs_.size(); }
  size_t poolChunkCount() const;
  const PoolCache& poolCache() const { return *cache_; }

 private:
  ContextPtr ctx_;
  RegionPtr gen_;
  std::vector<uint32_t> freeSlots_;
  uint64_t nextToken_ = 1;
  uint32_t nextId_ = 1;
  std::unordered_map<uint32_t, Registration> regs_;
  std::map<std::pair<uintptr_t, size_t>, uint32_t> byRange_;
  std::unique_ptr<PoolCache> cache_;  // the pool: chunks and slabs in use, cached chunks
  std::shared_ptr<DeviceTable> devices_;  // CUDA registrations, for stage requests
  const Registration& Insert(uint8_t* addr, size_t size, RegionPtr region, int device);
  // The live registration of exactly [addr, addr + size) with one more reference, or nullptr
  // when there is none; throws for 0 bytes, and when a new one would exceed the slots.
  Registration* ReuseOrCheckRoom(uint8_t* addr, size_t size);
};

}  // namespace twnixl
