// group_wrap.h: the JS class `GlooGroup` (Promise-returning methods over GroupCore).
//
//   new GlooGroup({ name, rank, size, hostname, timeoutMs })
//   connect(store: (op, keys, value, timeoutMs, done) => void): Promise<void>
//   send(buffers: Uint8Array[] | Uint8Array, dstRank, tag): Promise<void>
//   recv(buffers: Uint8Array[] | Uint8Array, srcRank, tag): Promise<void>
//   barrier(): Promise<void>
//   allreduce(buffer, dtype, op): Promise<void>      // in place
//   broadcast(buffer, root): Promise<void>           // in place
//   abort(reason): void                              // never blocks
//   destroy(): Promise<void>                         // idempotent
//   rank, size, name, broken, brokenCode, brokenReason  (getters)
// Argument errors throw synchronously (TypeError / RangeError with a `code`).
#pragma once

#include <napi.h>
#include <tensorwire/jobs.h>

#include <memory>

#include "group_core.h"

namespace tensorwire_gloo {

class GroupWrap : public Napi::ObjectWrap<GroupWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit GroupWrap(const Napi::CallbackInfo& info);
  ~GroupWrap() override;

 private:
  struct ExitHook {
    std::shared_ptr<GroupCore> core;
    bool ran = false;
  };
  static void OnEnvExit(void* arg);

  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value Recv(const Napi::CallbackInfo& info);
  Napi::Value Transfer(const Napi::CallbackInfo& info, Direction dir);
  Napi::Value Barrier(const Napi::CallbackInfo& info);
  Napi::Value Allreduce(const Napi::CallbackInfo& info);
  Napi::Value Broadcast(const Napi::CallbackInfo& info);
  Napi::Value Abort(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  Napi::Value GetRank(const Napi::CallbackInfo& info);
  Napi::Value GetSize(const Napi::CallbackInfo& info);
  Napi::Value GetName(const Napi::CallbackInfo& info);
  Napi::Value GetBroken(const Napi::CallbackInfo& info);
  Napi::Value GetBrokenCode(const Napi::CallbackInfo& info);
  Napi::Value GetBrokenReason(const Napi::CallbackInfo& info);

  int PeerArg(const Napi::CallbackInfo& info, size_t index, const char* what);
  void StartTeardownThread();

  std::shared_ptr<GroupCore> core_;
  std::unique_ptr<ExitHook> hook_;
  napi_env env_;
  bool connectStarted_ = false;
  bool destroyed_ = false;
};

}  // namespace tensorwire_gloo
