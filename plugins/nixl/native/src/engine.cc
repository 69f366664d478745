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
#include <sstream>
#include <cstdlib>

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
  return w;
}

Engine::Engine(ContextPtr ctx, Completion onComplete) : ctx_(std::move(ctx)), onComplete_(std::move(onComplete)) {
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
  lastPeerCheck_ = Clock::now();
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
    cv_.wait_for(lk, std::chrono::microseconds(200), [this] { return !queue_.empty() || stop_.load(); });
    return;
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!queue_.empty() || stop_) return;
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
  return Stats{statEndpoints_.load(), statRkeys_.load(), statPending_.load(), statRetired_.load()};
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
  bool any = false;
  for (const ReadRegion& r : job->req.regions) {
    ucp_rkey_h k = nullptr;
    if (r.size > 0) {
      any = true;
      k = GetRkey(ep, r.rkey, job->error);
      if (!k) return;
    }
    job->dataKeys.push_back(k);
  }
  if (any && !job->req.genRkey.empty()) {
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
  ucp_request_param_t p{};
  p.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
  p.cb.send = &Engine::OnOpDone;
  p.user_data = job;
  auto& regions = job->req.regions;
  if (job->phase == 1) job->genScratch.assign(regions.size(), 0);
  for (size_t i = 0; i < regions.size() && job->error.empty(); ++i) {
    const ReadRegion& r = regions[i];
    if (r.size == 0) continue;
    ucs_status_ptr_t sp =
        job->phase == 1
            ? ucp_get_nbx(job->ep->handle, &job->genScratch[i], sizeof(uint64_t), r.genAddr, job->genKey, &p)
            : ucp_get_nbx(job->ep->handle, r.dst, r.size, r.remoteAddr, job->dataKeys[i], &p);
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
  if (job->outstanding > 0) return;
  if (job->error.empty() && job->phase == 1) {
    const auto& regions = job->req.regions;
    for (size_t i = 0; i < regions.size(); ++i) {
      if (regions[i].size > 0 && job->genScratch[i] != regions[i].token) {
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
      if (job->outstanding > 0) return;
    }
  }
  Finish(job);
}

void Engine::Finish(ReadJob* job) {
  if (job->ep) {
    auto& v = job->ep->jobs;
    v.erase(std::remove(v.begin(), v.end(), job), v.end());
    auto& w = job->ep->waiting;
    w.erase(std::remove(w.begin(), w.end(), job), w.end());
  }
  jobs_.erase(std::remove(jobs_.begin(), jobs_.end(), job), jobs_.end());
  --statPending_;
  onComplete_(job->req.id, job->error, Settle::kDone);
  delete job;
}

void Engine::CheckDeadlinesAndPeers() {
  auto now = Clock::now();
  for (ReadJob* job : std::vector<ReadJob*>(jobs_)) {
    if (job->error.empty() && now >= job->req.deadline) {
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
    PollEndpointsReady();
    CheckDeadlinesAndPeers();
    for (ReadJob* job : std::vector<ReadJob*>(jobs_)) {
      // A job waiting for its endpoint has posted nothing yet: done only when it failed.
      if (job->outstanding == 0 && (!job->waitingForEp || !job->error.empty())) CheckFinished(job);
    }
    AbandonStuckJobs();
    ReapEndpoints(false);
    DestroyRetired(false);

    auto now = Clock::now();
    if (active || progressed) lastActivity = now;
    bool busy = !jobs_.empty() || !dying_.empty();
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
    for (ReadJob* job : std::vector<ReadJob*>(jobs_)) {
      if (job->outstanding == 0) Finish(job);
    }
    ReapEndpoints(false);
  }
  // Anything still outstanding is abandoned (not freed: UCX may still call back into it).
  for (ReadJob* job : jobs_) {
    job->abandoned = true;
    onComplete_(job->req.id, job->error, Settle::kAbandoned);
  }
  jobs_.clear();
  DestroyRetired(true);
  ReapEndpoints(true);
  ucp_worker_destroy(reader_);
  reader_ = nullptr;
  ucp_worker_destroy(worker_);
  worker_ = nullptr;
  statEndpoints_ = 0;
}

}  // namespace twnixl
