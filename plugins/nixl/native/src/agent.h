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

namespace twnixl {

class Agent : public Napi::ObjectWrap<Agent> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Agent(const Napi::CallbackInfo& info);
  ~Agent() override;

 private:
  Napi::Value Register(const Napi::CallbackInfo& info);
  Napi::Value Release(const Napi::CallbackInfo& info);
  Napi::Value Allocate(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value WorkerAddress(const Napi::CallbackInfo& info);
  Napi::Value GenRkey(const Napi::CallbackInfo& info);
  Napi::Value NetDevices(const Napi::CallbackInfo& info);

  void OnReadDone(Napi::Env env, uint64_t id, const tensorwire::ErrorInfo& error, Engine::Settle settle);
  void HoldLoop(Napi::Env env, bool hold);
  void CheckOpen(Napi::Env env) const;
  void ShutdownNow();  // synchronous: process exit or garbage collection without close()
  static void CleanupHook(void* arg);

  struct PendingRead {
    Napi::Promise::Deferred deferred;
    std::vector<Napi::ObjectReference> keepAlive;  // destination buffers stay alive until settled
  };

  std::string name_;
  ContextPtr ctx_;
  std::shared_ptr<MemoryRegistry> mem_;
  std::unique_ptr<Engine> engine_;
  Napi::ThreadSafeFunction tsfn_;
  std::unordered_map<uint64_t, PendingRead> pending_;
  std::unordered_map<uint64_t, std::vector<Napi::ObjectReference>> lingering_;  // abandoned reads' buffers
  uint64_t nextReadId_ = 1;
  bool closed_ = false;
  bool loopHeld_ = false;
  std::thread closer_;
  napi_env env_ = nullptr;
};

}  // namespace twnixl
