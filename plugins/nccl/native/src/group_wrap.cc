// group_wrap.cc: see group_wrap.h.
#include "group_wrap.h"

#include <cstring>
#include <thread>

#include "addon_data.h"
#include "js_args.h"
#include "tensorwire/addon.h"

namespace twnccl {

using std::chrono::milliseconds;

namespace {

// At process exit, how long the exit hook waits for a group's thread before leaving it behind.
constexpr milliseconds kExitBudget{2000};
constexpr double kMaxTimeoutMs = 30.0 * 24 * 3600 * 1000;
constexpr double kMaxSafe = 9007199254740991.0;

Napi::Value Guard(Napi::Env env, const std::function<Napi::Value()>& f) {
  return tensorwire::GuardJs(env, "NCCL_ERROR", f);
}

Napi::Promise Resolved(Napi::Env env) {
  auto d = Napi::Promise::Deferred::New(env);
  d.Resolve(env.Undefined());
  return d.Promise();
}

}  // namespace

Napi::Function GroupWrap::Define(Napi::Env env) {
  return DefineClass(env, "NcclGroup",
                     {
                         InstanceMethod<&GroupWrap::Connect>("connect"),
                         InstanceMethod<&GroupWrap::Send>("send"),
                         InstanceMethod<&GroupWrap::Recv>("recv"),
                         InstanceMethod<&GroupWrap::Allreduce>("allreduce"),
                         InstanceMethod<&GroupWrap::Broadcast>("broadcast"),
                         InstanceMethod<&GroupWrap::Barrier>("barrier"),
                         InstanceMethod<&GroupWrap::Abort>("abort"),
                         InstanceMethod<&GroupWrap::Destroy>("destroy"),
                         InstanceAccessor<&GroupWrap::GetRank>("rank"),
                         InstanceAccessor<&GroupWrap::GetSize>("size"),
                         InstanceAccessor<&GroupWrap::GetName>("name"),
                         InstanceAccessor<&GroupWrap::GetDevice>("device"),
                         InstanceAccessor<&GroupWrap::GetControlPort>("controlPort"),
                         InstanceAccessor<&GroupWrap::GetToken>("token"),
                         InstanceAccessor<&GroupWrap::GetBroken>("broken"),
                         InstanceAccessor<&GroupWrap::GetBrokenCode>("brokenCode"),
                         InstanceAccessor<&GroupWrap::GetBrokenReason>("brokenReason"),
                         InstanceAccessor<&GroupWrap::GetPending>("pending"),
                     });
}

GroupWrap::GroupWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GroupWrap>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  if (!Libraries::Get().ready()) {
    tensorwire::ThrowError(env, "NCCL is not open in this process: call open(ncclPath, cudaPath) first", "NCCL_UNAVAILABLE");
  }
  if (info.Length() < 1 || !info[0].IsObject()) {
    tensorwire::ThrowTypeError(env, "NcclGroup: expected { name, rank, size, device, stream, host, timeoutMs }");
  }
  Napi::Object o = info[0].As<Napi::Object>();
  GroupConfig config;
  Napi::Value name = OptionOr(o, "name");
  config.name = name.IsString() ? name.As<Napi::String>().Utf8Value() : std::string("nccl");
  config.size = static_cast<int>(IntegerArg(env, OptionOr(o, "size"), "NcclGroup: size", 1, 65536, "NCCL_INVALID_RANK"));
  config.rank = static_cast<int>(IntegerArg(env, OptionOr(o, "rank"), "NcclGroup: rank", 0, config.size - 1, "NCCL_INVALID_RANK"));
  config.device = static_cast<int>(IntegerArg(env, OptionOr(o, "device"), "NcclGroup: device", 0, 1023));
  config.stream = reinterpret_cast<CUstream>(static_cast<uintptr_t>(PointerArg(env, OptionOr(o, "stream"), "NcclGroup: stream")));
  Napi::Value host = OptionOr(o, "host");
  if (host.IsString()) config.host = host.As<Napi::String>().Utf8Value();
  Napi::Value timeout = OptionOr(o, "timeoutMs");
  if (!timeout.IsUndefined()) {
    double t = IntegerArg(env, timeout, "NcclGroup: timeoutMs", 1, kMaxTimeoutMs);
    config.timeout = milliseconds(static_cast<int64_t>(t));
  }
  tensorwire::GuardJs(env, "NCCL_ERROR", [&] {
    engine_ = Engine::Create(std::move(config), GetAddonData(env).completer);
    return 0;
  });
  hook_ = std::make_unique<ExitHook>();
  hook_->engine = engine_;
  napi_add_env_cleanup_hook(env, &GroupWrap::OnEnvExit, hook_.get());
}

GroupWrap::~GroupWrap() {
  if (hook_ && !hook_->ran) {
    napi_remove_env_cleanup_hook(env_, &GroupWrap::OnEnvExit, hook_.get());
    // Collected without destroy(): the engine releases the group on its own thread.
    if (!destroyed_ && engine_) engine_->Destroy(nullptr);
  }
}

void GroupWrap::OnEnvExit(void* arg) {
  // Exit with the group alive: abort the communicator and stop the thread, bounded (a thread
  // stuck in NCCL is left behind rather than holding up the exit).
  auto* hook = static_cast<ExitHook*>(arg);
  hook->ran = true;
  hook->engine->Teardown(kExitBudget);
}

int GroupWrap::PeerArg(const Napi::CallbackInfo& info, size_t index, const char* what, bool allowSelf) {
  Napi::Env env = info.Env();
  const GroupConfig& c = engine_->config();
  Napi::Value v = info[index];
  if (!v.IsNumber()) tensorwire::ThrowTypeError(env, std::string(what) + " must be a number", "NCCL_INVALID_RANK");
  double p = v.As<Napi::Number>().DoubleValue();
  if (!(p >= 0 && p < c.size) || static_cast<double>(static_cast<int>(p)) != p) {
    std::string shown = Napi::Number::New(env, p).ToString().Utf8Value();  // as JavaScript writes it
    ThrowRange(env,
               std::string(what) + " " + shown + " is not a rank of nccl group '" + c.name + "' (ranks 0.." +
                   std::to_string(c.size - 1) + ")",
               "NCCL_INVALID_RANK");
  }
  if (!allowSelf && static_cast<int>(p) == c.rank) {
    ThrowRange(env,
               std::string(what) + " " + std::to_string(c.rank) + " is this process's own rank in nccl group '" + c.name +
                   "'; a rank does not send to itself",
               "NCCL_INVALID_RANK");
  }
  return static_cast<int>(p);
}

Napi::Value GroupWrap::Start(Napi::Env env, OpPtr op) {
  auto job = std::make_unique<SettleJob>();
  Napi::Promise promise = GetAddonData(env).completer->Track(env, *job);
  op->job = std::move(job);
  engine_->Submit(std::move(op));
  return promise;
}

Napi::Value GroupWrap::Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (connectStarted_) tensorwire::ThrowError(env, "connect() was already called on this group", "NCCL_ERROR");
    if (info.Length() < 1 || !info[0].IsObject()) tensorwire::ThrowTypeError(env, "connect: expected { uniqueId, rootHost, rootPort, token }");
    Napi::Object o = info[0].As<Napi::Object>();
    ConnectInfo c;
    tensorwire::ByteView id = tensorwire::ByteViewOf(OptionOr(o, "uniqueId"), "connect: uniqueId");
    if (id.length != NCCL_UNIQUE_ID_BYTES) {
      ThrowRange(env, "connect: uniqueId must be " + std::to_string(NCCL_UNIQUE_ID_BYTES) + " bytes, got " + std::to_string(id.length),
                 "NCCL_INVALID_ARGUMENT");
    }
    std::memcpy(c.id.internal, id.data, NCCL_UNIQUE_ID_BYTES);
    Napi::Value host = OptionOr(o, "rootHost");
    if (!host.IsString()) tensorwire::ThrowTypeError(env, "connect: rootHost must be a string");
    c.rootHost = host.As<Napi::String>().Utf8Value();
    c.rootPort = static_cast<int>(IntegerArg(env, OptionOr(o, "rootPort"), "connect: rootPort", 0, 65535));
    c.token = PointerArg(env, OptionOr(o, "token"), "connect: token");
    connectStarted_ = true;
    auto job = std::make_unique<SettleJob>();
    Napi::Promise promise = GetAddonData(env).completer->Track(env, *job);
    engine_->Connect(std::move(c), std::move(job));
    return promise;
  });
}

Napi::Value GroupWrap::Transfer(const Napi::CallbackInfo& info, OpKind kind) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const char* verb = KindName(kind);
    if (info.Length() < 4 || !info[0].IsArray() || !info[1].IsArray()) {
      tensorwire::ThrowTypeError(env, std::string(verb) + ": expected (ptrs: bigint[], sizes: number[], rank, tag)");
    }
    auto op = std::make_unique<Op>();
    op->kind = kind;
    op->peer = PeerArg(info, 2, kind == OpKind::kSend ? "send: dstRank" : "recv: srcRank", false);
    op->tag = static_cast<uint64_t>(IntegerArg(env, info[3], std::string(verb) + ": tag", 0, kMaxSafe));
    Napi::Array ptrs = info[0].As<Napi::Array>();
    Napi::Array sizes = info[1].As<Napi::Array>();
    if (ptrs.Length() != sizes.Length()) {
      ThrowRange(env, std::string(verb) + ": " + std::to_string(ptrs.Length()) + " pointers but " + std::to_string(sizes.Length()) + " sizes",
                 "NCCL_INVALID_ARGUMENT");
    }
    for (uint32_t i = 0; i < ptrs.Length(); i++) {
      std::string at = std::string(verb) + ": tensors[" + std::to_string(i) + "]";
      op->ptrs.push_back(PointerArg(env, ptrs.Get(i), at + " address"));
      op->sizes.push_back(static_cast<uint64_t>(IntegerArg(env, sizes.Get(i), at + " size", 0, kMaxSafe)));
    }
    return Start(env, std::move(op));
  });
}

Napi::Value GroupWrap::Allreduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto op = std::make_unique<Op>();
    op->kind = OpKind::kAllreduce;
    op->ptrs.push_back(PointerArg(env, info[0], "allreduce: address"));
    op->count = static_cast<uint64_t>(IntegerArg(env, info[1], "allreduce: count", 0, kMaxSafe));
    op->dtype = static_cast<int>(IntegerArg(env, info[2], "allreduce: NCCL data type", 0, 11));
    op->redop = static_cast<int>(IntegerArg(env, info[3], "allreduce: NCCL reduction", 0, 3));
    op->sizes.push_back(static_cast<uint64_t>(IntegerArg(env, info[4], "allreduce: bytes", 0, kMaxSafe)));
    return Start(env, std::move(op));
  });
}

Napi::Value GroupWrap::Broadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto op = std::make_unique<Op>();
    op->kind = OpKind::kBroadcast;
    op->ptrs.push_back(PointerArg(env, info[0], "broadcast: address"));
    op->sizes.push_back(static_cast<uint64_t>(IntegerArg(env, info[1], "broadcast: bytes", 0, kMaxSafe)));
    op->root = PeerArg(info, 2, "broadcast: root", true);
    return Start(env, std::move(op));
  });
}

Napi::Value GroupWrap::Barrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto op = std::make_unique<Op>();
    op->kind = OpKind::kBarrier;
    op->sizes.push_back(4);
    return Start(env, std::move(op));
  });
}

Napi::Value GroupWrap::Abort(const Napi::CallbackInfo& info) {
  std::string reason = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : std::string("aborted");
  engine_->Abort(reason);
  return info.Env().Undefined();
}

Napi::Value GroupWrap::Destroy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (destroyed_) return Resolved(env);
  destroyed_ = true;
  auto job = std::make_unique<SettleJob>();
  Napi::Promise promise = GetAddonData(env).completer->Track(env, *job);
  engine_->Destroy(std::move(job));
  return promise;
}

Napi::Value GroupWrap::GetRank(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), engine_->config().rank); }
Napi::Value GroupWrap::GetSize(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), engine_->config().size); }
Napi::Value GroupWrap::GetName(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), engine_->config().name); }
Napi::Value GroupWrap::GetDevice(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), engine_->config().device); }
Napi::Value GroupWrap::GetControlPort(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), engine_->controlPort()); }
Napi::Value GroupWrap::GetToken(const Napi::CallbackInfo& info) { return Napi::BigInt::New(info.Env(), engine_->token()); }
Napi::Value GroupWrap::GetBroken(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), engine_->broken().broken); }

Napi::Value GroupWrap::GetBrokenCode(const Napi::CallbackInfo& info) {
  BrokenState b = engine_->broken();
  return b.broken ? Napi::String::New(info.Env(), b.code) : info.Env().Undefined();
}

Napi::Value GroupWrap::GetBrokenReason(const Napi::CallbackInfo& info) {
  BrokenState b = engine_->broken();
  return b.broken ? Napi::String::New(info.Env(), b.reason) : info.Env().Undefined();
}

Napi::Value GroupWrap::GetPending(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(engine_->pending()));
}

}  // namespace twnccl
