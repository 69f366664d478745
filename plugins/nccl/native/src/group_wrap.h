// group_wrap.h: the JS class `NcclGroup`, Promise-returning methods over an Engine (engine.h).
//
//   new NcclGroup({ name, rank, size, device, stream, host, timeoutMs })
//       stream: the CUstream (bigint) the group's operations run on (a @tensorwire/cuda Stream's
//       handle); rank 0 starts listening for the control channel on `host` at once
//   controlPort, token                        rank 0: what the other ranks need to join
//   connect({ uniqueId, rootHost, rootPort, token }): Promise<void>
//   send(ptrs: bigint[], sizes: number[], dstRank, tag): Promise<void>
//   recv(ptrs: bigint[], sizes: number[], srcRank, tag): Promise<void>
//   allreduce(ptr, count, ncclType, ncclOp, nbytes): Promise<void>    in place
//   broadcast(ptr, nbytes, root): Promise<void>                      in place
//   barrier(): Promise<void>
//   abort(reason): void                                              never blocks
//   destroy(): Promise<void>                                         idempotent
//   rank, size, name, device, broken, brokenCode, brokenReason, pending
// Argument errors throw synchronously (TypeError / RangeError with a `code`).
#pragma once

#include <napi.h>

#include <memory>

#include "engine.h"

namespace twnccl {

class GroupWrap : public Napi::ObjectWrap<GroupWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit GroupWrap(const Napi::CallbackInfo& info);
  ~GroupWrap() override;

 private:
  struct ExitHook {
    std::shared_ptr<Engine> engine;
    bool ran = false;
  };
  static void OnEnvExit(void* arg);

  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info) { return Transfer(info, OpKind::kSend); }
  Napi::Value Recv(const Napi::CallbackInfo& info) { return Transfer(info, OpKind::kRecv); }
  Napi::Value Transfer(const Napi::CallbackInfo& info, OpKind kind);
  Napi::Value Allreduce(const Napi::CallbackInfo& info);
  Napi::Value Broadcast(const Napi::CallbackInfo& info);
  Napi::Value Barrier(const Napi::CallbackInfo& info);
  Napi::Value Abort(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  Napi::Value GetRank(const Napi::CallbackInfo& info);
  Napi::Value GetSize(const Napi::CallbackInfo& info);
  Napi::Value GetName(const Napi::CallbackInfo& info);
  Napi::Value GetDevice(const Napi::CallbackInfo& info);
  Napi::Value GetControlPort(const Napi::CallbackInfo& info);
  Napi::Value GetToken(const Napi::CallbackInfo& info);
  Napi::Value GetBroken(const Napi::CallbackInfo& info);
  Napi::Value GetBrokenCode(const Napi::CallbackInfo& info);
  Napi::Value GetBrokenReason(const Napi::CallbackInfo& info);
  Napi::Value GetPending(const Napi::CallbackInfo& info);

  /** Tracks a new Promise for `op` and hands it to the engine. */
  Napi::Value Start(Napi::Env env, OpPtr op);
  int PeerArg(const Napi::CallbackInfo& info, size_t index, const char* what, bool allowSelf);

  std::shared_ptr<Engine> engine_;
  std::unique_ptr<ExitHook> hook_;
  napi_env env_;
  bool connectStarted_ = false;
  bool destroyed_ = false;
};

}  // namespace twnccl
