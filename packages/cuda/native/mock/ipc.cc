// ipc.cc: CUDA IPC in the mock driver. A handle names the exporter's memfd (pid, fd, inode);
// the importer opens it through /proc/<pid>/fd/<fd> (same user; the exporter must be alive and
// still hold the memory, as with the real driver) and maps it at an address of its own.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "events.h"
#include "mock.h"

using namespace twmock;

namespace {

constexpr char kMemMagic[8] = "twmkmem";
constexpr char kEventMagic[8] = "twmkevt";

/** What a handle's 64 bytes hold. */
struct HandleData {
  char magic[8];
  int32_t pid;
  int32_t fd;
  uint64_t inode;
  uint64_t size;
  int32_t physical;
  int32_t reserved;
};
static_assert(sizeof(HandleData) <= CU_IPC_HANDLE_SIZE, "a handle holds 64 bytes");

template <typename Handle>
void Write(Handle* out, const HandleData& data) {
  std::memset(out->reserved, 0, sizeof(out->reserved));
  std::memcpy(out->reserved, &data, sizeof(data));
}

template <typename Handle>
bool Read(const Handle& in, const char* magic, HandleData& data) {
  std::memcpy(&data, in.reserved, sizeof(data));
  return std::memcmp(data.magic, magic, sizeof(data.magic)) == 0;
}

uint64_t InodeOf(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

/** The exporter's file, checked to still be the same one; -1 when it is gone. */
int OpenExported(const HandleData& h) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/fd/%d", h.pid, h.fd);
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return -1;
  if (InodeOf(fd) != h.inode) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

extern "C" {

TWMOCK_API CUresult cuIpcGetMemHandle(CUipcMemHandle* handle, CUdeviceptr ptr) {
  if (CUresult r = Enter("cuIpcGetMemHandle")) return r;
  if (CUresult r = NeedContext()) return r;
  if (!handle) return CUDA_ERROR_INVALID_VALUE;
  BlockPtr b = Find(ptr, 1);
  if (!b || b->imported) return CUDA_ERROR_INVALID_VALUE;
  // The handle names the whole allocation: the importer gets its base address, so the exporter
  // must send the offset of `ptr` in it (cuMemGetAddressRange) along with the handle.
  HandleData h{};
  std::memcpy(h.magic, kMemMagic, sizeof(h.magic));
  h.pid = getpid();
  h.fd = b->fd;
  h.inode = InodeOf(b->fd);
  h.size = b->size;
  h.physical = b->physical;
  Write(handle, h);
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuIpcOpenMemHandle_v2(CUdeviceptr* ptr, CUipcMemHandle handle, unsigned flags) {
  if (CUresult r = Enter("cuIpcOpenMemHandle_v2")) return r;
  if (CUresult r = NeedContext()) return r;
  if (!ptr || flags != CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS) return CUDA_ERROR_INVALID_VALUE;
  HandleData h;
  if (!Read(handle, kMemMagic, h) || h.size == 0 || h.physical < 0 || h.physical >= kMaxDevices)
    return CUDA_ERROR_INVALID_VALUE;
  if (h.pid == getpid()) return CUDA_ERROR_INVALID_CONTEXT;  // the real driver refuses the exporter's own handles
  uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(h.pid)) << 32) ^ h.inode;
  {
    std::lock_guard<std::mutex> lock(S().mu);
    for (auto& [base, b] : S().blocks) {
      if (b->imported && b->importKey == key) {  // opened before: same address, one more reference
        b->importRefs++;
        *ptr = base;
        return CUDA_SUCCESS;
      }
    }
  }
  int fd = OpenExported(h);
  if (fd < 0) return CUDA_ERROR_INVALID_HANDLE;
  void* host = mmap(nullptr, h.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (host == MAP_FAILED) {
    close(fd);
    return CUDA_ERROR_MAP_FAILED;
  }
  auto b = std::make_shared<Block>();
  b->size = h.size;
  b->physical = h.physical;
  b->fd = fd;
  b->host = static_cast<uint8_t*>(host);
  b->imported = true;
  b->importRefs = 1;
  b->importKey = key;
  std::lock_guard<std::mutex> lock(S().mu);
  b->base = S().nextImport[h.physical];
  S().nextImport[h.physical] += (h.size + 4095) / 4096 * 4096 + 4096;
  S().blocks[b->base] = b;
  *ptr = b->base;
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuIpcCloseMemHandle(CUdeviceptr ptr) {
  if (CUresult r = Enter("cuIpcCloseMemHandle")) return r;
  if (CUresult r = NeedContext()) return r;
  std::lock_guard<std::mutex> lock(S().mu);
  auto it = S().blocks.find(ptr);
  if (it == S().blocks.end() || !it->second->imported) return CUDA_ERROR_INVALID_VALUE;
  if (--it->second->importRefs == 0) S().blocks.erase(it);  // unmapped when queued work drops it
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuIpcGetEventHandle(CUipcEventHandle* handle, CUevent event) {
  if (CUresult r = Enter("cuIpcGetEventHandle")) return r;
  if (CUresult r = NeedContext()) return r;
  if (!handle || !event) return CUDA_ERROR_INVALID_VALUE;
  if (!(event->flags & CU_EVENT_INTERPROCESS) || event->memory->fd < 0) return CUDA_ERROR_INVALID_HANDLE;
  HandleData h{};
  std::memcpy(h.magic, kEventMagic, sizeof(h.magic));
  h.pid = getpid();
  h.fd = event->memory->fd;
  h.inode = event->memory->inode;
  Write(handle, h);
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuIpcOpenEventHandle(CUevent* event, CUipcEventHandle handle) {
  if (CUresult r = Enter("cuIpcOpenEventHandle")) return r;
  if (CUresult r = NeedContext()) return r;
  if (!event) return CUDA_ERROR_INVALID_VALUE;
  HandleData h;
  if (!Read(handle, kEventMagic, h)) return CUDA_ERROR_INVALID_VALUE;
  if (h.pid == getpid()) return CUDA_ERROR_INVALID_CONTEXT;
  std::shared_ptr<EventMemory> mem = EventMemory::Open(h.pid, h.fd, h.inode);
  if (!mem) return CUDA_ERROR_INVALID_HANDLE;
  *event = new CUevent_st{CU_EVENT_INTERPROCESS | CU_EVENT_DISABLE_TIMING, std::move(mem), true};
  std::lock_guard<std::mutex> lock(S().mu);
  S().liveEvents++;
  return CUDA_SUCCESS;
}

}  // extern "C"
