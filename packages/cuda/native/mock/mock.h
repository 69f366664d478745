// mock.h: the state shared by the mock driver's files.
//
// The mock is a plain shared library that exports the CUDA driver API functions the addon uses
// (cuda_api.h) and implements them on host memory, so the addon's real code paths run on
// machines without a GPU. What it keeps faithful, so that bugs show in tests:
//  - device pointers live in a range of their own that is never valid host memory (non-canonical
//    x86-64 addresses): code that dereferences a device pointer as a host pointer crashes, and
//    passing one where a host pointer is expected fails with CUDA_ERROR_INVALID_VALUE;
//  - every allocation is a memfd mapping, so IPC handles work across processes
//    (cuIpcOpenMemHandle maps the exporter's memfd through /proc/<pid>/fd);
//  - freed addresses are never handed out again: a use after free fails with INVALID_VALUE;
//  - memory operations need a current context on the calling thread (cuCtxSetCurrent), as on a
//    real driver: a worker thread that forgot it gets CUDA_ERROR_INVALID_CONTEXT;
//  - stream operations run later, on the stream's own thread, in order: code that reads a result
//    before synchronizing sees stale data (TENSORWIRE_MOCK_CUDA_DELAY_US makes each one slow);
//  - CUDA_VISIBLE_DEVICES selects and orders the mock's devices as the real driver does;
//  - page-locked host memory (cuMemHostAlloc) is counted, and cuMemFreeHost of anything else fails.
// Configuration (read at cuInit; most also settable at run time with twmock_control):
//   TENSORWIRE_MOCK_CUDA_DEVICES   number of physical devices (default 2)
//   TENSORWIRE_MOCK_CUDA_MEMORY    bytes per device, suffixes K M G T (default 16G)
//   TENSORWIRE_MOCK_CUDA_FAIL      failures to inject: fn:result[:skip[:count]],... e.g.
//                                  cuMemAlloc_v2:2:0:1 (the next cuMemAlloc_v2 runs out of memory)
//   TENSORWIRE_MOCK_CUDA_DELAY_US  extra microseconds every stream operation takes
//   TENSORWIRE_MOCK_CUDA_PEER_ACCESS  0: devices cannot access each other's memory
//                                  (cuDeviceCanAccessPeer says no, as between GPUs without
//                                  NVLink or PCIe peer-to-peer); default 1
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cuda_api.h"

#define TWMOCK_API __attribute__((visibility("default")))

extern "C" {
// Driver functions the addon does not load but the mock exports for other libraries that run
// against it in the same process (the mock NCCL of @tensorwire/nccl): they queue work on the
// mock's streams and ask for the calling thread's device, as NCCL does on a real driver.
typedef void (*CUhostFn)(void* userData);
TWMOCK_API CUresult cuLaunchHostFunc(CUstream stream, CUhostFn fn, void* userData);
TWMOCK_API CUresult cuCtxGetDevice(CUdevice* device);
// The mock's own: the host memory behind `bytes` of device memory at `ptr` (see interop.cc).
TWMOCK_API CUresult twmock_host_range(CUdeviceptr ptr, size_t bytes, void** host);
}

namespace twmock {

/** Where fake device addresses start: above 2^63, never a valid x86-64 user-space address. */
constexpr uint64_t kDeviceBase = 0xC0DA000000000000ull;
/** Each physical device owns 2^40 bytes of addresses: its allocations, then opened IPC mappings. */
constexpr uint64_t kDeviceSpan = 1ull << 40;
constexpr uint64_t kImportOffset = kDeviceSpan / 2;
constexpr int kMaxDevices = 64;

/** One range of device memory: an allocation made here or another process's, opened by IPC. */
struct Block {
  uint64_t base = 0;
  size_t size = 0;
  int physical = 0;    // physical device index
  int fd = -1;         // memfd backing the memory
  uint8_t* host = nullptr;
  bool imported = false;
  int importRefs = 0;  // cuIpcOpenMemHandle count (imported blocks)
  uint64_t importKey = 0;
  ~Block();
};
using BlockPtr = std::shared_ptr<Block>;

struct Context;

/** A failure to inject: `result` for `count` calls (-1: every call) after `skip` calls. */
struct Injection {
  std::string function;
  CUresult result = CUDA_SUCCESS;
  long skip = 0;
  long count = -1;
};

struct State {
  std::mutex mu;
  bool configured = false;
  bool initialized = false;
  int physicalDevices = 2;
  std::vector<int> visible;      // visible ordinal -> physical device
  size_t memoryPerDevice = 16ull << 30;
  std::atomic<long> delayUs{0};
  std::map<uint64_t, BlockPtr> blocks;  // by base address
  uint64_t nextAlloc[kMaxDevices] = {};
  uint64_t nextImport[kMaxDevices] = {};
  size_t used[kMaxDevices] = {};
  std::vector<Injection> injections;
  std::map<std::string, long> calls;
  bool peerAccess = true;  // cuDeviceCanAccessPeer's answer for two different devices
  std::vector<std::pair<int, int>> peerEnabled;  // (from, to) physical devices, cuCtxEnablePeerAccess
  long liveStreams = 0;
  long liveEvents = 0;
  std::map<uintptr_t, size_t> pinned;  // cuMemHostAlloc allocations: address -> bytes
  std::vector<std::unique_ptr<Context>> contexts;  // one primary context per visible device
};

State& S();

/** Counts the call and returns an injected failure for it, or CUDA_SUCCESS. */
CUresult Enter(const char* function);

/** Reads the environment once (cuInit, or the first twmock_control). Needs S().mu held. */
void ConfigureLocked();

/** Parses "16G", "512M", "4096"; returns false when malformed. */
bool ParseBytes(const std::string& text, size_t& out);

/** Parses and adds a failure list "fn:result[:skip[:count]],..."; false when malformed. */
bool AddInjections(const std::string& spec, std::string& error);

/** The primary context of a visible device. */
struct Context {
  int ordinal = 0;
  int physical = 0;
  int retains = 0;
};

/** The calling thread's current context (cuCtxSetCurrent), or null. */
Context*& Current();

/** CUDA_ERROR_NOT_INITIALIZED before cuInit, CUDA_ERROR_INVALID_CONTEXT without a current context. */
CUresult NeedContext();

/** The block holding [ptr, ptr + bytes), or null. Takes S().mu. */
BlockPtr Find(uint64_t ptr, size_t bytes);

/** True when `p` looks like a device pointer, i.e. was passed where host memory is expected. */
inline bool IsDeviceAddress(const void* p) {
  auto v = reinterpret_cast<uint64_t>(p);
  return v >= kDeviceBase && v < kDeviceBase + kMaxDevices * kDeviceSpan;
}

/** Visible ordinal of a physical device, or -1 when CUDA_VISIBLE_DEVICES hides it. */
int OrdinalOf(int physical);

/** Runs `op` on `stream` (in order, later) or, for the null stream, now. */
CUresult Enqueue(CUstream stream, std::function<void()> op);

/** Waits until every stream of this process has run what was queued on it so far. */
void DrainAllStreams();

}  // namespace twmock
