// streams.cc: streams and events of the mock driver. Each stream runs its operations later, in
// order, on a thread of its own, so that code which forgets to wait for a stream reads stale
// data in tests, as it would on a GPU. Events are counters in memory that other processes can
// map (IPC events): `recorded` counts cuEventRecord calls, `completed` the records the stream
// has reached.
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <vector>

#include "events.h"
#include "mock.h"

using namespace twmock;

struct CUstream_st {
  Context* ctx = nullptr;
  std::mutex mu;
  std::condition_variable wake;
  std::condition_variable progressed;
  std::deque<std::function<void()>> queue;
  uint64_t queued = 0;
  uint64_t done = 0;
  bool stopping = false;
  std::thread thread;

  void Run() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      wake.wait(lock, [this] { return stopping || !queue.empty(); });
      if (queue.empty()) return;  // stopping and drained
      std::function<void()> op = std::move(queue.front());
      queue.pop_front();
      lock.unlock();
      op();
      lock.lock();
      done++;
      progressed.notify_all();
    }
  }

  /** Waits until everything queued before this call has run. */
  void Drain() {
    std::unique_lock<std::mutex> lock(mu);
    uint64_t target = queued;
    progressed.wait(lock, [&] { return done >= target; });
  }
};

namespace {

// Live streams by handle. Shared ownership: a stream being drained (cuMemFree) or fed (Enqueue)
// stays allocated even if cuStreamDestroy runs meanwhile, and no lock is held while waiting.
std::mutex streamsMu;
std::map<CUstream, std::shared_ptr<CUstream_st>>& LiveStreams() {
  static auto* streams = new std::map<CUstream, std::shared_ptr<CUstream_st>>();
  return *streams;
}

std::shared_ptr<CUstream_st> Live(CUstream s) {
  std::lock_guard<std::mutex> lock(streamsMu);
  auto it = LiveStreams().find(s);
  return it == LiveStreams().end() ? nullptr : it->second;
}

}  // namespace

namespace twmock {

CUresult Enqueue(CUstream stream, std::function<void()> op) {
  if (stream == nullptr) {
    op();  // the null stream: run now
    return CUDA_SUCCESS;
  }
  std::shared_ptr<CUstream_st> s = Live(stream);
  if (!s) return CUDA_ERROR_INVALID_HANDLE;
  {
    std::lock_guard<std::mutex> lock(s->mu);
    s->queue.push_back(std::move(op));
    s->queued++;
  }
  s->wake.notify_one();
  return CUDA_SUCCESS;
}

void DrainAllStreams() {
  std::vector<std::shared_ptr<CUstream_st>> streams;
  {
    std::lock_guard<std::mutex> lock(streamsMu);
    for (auto& [handle, s] : LiveStreams()) streams.push_back(s);
  }
  // Without the lock: queued work may record events that other queued work waits for.
  for (auto& s : streams) s->Drain();
}

}  // namespace twmock

extern "C" {

TWMOCK_API CUresult cuStreamCreate(CUstream* stream, unsigned flags) {
  if (CUresult r = Enter("cuStreamCreate")) return r;
  if (CUresult r = NeedContext()) return r;
  if (!stream || (flags & ~CU_STREAM_NON_BLOCKING) != 0) return CUDA_ERROR_INVALID_VALUE;
  auto s = std::make_shared<CUstream_st>();
  s->ctx = Current();
  CUstream_st* raw = s.get();
  s->thread = std::thread([raw] { raw->Run(); });  // joined by cuStreamDestroy before `s` can go
  {
    std::lock_guard<std::mutex> lock(streamsMu);
    LiveStreams()[raw] = s;
  }
  {
    std::lock_guard<std::mutex> lock(S().mu);
    S().liveStreams++;
  }
  *stream = raw;
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuStreamDestroy_v2(CUstream stream) {
  if (CUresult r = Enter("cuStreamDestroy_v2")) return r;
  std::shared_ptr<CUstream_st> s;
  {
    std::lock_guard<std::mutex> lock(streamsMu);
    auto it = LiveStreams().find(stream);
    if (it == LiveStreams().end()) return CUDA_ERROR_INVALID_HANDLE;
    s = it->second;
    LiveStreams().erase(it);
  }
  {
    std::lock_guard<std::mutex> lock(s->mu);
    s->stopping = true;
  }
  s->wake.notify_all();
  // The real driver returns at once and finishes the queued work later; joining here keeps the
  // mock simple, and the work is already queued, so it completes either way.
  if (s->thread.joinable()) s->thread.join();
  std::lock_guard<std::mutex> lock(S().mu);
  S().liveStreams--;
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuStreamSynchronize(CUstream stream) {
  if (CUresult r = Enter("cuStreamSynchronize")) return r;
  if (stream == nullptr) return CUDA_SUCCESS;
  std::shared_ptr<CUstream_st> s = Live(stream);
  if (!s) return CUDA_ERROR_INVALID_HANDLE;
  s->Drain();
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuStreamWaitEvent(CUstream stream, CUevent event, unsigned flags) {
  if (CUresult r = Enter("cuStreamWaitEvent")) return r;
  if (!event || flags != 0) return CUDA_ERROR_INVALID_VALUE;
  std::shared_ptr<EventMemory> mem = event->memory;
  uint64_t target = mem->counters->recorded.load();
  return Enqueue(stream, [mem, target] { mem->WaitFor(target); });
}

TWMOCK_API CUresult cuEventCreate(CUevent* event, unsigned flags) {
  if (CUresult r = Enter("cuEventCreate")) return r;
  if (CUresult r = NeedContext()) return r;
  if (!event || (flags & ~(CU_EVENT_BLOCKING_SYNC | CU_EVENT_DISABLE_TIMING | CU_EVENT_INTERPROCESS)) != 0)
    return CUDA_ERROR_INVALID_VALUE;
  // As on the real driver: an interprocess event must also be created without timing.
  if ((flags & CU_EVENT_INTERPROCESS) && !(flags & CU_EVENT_DISABLE_TIMING)) return CUDA_ERROR_INVALID_VALUE;
  std::shared_ptr<EventMemory> mem = EventMemory::Create((flags & CU_EVENT_INTERPROCESS) != 0);
  if (!mem) return CUDA_ERROR_OUT_OF_MEMORY;
  *event = new CUevent_st{flags, std::move(mem), false};
  std::lock_guard<std::mutex> lock(S().mu);
  S().liveEvents++;
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuEventDestroy_v2(CUevent event) {
  if (CUresult r = Enter("cuEventDestroy_v2")) return r;
  if (!event) return CUDA_ERROR_INVALID_HANDLE;
  delete event;  // queued operations keep the counters alive through their shared_ptr
  std::lock_guard<std::mutex> lock(S().mu);
  S().liveEvents--;
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuEventRecord(CUevent event, CUstream stream) {
  if (CUresult r = Enter("cuEventRecord")) return r;
  if (!event) return CUDA_ERROR_INVALID_HANDLE;
  std::shared_ptr<EventMemory> mem = event->memory;
  uint64_t gen = mem->counters->recorded.fetch_add(1) + 1;
  return Enqueue(stream, [mem, gen] { mem->Complete(gen); });
}

TWMOCK_API CUresult cuEventSynchronize(CUevent event) {
  if (CUresult r = Enter("cuEventSynchronize")) return r;
  if (!event) return CUDA_ERROR_INVALID_HANDLE;
  event->memory->WaitFor(event->memory->counters->recorded.load());
  return CUDA_SUCCESS;
}

TWMOCK_API CUresult cuEventQuery(CUevent event) {
  if (CUresult r = Enter("cuEventQuery")) return r;
  if (!event) return CUDA_ERROR_INVALID_HANDLE;
  const EventCounters* c = event->memory->counters;
  return c->completed.load() >= c->recorded.load() ? CUDA_SUCCESS : CUDA_ERROR_NOT_READY;
}

}  // extern "C"
