// stager.h: the staging thread of one agent: every CUDA copy of the staging path and every
// pinned allocation run here, never on the JavaScript thread nor on the progress thread (which
// must keep serving peers' reads). It owns one CUDA stream per device it copied on (made on first
// use, with the device's primary context current) and waits for each copy on its stream.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "tensorwire/worker.h"

namespace twnixl {

/** One copy between device memory and (pinned) host memory. */
struct CopyOp {
  bool toHost = true;  // device -> host (producer), else host -> device (consumer)
  int device = 0;
  uint64_t devicePtr = 0;
  uint8_t* host = nullptr;
  size_t bytes = 0;
};

class Stager {
 public:
  Stager() = default;
  ~Stager() { Stop(); }

  /** Run `task` on the staging thread (FIFO). False once stopped (the task is dropped). */
  bool Post(tensorwire::Task task) { return worker_.Post(std::move(task)); }

  /**
   * Staging thread only: issue `ops` on their devices' streams and wait until all are done.
   * Throws CodedError (NIXL_CUDA_FAILED, NIXL_CUDA_UNAVAILABLE) naming the copy that failed.
   */
  void Copy(const std::vector<CopyOp>& ops);

  /**
   * Run what is queued, destroy the streams, join. Gives up after `patience` and returns false
   * when a task is still running then (a copy stuck in the driver): the thread is detached and
   * the caller must leak this object (and what its tasks use) instead of destroying it.
   * Idempotent.
   */
  bool Stop(std::chrono::milliseconds patience = std::chrono::seconds(10));

 private:
  void* StreamOf(int device);  // staging thread only
  std::map<int, void*> streams_;
  bool stopped_ = false;
  bool joined_ = true;
  tensorwire::WorkerThread worker_;  // last: its thread stops before the members above go
};

}  // namespace twnixl
