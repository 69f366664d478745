// engine.h: one group's native side. A thread of its own owns the communicator, the control
// channel and the CUDA events, and does all the waiting, so nothing here ever blocks the
// JavaScript thread:
//  - connect: the control channel (rank 0 listens, the others dial it, see control.h), then
//    ncclCommInitRankConfig with blocking = 0, polled with ncclCommGetAsyncError until ready;
//  - operations: each one is announced to rank 0, issued to NCCL when rank 0 orders it
//    (sequencer.h) — the tensors of a send or recv inside one ncclGroupStart/ncclGroupEnd — and
//    followed by a CUDA event on the group's stream; the thread polls the events (and
//    ncclCommGetAsyncError) and settles each Promise when its event completed;
//  - failures: a deadline, abort(), an asynchronous NCCL error or a peer lost on the control
//    channel aborts the communicator (ncclCommAbort, after which NCCL touches no tensor), fails
//    every pending operation with a coded error, tells the peers (they abort theirs) and leaves
//    the group broken: later operations fail at once with the first failure's code;
//  - destroy: a goodbye to the peers, ncclCommFinalize and ncclCommDestroy when the group is
//    healthy and idle (ncclCommAbort otherwise, or when finalizing does not end in time).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "control.h"
#include "libraries.h"
#include "sequencer.h"
#include "tensorwire/jobs.h"

namespace twnccl {

using Clock = std::chrono::steady_clock;

struct GroupConfig {
  std::string name;
  int rank = 0;
  int size = 1;
  int device = 0;
  CUstream stream = nullptr;
  /** IPv4 address rank 0's control channel listens on (and the others' dial out from). */
  std::string host = "127.0.0.1";
  std::chrono::milliseconds timeout{30000};
};

/** A job whose outcome the engine sets (Fail or nothing) before handing it to the Completer. */
class SettleJob : public tensorwire::Job {
 public:
  void Execute() override {}
};

/** One operation of the group, from its Promise to its event. */
struct Op {
  OpKind kind = OpKind::kSend;
  int peer = -1;  // send: destination; recv: source
  uint64_t tag = 0;
  std::vector<uint64_t> ptrs;
  std::vector<uint64_t> sizes;
  // allreduce / broadcast
  uint64_t count = 0;
  int dtype = 0;
  int redop = 0;
  int root = 0;
  uint64_t collIndex = 0;
  Clock::time_point posted;
  Clock::time_point deadline;
  CUevent event = nullptr;
  std::unique_ptr<tensorwire::Job> job;

  uint64_t bytes() const;
  /** "recv of 2 tensor(s) (1048576 bytes) from rank 1, tag 7". */
  std::string Describe() const;
};
using OpPtr = std::unique_ptr<Op>;

/** What the JS side of a connect brings: the NCCL id and where rank 0's control channel is. */
struct ConnectInfo {
  ncclUniqueId id{};
  std::string rootHost;
  int rootPort = 0;
  uint64_t token = 0;
};

struct BrokenState {
  bool broken = false;
  std::string code;
  std::string reason;
};

class Engine : public std::enable_shared_from_this<Engine> {
 public:
  /** JS thread: rank 0 listens for the control channel here; the thread starts. Throws CodedError. */
  static std::shared_ptr<Engine> Create(GroupConfig config, std::shared_ptr<tensorwire::Completer> completer);
  ~Engine();

  const GroupConfig& config() const { return config_; }
  /** Rank 0: the control channel's port and the token the others present. */
  int controlPort() const { return controlPort_; }
  uint64_t token() const { return token_; }

  // JS thread; each job was tracked by the Completer already.
  void Connect(ConnectInfo info, std::unique_ptr<tensorwire::Job> job);
  void Submit(OpPtr op);
  void Abort(const std::string& reason);
  /** `job` may be null (the JS object was collected without destroy()). */
  void Destroy(std::unique_ptr<tensorwire::Job> job);
  /** Environment exit: abort, stop, and wait up to `budget` for the thread. True when it stopped. */
  bool Teardown(std::chrono::milliseconds budget);

  BrokenState broken() const;
  /** Operations not settled yet. */
  size_t pending() const;

 private:
  enum class Stage { kCreated, kDialing, kHelloSent, kAccepting, kNcclInit, kReady, kFinalizing, kDone };
  struct Request {
    enum Type { kConnect, kOp, kAbort, kDestroy, kTeardown } type;
    ConnectInfo connect;
    std::unique_ptr<tensorwire::Job> job;
    OpPtr op;
    std::string reason;
  };

  explicit Engine(GroupConfig config, std::shared_ptr<tensorwire::Completer> completer);
  void Post(Request r);
  void FailLate(Request& r);
  void Run();
  void Wait();
  void TakeInbox();
  void Handle(Request& r);
  void ServiceNetwork();
  void OnMessage(Connection& from, Message& m);
  void OnConnectionLost(int rank);
  /** Waits up to `grace` for a peer's failure or loss on the control channel; true when it broke the group. */
  bool AwaitPeerNews(std::chrono::milliseconds grace);
  void AdvanceConnect();
  void StartNccl();
  void AdvanceComm();
  void IssueOrders();
  void Issue(Op* op);
  void PollEvents();
  void CheckDeadlines();
  void AdvanceDestroy();
  void SendIntent(Op& op);
  void Deliver(const Delivery& d);
  void OnOrder(const Message& m, bool reject);
  OpPtr TakeWaiting(const Message& m);
  void RecordEvent(Op* op);
  void Settle(OpPtr op, const tensorwire::ErrorInfo* error);
  /** Aborts the communicator (when `abortComm`), fails every pending operation, tells the peers. */
  void Break(const std::string& code, const std::string& text, Op* culprit = nullptr, bool abortComm = true);
  void CloseNetwork();
  void ReleaseCuda();
  void Finish();
  std::string NcclFailure(ncclResult_t r, const std::string& what) const;
  static std::string NcclCode(ncclResult_t r);
  /** `text` without this rank's "nccl group 'g' rank r: " in front. */
  std::string Unprefixed(const std::string& text) const;
  bool gpuActive() const;
  void Trace(const std::string& line) const;

  GroupConfig config_;
  std::shared_ptr<tensorwire::Completer> completer_;
  std::string prefix_;  // "nccl group 'g' rank 1: "
  int wakeFd_ = -1;
  int listenFd_ = -1;
  int controlPort_ = 0;
  uint64_t token_ = 0;

  mutable std::mutex mu_;  // guards inbox_, brokenState_, pending_, exited_
  std::condition_variable exitedCv_;
  std::vector<Request> inbox_;
  BrokenState brokenState_;
  size_t pending_ = 0;
  bool exited_ = false;

  // Engine thread only from here on.
  Stage stage_ = Stage::kCreated;
  bool broken_ = false;
  ConnectInfo connect_;
  std::unique_ptr<tensorwire::Job> connectJob_;
  Clock::time_point connectDeadline_;
  Clock::time_point retryAt_;
  int dialFd_ = -1;
  std::vector<ConnectionPtr> peers_;             // rank 0: by rank (null for itself); others: [0] = rank 0
  std::vector<ConnectionPtr> unidentified_;      // rank 0: accepted, hello not read yet
  std::unique_ptr<Sequencer> sequencer_;         // rank 0
  ncclComm_t comm_ = nullptr;
  bool commBusy_ = false;                        // a call returned ncclInProgress: wait before the next
  Op* enqueuing_ = nullptr;                      // the operation whose enqueue is in progress
  uint64_t nextCollective_ = 0;
  std::list<OpPtr> waiting_;                     // announced, not ordered yet
  std::deque<OpPtr> ready_;                      // ordered, not issued yet
  std::deque<OpPtr> inflight_;                   // issued (events recorded), in stream order
  OpPtr enqueuingOp_;
  std::vector<CUevent> eventPool_;
  CUdeviceptr scratch_ = 0;                      // 4 bytes barriers reduce
  bool destroyRequested_ = false;
  bool teardown_ = false;
  std::unique_ptr<tensorwire::Job> destroyJob_;
  Clock::time_point finalizeDeadline_;
  std::chrono::microseconds backoff_{10};
  bool trace_ = false;
};

/** Communicators this process has initialized so far (NCCL reads NCCL_HOSTID at the first). */
int CommunicatorsCreated();

}  // namespace twnccl
