// lane.h: a CUDA stream served by a thread of its own.
//
// Every copy and fill runs on a lane: its worker thread makes the device's context current,
// enqueues the operation on the lane's stream (after waiting for the given events), records the
// given event, then synchronizes the stream, and only then settles the JS Promise. So the JS
// thread never waits for the GPU, operations on one lane run in the order they were submitted,
// and a Promise resolves when the bytes are where they were sent. Each device has a default lane;
// a Stream made from JavaScript is a lane of its own, so work on it may overlap the default lane.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <memory>
#include <vector>

#include "cuda_api.h"
#include "tensorwire/jobs.h"
#include "tensorwire/worker.h"

namespace twcuda {

/**
 * An event owned by JS (Event) and by the operations that wait for it or record it.
 *
 * Records are numbered in the order JavaScript submits them (`submitted`, JS thread) and counted
 * when a lane has issued them to the driver (`issued`). Lanes run on threads of their own, so an
 * operation submitted after a record may reach the driver first; before calling
 * cuStreamWaitEvent, a lane therefore waits (on its own thread) until the records submitted
 * before its operation are issued. So `after: [event]` means "after the last record submitted
 * before this call", as the order of the JavaScript calls says.
 */
struct EventHandle {
  CUevent event = nullptr;
  int device = 0;
  bool interprocess = false;
  bool imported = false;  // opened from another process's IPC handle (its records are not counted here)
  uint64_t submitted = 0;  // JS thread only
  std::mutex mu;
  std::condition_variable cv;
  uint64_t issued = 0;  // guarded by mu

  /** Any thread: record number `seq` reached the driver (or will never: it failed). */
  void Issued(uint64_t seq);
  /** Lane thread: waits until record number `seq` was issued. */
  void WaitIssued(uint64_t seq);
  ~EventHandle();
};
using EventPtr = std::shared_ptr<EventHandle>;

class Lane {
 public:
  /** JS thread: a lane on `device` with a new non-blocking stream. Throws CodedError. */
  static std::shared_ptr<Lane> Create(int device, bool isDefault);
  ~Lane();

  int device() const { return device_; }
  CUstream stream() const { return stream_; }
  bool isDefault() const { return isDefault_; }
  bool retired() const { return retired_; }

  /** Queue work on the lane's thread; false once the lane is retired or shut down. */
  bool Post(tensorwire::Task task);

  /**
   * Destroy the stream after the work already queued, then stop: later Posts fail. The thread
   * exits on its own; the Lane object must outlive it (the addon keeps retired lanes).
   */
  void Retire();

  /** Process exit: stop taking work and give queued work `timeout` to finish. */
  void ShutdownFor(std::chrono::milliseconds timeout) { worker_.ShutdownFor(timeout); }

 private:
  Lane(int device, bool isDefault, CUstream stream) : device_(device), isDefault_(isDefault), stream_(stream) {}
  int device_;
  bool isDefault_;
  CUstream stream_;
  bool retired_ = false;
  tensorwire::WorkerThread worker_;
};
using LanePtr = std::shared_ptr<Lane>;

/** One operation for a lane: what to wait for, what to enqueue, what to record afterwards. */
struct StreamWork {
  std::vector<EventPtr> after;
  EventPtr record;
  std::function<void(CUstream)> enqueue;
};

/** A Job (jobs.h) that runs StreamWork on a lane's thread. */
class LaneJob : public tensorwire::Job {
 public:
  LaneJob(LanePtr lane, StreamWork work) : lane_(std::move(lane)), work_(std::move(work)) {}
  /** A record that never ran still counts as issued, so no lane waits for it forever. */
  ~LaneJob() override;
  /** JS thread, just before the job is queued: numbers its record, notes which records it waits for. */
  void Prepare();
  void Execute() override;
  StreamWork& work() { return work_; }

 private:
  LanePtr lane_;
  StreamWork work_;
  std::vector<uint64_t> afterSeq_;
  uint64_t recordSeq_ = 0;
  bool recordIssued_ = false;
};

}  // namespace twcuda
