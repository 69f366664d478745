// events.h: the memory behind a mock event. An interprocess event keeps its counters in a memfd
// that cuIpcOpenEventHandle maps in another process, so a record there is seen here.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "mock.h"

namespace twmock {

struct EventCounters {
  std::atomic<uint64_t> recorded{0};   // cuEventRecord calls
  std::atomic<uint64_t> completed{0};  // the highest record its stream has reached
};

class EventMemory {
 public:
  /** New counters: on the heap, or in a memfd mapping when `interprocess`. Null on failure. */
  static std::shared_ptr<EventMemory> Create(bool interprocess);
  /** Maps another process's counters (cuIpcOpenEventHandle); null when they cannot be mapped. */
  static std::shared_ptr<EventMemory> Open(int pid, int fd, uint64_t inode);
  ~EventMemory();

  /** Marks record `gen` reached (records complete in order, so keep the highest). */
  void Complete(uint64_t gen);
  /** Blocks until record `gen` is reached (polls: the recorder may be another process). */
  void WaitFor(uint64_t gen) const;

  EventCounters* counters = nullptr;
  int fd = -1;  // the memfd of an interprocess event (-1 otherwise)
  uint64_t inode = 0;

 private:
  EventMemory() = default;
  bool mapped_ = false;
};

}  // namespace twmock

struct CUevent_st {
  unsigned flags = 0;
  std::shared_ptr<twmock::EventMemory> memory;
  bool imported = false;
};
