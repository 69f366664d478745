// agent.h: the JavaScript class `Agent`, one NIXL-style agent (UCP context + worker + progress
// thread) with its registrations and pool. See agent.cc for the JS-facing method contracts.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine.h"
#include "memory.h"
#include "pinned_pool.h"
#include "stager.h"

namespace twnixl {

class Agent : public Napi::ObjectWrap<Agent> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Agent(const Napi::CallbackInfo& info);
  ~Agent() override;

 private:
  Napi::Value Register(const Napi::CallbackInfo& info);
  Napi::Value RegisterDevice(const Napi::CallbackInfo& info);
  Napi::Value WhenIdle(const Napi::CallbackInfo& info);
  Napi::Value CudaMemory(const Napi::CallbackInfo& info);
  Napi::Value Release(const Napi::CallbackInfo& info);
  Napi::Value Allocate(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value WorkerAddress(const Napi::CallbackInfo& info);
  Napi::Value GenRkey(const Napi::CallbackInfo& info);
  Napi::Value NetDevices(const Napi::CallbackInfo& info);

  void OnReadDone(Napi::Env env, uint64_t id, const tensorwire::ErrorInfo& error, Engine::Settle settle);
  void HoldLoop(Napi::Env env);  // the loop stays alive while reads or idle waits are pending
  void CheckOpen(Napi::Env env) const;
  void ShutdownNow();  // synchronous: process exit or garbage collection without close()
  static void CleanupHook(void* arg);

  struct PendingRead {
    Napi::Promise::Deferred deferred;
    std::vector<Napi::ObjectReference> keepAlive;  // destination buffers stay alive until settled
    Napi::FunctionReference onReleased;  // called once nothing writes the destinations any more
  };
  static void CallReleased(Napi::Env env, PendingRead& read);

  std::string name_;
  ContextPtr ctx_;
  std::shared_ptr<MemoryRegistry> mem_;
  std::shared_ptr<PinnedPool> pinned_;  // the staging path's pinned chunks (both sides)
  std::unique_ptr<Stager> stager_;      // the staging path's copies; stops after the engine
  std::unique_ptr<Engine> engine_;
  Napi::ThreadSafeFunction tsfn_;
  std::unordered_map<uint64_t, PendingRead> pending_;
  std::unordered_map<uint64_t, PendingRead> lingering_;  // abandoned reads: buffers kept until UCX lets go
  size_t idleWaits_ = 0;                                 // whenIdle() Promises not yet settled
  uint64_t nextReadId_ = 1;
  bool closed_ = false;
  bool loopHeld_ = false;
  std::thread closer_;
  napi_env env_ = nullptr;
};

}  // namespace twnixl
