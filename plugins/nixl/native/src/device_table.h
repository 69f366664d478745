// device_table.h: the CUDA registrations a peer may ask this agent to stage (producer side).
//
// The JS thread adds and removes entries (register, release); the progress thread looks them up
// when a stage request arrives, and the staging thread's copy holds ("pins") its entries until
// it is done. A request names a registration by id and token (from the descriptor) and its size:
// anything else (a released registration, a forged token or size) is refused, so a peer can only
// make this agent copy memory that is registered now, and no more of it.
// A release while a copy reads the memory removes the entry at once (later requests fail), and
// `WhenIdle` tells when the last copy is over: only then may the memory go back to its allocator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace twnixl {

class DeviceTable {
 public:
  struct Entry {
    uint64_t token = 0;
    int device = 0;
    uint64_t ptr = 0;
    size_t size = 0;
  };
  enum class PinResult { kOk, kReleased, kBadSize };

  void Add(uint32_t id, const Entry& entry);
  /** Pin entry `id` for a copy when `token` and `size` match the live registration. */
  PinResult Pin(uint32_t id, uint64_t token, uint64_t size, Entry* out);
  /** A copy that pinned `id` is over. */
  void Unpin(uint32_t id);
  /** Remove `id` (its registration was released); copies in flight keep it pinned until they end. */
  void Remove(uint32_t id);
  /**
   * Call `fn` (on whichever thread ends the last copy) once no copy pins `id`. Returns false, and
   * never calls `fn`, when none does now.
   */
  bool WhenIdle(uint32_t id, std::function<void()> fn);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<uint32_t, Entry> live_;
  std::unordered_map<uint32_t, int> pins_;  // id -> copies in flight (released ids too)
  std::unordered_map<uint32_t, std::vector<std::function<void()>>> waiters_;
};

}  // namespace twnixl
