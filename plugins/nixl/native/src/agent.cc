// agent.cc: JS binding of one agent.
//
//   new Agent(name, { poolCacheBytes?, netDevices? })
//                                          poolCacheBytes: bound of the pool cache (default 1 GiB)
//                                          netDevices: UCX_NET_DEVICES list for this agent's
//                                          context (default "lo": loopback only; a
//                                          UCX_NET_DEVICES in the environment wins)
//   agent.workerAddress: Buffer            this agent's UCP worker address
//   agent.netDevices: string               the UCX_NET_DEVICES list in force
//   agent.genRkey: Buffer                  packed rkey of the generation table
//   agent.register(u8) -> { id, addr: bigint, size, rkey: Buffer, genAddr: bigint, token: bigint,
//                           refs, pool }   (same buffer again: same id, refs + 1)
//   agent.release(id) -> references left (0: unregistered), -1 if unknown
//   agent.allocate(n) -> Uint8Array over UCX-allocated registered memory (exactly n bytes of a
//                        cached or new chunk of n's size class; contents undefined)
//   agent.registerDevice(device, ptr: bigint, size) -> the same as register, plus mode: 'cuda'
//                          (UCX registers CUDA memory: rkey set) or 'staged' (rkey empty: peers
//                          ask this agent to stage it); needs useCuda() first
//   agent.whenIdle(id) -> Promise<void>   resolves once no staging copy reads registration `id`
//   agent.cudaMemory: boolean              this UCX registers CUDA memory (the direct path)
//   agent.read(peer, regions, timeoutMs, onReleased?) -> Promise<void>
//       peer: { address: Buffer, name: string, pid: number, genRkey: Buffer }
//       regions: [{ source, destination, genAddr: bigint, token: bigint }]
//         source: addr: bigint, rkey: Buffer (registered memory), or staged: true, reg: number
//                 (CUDA memory the producer stages)
//         destination: dst: Uint8Array, or dstDevice: number, dstPtr: bigint, size: number
//       onReleased() is called once nothing writes the destinations any more (at once after the
//       Promise settles, or later for a read abandoned while UCX still held its requests)
//   agent.stats() -> { registrations, poolChunks, endpoints, rkeys, pendingReads, retiredReaders, closed,
//                      pool: { cachedChunks, cachedBytes, limitBytes, slabs, hits, misses, returned,
//                              evicted },
//                      cuda: { ucxCudaMemory, deviceRegistrations, stagings, stagedLeases,
//                              replyEndpoints, pinned: { allocations, hits, cachedChunks,
//                              cachedBytes, inUse, limitBytes } } }
//   agent.close() -> Promise<void>
#include "agent.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "cuda_link.h"
#include "pool_cache.h"
#include "tensorwire/errors.h"

namespace twnixl {

using tensorwire::CodedError;
using tensorwire::ErrorInfo;

namespace {

/** Run `f`, turning C++ failures (CodedError, std::exception) into JS Errors with a code. */
template <typename F>
auto Guard(Napi::Env env, F&& f) -> decltype(f()) {
  return tensorwire::GuardJs(env, "UCX_ERROR", std::forward<F>(f));
}

uint64_t ToU64(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsBigInt()) tensorwire::ThrowTypeError(env, std::string(what) + " must be a bigint");
  bool lossless = true;
  uint64_t out = v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) tensorwire::ThrowTypeError(env, std::string(what) + " is out of range", "ERR_OUT_OF_RANGE");
  return out;
}

std::string ToBytes(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsTypedArray()) tensorwire::ThrowTypeError(env, std::string(what) + " must be a Uint8Array");
  auto a = v.As<Napi::Uint8Array>();
  return std::string(reinterpret_cast<const char*>(a.Data()), a.ByteLength());
}

Napi::Buffer<uint8_t> CopyToBuffer(Napi::Env env, const std::string& s) {
  return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

struct ReadDone {
  uint64_t id;
  ErrorInfo error;
  Engine::Settle settle;
};

/** Finalizer hint of a pool ArrayBuffer: keeps the mapping alive as long as the ArrayBuffer. */
struct PoolHint {
  PoolLease lease;
  std::weak_ptr<MemoryRegistry> registry;
  int64_t external = 0;  // bytes reported to V8 for this buffer
};

constexpr double kDefaultPoolCacheBytes = 1024.0 * 1024 * 1024;

}  // namespace

Napi::Function Agent::Init(Napi::Env env) {
  return DefineClass(env, "Agent",
                     {
                         InstanceMethod<&Agent::Register>("register"),
                         InstanceMethod<&Agent::RegisterDevice>("registerDevice"),
                         InstanceMethod<&Agent::WhenIdle>("whenIdle"),
                         InstanceAccessor<&Agent::CudaMemory>("cudaMemory"),
                         InstanceMethod<&Agent::Release>("release"),
                         InstanceMethod<&Agent::Allocate>("allocate"),
                         InstanceMethod<&Agent::Read>("read"),
                         InstanceMethod<&Agent::Stats>("stats"),
                         InstanceMethod<&Agent::Close>("close"),
                         InstanceAccessor<&Agent::WorkerAddress>("workerAddress"),
                         InstanceAccessor<&Agent::GenRkey>("genRkey"),
                         InstanceAccessor<&Agent::NetDevices>("netDevices"),
                     });
}

Agent::Agent(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Agent>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) tensorwire::ThrowTypeError(env, "Agent(name): name must be a string");
  name_ = info[0].As<Napi::String>().Utf8Value();
  double cacheBytes = kDefaultPoolCacheBytes;
  std::string netDevices;  // empty: loopback only (ucx_config.h)
  if (info.Length() > 1 && info[1].IsObject()) {
    Napi::Object options = info[1].As<Napi::Object>();
    Napi::Value v = options.Get("poolCacheBytes");
    if (v.IsNumber()) cacheBytes = v.As<Napi::Number>().DoubleValue();
    Napi::Value devices = options.Get("netDevices");
    if (devices.IsString())
      netDevices = devices.As<Napi::String>().Utf8Value();
    else if (!devices.IsUndefined())
      tensorwire::ThrowTypeError(env, "netDevices must be a string (a UCX_NET_DEVICES list such as 'lo' or 'eth0')");
  }
  if (!(cacheBytes >= 0) || cacheBytes > 9.0e15)
    tensorwire::ThrowTypeError(env, "poolCacheBytes must be a non-negative number", "ERR_OUT_OF_RANGE");
  Guard(env, [&] {
    ctx_ = std::make_shared<UcpContext>(name_, netDevices);
    mem_ = std::make_shared<MemoryRegistry>(ctx_, static_cast<size_t>(cacheBytes));
    pinned_ = std::make_shared<PinnedPool>(ctx_, static_cast<size_t>(cacheBytes));
    stager_ = std::make_unique<Stager>();
    return 0;
  });
  tsfn_ = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                        "tensorwire-nixl", 0, 1);
  tsfn_.Unref(env);  // only pending reads keep the event loop alive
  Guard(env, [&] {
    engine_ = std::make_unique<Engine>(ctx_, mem_->devices(), pinned_, stager_.get(), [this](uint64_t id, ErrorInfo error, Engine::Settle settle) {
      auto* done = new ReadDone{id, std::move(error), settle};
      napi_status st = tsfn_.NonBlockingCall(done, [this](Napi::Env env, Napi::Function, ReadDone* d) {
        if (env) OnReadDone(env, d->id, d->error, d->settle);
        delete d;
      });
      if (st != napi_ok) delete done;  // environment shutting down
    });
    return 0;
  });
  env_ = env;
  napi_add_env_cleanup_hook(env, &Agent::CleanupHook, this);
}

Agent::~Agent() {
  if (env_) napi_remove_env_cleanup_hook(env_, &Agent::CleanupHook, this);
  ShutdownNow();
}

void Agent::CleanupHook(void* arg) {
  auto* self = static_cast<Agent*>(arg);
  self->env_ = nullptr;  // the hook is consumed
  self->ShutdownNow();
}

void Agent::ShutdownNow() {
  if (closer_.joinable()) closer_.join();
  if (engine_) engine_->Stop();
  // After the engine: its last tasks may still post copies. A staging task can run for a while
  // (pinning and copying a large tensor); one still running after the wait keeps using the
  // stager and the engine, so both are leaked rather than destroyed under it.
  if (stager_ && !stager_->Stop(std::chrono::seconds(2))) {
    (void)stager_.release();
    (void)engine_.release();
  }
  if (!closed_) {
    closed_ = true;
    if (pinned_) pinned_->Close();
    if (mem_) mem_->Close();
    tsfn_.Abort();
  }
}

void Agent::CheckOpen(Napi::Env env) const {
  if (closed_) tensorwire::ThrowError(env, "the nixl agent '" + name_ + "' is closed", "NIXL_CLOSED");
}

void Agent::HoldLoop(Napi::Env env) {
  // While close() runs, the loop stays held (Ref/Unref are not counted) until it completes.
  bool hold = !pending_.empty() || idleWaits_ > 0;
  if (hold == loopHeld_ || closed_ || closer_.joinable()) return;
  loopHeld_ = hold;
  if (hold)
    tsfn_.Ref(env);
  else
    tsfn_.Unref(env);
}

Napi::Value Agent::WorkerAddress(const Napi::CallbackInfo& info) {
  return CopyToBuffer(info.Env(), engine_->workerAddress());
}

Napi::Value Agent::NetDevices(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), ctx_->netDevices); }

Napi::Value Agent::GenRkey(const Napi::CallbackInfo& info) { return CopyToBuffer(info.Env(), mem_->genTable()->rkey); }

Napi::Value Agent::Register(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (info.Length() < 1 || !info[0].IsTypedArray()) tensorwire::ThrowTypeError(env, "register(bytes): expected a Uint8Array");
  auto bytes = info[0].As<Napi::Uint8Array>();
  const Registration& r = Guard(env, [&]() -> const Registration& { return mem_->Acquire(bytes.Data(), bytes.ByteLength()); });
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", Napi::Number::New(env, r.id));
  out.Set("addr", Napi::BigInt::New(env, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(r.addr))));
  out.Set("size", Napi::Number::New(env, static_cast<double>(r.size)));
  out.Set("rkey", CopyToBuffer(env, r.region->rkey));
  uint64_t genAddr = reinterpret_cast<uintptr_t>(mem_->genTable()->base) + uint64_t(r.slot) * sizeof(uint64_t);
  out.Set("genAddr", Napi::BigInt::New(env, genAddr));
  out.Set("token", Napi::BigInt::New(env, r.token));
  out.Set("refs", Napi::Number::New(env, r.refs));
  out.Set("pool", Napi::Boolean::New(env, r.region->ucxAllocated));
  return out;
}

Napi::Value Agent::RegisterDevice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (info.Length() < 3 || !info[0].IsNumber() || !info[2].IsNumber())
    tensorwire::ThrowTypeError(env, "registerDevice(device, ptr, size): expected a device index, a bigint and a size");
  int device = info[0].As<Napi::Number>().Int32Value();
  uint64_t ptr = ToU64(env, info[1], "ptr");
  double size = info[2].As<Napi::Number>().DoubleValue();
  if (device < 0 || !(size > 0) || size != static_cast<double>(static_cast<size_t>(size)))
    tensorwire::ThrowTypeError(env, "registerDevice: device must be >= 0 and size a positive integer", "ERR_OUT_OF_RANGE");
  const Registration& r = Guard(env, [&]() -> const Registration& {
    cuda::Require();  // the staging path needs the driver; so does a CUDA-capable UCX's registration
    return mem_->AcquireDevice(device, ptr, static_cast<size_t>(size));
  });
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", Napi::Number::New(env, r.id));
  out.Set("addr", Napi::BigInt::New(env, ptr));
  out.Set("size", Napi::Number::New(env, static_cast<double>(r.size)));
  out.Set("rkey", CopyToBuffer(env, r.region ? r.region->rkey : std::string()));
  uint64_t genAddr = reinterpret_cast<uintptr_t>(mem_->genTable()->base) + uint64_t(r.slot) * sizeof(uint64_t);
  out.Set("genAddr", Napi::BigInt::New(env, genAddr));
  out.Set("token", Napi::BigInt::New(env, r.token));
  out.Set("refs", Napi::Number::New(env, r.refs));
  out.Set("pool", Napi::Boolean::New(env, false));
  out.Set("mode", Napi::String::New(env, r.region ? "cuda" : "staged"));
  return out;
}

Napi::Value Agent::WhenIdle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) tensorwire::ThrowTypeError(env, "whenIdle(id): id must be a number");
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  auto deferred = Napi::Promise::Deferred::New(env);
  if (closed_) {
    deferred.Resolve(env.Undefined());
    return deferred.Promise();
  }
  auto* pending = new Napi::Promise::Deferred(deferred);
  ++idleWaits_;
  HoldLoop(env);
  // Called on the thread that ends the last copy (the staging thread).
  bool waiting = mem_->devices()->WhenIdle(id, [this, pending] {
    napi_status st = tsfn_.NonBlockingCall(pending, [this](Napi::Env env, Napi::Function, Napi::Promise::Deferred* d) {
      if (env) {
        d->Resolve(env.Undefined());
        --idleWaits_;
        HoldLoop(env);
      }
      delete d;
    });
    if (st != napi_ok) delete pending;  // the environment is going away
  });
  if (!waiting) {
    --idleWaits_;
    HoldLoop(env);
    pending->Resolve(env.Undefined());
    delete pending;
  }
  return deferred.Promise();
}

Napi::Value Agent::CudaMemory(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), ctx_->cudaMemory); }

Napi::Value Agent::Release(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) return Napi::Number::New(env, -1);
  if (info.Length() < 1 || !info[0].IsNumber()) tensorwire::ThrowTypeError(env, "release(id): id must be a number");
  return Napi::Number::New(env, mem_->Release(info[0].As<Napi::Number>().Uint32Value()));
}

Napi::Value Agent::Allocate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (info.Length() < 1 || !info[0].IsNumber()) tensorwire::ThrowTypeError(env, "allocate(nbytes): nbytes must be a number");
  double n = info[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 0) || n != static_cast<double>(static_cast<size_t>(n)))
    tensorwire::ThrowTypeError(env, "allocate(nbytes): nbytes must be a non-negative integer", "ERR_OUT_OF_RANGE");
  if (n == 0) return Napi::Uint8Array::New(env, 0);
  bool reused = false;
  PoolLease lease = Guard(env, [&] { return mem_->AllocatePool(static_cast<size_t>(n), &reused); });
  // Tell V8 what this small object really holds, so that it collects dropped pool buffers soon
  // enough for their chunks to come back to the cache (it would otherwise see a few bytes).
  auto external = static_cast<int64_t>(lease.capacity);
  uint8_t* data = lease.addr;
  auto* hint = new PoolHint{std::move(lease), mem_, external};
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(
      env, data, static_cast<size_t>(n),
      [](Napi::Env env, void*, PoolHint* h) {
        int64_t ignored = 0;
        napi_adjust_external_memory(env, -h->external, &ignored);  // never throw in a finalizer
        if (auto reg = h->registry.lock()) reg->ReturnPool(std::move(h->lease));
        delete h;  // a chunk that was not cached is unmapped by its last owner
      },
      hint);
  int64_t ignored = 0;
  napi_adjust_external_memory(env, external, &ignored);
  return Napi::Uint8Array::New(env, static_cast<size_t>(n), ab, 0);
}

Napi::Value Agent::Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (info.Length() < 3 || !info[0].IsObject() || !info[1].IsArray() || !info[2].IsNumber())
    tensorwire::ThrowTypeError(env, "read(peer, regions, timeoutMs): bad arguments");
  Napi::Object peer = info[0].As<Napi::Object>();
  Napi::Array regions = info[1].As<Napi::Array>();
  double timeout = info[2].As<Napi::Number>().DoubleValue();

  ReadRequest req;
  req.id = nextReadId_++;
  req.peerAddress = ToBytes(env, peer.Get("address"), "peer.address");
  req.peerName = peer.Get("name").IsString() ? peer.Get("name").As<Napi::String>().Utf8Value() : "?";
  req.peerPid = peer.Get("pid").IsNumber() ? peer.Get("pid").As<Napi::Number>().Int32Value() : 0;
  req.genRkey = peer.Get("genRkey").IsTypedArray() ? ToBytes(env, peer.Get("genRkey"), "peer.genRkey") : std::string();
  req.timeoutMs = timeout > 0 ? static_cast<uint32_t>(std::min(timeout, 4.0e9)) : 0;
  req.deadline = Clock::now() + std::chrono::milliseconds(req.timeoutMs);

  PendingRead pending{Napi::Promise::Deferred::New(env), {}, {}};
  if (info.Length() > 3 && info[3].IsFunction()) pending.onReleased = Napi::Persistent(info[3].As<Napi::Function>());
  std::vector<bool> needsPinned;  // CUDA destinations read through a pinned chunk
  for (uint32_t i = 0; i < regions.Length(); ++i) {
    Napi::Value v = regions.Get(i);
    if (!v.IsObject()) tensorwire::ThrowTypeError(env, "read: each region must be an object");
    Napi::Object o = v.As<Napi::Object>();
    Napi::Value dst = o.Get("dst");
    ReadRegion r;
    if (dst.IsTypedArray()) {
      auto d = dst.As<Napi::Uint8Array>();
      r.dst = d.Data();
      r.size = d.ByteLength();
      if (r.size > 0) pending.keepAlive.push_back(Napi::Persistent(d.As<Napi::Object>()));
    } else if (o.Get("dstDevice").IsNumber()) {
      r.dstDevice = o.Get("dstDevice").As<Napi::Number>().Int32Value();
      r.dstPtr = ToU64(env, o.Get("dstPtr"), "region.dstPtr");
      Napi::Value size = o.Get("size");
      if (!size.IsNumber() || r.dstDevice < 0) tensorwire::ThrowTypeError(env, "read: a CUDA destination needs dstDevice >= 0 and size");
      r.size = static_cast<size_t>(size.As<Napi::Number>().DoubleValue());
      r.directDst = ctx_->cudaMemory;
    } else {
      tensorwire::ThrowTypeError(env, "read: region.dst must be a Uint8Array (or dstDevice, dstPtr and size a CUDA destination)");
    }
    needsPinned.push_back(r.size > 0 && r.dstDevice >= 0 && !r.directDst);
    if (r.size > 0) {
      r.staged = o.Get("staged").ToBoolean();
      if (r.staged) {
        if (!o.Get("reg").IsNumber()) tensorwire::ThrowTypeError(env, "read: a staged region needs its registration id", "NIXL_BAD_DESCRIPTOR");
        r.reg = o.Get("reg").As<Napi::Number>().Uint32Value();
      } else {
        r.remoteAddr = ToU64(env, o.Get("addr"), "region.addr");
        r.rkey = ToBytes(env, o.Get("rkey"), "region.rkey");
        if (r.rkey.empty()) tensorwire::ThrowTypeError(env, "read: a non-empty region needs its rkey", "NIXL_BAD_DESCRIPTOR");
      }
      r.genAddr = o.Get("genAddr").IsBigInt() ? ToU64(env, o.Get("genAddr"), "region.genAddr") : 0;
      r.token = o.Get("token").IsBigInt() ? ToU64(env, o.Get("token"), "region.token") : 0;
    }
    req.regions.push_back(std::move(r));
  }
  bool pinnedNeeded = std::find(needsPinned.begin(), needsPinned.end(), true) != needsPinned.end();
  if (pinnedNeeded) Guard(env, [] { return &cuda::Require(); });
  Napi::Promise promise = pending.deferred.Promise();
  pending_.emplace(req.id, std::move(pending));
  HoldLoop(env);
  if (!pinnedNeeded) {
    engine_->Submit(std::move(req));
    return promise;
  }
  // Pinned chunks come from the pool; a miss pins new memory, which is slow: on the staging
  // thread, which then submits the read.
  req.pinned.resize(req.regions.size());
  auto* engine = engine_.get();
  auto pool = pinned_;
  uint64_t id = req.id;
  bool posted = stager_->Post([engine, pool, needsPinned, req = std::move(req)]() mutable {
    try {
      for (size_t i = 0; i < req.regions.size(); ++i) {
        if (!needsPinned[i]) continue;
        req.pinned[i] = pool->Take(req.regions[i].size, req.regions[i].dstDevice);
        req.regions[i].dst = req.pinned[i]->host;
      }
    } catch (...) {
      for (PinnedChunkPtr& c : req.pinned) {
        if (c) pool->Give(std::move(c));
      }
      engine->Reject(req.id, tensorwire::CaptureError(std::current_exception(), "NIXL_CUDA_FAILED"));
      return;
    }
    engine->Submit(std::move(req));
  });
  if (!posted) engine_->Reject(id, ErrorInfo{"NIXL_CLOSED", "the nixl agent '" + name_ + "' is closing"});
  return promise;
}

void Agent::CallReleased(Napi::Env env, PendingRead& read) {
  if (read.onReleased.IsEmpty()) return;
  Napi::FunctionReference fn = std::move(read.onReleased);
  try {
    fn.Call({});
  } catch (const Napi::Error& e) {
    // A throwing callback must not break the settling of reads: report it as uncaught.
    napi_fatal_exception(env, e.Value());
  }
}

void Agent::OnReadDone(Napi::Env env, uint64_t id, const ErrorInfo& error, Engine::Settle settle) {
  Napi::HandleScope scope(env);
  if (settle == Engine::Settle::kLate) {
    auto late = lingering_.find(id);
    if (late == lingering_.end()) return;
    PendingRead read = std::move(late->second);
    lingering_.erase(late);
    CallReleased(env, read);
    return;
  }
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  PendingRead read = std::move(it->second);
  pending_.erase(it);
  if (error.empty())
    read.deferred.Resolve(env.Undefined());
  else
    read.deferred.Reject(tensorwire::MakeError(env, error).Value());
  // UCX may still write into the destinations of an abandoned read: keep them until it lets go.
  if (settle == Engine::Settle::kAbandoned)
    lingering_.emplace(id, std::move(read));
  else
    CallReleased(env, read);
  HoldLoop(env);
}

Napi::Value Agent::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  Engine::Stats s = engine_ ? engine_->stats() : Engine::Stats{0, 0, 0, 0, 0, 0, 0};
  o.Set("registrations", Napi::Number::New(env, mem_ ? mem_->registrationCount() : 0));
  o.Set("poolChunks", Napi::Number::New(env, mem_ ? mem_->poolChunkCount() : 0));
  o.Set("endpoints", Napi::Number::New(env, s.endpoints));
  o.Set("rkeys", Napi::Number::New(env, s.rkeys));
  o.Set("pendingReads", Napi::Number::New(env, s.pendingReads));
  o.Set("retiredReaders", Napi::Number::New(env, s.retiredReaders));
  o.Set("closed", Napi::Boolean::New(env, closed_));
  Napi::Object pool = Napi::Object::New(env);
  if (mem_) {
    const PoolCache::Stats& c = mem_->poolCache().stats();
    pool.Set("cachedChunks", Napi::Number::New(env, static_cast<double>(c.cachedChunks)));
    pool.Set("cachedBytes", Napi::Number::New(env, static_cast<double>(c.cachedBytes)));
    pool.Set("limitBytes", Napi::Number::New(env, static_cast<double>(c.limitBytes)));
    pool.Set("hits", Napi::Number::New(env, static_cast<double>(c.hits)));
    pool.Set("misses", Napi::Number::New(env, static_cast<double>(c.misses)));
    pool.Set("returned", Napi::Number::New(env, static_cast<double>(c.returned)));
    pool.Set("evicted", Napi::Number::New(env, static_cast<double>(c.evicted)));
    pool.Set("slabs", Napi::Number::New(env, static_cast<double>(c.slabs)));
  }
  o.Set("pool", pool);
  Napi::Object cudaStats = Napi::Object::New(env);
  cudaStats.Set("ucxCudaMemory", Napi::Boolean::New(env, ctx_ && ctx_->cudaMemory));
  cudaStats.Set("deviceRegistrations", Napi::Number::New(env, mem_ ? static_cast<double>(mem_->devices()->size()) : 0));
  cudaStats.Set("stagings", Napi::Number::New(env, static_cast<double>(s.stagings)));
  cudaStats.Set("stagedLeases", Napi::Number::New(env, static_cast<double>(s.stagedLeases)));
  cudaStats.Set("replyEndpoints", Napi::Number::New(env, static_cast<double>(s.replyEndpoints)));
  Napi::Object pinned = Napi::Object::New(env);
  if (pinned_) {
    PinnedPool::Stats p = pinned_->stats();
    pinned.Set("allocations", Napi::Number::New(env, static_cast<double>(p.allocations)));
    pinned.Set("hits", Napi::Number::New(env, static_cast<double>(p.hits)));
    pinned.Set("cachedChunks", Napi::Number::New(env, static_cast<double>(p.cachedChunks)));
    pinned.Set("cachedBytes", Napi::Number::New(env, static_cast<double>(p.cachedBytes)));
    pinned.Set("inUse", Napi::Number::New(env, static_cast<double>(p.inUse)));
    pinned.Set("limitBytes", Napi::Number::New(env, static_cast<double>(p.limitBytes)));
  }
  cudaStats.Set("pinned", pinned);
  o.Set("cuda", cudaStats);
  return o;
}

Napi::Value Agent::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto deferred = Napi::Promise::Deferred::New(env);
  if (closed_ || closer_.joinable()) {
    deferred.Resolve(env.Undefined());
    return deferred.Promise();
  }
  auto* d = new Napi::Promise::Deferred(deferred);
  tsfn_.Ref(env);  // keep the loop alive until the close completes
  // Stopping joins the progress thread (force-closing endpoints may take a moment): off the JS thread.
  closer_ = std::thread([this, d] {
    engine_->Stop();
    stager_->Stop(std::chrono::minutes(10));  // close() waits for copies under way (off the JS thread)
    pinned_->Close();  // cached chunks: unmapped and unpinned here, off the JS thread
    tsfn_.NonBlockingCall(d, [this](Napi::Env env, Napi::Function, Napi::Promise::Deferred* def) {
      if (env) {
        if (closer_.joinable()) closer_.join();
        if (!closed_) {
          closed_ = true;
          mem_->Close();  // registrations and every cached pool chunk
          // Reads that were still pending were settled by the completions queued before this call.
          tsfn_.Release();
        }
        def->Resolve(env.Undefined());
      }
      delete def;
    });
  });
  return deferred.Promise();
}

}  // namespace twnixl
