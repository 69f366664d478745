#include "group_wrap.h"

#include <tensorwire/addon.h>

#include <cmath>
#include <thread>

#include "addon_data.h"
#include "gloo_errors.h"
#include "js_store.h"
#include "reduce.h"

namespace tensorwire_gloo {

using std::chrono::milliseconds;
using tensorwire::CodedError;
using tensorwire::ErrorInfo;

namespace {

// At process exit, how long the exit hook waits for a group's threads before leaking them.
constexpr milliseconds kExitBudget{2000};
// Largest timeout honoured (Gloo adds it to steady_clock::now(); keep far from overflow).
constexpr double kMaxTimeoutMs = 30.0 * 24 * 3600 * 1000;

bool MapGloo(const std::exception_ptr& ep, ErrorInfo& out) {
  out = CaptureGlooError(ep);
  return true;
}

// Runs a task on a fresh detached thread (used for teardown, which joins the group's own threads).
struct DetachedThread {
  bool Post(tensorwire::Task task) {
    std::thread(std::move(task)).detach();
    return true;
  }
};

// Ends an operation's in-flight count however the work finishes.
struct OpScope {
  GroupCore* core;
  ~OpScope() { core->EndOp(); }
};

class TransferJob : public tensorwire::Job {
 public:
  TransferJob(std::shared_ptr<GroupCore> core, Direction dir, int peer, uint64_t tag)
      : core_(std::move(core)), dir_(dir), peer_(peer), tag_(tag) {}
  std::vector<tensorwire::ByteView> views;
  void Execute() override {
    OpScope scope{core_.get()};
    core_->Transfer(dir_, views, peer_, tag_);
  }
  ErrorInfo MapError(const std::exception_ptr& ep) override { return CaptureGlooError(ep); }

 private:
  std::shared_ptr<GroupCore> core_;
  Direction dir_;
  int peer_;
  uint64_t tag_;
};

[[noreturn]] void ThrowRange(Napi::Env env, const std::string& message, const char* code) {
  Napi::RangeError err = Napi::RangeError::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  throw err;
}

double IntegerArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Value v = info[index];
  if (!v.IsNumber()) tensorwire::ThrowTypeError(info.Env(), std::string(what) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d) {
    ThrowRange(info.Env(), std::string(what) + " must be an integer, got " + std::to_string(d), "ERR_OUT_OF_RANGE");
  }
  return d;
}

Napi::Value OptionOr(const Napi::Object& o, const char* key) { return o.Has(key) ? o.Get(key) : o.Env().Undefined(); }

}  // namespace

Napi::Function GroupWrap::Define(Napi::Env env) {
  return DefineClass(env, "GlooGroup",
                     {
                         InstanceMethod<&GroupWrap::Connect>("connect"),
                         InstanceMethod<&GroupWrap::Send>("send"),
                         InstanceMethod<&GroupWrap::Recv>("recv"),
                         InstanceMethod<&GroupWrap::Barrier>("barrier"),
                         InstanceMethod<&GroupWrap::Allreduce>("allreduce"),
                         InstanceMethod<&GroupWrap::Broadcast>("broadcast"),
                         InstanceMethod<&GroupWrap::Abort>("abort"),
                         InstanceMethod<&GroupWrap::Destroy>("destroy"),
                         InstanceAccessor<&GroupWrap::GetRank>("rank"),
                         InstanceAccessor<&GroupWrap::GetSize>("size"),
                         InstanceAccessor<&GroupWrap::GetName>("name"),
                         InstanceAccessor<&GroupWrap::GetBroken>("broken"),
                         InstanceAccessor<&GroupWrap::GetBrokenCode>("brokenCode"),
                         InstanceAccessor<&GroupWrap::GetBrokenReason>("brokenReason"),
                     });
}

GroupWrap::GroupWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GroupWrap>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    tensorwire::ThrowTypeError(env, "GlooGroup: expected an options object { name, rank, size, hostname, timeoutMs }");
  }
  Napi::Object o = info[0].As<Napi::Object>();
  GroupConfig config;
  Napi::Value name = OptionOr(o, "name");
  config.name = name.IsString() ? name.As<Napi::String>().Utf8Value() : std::string("gloo");
  Napi::Value rank = OptionOr(o, "rank");
  Napi::Value size = OptionOr(o, "size");
  if (!rank.IsNumber() || !size.IsNumber()) tensorwire::ThrowTypeError(env, "GlooGroup: rank and size must be numbers");
  double r = rank.As<Napi::Number>().DoubleValue();
  double s = size.As<Napi::Number>().DoubleValue();
  if (!(s >= 1) || std::floor(s) != s || s > 65536) {
    ThrowRange(env, "GlooGroup: size must be an integer >= 1, got " + std::to_string(s), "GLOO_INVALID_RANK");
  }
  if (!(r >= 0) || std::floor(r) != r || r >= s) {
    ThrowRange(env, "GlooGroup: rank must be an integer in [0, " + std::to_string(static_cast<int>(s)) + "), got " +
                        std::to_string(r),
               "GLOO_INVALID_RANK");
  }
  config.rank = static_cast<int>(r);
  config.size = static_cast<int>(s);
  Napi::Value host = OptionOr(o, "hostname");
  if (host.IsString()) config.hostname = host.As<Napi::String>().Utf8Value();
  Napi::Value timeout = OptionOr(o, "timeoutMs");
  if (timeout.IsNumber()) {
    double t = timeout.As<Napi::Number>().DoubleValue();
    if (!(t > 0)) ThrowRange(env, "GlooGroup: timeoutMs must be > 0", "ERR_OUT_OF_RANGE");
    config.timeout = milliseconds(static_cast<int64_t>(std::min(t, kMaxTimeoutMs)));
  }
  core_ = std::make_shared<GroupCore>(std::move(config));
  hook_ = std::make_unique<ExitHook>();
  hook_->core = core_;
  napi_add_env_cleanup_hook(env, &GroupWrap::OnEnvExit, hook_.get());
}

GroupWrap::~GroupWrap() {
  if (hook_ && !hook_->ran) {
    napi_remove_env_cleanup_hook(env_, &GroupWrap::OnEnvExit, hook_.get());
    // Collected without destroy(): release the group off the JS thread (a finalizer must not block).
    if (!destroyed_) StartTeardownThread();
  }
}

void GroupWrap::OnEnvExit(void* arg) {
  // Process (or worker) exit with the group alive: fail what is pending, stop the threads, close
  // sockets. Bounded: threads stuck in Gloo are left behind rather than blocking exit.
  auto* hook = static_cast<ExitHook*>(arg);
  hook->ran = true;
  hook->core->Teardown(kExitBudget);
}

void GroupWrap::StartTeardownThread() {
  std::shared_ptr<GroupCore> core = core_;
  milliseconds budget = core->config().timeout + milliseconds(2000);
  std::thread([core, budget]() mutable {
    if (!core->Teardown(budget)) new std::shared_ptr<GroupCore>(core);  // stuck: leak on purpose
  }).detach();
}

int GroupWrap::PeerArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  double p = IntegerArg(info, index, what);
  const GroupConfig& c = core_->config();
  if (p < 0 || p >= c.size) {
    ThrowRange(info.Env(),
               std::string(what) + " " + std::to_string(static_cast<long long>(p)) + " is not a rank of gloo group '" +
                   c.name + "' (ranks 0.." + std::to_string(c.size - 1) + ")",
               "GLOO_INVALID_RANK");
  }
  if (static_cast<int>(p) == c.rank) {
    ThrowRange(info.Env(),
               std::string(what) + " " + std::to_string(c.rank) + " is this process's own rank in gloo group '" +
                   c.name + "'; Gloo cannot send to itself",
               "GLOO_INVALID_RANK");
  }
  return static_cast<int>(p);
}

Napi::Value GroupWrap::Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    tensorwire::ThrowTypeError(env, "connect: expected a store function (op, keys, value, timeoutMs, done)");
  }
  if (connectStarted_) tensorwire::ThrowError(env, "connect() was already called on this group", "GLOO_ERROR");
  connectStarted_ = true;
  StoreTsfn tsfn = StoreTsfn::New(env, info[0].As<Napi::Function>(), "tensorwire-gloo-rendezvous", 0, 1);
  tsfn.Unref(env);  // the pending connect Promise keeps the loop alive, not the store
  std::shared_ptr<GroupCore> core = core_;
  core->BeginOp();
  auto job = tensorwire::MakeJob(
      [core, tsfn]() mutable {
        OpScope scope{core.get()};
        JsStore store(tsfn, core.get(), core->config().timeout);
        try {
          core->Connect(store);
        } catch (...) {
          tsfn.Release();
          throw;
        }
        tsfn.Release();
      },
      nullptr, MapGloo);
  return tensorwire::Submit(env, core->lane(), GetAddonData(env).completer, std::move(job), "GLOO_DESTROYED");
}

Napi::Value GroupWrap::Send(const Napi::CallbackInfo& info) { return Transfer(info, Direction::kSend); }
Napi::Value GroupWrap::Recv(const Napi::CallbackInfo& info) { return Transfer(info, Direction::kRecv); }

Napi::Value GroupWrap::Transfer(const Napi::CallbackInfo& info, Direction dir) {
  Napi::Env env = info.Env();
  const char* verb = dir == Direction::kSend ? "send" : "recv";
  int peer = PeerArg(info, 1, dir == Direction::kSend ? "send: dstRank" : "recv: srcRank");
  double tag = IntegerArg(info, 2, "tag");
  if (tag < 0 || tag > 9007199254740991.0) ThrowRange(env, "tag must be a non-negative safe integer", "ERR_OUT_OF_RANGE");
  auto job = std::make_unique<TransferJob>(core_, dir, peer, static_cast<uint64_t>(tag));
  Napi::Value arg = info[0];
  if (arg.IsArray()) {
    Napi::Array arr = arg.As<Napi::Array>();
    job->views.reserve(arr.Length());
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      std::string what = std::string(verb) + ": buffers[" + std::to_string(i) + "]";
      job->views.push_back(job->KeepBytes(arr.Get(i), what.c_str()));
    }
  } else {
    job->views.push_back(job->KeepBytes(arg, (std::string(verb) + ": buffer").c_str()));
  }
  core_->BeginOp();
  return tensorwire::Submit(env, core_->pool(), GetAddonData(env).completer, std::move(job), "GLOO_DESTROYED");
}

Napi::Value GroupWrap::Barrier(const Napi::CallbackInfo& info) {
  std::shared_ptr<GroupCore> core = core_;
  core->BeginOp();
  auto job = tensorwire::MakeJob(
      [core] {
        OpScope scope{core.get()};
        core->Barrier();
      },
      nullptr, MapGloo);
  return tensorwire::Submit(info.Env(), core->lane(), GetAddonData(info.Env()).completer, std::move(job),
                            "GLOO_DESTROYED");
}

Napi::Value GroupWrap::Allreduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string dtype = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : std::string();
  std::string op = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : std::string("sum");
  ReduceSpec spec;
  if (!LookupReduce(dtype, op, &spec)) {
    tensorwire::ThrowTypeError(env,
                               "allreduce: unsupported dtype '" + dtype + "' or op '" + op +
                                   "' (dtypes: float32 float64 float16 int8 int16 int32 int64 uint8 uint16 "
                                   "uint32 uint64; ops: sum prod min max)",
                               "GLOO_UNSUPPORTED");
  }
  std::shared_ptr<GroupCore> core = core_;
  auto holder = std::make_shared<tensorwire::ByteView>();
  auto job = tensorwire::MakeJob(
      [core, holder, spec] {
        OpScope scope{core.get()};
        core->Allreduce(*holder, spec);
      },
      nullptr, MapGloo);
  *holder = job->KeepBytes(info[0], "allreduce: buffer");
  if (holder->length % spec.elementSize != 0) {
    ThrowRange(env,
               "allreduce: buffer length " + std::to_string(holder->length) + " is not a multiple of the " + dtype +
                   " element size " + std::to_string(spec.elementSize),
               "ERR_OUT_OF_RANGE");
  }
  core->BeginOp();
  return tensorwire::Submit(env, core->lane(), GetAddonData(env).completer, std::move(job), "GLOO_DESTROYED");
}

Napi::Value GroupWrap::Broadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double root = IntegerArg(info, 1, "broadcast: root");
  const GroupConfig& c = core_->config();
  if (root < 0 || root >= c.size) {
    ThrowRange(env, "broadcast: root " + std::to_string(static_cast<long long>(root)) + " is not a rank of gloo group '" +
                        c.name + "'",
               "GLOO_INVALID_RANK");
  }
  std::shared_ptr<GroupCore> core = core_;
  auto holder = std::make_shared<tensorwire::ByteView>();
  int r = static_cast<int>(root);
  auto job = tensorwire::MakeJob(
      [core, holder, r] {
        OpScope scope{core.get()};
        core->Broadcast(*holder, r);
      },
      nullptr, MapGloo);
  *holder = job->KeepBytes(info[0], "broadcast: buffer");
  core->BeginOp();
  return tensorwire::Submit(env, core->lane(), GetAddonData(env).completer, std::move(job), "GLOO_DESTROYED");
}

Napi::Value GroupWrap::Abort(const Napi::CallbackInfo& info) {
  std::string reason = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value()
                                                               : std::string("aborted");
  core_->Poison(ErrorInfo{"GLOO_ABORTED", "aborted: " + reason});
  return info.Env().Undefined();
}

Napi::Value GroupWrap::Destroy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (destroyed_) {
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Resolve(env.Undefined());
    return deferred.Promise();
  }
  destroyed_ = true;
  std::shared_ptr<GroupCore> core = core_;
  milliseconds budget = core->config().timeout + milliseconds(2000);
  auto job = tensorwire::MakeJob([core, budget] {
    if (!core->Teardown(budget)) {
      new std::shared_ptr<GroupCore>(core);  // a thread is stuck in Gloo: leak rather than crash
      throw CodedError("GLOO_STUCK", "gloo group '" + core->config().name +
                                         "': a native thread did not stop; its resources were leaked");
    }
  });
  DetachedThread thread;
  return tensorwire::Submit(env, thread, GetAddonData(env).completer, std::move(job));
}

Napi::Value GroupWrap::GetRank(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), core_->config().rank); }
Napi::Value GroupWrap::GetSize(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), core_->config().size); }
Napi::Value GroupWrap::GetName(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), core_->config().name); }
Napi::Value GroupWrap::GetBroken(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), core_->broken()); }

Napi::Value GroupWrap::GetBrokenCode(const Napi::CallbackInfo& info) {
  ErrorInfo why;
  if (!core_->broken(&why)) return info.Env().Undefined();
  return Napi::String::New(info.Env(), why.code);
}

Napi::Value GroupWrap::GetBrokenReason(const Napi::CallbackInfo& info) {
  ErrorInfo why;
  if (!core_->broken(&why)) return info.Env().Undefined();
  return Napi::String::New(info.Env(), why.message);
}

}  // namespace tensorwire_gloo
