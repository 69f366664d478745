// engine.h: the consumer side and the progress thread of one agent.
//
// One thread owns the UCP workers (one serves peers' reads of us, one carries our reads: see
// Engine::reader_): it creates endpoints (cached by the peer's worker address; error mode PEER
// for remote peers, NONE for peers on this host), unpacks remote keys (cached per endpoint by
// their packed bytes, so a new registration on the producer naturally gets a new cache entry),
// posts ucp_get_nbx, enforces deadlines and keeps progressing the workers so that peers' reads
// of our memory (emulated over active messages for Node-allocated memory) complete while
// JavaScript is busy.
#pragma once

#include <ucp/api/ucp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "device_table.h"
#include "memory.h"
#include "pinned_pool.h"
#include "stager.h"
#include "staging_wire.h"
#include "tensorwire/errors.h"

namespace twnixl {

using Clock = std::chrono::steady_clock;

/**
 * One region of a read: remote (address, rkey) -> local destination. A source is either memory
 * the producer registered (host memory, or CUDA memory with a CUDA-capable UCX) or, `staged`,
 * CUDA memory the producer copies to pinned memory when asked (registration `reg` and `token`).
 * A destination is host memory (`dst`) or CUDA memory (`dstDevice`, `dstPtr`): read into
 * directly with a CUDA-capable UCX (`directDst`), else into a pinned chunk (`dst` then points at
 * it) and copied to the device by the staging thread.
 */
struct ReadRegion {
  uint64_t remoteAddr = 0;
  std::string rkey;
  uint8_t* dst = nullptr;
  size_t size = 0;
  uint64_t genAddr = 0;  // remote address of the registration's generation slot
  uint64_t token = 0;    // the value the slot must hold
  bool staged = false;
  uint32_t reg = 0;
  int dstDevice = -1;
  uint64_t dstPtr = 0;
  bool directDst = false;
};

/** A read as submitted by JavaScript. */
struct ReadRequest {
  uint64_t id = 0;
  std::string peerAddress;  // the producer's worker address
  std::string peerName;     // for messages
  int peerPid = 0;          // > 0 when the producer runs on this host: liveness checked directly
  std::string genRkey;
  std::vector<ReadRegion> regions;
  Clock::time_point deadline;
  uint32_t timeoutMs = 0;
  // Consumer staging chunks, by region (null where the destination needs none); taken on the
  // staging thread before the read is submitted, given back when the read is over.
  std::vector<PinnedChunkPtr> pinned;
};

struct Endpoint;

/** A read in flight on the progress thread. */
struct ReadJob {
  ReadRequest req;
  Endpoint* ep = nullptr;
  // 0: not started, 1: generation check, 2: staging (the producer copies CUDA regions to pinned
  // memory), 3: data, 4: copies to the device (staging thread)
  int phase = 0;
  size_t outstanding = 0;
  tensorwire::ErrorInfo error;
  std::vector<uint64_t> genScratch;
  std::vector<ucp_rkey_h> dataKeys;
  ucp_rkey_h genKey = nullptr;
  Clock::time_point failedAt{};  // when `error` was set while requests were outstanding
  bool abandoned = false;        // settled in JS; waits here for UCX's late callbacks
  Endpoint* lateEp = nullptr;    // while abandoned: the endpoint whose remote keys its requests use
  bool waitingForEp = false;     // keys unpacked; posts once its endpoint is wired up
  // Staging (phase 2): the request was sent and its reply is awaited (not a UCX request, so
  // `outstanding` does not count it); the nonce ties the reply to this read.
  bool awaitingStage = false;
  uint64_t nonce = 0;
  std::string stageMessage;        // the STAGE_REQUEST bytes, alive until UCX sent them
  std::vector<uint64_t> leases;    // the producer's pinned chunks to give back (UNSTAGE)
  bool copying = false;            // phase 4: the staging thread copies to the device
};

struct Endpoint {
  ucp_ep_h handle = nullptr;
  ucp_worker_h worker = nullptr;  // the reader worker it was created on (see Engine::reader_)
  std::string address;
  std::string peerName;
  int pid = 0;
  bool failed = false;
  std::string failure;
  std::unordered_map<std::string, ucp_rkey_h> rkeys;
  std::vector<ReadJob*> jobs;
  void* closeRequest = nullptr;
  bool closing = false;      // in Engine::dying_: out of the cache, deleted once idle
  bool closeIssued = false;  // ucp_ep_close_nbx was called
  // Abandoned reads (see ReadJob::lateEp) whose requests UCX still holds. They point at this
  // endpoint's remote keys, so the keys (and the endpoint) live until the count is back to 0.
  // UCX 1.13 keeps gets that were queued while the endpoint was wiring up even after a forced
  // close, and replays them when the peer's wireup reply arrives; with destroyed keys it read
  // freed memory and aborted (rma_basic.c: rkey->cache.ep_cfg_index == ep->cfg_index).
  size_t lateJobs = 0;
  // A new endpoint is flushed and its first reads are posted once that flush completed. That
  // waits for the wireup of p2p transports (tcp). Over shared memory the flush completes at once,
  // before the peer's wireup reply, so early gets may be queued by UCX on the wireup proxy lane
  // and replayed later (harmless: see lateJobs for the one case that was not).
  void* flushRequest = nullptr;
  bool ready = false;
  std::vector<ReadJob*> waiting;
  void* engine = nullptr;  // the owning Engine, for the error callback
};

/** The progress thread; all UCP worker calls happen on it. */
class Engine {
 public:
  /** How a completion notification relates to the read's destination buffers. */
  enum class Settle {
    kDone,       // finished: settle the Promise, release the buffers
    kAbandoned,  // failed but UCX still owns requests: settle, keep the buffers alive
    kLate,       // an abandoned read's requests finally completed: release the buffers
  };
  using Completion = std::function<void(uint64_t id, tensorwire::ErrorInfo error, Settle settle)>;

  /**
   * `onComplete` is called on the progress thread when a read finishes (error empty on success).
   * `devices`: this agent's CUDA registrations (stage requests pin them); `pinned` and `stager`:
   * the staging path's pool and thread (shared with the agent, which outlives the engine).
   */
  Engine(ContextPtr ctx, std::shared_ptr<DeviceTable> devices, std::shared_ptr<PinnedPool> pinned, Stager* stager,
         Completion onComplete);
  ~Engine();

  /** The worker's address (to put in descriptors). */
  const std::string& workerAddress() const { return address_; }

  /** Queue a read; the progress thread picks it up at once. Thread-safe. */
  void Submit(ReadRequest req);

  /** Settle read `id` with `error` without running it (it failed before Submit). Thread-safe. */
  void Reject(uint64_t id, tensorwire::ErrorInfo error) { onComplete_(id, std::move(error), Settle::kDone); }

  /** Run `task` on the progress thread (dropped once the engine stopped). Thread-safe. */
  void Post(std::function<void()> task);

  /** Fail pending reads with NIXL_CLOSED, close endpoints, destroy the worker, join. Idempotent. */
  void Stop();

  struct Stats {
    size_t endpoints, rkeys, pendingReads, retiredReaders;
    size_t stagedLeases, stagings, replyEndpoints;
  };
  Stats stats() const;

 private:
  void Run();
  void StartJob(ReadJob* job);
  void PostPhase(ReadJob* job);
  void CheckFinished(ReadJob* job);
  void Finish(ReadJob* job);
  void SetError(ReadJob* job, tensorwire::ErrorInfo error);
  void AbandonStuckJobs();
  Endpoint* GetEndpoint(const ReadRequest& req, tensorwire::ErrorInfo& err);
  ucp_rkey_h GetRkey(Endpoint* ep, const std::string& packed, tensorwire::ErrorInfo& err);
  void FailEndpoint(Endpoint* ep, const std::string& why);
  void CloseEndpoint(Endpoint* ep);
  void ReapEndpoints(bool force);
  void PollEndpointsReady();
  ucp_worker_h CreateWorker();
  void RetireReader(ucp_worker_h poisoned);
  void DestroyRetired(bool force);
  unsigned ProgressAll();
  void CheckDeadlinesAndPeers();
  void Sleep();
  void Wake();
  static void OnOpDone(void* request, ucs_status_t status, void* user);
  static void OnEndpointError(void* arg, ucp_ep_h ep, ucs_status_t status);

  // The staging path (staging_wire.h), consumer side.
  void SendStageRequest(ReadJob* job);
  void OnStageReply(const StageReply& reply);
  void SendUnstage(Endpoint* ep, std::vector<uint64_t> leases);
  void StartCopies(ReadJob* job);
  void GiveBack(ReadJob* job);  // the job's pinned chunks go back to the pool
  // Producer side.
  void OnStageRequest(const StageRequest& request);
  void FinishStaging(const StageReply& head, const std::string& replyAddress, std::vector<PinnedChunkPtr> chunks,
                     tensorwire::ErrorInfo error, Clock::time_point expiry);
  void OnUnstage(const std::vector<uint64_t>& leases);
  void SendReply(const std::string& address, const StageReply& reply);
  void ExpireLeases(bool all);
  void ReapReplyEndpoints(bool force);
  void GiveToPool(PinnedChunkPtr chunk);
  // Both.
  void SetAmHandlers(ucp_worker_h w);
  void DrainInbox();
  void RunTasks();
  const std::string& AddressOf(ucp_worker_h w);
  static ucs_status_t OnAm(void* arg, const void* header, size_t headerLength, void* data, size_t length,
                           const ucp_am_recv_param_t* param);
  /** Sends `bytes` as active message `id` on `ep`, freeing them when UCX is done. */
  static void SendOwned(ucp_ep_h ep, uint16_t id, std::string bytes);

  ContextPtr ctx_;
  std::shared_ptr<DeviceTable> devices_;
  std::shared_ptr<PinnedPool> pinned_;
  Stager* stager_;
  Completion onComplete_;
  // Two roles, two workers. worker_ serves peers' reads of our memory (its address is the one
  // published). reader_ carries our own reads. A read whose requests UCX still holds after its
  // endpoint failed (a producer on this host killed mid-read: error mode NONE cannot close that
  // endpoint) leaves its worker unable to complete later gets, even from other peers. So new
  // reads then go to a fresh reader; the poisoned one is retired: progressed a little longer
  // (its late requests may still complete), then destroyed with its endpoints, once no live read
  // uses it, so nothing it holds (descriptors, shared memory) outlives it.
  ucp_worker_h worker_ = nullptr;
  ucp_worker_h reader_ = nullptr;
  struct RetiredWorker {
    ucp_worker_h worker;
    Clock::time_point since;
  };
  std::vector<RetiredWorker> retired_;
  std::string address_;

  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ReadRequest> queue_;
  std::deque<std::function<void()>> tasks_;  // Post()ed work, guarded by mu_
  bool tasksClosed_ = false;                 // guarded by mu_: the thread has exited
  std::atomic<bool> stop_{false};
  int workerFd_ = -1;  // ucp_worker_get_efd: readable when the worker has events
  int wakeFd_ = -1;    // eventfd: Submit and Stop wake the sleeping thread
  bool stopped_ = false;

  // progress-thread state
  std::unordered_map<std::string, Endpoint*> endpoints_;  // live, by worker address
  std::vector<Endpoint*> dying_;                          // failed, closing, waiting for jobs
  std::vector<ReadJob*> jobs_;
  std::vector<ReadJob*> abandoned_;  // settled, waiting for UCX to complete their requests
  std::vector<std::pair<Endpoint*, std::string>> errors_;  // from the error callback
  Clock::time_point lastPeerCheck_;
  std::atomic<size_t> statEndpoints_{0}, statRkeys_{0}, statPending_{0}, statRetired_{0};

  // Staging state (progress thread).
  struct AmTarget {
    Engine* engine;
    uint16_t id;
  };
  AmTarget amTargets_[3];
  std::vector<std::pair<uint16_t, std::string>> inbox_;  // active messages, handled after progress
  std::unordered_map<ucp_worker_h, std::string> workerAddresses_;
  std::string hostName_;
  /** A producer's pinned chunk lent to a consumer's read, until UNSTAGE or `expiry`. */
  struct Lease {
    PinnedChunkPtr chunk;
    Clock::time_point expiry;
  };
  std::unordered_map<uint64_t, Lease> leases_;
  uint64_t leaseSeq_ = 0, leaseSalt_ = 0;
  /** The producer's endpoint to a consumer's reading worker, for stage replies. */
  struct ReplyEndpoint {
    ucp_ep_h handle = nullptr;
    std::string address;
    int pid = 0;  // > 0: the consumer runs on this host
    bool failed = false;
    Clock::time_point lastUse;
    void* closeRequest = nullptr;
    Clock::time_point closingSince;
  };
  std::unordered_map<std::string, ReplyEndpoint*> replyEps_;
  std::vector<ReplyEndpoint*> replyDying_;
  Clock::time_point lastLeaseCheck_;
  std::atomic<size_t> statLeases_{0}, statStagings_{0}, statReplyEps_{0};
};

}  // namespace twnixl
