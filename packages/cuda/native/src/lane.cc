// lane.cc: see lane.h.
#include "lane.h"

#include "devices.h"
#include "driver_library.h"

namespace twcuda {

void EventHandle::Issued(uint64_t seq) {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (seq > issued) issued = seq;
  }
  cv.notify_all();
}

void EventHandle::WaitIssued(uint64_t seq) {
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return issued >= seq; });
}

EventHandle::~EventHandle() {
  // Operations that use the event hold this handle, so it goes only after they ran. An event
  // opened from an IPC handle is destroyed the same way (cuEventDestroy releases the import).
  if (event && Driver::Get().ready()) Fn().cuEventDestroy(event);
}

std::shared_ptr<Lane> Lane::Create(int device, bool isDefault) {
  MakeCurrent(device);
  CUstream stream = nullptr;
  // Non-blocking: the legacy default stream of other libraries in the process does not wait
  // for this one, nor this one for it.
  Check(Fn().cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
  return std::shared_ptr<Lane>(new Lane(device, isDefault, stream));
}

Lane::~Lane() { worker_.Shutdown(); }

bool Lane::Post(tensorwire::Task task) {
  if (retired_) return false;
  return worker_.Post(std::move(task));
}

void Lane::Retire() {
  if (retired_) return;
  CUstream stream = stream_;
  int device = device_;
  worker_.Post([stream, device] {
    try {
      MakeCurrent(device);
      Fn().cuStreamSynchronize(stream);
      Fn().cuStreamDestroy(stream);
    } catch (...) {
      // The driver is going away: nothing left to release.
    }
  });
  retired_ = true;
  worker_.ShutdownFor(std::chrono::milliseconds(0));  // the thread finishes the queue, then exits
}

LaneJob::~LaneJob() {
  if (work_.record && !recordIssued_) work_.record->Issued(recordSeq_);
}

void LaneJob::Prepare() {
  for (const EventPtr& e : work_.after) afterSeq_.push_back(e->submitted);
  if (work_.record) recordSeq_ = ++work_.record->submitted;
}

void LaneJob::Execute() {
  MakeCurrent(lane_->device());
  CUstream s = lane_->stream();
  try {
    for (size_t i = 0; i < work_.after.size(); i++) {
      const EventPtr& e = work_.after[i];
      if (i < afterSeq_.size() && afterSeq_[i] > 0) e->WaitIssued(afterSeq_[i]);
      Check(Fn().cuStreamWaitEvent(s, e->event, 0), "cuStreamWaitEvent");
    }
    if (work_.enqueue) work_.enqueue(s);
    if (work_.record) {
      CUresult r = Fn().cuEventRecord(work_.record->event, s);
      recordIssued_ = true;
      work_.record->Issued(recordSeq_);  // issued or failed: either way, nothing more to wait for
      Check(r, "cuEventRecord");
    }
  } catch (...) {
    // Part of the work may be queued already: let it finish before the JS buffers are released.
    Fn().cuStreamSynchronize(s);
    throw;
  }
  Check(Fn().cuStreamSynchronize(s), "cuStreamSynchronize");
}

}  // namespace twcuda
