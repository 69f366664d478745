#include "group_core.h"

#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/broadcast.h>
#include <gloo/rendezvous/context.h>
#include <gloo/transport/tcp/device.h>
#include <sys/socket.h>

#include <algorithm>
#include <sstream>

#include "gloo_errors.h"
#include "slots.h"

namespace tensorwire_gloo {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using tensorwire::CodedError;
using tensorwire::ErrorInfo;

namespace {

template <size_t N>
struct Element {
  unsigned char bytes[N];
};

template <size_t N>
void SetOutputOf(gloo::AllreduceOptions& opts, tensorwire::ByteView buffer) {
  opts.setOutput(reinterpret_cast<Element<N>*>(buffer.data), buffer.length / N);
}

void SetOutputBySize(gloo::AllreduceOptions& opts, tensorwire::ByteView buffer, size_t elementSize) {
  switch (elementSize) {
    case 1: return SetOutputOf<1>(opts, buffer);
    case 2: return SetOutputOf<2>(opts, buffer);
    case 4: return SetOutputOf<4>(opts, buffer);
    case 8: return SetOutputOf<8>(opts, buffer);
    default: throw CodedError("GLOO_UNSUPPORTED", "unsupported element size " + std::to_string(elementSize));
  }
}

// How long a watchdog waits on its sentinel: "forever", but a finite value (Gloo needs one).
constexpr milliseconds kWatchdogWait = std::chrono::hours(24 * 30);
}  // namespace

GroupCore::GroupCore(GroupConfig config) : config_(std::move(config)) {}

GroupCore::~GroupCore() {
  // Normally Teardown already ran; this covers a core that never connected.
  lane_.Shutdown();
  pool_.Shutdown();
}

std::string GroupCore::Describe(Direction dir, size_t n, int peer, uint64_t tag) const {
  std::ostringstream s;
  s << " (gloo group '" << config_.name << "' rank " << config_.rank << ": "
    << (dir == Direction::kSend ? "send of " : "recv of ") << n << " buffer(s) "
    << (dir == Direction::kSend ? "to" : "from") << " rank " << peer << ", tag " << tag << ")";
  return s.str();
}

bool GroupCore::broken(ErrorInfo* why) {
  std::lock_guard<std::mutex> lock(mu_);
  if (broken_ && why) *why = why_;
  return broken_;
}

void GroupCore::ThrowBroken() {
  ErrorInfo why;
  {
    std::lock_guard<std::mutex> lock(mu_);
    why = why_;
  }
  throw CodedError(why.code, "gloo group '" + config_.name + "' is broken: " + why.message);
}

std::shared_ptr<gloo::Context> GroupCore::CheckedContext() {
  std::lock_guard<std::mutex> lock(mu_);
  if (broken_) {
    throw CodedError(why_.code, "gloo group '" + config_.name + "' is broken: " + why_.message);
  }
  if (!context_) {
    throw CodedError("GLOO_NOT_CONNECTED", "gloo group '" + config_.name + "' is not connected");
  }
  return context_;
}

void GroupCore::Connect(gloo::rendezvous::Store& store) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (broken_) throw CodedError(why_.code, why_.message);
    if (context_) throw CodedError("GLOO_ERROR", "gloo group '" + config_.name + "' is already connected");
  }
  gloo::transport::tcp::attr attr;
  attr.hostname = config_.hostname;
  attr.ai_family = AF_INET;  // hostname is an IPv4 address; AF_UNSPEC may pick IPv6 and fail
  std::shared_ptr<gloo::transport::Device> device;
  try {
    device = gloo::transport::tcp::CreateDevice(attr);
  } catch (...) {
    ErrorInfo info = CaptureGlooError(std::current_exception());
    throw CodedError("GLOO_DEVICE", "cannot create the Gloo TCP device on '" + config_.hostname +
                                        "': " + info.message);
  }
  auto context = std::make_shared<gloo::rendezvous::Context>(config_.rank, config_.size);
  context->setTimeout(config_.timeout);
  context->connectFullMesh(store, device);  // throws GLOO_* (mapped by the caller)

  // One sentinel recv per peer (see group_core.h); posted before anything can fail.
  std::vector<std::unique_ptr<gloo::transport::UnboundBuffer>> sentinels;
  sentinelBytes_.assign(static_cast<size_t>(config_.size), 0);
  for (int peer = 0; peer < config_.size; ++peer) {
    if (peer == config_.rank) {
      sentinels.emplace_back();
      continue;
    }
    auto buf = context->createUnboundBuffer(&sentinelBytes_[static_cast<size_t>(peer)], 1);
    buf->recv(peer, SentinelSlot());
    sentinels.push_back(std::move(buf));
  }
  bool abortedMeanwhile;
  {
    std::lock_guard<std::mutex> lock(mu_);
    device_ = device;
    context_ = context;
    sentinels_ = std::move(sentinels);
    abortedMeanwhile = broken_;
  }
  if (abortedMeanwhile) {
    SignalAndCloseContext();
    ThrowBroken();
  }
  for (int peer = 0; peer < config_.size; ++peer) {
    if (peer == config_.rank) continue;
    gloo::transport::UnboundBuffer* sentinel = sentinels_[static_cast<size_t>(peer)].get();
    pool_.Post([this, sentinel, peer] { Watch(sentinel, peer); });
  }
}

void GroupCore::Watch(gloo::transport::UnboundBuffer* sentinel, int peer) {
  try {
    sentinel->waitRecv(nullptr, kWatchdogWait);  // false: aborted by Poison/Teardown; fine
  } catch (...) {
    ErrorInfo info = CaptureGlooError(std::current_exception());
    // A local operation timed out and Gloo closed every pair: that operation reports the
    // timeout itself (with its own message), so the watchdog stays quiet.
    if (info.message.find("Application timeout caused pair closure") != std::string::npos) return;
    std::ostringstream s;
    s << " (gloo group '" << config_.name << "' rank " << config_.rank << ": connection to rank " << peer
      << " failed)";
    info.message += s.str();
    Poison(info, /*inline_close=*/true);
  }
}

void GroupCore::Poison(const ErrorInfo& why, bool inline_close) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (broken_) return;
    broken_ = true;
    why_ = why;
    // Wake every waiter; each then waits for the pairs to close before releasing JS memory.
    for (PendingTransfer* op : pending_) {
      for (auto& buf : op->buffers) {
        if (op->dir == Direction::kSend) buf->abortWaitSend(); else buf->abortWaitRecv();
      }
    }
    for (auto& s : sentinels_) {
      if (s) s->abortWaitRecv();
    }
  }
  if (inline_close || !pool_.Post([this] { SignalAndCloseContext(); })) SignalAndCloseContext();
}

void GroupCore::SignalAndCloseContext() {
  std::shared_ptr<gloo::Context> context;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (closing_) {
      closedCv_.wait(lock, [this] { return closed_; });
      return;
    }
    closing_ = true;
    context = context_;
  }
  if (context) {
    // Gloo offers no public "fail everything" call, but a wait that times out makes the transport
    // context signal every pair: all pending waits (collectives' internal ones included) throw
    // and every pair goes to CLOSED, after which Gloo touches no user buffer.
    try {
      char dummy = 0;
      auto trigger = context->createUnboundBuffer(&dummy, 1);
      trigger->waitRecv(nullptr, milliseconds(0));
    } catch (...) {
      // Expected: "Timed out waiting 0ms for recv operation to complete".
    }
    try {
      context->closeConnections();
    } catch (...) {
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  closedCv_.notify_all();
}

void GroupCore::WaitClosed() {
  std::unique_lock<std::mutex> lock(mu_);
  closedCv_.wait(lock, [this] { return closed_; });
}

void GroupCore::FailWith(const std::exception_ptr& ep, const std::string& what) {
  bool first;
  {
    std::lock_guard<std::mutex> lock(mu_);
    first = !broken_;
  }
  if (first) {
    ErrorInfo info = CaptureGlooError(ep);
    if (info.code == "GLOO_TIMEOUT") {
      info.message += what + "; the group is now broken (Gloo closes every connection after a "
                             "timeout). A send/recv pair only matches with the same tag and the "
                             "same buffer count and byte sizes on both sides.";
    } else {
      info.message += what;
    }
    Poison(info, /*inline_close=*/true);
    WaitClosed();
    std::lock_guard<std::mutex> lock(mu_);
    if (why_.message == info.message) throw CodedError(info.code, info.message);
  }
  WaitClosed();
  ThrowBroken();
}

void GroupCore::Transfer(Direction dir, const std::vector<tensorwire::ByteView>& views, int peer,
                         uint64_t tag) {
  auto op = std::make_unique<PendingTransfer>();
  op->dir = dir;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (broken_) {
      throw CodedError(why_.code, "gloo group '" + config_.name + "' is broken: " + why_.message);
    }
    if (!context_) throw CodedError("GLOO_NOT_CONNECTED", "gloo group '" + config_.name + "' is not connected");
    for (size_t i = 0; i < views.size(); ++i) {
      if (views[i].length == 0) continue;  // nothing to move; the peer skips it too
      op->buffers.push_back(context_->createUnboundBuffer(views[i].data, views[i].length));
      op->slots.push_back(TransferSlot(tag, i, views[i].length));
    }
    pending_.insert(op.get());
  }
  // Unregister before the buffers die, so Poison never touches a destroyed buffer.
  struct Unregister {
    GroupCore* self;
    PendingTransfer* op;
    ~Unregister() {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->pending_.erase(op);
    }
  } unregister{this, op.get()};

  bool aborted = false;
  try {
    for (size_t i = 0; i < op->buffers.size(); ++i) {
      if (dir == Direction::kSend) op->buffers[i]->send(peer, op->slots[i]);
      else op->buffers[i]->recv(peer, op->slots[i]);
    }
    const auto deadline = steady_clock::now() + config_.timeout;
    for (auto& buf : op->buffers) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
      left = std::max(left, milliseconds(1));
      bool done = dir == Direction::kSend ? buf->waitSend(nullptr, left) : buf->waitRecv(nullptr, left);
      if (!done) {
        aborted = true;
        break;
      }
    }
  } catch (...) {
    FailWith(std::current_exception(), Describe(dir, views.size(), peer, tag));
  }
  if (aborted) {
    WaitClosed();
    ThrowBroken();
  }
}

void GroupCore::Barrier() {
  auto context = CheckedContext();
  try {
    gloo::BarrierOptions opts(context);
    opts.setTag(collectiveTag_++);
    opts.setTimeout(config_.timeout);
    gloo::barrier(opts);
  } catch (...) {
    FailWith(std::current_exception(), " (gloo group '" + config_.name + "': barrier)");
  }
}

void GroupCore::Allreduce(tensorwire::ByteView buffer, const ReduceSpec& spec) {
  auto context = CheckedContext();
  const uint32_t tag = collectiveTag_++;
  if (buffer.length == 0 || config_.size == 1) return;  // nothing to reduce
  try {
    gloo::AllreduceOptions opts(context);
    // Output only: Gloo then reduces in place. Gloo wants a typed pointer but only uses the
    // type's size; the reduction itself is spec.fn, typed by the dtype.
    SetOutputBySize(opts, buffer, spec.elementSize);
    opts.setReduceFunction(spec.fn);
    opts.setTag(tag);
    opts.setTimeout(config_.timeout);
    gloo::allreduce(opts);
  } catch (...) {
    FailWith(std::current_exception(), " (gloo group '" + config_.name + "': allreduce)");
  }
}

void GroupCore::Broadcast(tensorwire::ByteView buffer, int root) {
  auto context = CheckedContext();
  const uint32_t tag = collectiveTag_++;
  if (buffer.length == 0 || config_.size == 1) return;
  try {
    gloo::BroadcastOptions opts(context);
    opts.setOutput(static_cast<uint8_t*>(buffer.data), buffer.length);
    opts.setRoot(root);
    opts.setTag(tag);
    opts.setTimeout(config_.timeout);
    gloo::broadcast(opts);
  } catch (...) {
    FailWith(std::current_exception(), " (gloo group '" + config_.name + "': broadcast)");
  }
}

bool GroupCore::Teardown(milliseconds budget) {
  std::lock_guard<std::mutex> serial(teardownMu_);
  bool graceful;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (tornDown_) return true;
    // Graceful close needs an idle, healthy group: no operation could still be using a pair.
    graceful = !broken_ && pending_.empty() && inflight_.load() == 0;
  }
  ErrorInfo destroyed{"GLOO_DESTROYED", "the group was destroyed"};
  if (graceful) {
    std::lock_guard<std::mutex> lock(mu_);
    broken_ = true;  // later calls fail with GLOO_DESTROYED
    why_ = destroyed;
    for (auto& s : sentinels_) {
      if (s) s->abortWaitRecv();  // watchdogs return
    }
  } else {
    Poison(destroyed, /*inline_close=*/true);
    SignalAndCloseContext();  // idempotent; covers a group broken earlier whose close is queued
  }
  bool joined = pool_.ShutdownFor(budget) && lane_.ShutdownFor(budget);
  if (!joined) return false;  // leak the Gloo objects: a stuck thread may still use them
  std::shared_ptr<gloo::Context> context;
  std::shared_ptr<gloo::transport::Device> device;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tornDown_ = true;
    sentinels_.clear();  // before the context: they hold the transport context
    context = std::move(context_);
    device = std::move(device_);
  }
  // Destroying the context closes its pairs (gracefully when not closed already), then the
  // device stops its event loop thread.
  context.reset();
  device.reset();
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
    closed_ = true;  // nothing can touch user memory any more
  }
  closedCv_.notify_all();
  return true;
}

}  // namespace tensorwire_gloo
