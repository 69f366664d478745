// engine.cc: see engine.h.
#include "engine.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>

namespace twnccl {

using std::chrono::milliseconds;
using tensorwire::CodedError;
using tensorwire::ErrorInfo;

namespace {

std::atomic<int> communicatorsCreated{0};

// How long a rank retries dialing rank 0 between refusals.
constexpr milliseconds kRedial{50};
// Longest a healthy destroy waits for ncclCommFinalize before aborting instead.
constexpr milliseconds kFinalizeBudget{10000};
// How long a failing rank tries to get its last messages (FAIL, BYE) out.
constexpr milliseconds kDrainBudget{200};
// How long an asynchronous NCCL error waits for the control channel to say which peer is gone.
constexpr milliseconds kPeerNewsGrace{100};
// Polling of events and ncclCommGetAsyncError while the GPU works: from this, doubling, to the max.
constexpr std::chrono::microseconds kMinBackoff{5};
constexpr std::chrono::microseconds kMaxBackoff{100};

uint64_t RandomToken() {
  uint64_t t = 0;
  if (getrandom(&t, sizeof(t), 0) != sizeof(t)) {
    t = static_cast<uint64_t>(Clock::now().time_since_epoch().count()) ^ (static_cast<uint64_t>(getpid()) << 32);
  }
  return t | 1;
}

std::string Ms(Clock::duration d) {
  return std::to_string(std::chrono::duration_cast<milliseconds>(d).count()) + " ms";
}

}  // namespace

int CommunicatorsCreated() { return communicatorsCreated.load(); }

uint64_t Op::bytes() const {
  if (kind == OpKind::kSend || kind == OpKind::kRecv) {
    uint64_t total = 0;
    for (uint64_t s : sizes) total += s;
    return total;
  }
  return sizes.empty() ? 0 : sizes[0];
}

std::string Op::Describe() const {
  std::ostringstream s;
  switch (kind) {
    case OpKind::kSend:
      s << "send of " << sizes.size() << " tensor(s) (" << bytes() << " bytes) to rank " << peer << ", tag " << tag;
      break;
    case OpKind::kRecv:
      s << "recv of " << sizes.size() << " tensor(s) (" << bytes() << " bytes) from rank " << peer << ", tag " << tag;
      break;
    case OpKind::kAllreduce: s << "allreduce of " << bytes() << " bytes"; break;
    case OpKind::kBroadcast: s << "broadcast of " << bytes() << " bytes from root " << root; break;
    case OpKind::kBarrier: s << "barrier"; break;
  }
  return s.str();
}

std::shared_ptr<Engine> Engine::Create(GroupConfig config, std::shared_ptr<tensorwire::Completer> completer) {
  std::shared_ptr<Engine> e(new Engine(std::move(config), std::move(completer)));
  if (e->config_.rank == 0) e->listenFd_ = ListenOn(e->config_.host, &e->controlPort_);
  e->wakeFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (e->wakeFd_ < 0) throw CodedError("NCCL_SYSTEM", std::string("eventfd: ") + std::strerror(errno));
  std::shared_ptr<Engine> self = e;
  std::thread([self] { self->Run(); }).detach();  // ends after destroy or teardown; holds the engine until then
  return e;
}

Engine::Engine(GroupConfig config, std::shared_ptr<tensorwire::Completer> completer)
    : config_(std::move(config)), completer_(std::move(completer)) {
  prefix_ = "nccl group '" + config_.name + "' rank " + std::to_string(config_.rank) + ": ";
  token_ = RandomToken();
  peers_.resize(config_.rank == 0 ? static_cast<size_t>(config_.size) : 1);
  if (config_.rank == 0) sequencer_ = std::make_unique<Sequencer>(config_.size);
  const char* trace = std::getenv("TENSORWIRE_NCCL_TRACE");
  trace_ = trace && *trace && std::strcmp(trace, "0") != 0;
}

Engine::~Engine() {
  if (listenFd_ >= 0) close(listenFd_);
  if (wakeFd_ >= 0) close(wakeFd_);
  if (dialFd_ >= 0) close(dialFd_);
}

void Engine::Trace(const std::string& line) const {
  if (!trace_) return;
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count() % 100000000;
  std::fprintf(stderr, "[tensorwire-nccl %d %lld.%06lld] %s%s\n", static_cast<int>(getpid()), static_cast<long long>(us / 1000000),
               static_cast<long long>(us % 1000000), prefix_.c_str(), line.c_str());
}

// ---- JS thread ------------------------------------------------------------------------------

void Engine::Post(Request r) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!exited_) {
      inbox_.push_back(std::move(r));
      uint64_t one = 1;
      ssize_t n = write(wakeFd_, &one, sizeof(one));
      (void)n;
      return;
    }
  }
  FailLate(r);
}

void Engine::FailLate(Request& r) {
  // The thread has ended (after destroy): nothing will run; settle right away.
  ErrorInfo e{"NCCL_DESTROYED", prefix_ + "the group was destroyed"};
  if (r.op) {
    e.message = prefix_ + r.op->Describe() + ": the group was destroyed";
    r.job = std::move(r.op->job);
  }
  if (r.type == Request::kOp || r.type == Request::kConnect) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_--;
  }
  if (!r.job) return;
  if (r.type != Request::kDestroy) r.job->Fail(e);
  completer_->Complete(std::move(r.job));
}

void Engine::Connect(ConnectInfo info, std::unique_ptr<tensorwire::Job> job) {
  Request r{Request::kConnect, std::move(info), std::move(job), nullptr, {}};
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_++;
  }
  Post(std::move(r));
}

void Engine::Submit(OpPtr op) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_++;
  }
  Request r{Request::kOp, {}, nullptr, std::move(op), {}};
  Post(std::move(r));
}

void Engine::Abort(const std::string& reason) { Post(Request{Request::kAbort, {}, nullptr, nullptr, reason}); }

void Engine::Destroy(std::unique_ptr<tensorwire::Job> job) { Post(Request{Request::kDestroy, {}, std::move(job), nullptr, {}}); }

bool Engine::Teardown(milliseconds budget) {
  Post(Request{Request::kTeardown, {}, nullptr, nullptr, "the process is exiting"});
  std::unique_lock<std::mutex> lock(mu_);
  return exitedCv_.wait_for(lock, budget, [this] { return exited_; });
}

BrokenState Engine::broken() const {
  std::lock_guard<std::mutex> lock(mu_);
  return brokenState_;
}

size_t Engine::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_;
}

// ---- engine thread --------------------------------------------------------------------------

void Engine::Run() {
  try {
    MakeCurrent(config_.device);
  } catch (const std::exception& e) {
    Break("NCCL_CUDA", prefix_ + "cannot use cuda:" + std::to_string(config_.device) + ": " + e.what(), nullptr, false);
  }
  while (stage_ != Stage::kDone) {
    Wait();
    TakeInbox();
    if (stage_ == Stage::kDone) break;
    ServiceNetwork();
    AdvanceConnect();
    AdvanceComm();
    IssueOrders();
    PollEvents();
    CheckDeadlines();
    AdvanceDestroy();
  }
  std::vector<Request> late;
  {
    std::lock_guard<std::mutex> lock(mu_);
    exited_ = true;
    late.swap(inbox_);
    exitedCv_.notify_all();
  }
  for (Request& r : late) FailLate(r);
}

bool Engine::gpuActive() const {
  return commBusy_ || stage_ == Stage::kNcclInit || stage_ == Stage::kFinalizing || !inflight_.empty();
}

void Engine::Wait() {
  std::vector<pollfd> fds;
  fds.push_back({wakeFd_, POLLIN, 0});
  if (listenFd_ >= 0) fds.push_back({listenFd_, POLLIN, 0});
  if (dialFd_ >= 0) fds.push_back({dialFd_, POLLOUT, 0});
  for (auto& c : unidentified_) fds.push_back({c->fd(), POLLIN, 0});
  for (auto& c : peers_)
    if (c && !c->closed()) fds.push_back({c->fd(), static_cast<short>(POLLIN | (c->wantsWrite() ? POLLOUT : 0)), 0});

  // How long to sleep: briefly while the GPU works (events are polled), else until a deadline.
  Clock::time_point now = Clock::now();
  Clock::time_point until = Clock::time_point::max();
  auto consider = [&](Clock::time_point t) { until = std::min(until, t); };
  if (connectJob_) consider(connectDeadline_);
  if (dialFd_ < 0 && stage_ == Stage::kDialing) consider(retryAt_);
  if (stage_ == Stage::kFinalizing) consider(finalizeDeadline_);
  for (auto& op : waiting_) consider(op->deadline);
  for (auto& op : ready_) consider(op->deadline);
  for (auto& op : inflight_) consider(op->deadline);
  if (enqueuingOp_) consider(enqueuingOp_->deadline);
  if (gpuActive() || !ready_.empty()) consider(now + backoff_);

  timespec ts{};
  timespec* timeout = nullptr;
  if (until != Clock::time_point::max()) {
    auto left = std::max<Clock::duration>(until - now, Clock::duration::zero());
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    ts.tv_sec = static_cast<time_t>(ns / 1000000000);
    ts.tv_nsec = static_cast<long>(ns % 1000000000);
    timeout = &ts;
  }
  int n = ppoll(fds.data(), fds.size(), timeout, nullptr);
  if (n > 0 && (fds[0].revents & POLLIN)) {
    uint64_t v;
    ssize_t r = read(wakeFd_, &v, sizeof(v));
    (void)r;
  }
  if (n == 0 && gpuActive()) backoff_ = std::min(backoff_ * 2, kMaxBackoff);
}

void Engine::TakeInbox() {
  std::vector<Request> requests;
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests.swap(inbox_);
  }
  for (Request& r : requests) Handle(r);
}

void Engine::Handle(Request& r) {
  switch (r.type) {
    case Request::kConnect: {
      if (broken_ || destroyRequested_) {
        ErrorInfo e{broken_ ? brokenState_.code : "NCCL_DESTROYED",
                    prefix_ + (broken_ ? "the group is broken: " + Unprefixed(brokenState_.reason) : std::string("the group was destroyed"))};
        r.job->Fail(e);
        {
          std::lock_guard<std::mutex> lock(mu_);
          pending_--;
        }
        completer_->Complete(std::move(r.job));
        return;
      }
      connect_ = r.connect;
      connectJob_ = std::move(r.job);
      connectDeadline_ = Clock::now() + config_.timeout;
      if (config_.rank == 0) {
        stage_ = Stage::kAccepting;
      } else {
        stage_ = Stage::kDialing;
        retryAt_ = Clock::now();
      }
      Trace("connect: " + std::string(config_.rank == 0 ? "accepting the other ranks" : "dialing rank 0 at ") +
            (config_.rank == 0 ? std::string() : connect_.rootHost + ":" + std::to_string(connect_.rootPort)));
      return;
    }
    case Request::kOp: {
      OpPtr op = std::move(r.op);
      op->posted = Clock::now();
      op->deadline = op->posted + config_.timeout;
      if (broken_ || destroyRequested_) {
        BrokenState b = broken();
        ErrorInfo e{destroyRequested_ ? "NCCL_DESTROYED" : b.code,
                    prefix_ + op->Describe() + ": " +
                        (destroyRequested_ ? std::string("the group was destroyed") : "the group is broken: " + Unprefixed(b.reason))};
        Settle(std::move(op), &e);
        return;
      }
      if (stage_ != Stage::kReady) {
        ErrorInfo e{"NCCL_NOT_CONNECTED", prefix_ + op->Describe() + ": the group is not connected (await createGroup first)"};
        Settle(std::move(op), &e);
        return;
      }
      if (IsCollective(op->kind)) op->collIndex = ++nextCollective_;
      Trace("post " + op->Describe());
      Op& ref = *op;
      waiting_.push_back(std::move(op));
      SendIntent(ref);
      return;
    }
    case Request::kAbort:
      Break("NCCL_ABORTED", prefix_ + "aborted: " + r.reason);
      return;
    case Request::kDestroy:
      if (destroyRequested_) {
        if (r.job) completer_->Complete(std::move(r.job));  // a second destroy resolves at once
        return;
      }
      destroyRequested_ = true;
      destroyJob_ = std::move(r.job);
      return;
    case Request::kTeardown:
      teardown_ = true;
      destroyRequested_ = true;
      Break("NCCL_DESTROYED", prefix_ + r.reason);
      Finish();
      return;
  }
}

void Engine::SendIntent(Op& op) {
  Message m;
  m.type = MsgType::kIntent;
  m.rank = static_cast<uint32_t>(config_.rank);
  m.kind = op.kind;
  if (op.kind == OpKind::kSend) {
    m.src = static_cast<uint32_t>(config_.rank);
    m.dst = static_cast<uint32_t>(op.peer);
  } else if (op.kind == OpKind::kRecv) {
    m.src = static_cast<uint32_t>(op.peer);
    m.dst = static_cast<uint32_t>(config_.rank);
  }
  m.tag = op.tag;
  m.collIndex = op.collIndex;
  m.dtype = op.dtype;
  m.op = op.redop;
  m.root = op.root;
  m.sizes = IsCollective(op.kind) ? std::vector<uint64_t>{op.bytes()} : op.sizes;
  if (config_.rank == 0) {
    for (const Delivery& d : sequencer_->Add(0, m)) Deliver(d);
  } else if (peers_[0]) {
    peers_[0]->Send(m);
  }
}

void Engine::Deliver(const Delivery& d) {
  for (int to : d.to) {
    if (to == config_.rank) {
      OnOrder(d.message, d.message.type == MsgType::kReject);
      if (broken_) return;
    } else if (to >= 0 && static_cast<size_t>(to) < peers_.size() && peers_[static_cast<size_t>(to)]) {
      peers_[static_cast<size_t>(to)]->Send(d.message);
    }
  }
}

OpPtr Engine::TakeWaiting(const Message& m) {
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
    Op& op = **it;
    bool match = false;
    if (IsCollective(m.kind)) {
      match = IsCollective(op.kind) && op.collIndex == m.collIndex;
    } else if (static_cast<int>(m.src) == config_.rank) {
      match = op.kind == OpKind::kSend && op.peer == static_cast<int>(m.dst) && op.tag == m.tag;
    } else if (static_cast<int>(m.dst) == config_.rank) {
      match = op.kind == OpKind::kRecv && op.peer == static_cast<int>(m.src) && op.tag == m.tag;
    }
    if (match) {
      OpPtr out = std::move(*it);
      waiting_.erase(it);
      return out;
    }
  }
  return nullptr;
}

void Engine::OnOrder(const Message& m, bool reject) {
  OpPtr op = TakeWaiting(m);
  if (!op) {
    Break("NCCL_INTERNAL", prefix_ + "rank 0 ordered an operation this rank does not have (" + KindName(m.kind) +
                               ", tag " + std::to_string(m.tag) + "): the control channel is out of step");
    return;
  }
  if (reject) {
    ErrorInfo e{m.code, prefix_ + op->Describe() + ": " + m.text};
    Trace("rejected " + op->Describe());
    Settle(std::move(op), &e);
    return;
  }
  Trace("ordered #" + std::to_string(m.seq) + " " + op->Describe());
  ready_.push_back(std::move(op));
}

void Engine::ServiceNetwork() {
  if (broken_ && stage_ != Stage::kFinalizing) return;
  // Rank 0: new connections, and the hello that says which rank each one is.
  if (listenFd_ >= 0) {
    for (;;) {
      int fd = AcceptOne(listenFd_);
      if (fd < 0) break;
      unidentified_.push_back(std::make_unique<Connection>(fd));
    }
  }
  for (size_t i = 0; i < unidentified_.size();) {
    Connection& c = *unidentified_[i];
    std::vector<Message> got;
    bool alive = c.Receive(got);
    bool placed = false;
    if (!got.empty()) {
      const Message& h = got[0];
      int r = static_cast<int>(h.rank);
      if (h.type == MsgType::kHello && h.token == token_ && r > 0 && r < config_.size && !peers_[static_cast<size_t>(r)]) {
        c.rank = r;
        Message ack;
        ack.type = MsgType::kHello;
        ack.rank = 0;
        ack.token = token_;
        c.Send(ack);
        Trace("rank " + std::to_string(r) + " joined the control channel");
        peers_[static_cast<size_t>(r)] = std::move(unidentified_[i]);
        unidentified_.erase(unidentified_.begin() + static_cast<std::ptrdiff_t>(i));
        placed = true;
        // Anything it sent right after its hello.
        for (size_t k = 1; k < got.size(); k++) OnMessage(*peers_[static_cast<size_t>(r)], got[k]);
        if (broken_) return;
      }
    }
    if (placed) continue;
    if (!alive || !got.empty()) {
      unidentified_.erase(unidentified_.begin() + static_cast<std::ptrdiff_t>(i));  // a stranger or a bad hello
      continue;
    }
    i++;
  }
  for (size_t i = 0; i < peers_.size(); i++) {
    if (!peers_[i] || peers_[i]->closed()) continue;
    Connection& c = *peers_[i];
    if (config_.rank != 0 && c.rank < 0) continue;  // not acknowledged yet: AdvanceConnect reads it
    std::vector<Message> got;
    bool alive = c.Receive(got);
    bool flushed = c.Flush();
    for (Message& m : got) {
      OnMessage(c, m);
      if (broken_) return;
    }
    if (!alive || !flushed) {
      OnConnectionLost(c.rank);
      if (broken_) return;
    }
  }
}

void Engine::OnMessage(Connection& from, Message& m) {
  switch (m.type) {
    case MsgType::kIntent:
      if (config_.rank != 0) return;
      for (const Delivery& d : sequencer_->Add(from.rank, m)) {
        Deliver(d);
        if (broken_) return;
      }
      return;
    case MsgType::kOrder:
    case MsgType::kReject:
      OnOrder(m, m.type == MsgType::kReject);
      return;
    case MsgType::kFail: {
      // During initialization the peer's failure is usually NCCL refusing the group, which it
      // reports here too (two ranks on one GPU): NCCL's own words about this rank say more.
      // Later, the peer's message names the root cause (what broke it first).
      ncclResult_t async = ncclSuccess;
      if (comm_ && stage_ == Stage::kNcclInit && Nccl().ncclCommGetAsyncError(comm_, &async) != ncclSuccess) async = ncclSuccess;
      // Initializing: this rank's NCCL is about to say the same (both ranks check the group).
      for (auto until = Clock::now() + kPeerNewsGrace; comm_ && async == ncclInProgress && stage_ == Stage::kNcclInit && Clock::now() < until;) {
        std::this_thread::sleep_for(milliseconds(1));
        if (Nccl().ncclCommGetAsyncError(comm_, &async) != ncclSuccess) async = ncclSuccess;
      }
      if (async != ncclSuccess && async != ncclInProgress) {
        Break(NcclCode(async), NcclFailure(async, "communicator initialization failed (asynchronous error)"));
        return;
      }
      Break("NCCL_PEER_LOST", prefix_ + "rank " + std::to_string(m.rank) + " ended the group (" + m.code + ": " + m.text + ")");
      return;
    }
    case MsgType::kBye: {
      std::string text = prefix_ + "rank " + std::to_string(m.rank) + " destroyed its end of the group";
      if (config_.rank == 0) {
        // The others learn it from rank 0 (which they alone are connected to).
        Message bye = m;
        for (auto& c : peers_)
          if (c && c.get() != &from) c->Send(bye);
      }
      from.Close();
      if (stage_ == Stage::kFinalizing || destroyRequested_) return;  // we are leaving too
      // In-flight work cannot finish without it: abort then; otherwise keep the communicator
      // for destroy() to finalize.
      Break("NCCL_PEER_LOST", text, nullptr, gpuActive() || !ready_.empty());
      return;
    }
    case MsgType::kHello:
      return;
  }
}

bool Engine::AwaitPeerNews(milliseconds grace) {
  std::vector<pollfd> fds;
  for (auto& c : peers_)
    if (c && !c->closed()) fds.push_back({c->fd(), POLLIN, 0});
  if (fds.empty()) return false;
  if (poll(fds.data(), fds.size(), static_cast<int>(grace.count())) <= 0) return false;
  ServiceNetwork();
  return broken_;
}

void Engine::OnConnectionLost(int rank) {
  if (stage_ == Stage::kFinalizing || (destroyRequested_ && waiting_.empty() && inflight_.empty())) {
    for (auto& c : peers_)
      if (c && c->rank == rank) c->Close();
    return;
  }
  Break("NCCL_PEER_LOST", prefix_ + "lost rank " + std::to_string(rank) +
                              ": its control connection closed without a goodbye (the process exited or was killed)");
}

void Engine::AdvanceConnect() {
  if (broken_ || !connectJob_) return;
  Clock::time_point now = Clock::now();
  if (stage_ == Stage::kDialing) {
    if (dialFd_ < 0) {
      if (now < retryAt_) return;
      int fd = StartConnect(connect_.rootHost, connect_.rootPort);
      if (fd < 0) {
        retryAt_ = now + kRedial;
        return;
      }
      dialFd_ = fd;
    }
    int st = FinishConnect(dialFd_);
    if (st == 0) return;
    if (st < 0) {
      close(dialFd_);
      dialFd_ = -1;
      retryAt_ = now + kRedial;
      return;
    }
    peers_[0] = std::make_unique<Connection>(dialFd_);
    dialFd_ = -1;
    Message hello;
    hello.type = MsgType::kHello;
    hello.rank = static_cast<uint32_t>(config_.rank);
    hello.token = connect_.token;
    peers_[0]->Send(hello);
    stage_ = Stage::kHelloSent;
  }
  if (stage_ == Stage::kHelloSent) {
    Connection& c = *peers_[0];
    std::vector<Message> got;
    bool alive = c.Receive(got);
    if (!got.empty()) {
      if (got[0].type != MsgType::kHello || got[0].token != connect_.token) {
        Break("NCCL_CONNECT", prefix_ + "rank 0's control channel answered with something else than its hello");
        return;
      }
      c.rank = 0;
      for (size_t k = 1; k < got.size(); k++) OnMessage(c, got[k]);
      if (broken_) return;
      StartNccl();
      return;
    }
    if (!alive) {
      Break("NCCL_PEER_LOST", prefix_ + "rank 0 closed the control connection during connect (it refused this rank's hello, or exited)");
    }
    return;
  }
  if (stage_ == Stage::kAccepting) {
    for (int r = 1; r < config_.size; r++)
      if (!peers_[static_cast<size_t>(r)]) return;
    close(listenFd_);  // everyone is here
    listenFd_ = -1;
    unidentified_.clear();
    StartNccl();
  }
}

void Engine::StartNccl() {
  ncclConfigPrefix cfg;
  cfg.blocking = 0;
  Trace("ncclCommInitRankConfig (non-blocking)");
  ncclResult_t r = Nccl().ncclCommInitRankConfig(&comm_, config_.size, connect_.id, config_.rank, &cfg);
  communicatorsCreated++;
  if (r != ncclSuccess && r != ncclInProgress) {
    std::string text = NcclFailure(r, "ncclCommInitRankConfig");
    Break(NcclCode(r), text);
    return;
  }
  stage_ = Stage::kNcclInit;
  backoff_ = kMinBackoff;
}

void Engine::AdvanceComm() {
  if (broken_ || !comm_) return;
  bool poll = stage_ == Stage::kNcclInit || stage_ == Stage::kFinalizing || commBusy_ || !inflight_.empty();
  if (!poll) return;
  ncclResult_t async = ncclSuccess;
  ncclResult_t r = Nccl().ncclCommGetAsyncError(comm_, &async);
  if (r != ncclSuccess) async = r;
  if (async == ncclInProgress) return;
  if (async != ncclSuccess) {
    // A peer that died shows in NCCL (ncclRemoteError, ncclSystemError) and on the control
    // channel at about the same time: give the channel a moment, so the error names the rank.
    if (AwaitPeerNews(kPeerNewsGrace)) return;
    Op* culprit = enqueuingOp_ ? enqueuingOp_.get() : (!inflight_.empty() ? inflight_.front().get() : nullptr);
    std::string what = stage_ == Stage::kNcclInit ? "communicator initialization" : culprit ? culprit->Describe() : "the communicator";
    Break(NcclCode(async), NcclFailure(async, what + " failed (asynchronous error)"), culprit);
    return;
  }
  backoff_ = kMinBackoff;
  if (stage_ == Stage::kNcclInit) {
    CUresult cr = Cuda().cuMemAlloc(&scratch_, 4);
    if (cr != CUDA_SUCCESS) {
      scratch_ = 0;
      Break("NCCL_CUDA", prefix_ + "cuMemAlloc of the barrier's 4 bytes failed: " + Libraries::Get().CudaErrorName(cr));
      return;
    }
    Cuda().cuMemsetD8Async(scratch_, 0, 4, config_.stream);
    stage_ = Stage::kReady;
    Trace("connected");
    std::unique_ptr<tensorwire::Job> job = std::move(connectJob_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_--;
    }
    completer_->Complete(std::move(job));
    return;
  }
  if (commBusy_) {
    commBusy_ = false;
    if (enqueuingOp_) {
      Op* op = enqueuingOp_.get();
      RecordEvent(op);
      if (broken_) return;
      inflight_.push_back(std::move(enqueuingOp_));
    }
  }
}

void Engine::IssueOrders() {
  while (!broken_ && stage_ == Stage::kReady && !commBusy_ && !ready_.empty()) {
    OpPtr op = std::move(ready_.front());
    ready_.pop_front();
    Op* raw = op.get();
    enqueuingOp_ = std::move(op);
    Issue(raw);
    if (broken_) return;
    if (commBusy_) return;  // enqueuingOp_ stays until NCCL says the enqueue finished
    if (!enqueuingOp_) continue;  // settled at once (nothing to move)
    RecordEvent(raw);
    if (broken_) return;
    inflight_.push_back(std::move(enqueuingOp_));
  }
}

void Engine::Issue(Op* op) {
  const NcclFunctions& n = Nccl();
  CUstream s = config_.stream;
  ncclResult_t r = ncclSuccess;
  Trace("issue " + op->Describe());
  switch (op->kind) {
    case OpKind::kSend:
    case OpKind::kRecv: {
      bool any = false;
      for (uint64_t size : op->sizes) any = any || size > 0;
      if (!any) {  // nothing to move: done once ordered
        OpPtr done = std::move(enqueuingOp_);
        Settle(std::move(done), nullptr);
        return;
      }
      r = n.ncclGroupStart();
      ncclResult_t first = r;
      for (size_t i = 0; i < op->sizes.size() && (first == ncclSuccess || first == ncclInProgress); i++) {
        if (op->sizes[i] == 0) continue;
        void* ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(op->ptrs[i]));
        ncclResult_t one = op->kind == OpKind::kSend ? n.ncclSend(ptr, op->sizes[i], ncclInt8, op->peer, comm_, s)
                                                     : n.ncclRecv(ptr, op->sizes[i], ncclInt8, op->peer, comm_, s);
        if (one != ncclSuccess && one != ncclInProgress) first = one;
      }
      ncclResult_t end = n.ncclGroupEnd();
      r = (first != ncclSuccess && first != ncclInProgress) ? first : end;
      break;
    }
    case OpKind::kAllreduce: {
      void* ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(op->ptrs[0]));
      if (op->count == 0) {
        OpPtr done = std::move(enqueuingOp_);
        Settle(std::move(done), nullptr);
        return;
      }
      r = n.ncclAllReduce(ptr, ptr, op->count, static_cast<ncclDataType_t>(op->dtype), static_cast<ncclRedOp_t>(op->redop), comm_, s);
      break;
    }
    case OpKind::kBroadcast: {
      void* ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(op->ptrs[0]));
      if (op->bytes() == 0) {
        OpPtr done = std::move(enqueuingOp_);
        Settle(std::move(done), nullptr);
        return;
      }
      r = n.ncclBroadcast(ptr, ptr, op->bytes(), ncclInt8, op->root, comm_, s);
      break;
    }
    case OpKind::kBarrier: {
      void* ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(scratch_));
      r = n.ncclAllReduce(ptr, ptr, 1, ncclInt32, ncclSum, comm_, s);
      break;
    }
  }
  if (r == ncclInProgress) {
    commBusy_ = true;
    backoff_ = kMinBackoff;
    return;
  }
  if (r != ncclSuccess) Break(NcclCode(r), NcclFailure(r, op->Describe()), op);
}

void Engine::RecordEvent(Op* op) {
  CUevent ev = nullptr;
  if (!eventPool_.empty()) {
    ev = eventPool_.back();
    eventPool_.pop_back();
  } else {
    CUresult cr = Cuda().cuEventCreate(&ev, CU_EVENT_DISABLE_TIMING);
    if (cr != CUDA_SUCCESS) {
      Break("NCCL_CUDA", prefix_ + op->Describe() + ": cuEventCreate failed: " + Libraries::Get().CudaErrorName(cr), op);
      return;
    }
  }
  CUresult cr = Cuda().cuEventRecord(ev, config_.stream);
  if (cr != CUDA_SUCCESS) {
    Cuda().cuEventDestroy(ev);
    Break("NCCL_CUDA", prefix_ + op->Describe() + ": cuEventRecord failed: " + Libraries::Get().CudaErrorName(cr), op);
    return;
  }
  op->event = ev;
  backoff_ = kMinBackoff;
}

void Engine::PollEvents() {
  while (!broken_ && !inflight_.empty()) {
    Op* op = inflight_.front().get();
    CUresult q = Cuda().cuEventQuery(op->event);
    if (q == CUDA_ERROR_NOT_READY) return;
    if (q != CUDA_SUCCESS) {
      Break("NCCL_CUDA", prefix_ + op->Describe() + ": cuEventQuery failed: " + Libraries::Get().CudaErrorName(q), op);
      return;
    }
    eventPool_.push_back(op->event);
    op->event = nullptr;
    OpPtr done = std::move(inflight_.front());
    inflight_.pop_front();
    Trace("done " + done->Describe());
    Settle(std::move(done), nullptr);
    backoff_ = kMinBackoff;
  }
}

void Engine::CheckDeadlines() {
  if (broken_) return;
  Clock::time_point now = Clock::now();
  if (connectJob_ && now >= connectDeadline_) {
    std::string waiting;
    switch (stage_) {
      case Stage::kDialing:
        waiting = "rank 0's control channel at " + connect_.rootHost + ":" + std::to_string(connect_.rootPort) + " did not accept";
        break;
      case Stage::kHelloSent: waiting = "rank 0 did not answer this rank's hello"; break;
      case Stage::kAccepting: {
        waiting = "these ranks never joined the control channel:";
        for (int r = 1; r < config_.size; r++)
          if (!peers_[static_cast<size_t>(r)]) waiting += " " + std::to_string(r);
        break;
      }
      case Stage::kNcclInit: waiting = "NCCL's initialization (ncclCommInitRankConfig) did not finish: every rank must take part"; break;
      default: waiting = "the connect did not finish"; break;
    }
    Break("NCCL_TIMEOUT", prefix_ + "connect timed out after " + Ms(config_.timeout) + ": " + waiting);
    return;
  }
  auto expired = [&](const OpPtr& op) { return op && now >= op->deadline; };
  auto fail = [&](Op* op, const std::string& why) {
    Break("NCCL_TIMEOUT", prefix_ + op->Describe() + " timed out after " + Ms(config_.timeout) + " (" + why +
                              "); the communicator was aborted (ncclCommAbort)",
          op);
  };
  for (auto& op : inflight_)
    if (expired(op)) return fail(op.get(), "NCCL did not complete it on the GPU");
  if (expired(enqueuingOp_)) return fail(enqueuingOp_.get(), "NCCL did not finish enqueueing it");
  for (auto& op : ready_)
    if (expired(op)) return fail(op.get(), "it waited behind earlier operations of the group");
  for (auto& op : waiting_) {
    if (!expired(op)) continue;
    std::string why;
    if (op->kind == OpKind::kSend) why = "rank " + std::to_string(op->peer) + " never posted the matching recv with this tag";
    else if (op->kind == OpKind::kRecv) why = "rank " + std::to_string(op->peer) + " never posted the matching send with this tag";
    else why = "not every rank called this collective";
    return fail(op.get(), why);
  }
}

void Engine::AdvanceDestroy() {
  if (!destroyRequested_ || stage_ == Stage::kDone) return;
  if (stage_ == Stage::kFinalizing) {
    ncclResult_t async = ncclSuccess;
    ncclResult_t r = Nccl().ncclCommGetAsyncError(comm_, &async);
    if (r != ncclSuccess) async = r;
    if (async == ncclInProgress && Clock::now() < finalizeDeadline_) return;
    if (async == ncclSuccess) {
      Trace("finalized; ncclCommDestroy");
      Nccl().ncclCommDestroy(comm_);
    } else {
      Trace("finalize did not end well; ncclCommAbort");
      Nccl().ncclCommAbort(comm_);
    }
    comm_ = nullptr;
    Finish();
    return;
  }
  if (!broken_) {
    bool busy = !waiting_.empty() || !ready_.empty() || !inflight_.empty() || enqueuingOp_ || commBusy_ || connectJob_;
    if (busy) {
      Break("NCCL_DESTROYED", prefix_ + "the group was destroyed while operations were pending");
    } else {
      Message bye;
      bye.type = MsgType::kBye;
      bye.rank = static_cast<uint32_t>(config_.rank);
      for (auto& c : peers_)
        if (c && !c->closed()) {
          c->Send(bye);
          c->Drain(kDrainBudget);
        }
      std::lock_guard<std::mutex> lock(mu_);
      brokenState_ = {true, "NCCL_DESTROYED", "the group was destroyed"};
      broken_ = true;
    }
  }
  if (comm_) {
    bool idle = inflight_.empty() && !commBusy_ && !enqueuingOp_;
    ncclResult_t r = idle ? Nccl().ncclCommFinalize(comm_) : ncclInternalError;
    if (r == ncclInProgress) {
      stage_ = Stage::kFinalizing;
      finalizeDeadline_ = Clock::now() + std::min<milliseconds>(config_.timeout, kFinalizeBudget);
      return;
    }
    if (r == ncclSuccess) Nccl().ncclCommDestroy(comm_);
    else Nccl().ncclCommAbort(comm_);
    comm_ = nullptr;
  }
  Finish();
}

void Engine::Finish() {
  {
    // Whatever broke it before, the group is now destroyed here: later calls say so.
    std::lock_guard<std::mutex> lock(mu_);
    std::string before = brokenState_.broken && brokenState_.code != "NCCL_DESTROYED" ? " (after: " + Unprefixed(brokenState_.reason) + ")" : "";
    brokenState_ = {true, "NCCL_DESTROYED", prefix_ + "the group was destroyed" + before};
  }
  broken_ = true;
  if (comm_) {
    Nccl().ncclCommAbort(comm_);
    comm_ = nullptr;
  }
  CloseNetwork();
  ReleaseCuda();
  stage_ = Stage::kDone;
  if (destroyJob_) {
    completer_->Complete(std::move(destroyJob_));
  }
}

void Engine::CloseNetwork() {
  for (auto& c : peers_)
    if (c) c->Close();
  unidentified_.clear();
  if (listenFd_ >= 0) close(listenFd_);
  listenFd_ = -1;
  if (dialFd_ >= 0) close(dialFd_);
  dialFd_ = -1;
}

void Engine::ReleaseCuda() {
  if (!Libraries::Get().ready()) return;
  for (CUevent ev : eventPool_) Cuda().cuEventDestroy(ev);
  eventPool_.clear();
  if (scratch_) Cuda().cuMemFree(scratch_);
  scratch_ = 0;
}

void Engine::Settle(OpPtr op, const ErrorInfo* error) {
  if (op->event) {
    Cuda().cuEventDestroy(op->event);  // legal while a record is pending: released when it completes
    op->event = nullptr;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_--;
  }
  if (!op->job) return;
  if (error) op->job->Fail(*error);
  completer_->Complete(std::move(op->job));
}

void Engine::Break(const std::string& code, const std::string& text, Op* culprit, bool abortComm) {
  if (broken_) return;
  broken_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    brokenState_ = {true, code, text};
  }
  Trace("broken: " + code + ": " + text);
  // Tell the peers first, so that they stop waiting on NCCL for this rank as soon as possible.
  Message fail;
  fail.type = MsgType::kFail;
  fail.rank = static_cast<uint32_t>(config_.rank);
  fail.code = code;
  fail.text = text;
  for (auto& c : peers_)
    if (c && !c->closed() && (config_.rank == 0 || c->rank == 0)) {
      c->Send(fail);
      c->Drain(kDrainBudget);
    }
  CloseNetwork();
  // After ncclCommAbort returns NCCL touches none of the tensors: only then fail the operations
  // (their JavaScript side may free the memory as soon as they reject).
  if (comm_ && abortComm) {
    Trace("ncclCommAbort");
    Nccl().ncclCommAbort(comm_);
    comm_ = nullptr;
  }
  commBusy_ = false;
  std::string others = prefix_ + "the group is broken: " + Unprefixed(text);
  auto failOne = [&](OpPtr op) {
    ErrorInfo e{code, op.get() == culprit ? text : others};
    Settle(std::move(op), &e);
  };
  if (enqueuingOp_) failOne(std::move(enqueuingOp_));
  while (!inflight_.empty()) {
    OpPtr op = std::move(inflight_.front());
    inflight_.pop_front();
    failOne(std::move(op));
  }
  while (!ready_.empty()) {
    OpPtr op = std::move(ready_.front());
    ready_.pop_front();
    failOne(std::move(op));
  }
  while (!waiting_.empty()) {
    OpPtr op = std::move(waiting_.front());
    waiting_.pop_front();
    failOne(std::move(op));
  }
  if (connectJob_) {
    connectJob_->Fail(ErrorInfo{code, text});
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_--;
    }
    completer_->Complete(std::move(connectJob_));
  }
}

std::string Engine::Unprefixed(const std::string& text) const {
  return text.compare(0, prefix_.size(), prefix_) == 0 ? text.substr(prefix_.size()) : text;
}

std::string Engine::NcclCode(ncclResult_t r) {
  switch (r) {
    case ncclUnhandledCudaError: return "NCCL_UNHANDLED_CUDA_ERROR";
    case ncclSystemError: return "NCCL_SYSTEM_ERROR";
    case ncclInternalError: return "NCCL_INTERNAL_ERROR";
    case ncclInvalidArgument: return "NCCL_INVALID_ARGUMENT";
    case ncclInvalidUsage: return "NCCL_INVALID_USAGE";
    case ncclRemoteError: return "NCCL_REMOTE_ERROR";
    case ncclTimeout: return "NCCL_TIMEOUT";
    default: return "NCCL_ERROR";
  }
}

std::string Engine::NcclFailure(ncclResult_t r, const std::string& what) const {
  std::string text = prefix_ + what + ": NCCL " + Libraries::ResultName(r) + " (" + Libraries::Get().ResultText(r) + ")";
  const char* last = comm_ && Nccl().ncclGetLastError ? Nccl().ncclGetLastError(comm_) : nullptr;
  if (!last && Nccl().ncclGetLastError) last = Nccl().ncclGetLastError(nullptr);
  if (last && *last) text += ": " + std::string(last);
  return text;
}

}  // namespace twnccl
