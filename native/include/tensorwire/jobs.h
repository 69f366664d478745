// tensorwire/jobs.h: blocking work that settles a JS Promise.
//
//   auto completer = tensorwire::Completer::Create(env, "gloo");     // once, JS thread
//   auto job = tensorwire::MakeJob([=] { doBlockingThing(); });        // JS thread
//   auto view = job->KeepBytes(info[0], "buffer");                     // stays alive until settled
//   return tensorwire::Submit(env, thread, completer, std::move(job)); // WorkerThread / ElasticPool
//
// The job runs on a worker thread; its outcome travels back to the JS thread through one
// ThreadSafeFunction per Completer, where the Promise is resolved or rejected (with a coded
// Error, see errors.h) and the kept references are dropped.
#pragma once

#include <napi.h>

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "tensorwire/buffers.h"
#include "tensorwire/errors.h"
#include "tensorwire/worker.h"

namespace tensorwire {

/** One unit of blocking work bound to a Promise. Subclass or use MakeJob. */
class Job {
 public:
  virtual ~Job() = default;

  /** Worker thread: the blocking work. Throw (any exception) to reject the Promise. */
  virtual void Execute() = 0;

  /** JS thread, after Execute returned: the value the Promise resolves with. */
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }

  /** Worker thread: map a thrown exception to code + message. Override for library errors. */
  virtual ErrorInfo MapError(const std::exception_ptr& ep) { return CaptureError(ep); }

  /** JS thread: keep `v` alive until the job settles. */
  void Keep(const Napi::Value& v) { keep_.push_back(Napi::Persistent(v)); }

  /** JS thread: view of a byte container kept alive until the job settles. */
  ByteView KeepBytes(const Napi::Value& v, const char* what = "argument") {
    ByteView view = ByteViewOf(v, what);
    Keep(v);
    return view;
  }

  /** Any thread, before settling: reject with this error instead of running/resolving. */
  void Fail(ErrorInfo info) { error_ = std::move(info); failed_ = true; }
  bool failed() const { return failed_; }
  const ErrorInfo& error() const { return error_; }

  /** Worker thread: Execute with exceptions captured (what Submit and Runner call). */
  void Run() {
    if (failed_) return;
    try {
      Execute();
    } catch (...) {
      Fail(MapError(std::current_exception()));
    }
  }

 private:
  friend class Completer;
  std::optional<Napi::Promise::Deferred> deferred_;
  std::vector<Napi::Reference<Napi::Value>> keep_;
  ErrorInfo error_;
  std::atomic<bool> failed_{false};
};

/** A Job from lambdas: `work()` on the worker; optional `result(env)` on the JS thread. */
class FunctionJob : public Job {
 public:
  using Work = std::function<void()>;
  using ResultFn = std::function<Napi::Value(Napi::Env)>;
  FunctionJob(Work work, ResultFn result, ExceptionMapper mapper)
      : work_(std::move(work)), result_(std::move(result)), mapper_(std::move(mapper)) {}
  void Execute() override { work_(); }
  Napi::Value Result(Napi::Env env) override { return result_ ? result_(env) : env.Undefined(); }
  ErrorInfo MapError(const std::exception_ptr& ep) override { return CaptureError(ep, "ERR_NATIVE", mapper_); }

 private:
  Work work_;
  ResultFn result_;
  ExceptionMapper mapper_;
};

inline std::unique_ptr<FunctionJob> MakeJob(FunctionJob::Work work, FunctionJob::ResultFn result = nullptr,
                                            ExceptionMapper mapper = nullptr) {
  return std::make_unique<FunctionJob>(std::move(work), std::move(result), std::move(mapper));
}

/**
 * Settles jobs' Promises on the JS thread. Create one per addon instance (or per long-lived
 * object); share it through std::shared_ptr. While any tracked job is unsettled the event loop
 * stays alive (like a pending socket); when none is, the Completer does not hold the loop.
 * After the environment shuts down, Complete() drops jobs silently (never touches N-API).
 */
class Completer : public std::enable_shared_from_this<Completer> {
 public:
  static std::shared_ptr<Completer> Create(Napi::Env env, const char* name) {
    std::shared_ptr<Completer> self(new Completer());
    // The TSFN holds its own strong reference (freed by the finalizer at env teardown/Close).
    auto* hold = new std::shared_ptr<Completer>(self);
    self->tsfn_ = Tsfn::New(env, name, 0, 1, hold, &Completer::Finalize);
    self->tsfn_.Unref(env);
    return self;
  }

  /** JS thread: attach a new Promise to `job` and return it. */
  Napi::Promise Track(Napi::Env env, Job& job) {
    job.deferred_.emplace(Napi::Promise::Deferred::New(env));
    if (pending_++ == 0 && !closed_) tsfn_.Ref(env);
    return job.deferred_->Promise();
  }

  /**
   * Any thread: hand a finished job to the JS thread to settle. Returns false if the environment
   * is gone (the job is then leaked on purpose: its references may only be freed on the JS thread).
   */
  bool Complete(std::unique_ptr<Job> job) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) {
      job.release();
      return false;
    }
    napi_status st = tsfn_.NonBlockingCall(job.get());
    if (st != napi_ok) {
      job.release();
      return false;
    }
    job.release();  // now owned by the queued call
    return true;
  }

  /** JS thread: settle a tracked job right now (e.g. its worker was already shut down). */
  void SettleNow(Napi::Env env, std::unique_ptr<Job> job) { Settle(env, this, std::move(job)); }

  bool closed() const { return closed_; }

 private:
  using Holder = std::shared_ptr<Completer>;
  static void CallJs(Napi::Env env, Napi::Function, Holder* holder, Job* job);
  static void Settle(Napi::Env env, Completer* self, std::unique_ptr<Job> job);
  using Tsfn = Napi::TypedThreadSafeFunction<Holder, Job, &Completer::CallJs>;

  Completer() = default;

  static void Finalize(Napi::Env, void*, Holder* holder) {
    {
      std::lock_guard<std::mutex> lock((*holder)->mu_);
      (*holder)->closed_ = true;
    }
    delete holder;
  }

  std::mutex mu_;
  Tsfn tsfn_;
  size_t pending_ = 0;  // JS thread only
  bool closed_ = false;
};

inline void Completer::CallJs(Napi::Env env, Napi::Function, Holder* holder, Job* raw) {
  std::unique_ptr<Job> job(raw);
  if (!job) return;
  if (env == nullptr) {  // environment tearing down: drop without N-API calls
    job.release();
    return;
  }
  Settle(env, holder ? holder->get() : nullptr, std::move(job));
}

inline void Completer::Settle(Napi::Env env, Completer* self, std::unique_ptr<Job> job) {
  if (job->deferred_) {
    Napi::HandleScope scope(env);
    if (job->failed()) {
      job->deferred_->Reject(MakeError(env, job->error()).Value());
    } else {
      try {
        job->deferred_->Resolve(job->Result(env));
      } catch (const Napi::Error& e) {
        job->deferred_->Reject(e.Value());
      } catch (const std::exception& e) {
        job->deferred_->Reject(MakeError(env, ErrorInfo{"ERR_NATIVE", e.what()}).Value());
      }
    }
    if (self && self->pending_ > 0 && --self->pending_ == 0 && !self->closed_) self->tsfn_.Unref(env);
  }
  job.reset();  // drops kept references on the JS thread
}

/**
 * JS thread: track `job`, queue it on `pool` (WorkerThread or ElasticPool), return its Promise.
 * If the pool no longer accepts work the Promise rejects with `closedCode`.
 */
template <typename Pool>
Napi::Promise Submit(Napi::Env env, Pool& pool, const std::shared_ptr<Completer>& completer,
                     std::unique_ptr<Job> job, const char* closedCode = "ERR_CLOSED") {
  Napi::Promise promise = completer->Track(env, *job);
  // std::function needs a copyable callable: carry the job in a shared box.
  auto box = std::make_shared<std::unique_ptr<Job>>(std::move(job));
  bool queued = pool.Post([completer, box] {
    (*box)->Run();
    completer->Complete(std::move(*box));
  });
  if (!queued) {
    (*box)->Fail(ErrorInfo{closedCode, "the native worker was already shut down"});
    completer->SettleNow(env, std::move(*box));
  }
  return promise;
}

/** A Task (worker.h) that runs an already tracked `job` then hands it to `completer`. */
inline Task Runner(std::shared_ptr<Completer> completer, std::unique_ptr<Job> job) {
  // std::function needs a copyable callable: carry the job as a shared_ptr to a unique_ptr.
  auto box = std::make_shared<std::unique_ptr<Job>>(std::move(job));
  return [completer = std::move(completer), box]() mutable {
    (*box)->Run();
    completer->Complete(std::move(*box));
  };
}

}  // namespace tensorwire
