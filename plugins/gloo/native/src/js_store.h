// js_store.h: a gloo::rendezvous::Store whose set/get/wait are performed by JavaScript.
//
// connectFullMesh calls the store from the group's lane thread. Each call is handed to the JS
// thread through a ThreadSafeFunction, which calls the JS store function
//   (op: 'set'|'get'|'wait', keys: string[], value: Uint8Array|undefined, timeoutMs, done)
// and `done(err, value)` wakes the lane thread. The lane thread waits on a condition variable
// until JS answers, the timeout (plus a grace period) passes, or the group is aborted.
#pragma once

#include <napi.h>
#include <gloo/rendezvous/store.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tensorwire_gloo {

class GroupCore;

struct StoreRequest {
  std::string op;
  std::vector<std::string> keys;
  std::vector<char> value;
  std::chrono::milliseconds timeout{0};

  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::string errorCode;  // empty: success
  std::string errorMessage;
  std::vector<char> result;

  void Finish(std::string code, std::string message, std::vector<char> result);
};

void CallStoreFromJs(Napi::Env env, Napi::Function fn, void* context, std::shared_ptr<StoreRequest>* data);

using StoreTsfn = Napi::TypedThreadSafeFunction<void, std::shared_ptr<StoreRequest>, CallStoreFromJs>;

class JsStore : public gloo::rendezvous::Store {
 public:
  JsStore(StoreTsfn tsfn, GroupCore* core, std::chrono::milliseconds timeout)
      : tsfn_(tsfn), core_(core), timeout_(timeout) {}

  void set(const std::string& key, const std::vector<char>& data) override;
  std::vector<char> get(const std::string& key) override;
  void wait(const std::vector<std::string>& keys) override { wait(keys, timeout_); }
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override;

 private:
  std::vector<char> Call(const std::string& op, std::vector<std::string> keys, std::vector<char> value,
                         std::chrono::milliseconds timeout);

  StoreTsfn tsfn_;
  GroupCore* core_;
  std::chrono::milliseconds timeout_;
};

}  // namespace tensorwire_gloo
