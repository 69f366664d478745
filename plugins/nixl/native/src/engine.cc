// engine.cc: progress thread, endpoints, remote keys and reads (see engine.h).
#include "engine.h"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <cstdlib>

#include "cuda_link.h"
#include "ucx_status.h"

namespace twnixl {

using tensorwire::CodedError;
using tensorwire::ErrorInfo;

namespace {
// After the last activity the thread keeps polling this long (a peer reading our Node-allocated
// memory needs our worker to answer quickly), then it naps in short slices.
constexpr auto kSpinWindow = std::chrono::milliseconds(2);
// Longest sleep on the worker's event fd (a safety net: events and Submit wake it earlier).
constexpr int kSleepMs = 100;
constexpr auto kPeerCheckEvery = std::chrono::milliseconds(50);
constexpr auto kStopGrace = std::chrono::milliseconds(500);
// In error mode NONE a forced close does not complete requests that wait for a dead (or stopped)
// peer; after this grace the read is settled anyway and its buffers are kept until UCX lets go.
constexpr auto kAbandonGrace = std::chrono::milliseconds(200);
// A retired reader worker (see Engine::reader_) is destroyed this long after it was retired.
constexpr auto kRetireGrace = std::chrono::seconds(1);
// A producer's pinned chunk lent to a read that never gave it back (UNSTAGE) returns to the pool
// this long after the reader's own deadline: by then the reader has failed the read, so it uses
// nothing it may still get from the chunk.
constexpr auto kLeaseGrace = std::chrono::seconds(2);
constexpr auto kLeaseCheckEvery = std::chrono::milliseconds(100);
// A reply endpoint unused this long is closed (a consumer may have gone or retired its worker).
constexpr auto kReplyIdle = std::chrono::seconds(30);
constexpr auto kReplyCloseGiveUp = std::chrono::seconds(5);

/** Whether a local process is gone (or a zombie): reads of its memory can never complete. */
bool ProcessIsDead(int pid) {
  if (pid <= 0) return false;
  if (kill(pid, 0) == -1) return errno == ESRCH;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return false;
  auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

/**
 * UCX 1.13's shared-memory transports (sysv, posix, cma) do not support UCP_ERR_HANDLING_MODE_PEER:
 * asking for it leaves only tcp (about 1 GB/s, and no one-sided pool copies). So a producer on this
 * host (pid known) is reached in mode NONE and watched by its pid; a remote one uses mode PEER
 * (UCX keepalive). TENSORWIRE_NIXL_ERR_MODE=peer|none overrides the choice.
 */
ucp_err_handling_mode_t ErrorModeFor(int peerPid) {
  const char* forced = std::getenv("TENSORWIRE_NIXL_ERR_MODE");
  if (forced && std::string(forced) == "peer") return UCP_ERR_HANDLING_MODE_PEER;
  if (forced && std::string(forced) == "none") return UCP_ERR_HANDLING_MODE_NONE;
  return peerPid > 0 ? UCP_ERR_HANDLING_MODE_NONE : UCP_ERR_HANDLING_MODE_PEER;
}

std::string Bytes(size_t n) {
  return std::to_string(n) + " bytes";
}
}  // namespace

ucp_worker_h Engine::CreateWorker() {
  ucp_worker_params_t wp{};
  wp.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
  wp.thread_mode = UCS_THREAD_MODE_SINGLE;  // only the progress thread touches the worker
  ucp_worker_h w = nullptr;
  ucs_status_t st = ucp_worker_create(ctx_->handle, &wp, &w);
  if (st != UCS_OK) ThrowUcs("UCX_INIT_FAILED", "ucp_worker_create", st);
  SetAmHandlers(w);
  return w;
}

void Engine::SetAmHandlers(ucp_worker_h w) {
  for (AmTarget& target : amTargets_) {
    ucp_am_handler_param_t p{};
    p.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB | UCP_AM_HANDLER_PARAM_FIELD_ARG |
                   UCP_AM_HANDLER_PARAM_FIELD_FLAGS;
    p.id = target.id;
    p.cb = &Engine::OnAm;
    p.arg = &target;
    p.flags = UCP_AM_FLAG_WHOLE_MSG;
    ucs_status_t st = ucp_worker_set_am_recv_handler(w, &p);
    if (st != UCS_OK) {
      ucp_worker_destroy(w);
      ThrowUcs("UCX_INIT_FAILED", "ucp_worker_set_am_recv_handler", st);
    }
  }
}

Engine::Engine(ContextPtr ctx, std::shared_ptr<DeviceTable> devices, std::shared_ptr<PinnedPool> pinned, Stager* stager,
               Completion onComplete)
    : ctx_(std::move(ctx)),
      devices_(std::move(devices)),
      pinned_(std::move(pinned)),
      stager_(stager),
      onComplete_(std::move(onComplete)),
      amTargets_{{this, kAmStageRequest}, {this, kAmStageReply}, {this, kAmUnstage}} {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) == 0) hostName_ = host;
  std::random_device rd;
  leaseSalt_ = (uint64_t(rd()) << 32) ^ rd();
  worker_ = CreateWorker();
  try {
    reader_ = CreateWorker();
  } catch (...) {
    ucp_worker_destroy(worker_);
    throw;
  }
  ucp_address_t* addr = nullptr;
  size_t len = 0;
  ucs_status_t st = ucp_worker_get_address(worker_, &addr, &len);
  if (st != UCS_OK) {
    ucp_worker_destroy(reader_);
    ucp_worker_destroy(worker_);
    ThrowUcs("UCX_INIT_FAILED", "ucp_worker_get_address", st);
  }
  address_.assign(reinterpret_cast<const char*>(addr), len);
  ucp_worker_release_address(worker_, addr);

  st = ucp_worker_get_efd(worker_, &workerFd_);
  if (st != UCS_OK) workerFd_ = -1;  // fall back to short naps
  wakeFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  lastPeerCheck_ = lastLeaseCheck_ = Clock::now();
  thread_ = std::thread([this] { Run(); });
}

Engine::~Engine() { Stop(); }

void Engine::Submit(ReadRequest req) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stop_) {
      onComplete_(req.id, ErrorInfo{"NIXL_CLOSED", "the nixl endpoint is closed"}, Settle::kDone);
      return;
    }
    queue_.push_back(std::move(req));
    ++statPending_;
  }
  Wake();
}

void Engine::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (tasksClosed_) return;  // the thread is gone: the task (and what it holds) is dropped here
    tasks_.push_back(std::move(task));
  }
  Wake();
}

void Engine::RunTasks() {
  std::deque<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lk(mu_);
    tasks.swap(tasks_);
  }
  for (auto& task : tasks) task();
}

ucs_status_t Engine::OnAm(void* arg, const void*, size_t, void* data, size_t length, const ucp_am_recv_param_t* param) {
  auto* target = static_cast<AmTarget*>(arg);
  // Staging messages are small and sent eagerly; a rendezvous one is not ours: dropped.
  if (param && (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV)) return UCS_OK;
  // Handled after progress returns (no UCP calls from inside a callback).
  target->engine->inbox_.emplace_back(target->id, std::string(static_cast<const char*>(data), data ? length : 0));
  return UCS_OK;
}

void Engine::DrainInbox() {
  std::vector<std::pair<uint16_t, std::string>> inbox;
  inbox.swap(inbox_);
  for (auto& [id, bytes] : inbox) {
    if (id == kAmStageRequest) {
      StageRequest m;
      if (Decode(bytes.data(), bytes.size(), &m)) OnStageRequest(m);
    } else if (id == kAmStageReply) {
      StageReply m;
      if (Decode(bytes.data(), bytes.size(), &m)) OnStageReply(m);
    } else if (id == kAmUnstage) {
      std::vector<uint64_t> leases;
      if (DecodeUnstage(bytes.data(), bytes.size(), &leases)) OnUnstage(leases);
    }
  }
}

void Engine::SendOwned(ucp_ep_h ep, uint16_t id, std::string bytes) {
  auto* owned = new std::string(std::move(bytes));
  ucp_request_param_t p{};
  p.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA | UCP_OP_ATTR_FIELD_FLAGS;
  p.flags = UCP_AM_SEND_FLAG_EAGER;
  p.user_data = owned;
  p.cb.send = [](void* request, ucs_status_t, void* user) {
    delete static_cast<std::string*>(user);
    ucp_request_free(request);
  };
  ucs_status_ptr_t sp = ucp_am_send_nbx(ep, id, nullptr, 0, owned->data(), owned->size(), &p);
  if (!UCS_PTR_IS_PTR(sp)) delete owned;  // done in place, or failed (a lost message: its deadline covers it)
}

const std::string& Engine::AddressOf(ucp_worker_h w) {
  auto it = workerAddresses_.find(w);
  if (it != workerAddresses_.end()) return it->second;
  std::string address;
  ucp_address_t* addr = nullptr;
  size_t len = 0;
  if (ucp_worker_get_address(w, &addr, &len) == UCS_OK) {
    address.assign(reinterpret_cast<const char*>(addr), len);
    ucp_worker_release_address(w, addr);
  }
  return workerAddresses_[w] = address;
}

void Engine::Wake() {
  cv_.notify_one();
  if (wakeFd_ >= 0) {
    uint64_t one = 1;
    ssize_t n = write(wakeFd_, &one, sizeof(one));
    (void)n;
  }
}

void Engine::Sleep() {
  if (workerFd_ < 0 || wakeFd_ < 0) {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait_for(lk, std::chrono::microseconds(200), [this] { return !queue_.empty() || !tasks_.empty() || stop_.load(); });
    return;
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!queue_.empty() || !tasks_.empty() || stop_) return;
  }
  // Arm, then sleep until the worker has an event (a peer's request, a completion) or Submit/Stop.
  if (ucp_worker_arm(worker_) == UCS_ERR_BUSY) return;
  pollfd fds[2] = {{workerFd_, POLLIN, 0}, {wakeFd_, POLLIN, 0}};
  poll(fds, 2, kSleepMs);
  if (fds[1].revents & POLLIN) {
    uint64_t v;
    ssize_t n = read(wakeFd_, &v, sizeof(v));
    (void)n;
  }
}

void Engine::Stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stopped_) return;
    stopped_ = true;
    stop_ = true;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
  if (wakeFd_ >= 0) close(wakeFd_);
  wakeFd_ = -1;
}

Engine::Stats Engine::stats() const {
  return Stats{statEndpoints_.load(), statRkeys_.load(), statPending_.load(), statRetired_.load(),
               statLeases_.load(),    statStagings_.load(), statReplyEps_.load()};
}

Endpoint* Engine::GetEndpoint(const ReadRequest& req, ErrorInfo& err) {
  auto it = endpoints_.find(req.peerAddress);
  if (it != endpoints_.end()) return it->second;
  auto* ep = new Endpoint();
  ep->address = req.peerAddress;
  ep->peerName = req.peerName;
  ep->pid = req.peerPid;
  ep->engine = this;
  ucp_ep_params_t p{};
  p.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE |
                 UCP_EP_PARAM_FIELD_ERR_HANDLER;
  p.address = reinterpret_cast<const ucp_address_t*>(ep->address.data());
  p.err_mode = ErrorModeFor(req.peerPid);
  p.err_handler.cb = &Engine::OnEndpointError;
  p.err_handler.arg = ep;
  ep->worker = reader_;
  ucs_status_t st = ucp_ep_create(reader_, &p, &ep->handle);
  if (st != UCS_OK) {
    delete ep;
    // Unreachable: no transport in common, typically a loopback-only agent and one on another host.
    const char* hint = st == UCS_ERR_UNREACHABLE
                           ? "; the two agents share no network device (both must opt in to the network: "
                             "transportOptions.nixl host or netDevices, see the nixl README)"
                           : "; the source agent may have died";
    err = ErrorInfo{"UCX_CONNECT_FAILED", "cannot connect to agent '" + req.peerName + "' (ucp_ep_create: " +
                                              ucs_status_string(st) + ")" + hint};
    return nullptr;
  }
  endpoints_[ep->address] = ep;
  statEndpoints_ = endpoints_.size();
  ucp_request_param_t fp{};
  ucs_status_ptr_t flush = ucp_ep_flush_nbx(ep->handle, &fp);
  if (UCS_PTR_IS_PTR(flush))
    ep->flushRequest = flush;
  else
    ep->ready = true;  // wired up already (or failed: the reads then fail with UCX's status)
  return ep;
}

ucp_rkey_h Engine::GetRkey(Endpoint* ep, const std::string& packed, ErrorInfo& err) {
  auto it = ep->rkeys.find(packed);
  if (it != ep->rkeys.end()) return it->second;
  ucp_rkey_h rkey = nullptr;
  ucs_status_t st = ucp_ep_rkey_unpack(ep->handle, packed.data(), &rkey);
  if (st != UCS_OK) {
    err = ErrorInfo{"UCX_RKEY_INVALID", std::string("cannot unpack the remote key of agent '") + ep->peerName +
                                            "': " + ucs_status_string(st)};
    return nullptr;
  }
  ep->rkeys.emplace(packed, rkey);
  ++statRkeys_;
  return rkey;
}

void Engine::PollEndpointsReady() {
  for (auto& kv : endpoints_) {
    Endpoint* ep = kv.second;
    if (ep->ready || !ep->flushRequest || ucp_request_check_status(ep->flushRequest) == UCS_INPROGRESS) continue;
    ucp_request_free(ep->flushRequest);
    ep->flushRequest = nullptr;
    ep->ready = true;
    std::vector<ReadJob*> waiting;
    waiting.swap(ep->waiting);
    for (ReadJob* job : waiting) {
      job->waitingForEp = false;
      if (job->error.empty()) PostPhase(job);
    }
  }
}

unsigned Engine::ProgressAll() {
  unsigned n = ucp_worker_progress(worker_) + ucp_worker_progress(reader_);
  for (const RetiredWorker& r : retired_) n += ucp_worker_progress(r.worker);
  return n;
}

void Engine::RetireReader(ucp_worker_h poisoned) {
  if (poisoned != reader_) return;  // retired already
  ucp_worker_h fresh;
  try {
    fresh = CreateWorker();
  } catch (const std::exception&) {
    return;  // keep reading on the old worker: later reads may time out, none hangs
  }
  retired_.push_back(RetiredWorker{reader_, Clock::now()});
  reader_ = fresh;
  ++statRetired_;
  // Later reads must not reuse endpoints of the poisoned worker: they leave the cache. One with
  // reads in flight is closed once they are over (ReapEndpoints), so a healthy peer's read is
  // not cancelled by it.
  for (auto it = endpoints_.begin(); it != endpoints_.end();) {
    Endpoint* ep = it->second;
    if (ep->worker != poisoned) {
      ++it;
      continue;
    }
    it = endpoints_.erase(it);
    if (ep->jobs.empty()) {
      CloseEndpoint(ep);
    } else {
      ep->closing = true;
      dying_.push_back(ep);
    }
  }
  statEndpoints_ = endpoints_.size();
}

void Engine::DestroyRetired(bool force) {
  auto now = Clock::now();
  for (size_t i = 0; i < retired_.size();) {
    ucp_worker_h w = retired_[i].worker;
    auto onW = [w](Endpoint* ep) { return ep->worker == w; };
    bool liveReads = std::any_of(dying_.begin(), dying_.end(), [&](Endpoint* ep) { return onW(ep) && !ep->jobs.empty(); });
    if (!force && (now - retired_[i].since < kRetireGrace || liveReads)) {
      ++i;
      continue;
    }
    // Remote keys that requests still in UCX point at are left to the worker's own teardown (UCX
    // 1.13 may replay such a request: see the README's known limits); the others go first.
    for (Endpoint* ep : dying_) {
      if (!onW(ep)) continue;
      if (ep->lateJobs == 0) {
        for (auto& kv : ep->rkeys) ucp_rkey_destroy(kv.second);
      }
      statRkeys_ -= ep->rkeys.size();
      for (ReadJob* job : ep->jobs) job->ep = nullptr;  // only at Stop (force): reads already settled
    }
    // Abandoned reads on it end here: their requests go with the worker, no callback can come.
    for (size_t j = 0; j < abandoned_.size();) {
      ReadJob* job = abandoned_[j];
      if (!job->lateEp || !onW(job->lateEp)) {
        ++j;
        continue;
      }
      onComplete_(job->req.id, job->error, Settle::kLate);
      GiveBack(job);
      delete job;
      abandoned_[j] = abandoned_.back();
      abandoned_.pop_back();
    }
    for (size_t j = 0; j < dying_.size();) {
      if (!onW(dying_[j])) {
        ++j;
        continue;
      }
      delete dying_[j];
      dying_[j] = dying_.back();
      dying_.pop_back();
    }
    workerAddresses_.erase(w);
    ucp_worker_destroy(w);
    retired_[i] = retired_.back();
    retired_.pop_back();
  }
}

void Engine::SetError(ReadJob* job, ErrorInfo error) {
  if (!job->error.empty()) return;
  job->error = std::move(error);
  job->failedAt = Clock::now();
}

void Engine::AbandonStuckJobs() {
  auto now = Clock::now();
  for (ReadJob* job : std::vector<ReadJob*>(jobs_)) {
    if (job->error.empty() || job->outstanding == 0 || now - job->failedAt < kAbandonGrace) continue;
    if (job->ep) {
      auto& v = job->ep->jobs;
      v.erase(std::remove(v.begin(), v.end(), job), v.end());
      // UCX still holds requests that use this endpoint's remote keys: keep them until it lets go.
      job->lateEp = job->ep;
      ++job->lateEp->lateJobs;
      job->ep = nullptr;
    }
    jobs_.erase(std::remove(jobs_.begin(), jobs_.end(), job), jobs_.end());
    if (job->lateEp) RetireReader(job->lateEp->worker);
    job->abandoned = true;
    abandoned_.push_back(job);
    --statPending_;
    onComplete_(job->req.id, job->error, Settle::kAbandoned);
  }
  for (size_t i = 0; i < abandoned_.size();) {
    ReadJob* job = abandoned_[i];
    if (job->outstanding == 0) {
      if (job->lateEp) --job->lateEp->lateJobs;  // ReapEndpoints may now free its keys
      onComplete_(job->req.id, job->error, Settle::kLate);
      GiveBack(job);
      delete job;
      abandoned_[i] = abandoned_.back();
      abandoned_.pop_back();
    } else {
      ++i;
    }
  }
}

void Engine::OnOpDone(void* request, ucs_status_t status, void* user) {
  auto* job = static_cast<ReadJob*>(user);
  --job->outstanding;
  if (job->abandoned) {
    ucp_request_free(request);
    return;
  }
  if (status != UCS_OK && job->error.empty()) {
    Endpoint* ep = job->ep;
    if (ep && ep->failed) {
      job->error = ErrorInfo{"UCX_ENDPOINT_FAILED", "read from agent '" + job->req.peerName +
                                                        "' failed: the source agent may have died (" + ep->failure + ")"};
    } else if (IsPeerFailure(status)) {
      job->error = ErrorInfo{"UCX_ENDPOINT_FAILED", "read from agent '" + job->req.peerName +
                                                        "' failed: the source agent may have died (" +
                                                        ucs_status_string(status) + ")"};
    } else {
      job->error = ErrorInfo{"UCX_ERROR", std::string("ucp_get_nbx failed: ") + ucs_status_string(status)};
    }
  }
  ucp_request_free(request);
}

void Engine::OnEndpointError(void* arg, ucp_ep_h, ucs_status_t status) {
  auto* ep = static_cast<Endpoint*>(arg);
  auto* self = static_cast<Engine*>(ep->engine);
  if (ep->failed) return;
  // Closing from inside the callback is not allowed; the loop does it right after progress.
  self->errors_.emplace_back(ep, std::string("UCX reported ") + ucs_status_string(status));
}

void Engine::FailEndpoint(Endpoint* ep, const std::string& why) {
  if (ep->failed) return;
  ep->failed = true;
  ep->failure = why;
  auto it = endpoints_.find(ep->address);
  if (it != endpoints_.end() && it->second == ep) endpoints_.erase(it);
  statEndpoints_ = endpoints_.size();
  for (ReadJob* job : ep->jobs) {
    SetError(job, ErrorInfo{"UCX_ENDPOINT_FAILED",
                            "read from agent '" + job->req.peerName + "' failed: the source agent may have died (" + why + ")"});
  }
  CloseEndpoint(ep);
}

void Engine::CloseEndpoint(Endpoint* ep) {
  if (!ep->closing) {
    ep->closing = true;
    dying_.push_back(ep);
  }
  if (ep->closeIssued) return;
  ep->closeIssued = true;
  // A forced close completes every outstanding request on the endpoint (status CANCELED or the
  // failure), so no read writes into its destination after the Promise settled. Error mode NONE
  // refuses it (UCS_ERR_INVALID_PARAM): such a UCP endpoint stays with its worker until Stop.
  ucp_request_param_t p{};
  p.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
  p.flags = UCP_EP_CLOSE_FLAG_FORCE;
  ucs_status_ptr_t req = ucp_ep_close_nbx(ep->handle, &p);
  ep->closeRequest = UCS_PTR_IS_PTR(req) ? req : nullptr;
}

void Engine::ReapEndpoints(bool force) {
  for (size_t i = 0; i < dying_.size();) {
    Endpoint* ep = dying_[i];
    if (!ep->closeIssued && ep->jobs.empty() && ep->lateJobs == 0) CloseEndpoint(ep);  // a retired one
    if (ep->closeRequest && ucp_request_check_status(ep->closeRequest) != UCS_INPROGRESS) {
      ucp_request_free(ep->closeRequest);
      ep->closeRequest = nullptr;
    }
    if (ep->flushRequest && ucp_request_check_status(ep->flushRequest) != UCS_INPROGRESS) {
      ucp_request_free(ep->flushRequest);
      ep->flushRequest = nullptr;
    }
    bool idle = !ep->closeRequest && !ep->flushRequest && ep->jobs.empty() && ep->lateJobs == 0;
    if (idle || force) {
      // Keys that requests still in UCX point at are leaked on purpose (at shutdown only).
      if (ep->jobs.empty() && ep->lateJobs == 0) {
        for (auto& kv : ep->rkeys) ucp_rkey_destroy(kv.second);
        statRkeys_ -= ep->rkeys.size();
      }
      if (idle) delete ep;  // else leaked on purpose: UCX may still call back into it
      dying_[i] = dying_.back();
      dying_.pop_back();
    } else {
      ++i;
    }
  }
}

void Engine::StartJob(ReadJob* job) {
  jobs_.push_back(job);
  static thread_local std::mt19937_64 nonces{std::random_device{}()};
  job->nonce = nonces();
  Endpoint* ep = GetEndpoint(job->req, job->error);
  if (!ep) return;
  job->ep = ep;
  ep->jobs.push_back(job);
  if (ep->pid > 0 && ProcessIsDead(ep->pid)) {
    FailEndpoint(ep, "process " + std::to_string(ep->pid) + " has exited");
    return;
  }
  // Each new producer registration has new packed bytes; bound the cache so that a long-lived
  // connection to a busy producer does not grow without limit. Only when no other read on this
  // endpoint holds keys from it.
  if (ep->rkeys.size() >= 4096 && ep->jobs.size() == 1 && ep->lateJobs == 0) {
    for (auto& kv : ep->rkeys) ucp_rkey_destroy(kv.second);
    statRkeys_ -= ep->rkeys.size();
    ep->rkeys.clear();
  }
  bool registered = false;  // a non-empty region of memory the producer registered (not staged)
  for (const ReadRegion& r : job->req.regions) {
    ucp_rkey_h k = nullptr;
    if (r.size > 0 && !r.staged) {
      registered = true;
      k = GetRkey(ep, r.rkey, job->error);
      if (!k) return;
    }
    job->dataKeys.push_back(k);  // a staged region's key comes with the stage reply
  }
  if (registered && !job->req.genRkey.empty()) {
    job->genKey = GetRkey(ep, job->req.genRkey, job->error);
    if (!job->genKey) return;
  }
  job->phase = job->genKey ? 1 : 2;
  if (!ep->ready) {
    job->waitingForEp = true;
    ep->waiting.push_back(job);
    return;
  }
  PostPhase(job);
}

void Engine::PostPhase(ReadJob* job) {
  if (job->phase == 2) {
    bool staged = std::any_of(job->req.regions.begin(), job->req.regions.end(),
                              [](const ReadRegion& r) { return r.staged && r.size > 0; });
    if (staged) {
      SendStageRequest(job);
      return;
    }
    job->phase = 3;
  }
  ucp_request_param_t p{};
  p.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
  p.cb.send = &Engine::OnOpDone;
  p.user_data = job;
  ucp_request_param_t toDevice = p;  // a destination in CUDA memory (CUDA-capable UCX)
  toDevice.op_attr_mask |= UCP_OP_ATTR_FIELD_MEMORY_TYPE;
  toDevice.memory_type = UCS_MEMORY_TYPE_CUDA;
  auto& regions = job->req.regions;
  if (job->phase == 1) job->genScratch.assign(regions.size(), 0);
  for (size_t i = 0; i < regions.size() && job->error.empty(); ++i) {
    const ReadRegion& r = regions[i];
    if (r.size == 0 || (job->phase == 1 && r.staged)) continue;  // the producer checks staged ones
    ucs_status_ptr_t sp;
    if (job->phase == 1) {
      sp = ucp_get_nbx(job->ep->handle, &job->genScratch[i], sizeof(uint64_t), r.genAddr, job->genKey, &p);
    } else if (r.directDst) {
      sp = ucp_get_nbx(job->ep->handle, reinterpret_cast<void*>(static_cast<uintptr_t>(r.dstPtr)), r.size, r.remoteAddr,
                       job->dataKeys[i], &toDevice);
    } else {
      sp = ucp_get_nbx(job->ep->handle, r.dst, r.size, r.remoteAddr, job->dataKeys[i], &p);
    }
    if (sp == nullptr) continue;  // completed in place (e.g. a shared-memory copy)
    if (UCS_PTR_IS_ERR(sp)) {
      ucs_status_t st = UCS_PTR_STATUS(sp);
      job->error = IsPeerFailure(st)
                       ? ErrorInfo{"UCX_ENDPOINT_FAILED", "read from agent '" + job->req.peerName +
                                                              "' failed: the source agent may have died (" +
                                                              ucs_status_string(st) + ")"}
                       : ErrorInfo{"UCX_ERROR", std::string("ucp_get_nbx: ") + ucs_status_string(st)};
      break;
    }
    ++job->outstanding;
  }
}

void Engine::CheckFinished(ReadJob* job) {
  if (job->outstanding > 0 || job->copying) return;
  if (job->error.empty() && job->phase == 1) {
    const auto& regions = job->req.regions;
    for (size_t i = 0; i < regions.size(); ++i) {
      if (regions[i].size > 0 && !regions[i].staged && job->genScratch[i] != regions[i].token) {
        job->error = ErrorInfo{"NIXL_REGISTRATION_RELEASED",
                               "region " + std::to_string(i) + " (" + Bytes(regions[i].size) + ") of agent '" +
                                   job->req.peerName +
                                   "' is no longer registered: its producer released it (or re-registered the memory)"};
        break;
      }
    }
    if (job->error.empty()) {
      job->phase = 2;
      PostPhase(job);
      if (job->outstanding > 0 || job->awaitingStage) return;
    }
  }
  if (job->error.empty() && job->awaitingStage) return;
  if (job->error.empty() && job->phase == 3) {
    // The data is here: the producer's pinned chunks can go back at once.
    if (!job->leases.empty() && job->ep && !job->ep->failed) SendUnstage(job->ep, std::move(job->leases));
    job->leases.clear();
    StartCopies(job);
    if (job->copying) return;
  }
  Finish(job);
}

void Engine::Finish(ReadJob* job) {
  if (job->ep) {
    auto& v = job->ep->jobs;
    v.erase(std::remove(v.begin(), v.end(), job), v.end());
    auto& w = job->ep->waiting;
    w.erase(std::remove(w.begin(), w.end(), job), w.end());
    if (!job->leases.empty() && !job->ep->failed) SendUnstage(job->ep, std::move(job->leases));
  }
  jobs_.erase(std::remove(jobs_.begin(), jobs_.end(), job), jobs_.end());
  --statPending_;
  GiveBack(job);  // before the Promise settles: the caller's next read finds the chunks cached
  onComplete_(job->req.id, job->error, Settle::kDone);
  delete job;
}

void Engine::GiveBack(ReadJob* job) {
  for (PinnedChunkPtr& chunk : job->req.pinned) {
    if (chunk) GiveToPool(std::move(chunk));
  }
  job->req.pinned.clear();
}

void Engine::GiveToPool(PinnedChunkPtr chunk) {
  if (!pinned_) return;
  std::vector<PinnedChunkPtr> evicted = pinned_->Give(std::move(chunk));
  // Unmapping and cuMemFreeHost are slow: done on the staging thread, not here.
  if (!evicted.empty() && stager_) stager_->Post([evicted]() {});
}

// --- The staging path, consumer side ---------------------------------------------------------

void Engine::SendStageRequest(ReadJob* job) {
  StageRequest m;
  m.readId = job->req.id;
  m.nonce = job->nonce;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(job->req.deadline - Clock::now()).count();
  m.ttlMs = static_cast<uint32_t>(std::max<int64_t>(0, std::min<int64_t>(left, UINT32_MAX)));
  m.pid = static_cast<int32_t>(getpid());
  m.host = hostName_;
  m.replyAddress = AddressOf(job->ep->worker);
  for (const ReadRegion& r : job->req.regions) {
    if (r.staged && r.size > 0) m.entries.push_back(StageEntry{r.reg, r.token, r.size});
  }
  job->stageMessage = Encode(m);
  job->awaitingStage = true;
  ucp_request_param_t p{};
  p.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA | UCP_OP_ATTR_FIELD_FLAGS;
  p.flags = UCP_AM_SEND_FLAG_EAGER;
  p.cb.send = &Engine::OnOpDone;
  p.user_data = job;
  ucs_status_ptr_t sp = ucp_am_send_nbx(job->ep->handle, kAmStageRequest, nullptr, 0, job->stageMessage.data(),
                                        job->stageMessage.size(), &p);
  if (UCS_PTR_IS_PTR(sp)) {
    ++job->outstanding;
  } else if (UCS_PTR_IS_ERR(sp)) {
    ucs_status_t st = UCS_PTR_STATUS(sp);
    job->awaitingStage = false;
    job->error = IsPeerFailure(st) ? ErrorInfo{"UCX_ENDPOINT_FAILED", "asking agent '" + job->req.peerName +
                                                                          "' to stage its CUDA tensors failed: the source agent may have died (" +
                                                                          ucs_status_string(st) + ")"}
                                   : ErrorInfo{"UCX_ERROR", std::string("ucp_am_send_nbx: ") + ucs_status_string(st)};
  }
}

void Engine::OnStageReply(const StageReply& reply) {
  auto it = std::find_if(jobs_.begin(), jobs_.end(), [&](ReadJob* j) {
    return j->req.id == reply.readId && j->nonce == reply.nonce && j->awaitingStage;
  });
  std::vector<uint64_t> leases;
  for (const StagedRegion& r : reply.regions) leases.push_back(r.lease);
  if (it == jobs_.end()) return;  // the read is over (failed): its leases expire on the producer
  ReadJob* job = *it;
  job->awaitingStage = false;
  job->leases = leases;
  if (!job->error.empty()) return;  // Finish sends them back
  if (!reply.code.empty()) {
    SetError(job, ErrorInfo{reply.code, "agent '" + job->req.peerName + "': " + reply.message});
    return;
  }
  auto& regions = job->req.regions;
  size_t k = 0;
  for (size_t i = 0; i < regions.size(); ++i) {
    if (!regions[i].staged || regions[i].size == 0) continue;
    if (k >= reply.regions.size()) break;
    const StagedRegion& staged = reply.regions[k++];
    regions[i].remoteAddr = staged.addr;
    job->dataKeys[i] = GetRkey(job->ep, staged.rkey, job->error);
    if (!job->dataKeys[i]) return;
  }
  if (k != reply.regions.size() || k != static_cast<size_t>(std::count_if(regions.begin(), regions.end(), [](const ReadRegion& r) {
        return r.staged && r.size > 0;
      }))) {
    SetError(job, ErrorInfo{"UCX_ERROR", "agent '" + job->req.peerName + "' staged " + std::to_string(reply.regions.size()) +
                                             " region(s), not the ones asked for"});
    return;
  }
  job->phase = 3;
  PostPhase(job);
}

void Engine::SendUnstage(Endpoint* ep, std::vector<uint64_t> leases) {
  if (leases.empty() || !ep || !ep->handle) return;
  SendOwned(ep->handle, kAmUnstage, EncodeUnstage(leases));
}

void Engine::StartCopies(ReadJob* job) {
  std::vector<CopyOp> ops;
  auto& regions = job->req.regions;
  for (size_t i = 0; i < regions.size(); ++i) {
    if (i < job->req.pinned.size() && job->req.pinned[i]) {
      ops.push_back(CopyOp{false, regions[i].dstDevice, regions[i].dstPtr, job->req.pinned[i]->host, regions[i].size});
    }
  }
  if (ops.empty()) return;
  job->phase = 4;
  job->copying = true;
  bool posted = stager_ && stager_->Post([this, job, ops, stager = stager_] {
    ErrorInfo error;
    try {
      stager->Copy(ops);
    } catch (...) {
      error = tensorwire::CaptureError(std::current_exception(), "NIXL_CUDA_FAILED");
    }
    Post([this, job, error] {
      job->copying = false;
      if (!error.empty()) SetError(job, error);
      Finish(job);
    });
  });
  if (!posted) {
    job->copying = false;
    SetError(job, ErrorInfo{"NIXL_CLOSED", "the nixl endpoint was closed during the read"});
  }
}

// --- The staging path, producer side ---------------------------------------------------------

namespace {
/** Registrations pinned for one staging copy; unpinned when the copy is over (any thread). */
struct PinSet {
  std::shared_ptr<DeviceTable> table;
  std::vector<uint32_t> ids;
  ~PinSet() {
    for (uint32_t id : ids) table->Unpin(id);
  }
};
}  // namespace

void Engine::OnStageRequest(const StageRequest& request) {
  // The reply endpoint first: without it no answer can reach the consumer (its deadline covers it).
  auto found = replyEps_.find(request.replyAddress);
  ReplyEndpoint* rep = found == replyEps_.end() ? nullptr : found->second;
  if (rep && rep->failed) rep = nullptr;
  if (!rep) {
    int pid = request.host == hostName_ ? request.pid : 0;
    rep = new ReplyEndpoint();
    rep->address = request.replyAddress;
    rep->pid = pid;
    ucp_ep_params_t p{};
    p.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE | UCP_EP_PARAM_FIELD_ERR_HANDLER;
    p.address = reinterpret_cast<const ucp_address_t*>(rep->address.data());
    // The consumer's mode for its endpoint to us (ErrorModeFor: NONE on this host, watched by
    // pid; PEER for another host): UCX refuses the two directions of a pair of workers in
    // different modes ("asymmetric endpoint configuration").
    p.err_mode = ErrorModeFor(pid);
    p.err_handler.cb = [](void* arg, ucp_ep_h, ucs_status_t) { static_cast<ReplyEndpoint*>(arg)->failed = true; };
    p.err_handler.arg = rep;
    ucs_status_t st = ucp_ep_create(worker_, &p, &rep->handle);
    if (st != UCS_OK) {
      delete rep;
      return;
    }
    if (found != replyEps_.end()) {  // the failed one
      found->second->closingSince = Clock::now();
      replyDying_.push_back(found->second);
    }
    replyEps_[rep->address] = rep;
    statReplyEps_ = replyEps_.size();
  }
  rep->lastUse = Clock::now();

  StageReply head;
  head.readId = request.readId;
  head.nonce = request.nonce;
  auto refuse = [&](const char* code, const std::string& message) {
    head.code = code;
    head.message = message;
    SendReply(request.replyAddress, head);
  };
  if (!pinned_ || !stager_ || !cuda::Api()) {
    return refuse("NIXL_CUDA_UNAVAILABLE", "this agent cannot stage CUDA memory (no CUDA driver handed to nixl)");
  }
  auto pins = std::make_shared<PinSet>();
  pins->table = devices_;
  std::vector<CopyOp> ops;
  for (size_t i = 0; i < request.entries.size(); ++i) {
    const StageEntry& e = request.entries[i];
    DeviceTable::Entry d;
    switch (devices_->Pin(e.reg, e.token, e.size, &d)) {
      case DeviceTable::PinResult::kReleased:
        return refuse("NIXL_REGISTRATION_RELEASED", "CUDA region " + std::to_string(i) + " (" + Bytes(e.size) +
                                                        ") is no longer registered: its producer released it");
      case DeviceTable::PinResult::kBadSize:
        return refuse("NIXL_BAD_DESCRIPTOR", "CUDA region " + std::to_string(i) + " asks for " + Bytes(e.size) +
                                                 ", its registration has another size (a forged descriptor?)");
      case DeviceTable::PinResult::kOk:
        break;
    }
    pins->ids.push_back(e.reg);
    ops.push_back(CopyOp{true, d.device, d.ptr, nullptr, d.size});
  }
  ++statStagings_;
  // The copy starts on the staging thread now: the consumer sees the tensors as they are at read time.
  auto expiry = Clock::now() + std::chrono::milliseconds(request.ttlMs) + kLeaseGrace;
  std::string address = request.replyAddress;
  bool posted = stager_->Post([this, pins, ops, head, address, expiry, pool = pinned_, stager = stager_]() mutable {
    std::vector<PinnedChunkPtr> chunks;
    ErrorInfo error;
    try {
      for (CopyOp& op : ops) {
        chunks.push_back(pool->Take(op.bytes, op.device));
        op.host = chunks.back()->host;
      }
      stager->Copy(ops);
    } catch (...) {
      error = tensorwire::CaptureError(std::current_exception(), "NIXL_CUDA_FAILED");
    }
    pins.reset();  // the device memory is not read any more: a release may now complete
    if (!error.empty()) {
      for (PinnedChunkPtr& c : chunks) pool->Give(std::move(c));  // evicted ones are freed here
      chunks.clear();
    }
    Post([this, head, address, chunks, error, expiry]() mutable {
      FinishStaging(head, address, std::move(chunks), error, expiry);
    });
  });
  if (!posted) refuse("NIXL_CLOSED", "the producing agent is closing");
}

void Engine::FinishStaging(const StageReply& head, const std::string& replyAddress, std::vector<PinnedChunkPtr> chunks,
                           ErrorInfo error, Clock::time_point expiry) {
  StageReply reply = head;
  if (!error.empty()) {
    reply.code = error.code;
    reply.message = "staging its CUDA tensors failed: " + error.message;
  } else {
    for (PinnedChunkPtr& chunk : chunks) {
      uint64_t lease = (++leaseSeq_ * 0x9E3779B97F4A7C15ull) ^ leaseSalt_;
      reply.regions.push_back(StagedRegion{reinterpret_cast<uintptr_t>(chunk->host), lease, chunk->region->rkey});
      leases_[lease] = Lease{std::move(chunk), expiry};
    }
    statLeases_ = leases_.size();
  }
  SendReply(replyAddress, reply);
}

void Engine::SendReply(const std::string& address, const StageReply& reply) {
  auto it = replyEps_.find(address);
  if (it == replyEps_.end() || it->second->failed) return;  // its leases expire
  it->second->lastUse = Clock::now();
  SendOwned(it->second->handle, kAmStageReply, Encode(reply));
}

void Engine::OnUnstage(const std::vector<uint64_t>& leases) {
  for (uint64_t id : leases) {
    auto it = leases_.find(id);
    if (it == leases_.end()) continue;  // expired already, or not ours
    GiveToPool(std::move(it->second.chunk));
    leases_.erase(it);
  }
  statLeases_ = leases_.size();
}

void Engine::ExpireLeases(bool all) {
  auto now = Clock::now();
  for (auto it = leases_.begin(); it != leases_.end();) {
    if (all || now >= it->second.expiry) {
      GiveToPool(std::move(it->second.chunk));
      it = leases_.erase(it);
    } else {
      ++it;
    }
  }
  statLeases_ = leases_.size();
}

void Engine::ReapReplyEndpoints(bool force) {
  auto now = Clock::now();
  for (auto it = replyEps_.begin(); it != replyEps_.end();) {
    ReplyEndpoint* rep = it->second;
    bool gone = rep->failed || (rep->pid > 0 && ProcessIsDead(rep->pid)) || now - rep->lastUse > kReplyIdle;
    if (!force && !gone) {
      ++it;
      continue;
    }
    rep->closingSince = now;
    replyDying_.push_back(rep);
    it = replyEps_.erase(it);
  }
  statReplyEps_ = replyEps_.size();
  for (size_t i = 0; i < replyDying_.size();) {
    ReplyEndpoint* rep = replyDying_[i];
    if (rep->handle) {
      ucp_request_param_t p{};
      p.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
      p.flags = UCP_EP_CLOSE_FLAG_FORCE;
      ucs_status_ptr_t req = ucp_ep_close_nbx(rep->handle, &p);
      if (UCS_PTR_IS_ERR(req)) {  // mode NONE refuses a forced close: flush and close
        ucp_request_param_t flush{};
        req = ucp_ep_close_nbx(rep->handle, &flush);
      }
      rep->handle = nullptr;
      rep->closeRequest = UCS_PTR_IS_PTR(req) ? req : nullptr;
    }
    bool closing = rep->closeRequest && ucp_request_check_status(rep->closeRequest) == UCS_INPROGRESS;
    if (closing && !force && now - rep->closingSince < kReplyCloseGiveUp) {
      ++i;
      continue;
    }
    // Done, or given up: UCX releases a request freed while in progress when it completes. A
    // close still in progress may yet call the error handler, whose argument is `rep`: leaked.
    if (rep->closeRequest) ucp_request_free(rep->closeRequest);
    if (!closing) delete rep;
    replyDying_[i] = replyDying_.back();
    replyDying_.pop_back();
  }
}

void Engine::CheckDeadlinesAndPeers() {
  auto now = Clock::now();
  for (ReadJob* job : std::vector<ReadJob*>(jobs_)) {
    // A job copying to the device is not interrupted: the copy is local and short, and its
    // destination must not be handed back while the staging thread writes it.
    if (job->error.empty() && !job->copying && now >= job->req.deadline) {
      size_t total = 0;
      for (auto& r : job->req.regions) total += r.size;
      SetError(job, ErrorInfo{"NIXL_TIMEOUT", "read of " + Bytes(total) + " from agent '" + job->req.peerName +
                                                  "' timed out after " + std::to_string(job->req.timeoutMs) + " ms"});
      if (job->outstanding > 0 && job->ep) FailEndpoint(job->ep, "a read timed out on this connection");
    }
  }
  if (now - lastPeerCheck_ < kPeerCheckEvery) return;
  lastPeerCheck_ = now;
  std::vector<Endpoint*> dead;
  for (auto& kv : endpoints_) {
    if (!kv.second->jobs.empty() && ProcessIsDead(kv.second->pid)) dead.push_back(kv.second);
  }
  for (Endpoint* ep : dead) FailEndpoint(ep, "process " + std::to_string(ep->pid) + " has exited");
}

void Engine::Run() {
  auto lastActivity = Clock::now();
  std::vector<ReadRequest> incoming;
  while (!stop_) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      while (!queue_.empty()) {
        incoming.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    bool active = !incoming.empty();
    for (ReadRequest& req : incoming) {
      auto* job = new ReadJob();
      job->req = std::move(req);
      StartJob(job);
    }
    incoming.clear();

    unsigned progressed = 0;
    for (int i = 0; i < 64; ++i) {
      unsigned n = ProgressAll();
      progressed += n;
      if (!n) break;
    }
    for (auto& e : errors_) FailEndpoint(e.first, e.second);
    errors_.clear();
    DrainInbox();
    RunTasks();
    PollEndpointsReady();
    CheckDeadlinesAndPeers();
    for (ReadJob* job : std::vector<ReadJob*>(jobs_)) {
      // A job waiting for its endpoint (or for a stage reply) has nothing in UCX that completes
      // it: done only when it failed. One copying to the device ends when the copy does.
      bool waiting = job->waitingForEp || job->awaitingStage;
      if (job->outstanding == 0 && !job->copying && (!waiting || !job->error.empty())) CheckFinished(job);
    }
    AbandonStuckJobs();
    ReapEndpoints(false);
    DestroyRetired(false);
    if (Clock::now() - lastLeaseCheck_ >= kLeaseCheckEvery) {
      lastLeaseCheck_ = Clock::now();
      ExpireLeases(false);
      ReapReplyEndpoints(false);
    }

    auto now = Clock::now();
    if (active || progressed) lastActivity = now;
    bool busy = !jobs_.empty() || !dying_.empty() || !replyDying_.empty();
    if (!busy && now - lastActivity > kSpinWindow) {
      Sleep();
    } else if (!progressed) {
      sched_yield();
    }
  }

  // Shutdown: fail queued and active reads, force-close every endpoint, then destroy the worker.
  std::deque<ReadRequest> queued;
  {
    std::lock_guard<std::mutex> lk(mu_);
    queued.swap(queue_);
  }
  for (auto& req : queued) {
    --statPending_;
    onComplete_(req.id, ErrorInfo{"NIXL_CLOSED", "the nixl endpoint was closed before the read started"},
                Settle::kDone);
  }
  for (ReadJob* job : jobs_) {
    if (job->error.empty()) job->error = ErrorInfo{"NIXL_CLOSED", "the nixl endpoint was closed during the read"};
  }
  std::vector<Endpoint*> live;
  for (auto& kv : endpoints_) live.push_back(kv.second);
  for (Endpoint* ep : live) FailEndpoint(ep, "endpoint closed");
  auto giveUp = Clock::now() + kStopGrace;
  while ((!jobs_.empty() || !dying_.empty()) && Clock::now() < giveUp) {
    ProgressAll();
    inbox_.clear();  // no new staging now
    RunTasks();      // copies to the device that end now finish their reads
    for (ReadJob* job : std::vector<ReadJob*>(jobs_)) {
      if (job->outstanding == 0 && !job->copying) Finish(job);
    }
    ReapEndpoints(false);
  }
  // Anything still outstanding is abandoned (not freed: UCX may still call back into it).
  for (ReadJob* job : jobs_) {
    job->abandoned = true;
    onComplete_(job->req.id, job->error, Settle::kAbandoned);
  }
  jobs_.clear();
  ExpireLeases(true);
  ReapReplyEndpoints(true);
  DestroyRetired(true);
  ReapEndpoints(true);
  ucp_worker_destroy(reader_);
  reader_ = nullptr;
  ucp_worker_destroy(worker_);
  worker_ = nullptr;
  statEndpoints_ = 0;
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> lk(mu_);
    tasksClosed_ = true;  // later Post()s are dropped where they are made
    dropped.swap(tasks_);
  }
}

}  // namespace twnixl
