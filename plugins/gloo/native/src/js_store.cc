#include "js_store.h"

#include <tensorwire/buffers.h>
#include <tensorwire/errors.h>

#include <cstring>

#include "group_core.h"

namespace tensorwire_gloo {

using std::chrono::milliseconds;
using tensorwire::CodedError;

namespace {
// JS enforces the timeout itself; the native side waits a little longer before giving up, so a
// JS timeout error (with its own message) normally wins.
constexpr milliseconds kGrace{2000};
constexpr milliseconds kAbortPoll{50};

bool LooksLikeTimeout(const std::string& m) {
  return m.find("timed out") != std::string::npos || m.find("timeout") != std::string::npos ||
         m.find("Timeout") != std::string::npos || m.find("Timed out") != std::string::npos;
}
}  // namespace

void StoreRequest::Finish(std::string code, std::string message, std::vector<char> value) {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (done) return;
    done = true;
    errorCode = std::move(code);
    errorMessage = std::move(message);
    result = std::move(value);
  }
  cv.notify_all();
}

void CallStoreFromJs(Napi::Env env, Napi::Function fn, void*, std::shared_ptr<StoreRequest>* data) {
  std::unique_ptr<std::shared_ptr<StoreRequest>> holder(data);
  std::shared_ptr<StoreRequest> req = *holder;
  if (env == nullptr || fn.IsEmpty()) {
    req->Finish("GLOO_CLOSED", "the JavaScript environment is shutting down", {});
    return;
  }
  try {
    Napi::HandleScope scope(env);
    Napi::Array keys = Napi::Array::New(env, req->keys.size());
    for (size_t i = 0; i < req->keys.size(); ++i) keys.Set(static_cast<uint32_t>(i), req->keys[i]);
    Napi::Value value = env.Undefined();
    if (req->op == "set") {
      Napi::Uint8Array bytes = Napi::Uint8Array::New(env, req->value.size());
      if (!req->value.empty()) std::memcpy(bytes.Data(), req->value.data(), req->value.size());
      value = bytes;
    }
    Napi::Function done = Napi::Function::New(
        env,
        [req](const Napi::CallbackInfo& info) -> Napi::Value {
          Napi::Env e = info.Env();
          Napi::Value err = info.Length() > 0 ? info[0] : e.Undefined();
          if (!err.IsUndefined() && !err.IsNull()) {
            std::string message = "rendezvous store failed";
            std::string code;
            if (err.IsObject()) {
              Napi::Object o = err.As<Napi::Object>();
              Napi::Value m = o.Get("message");
              if (m.IsString()) message = m.As<Napi::String>().Utf8Value();
              Napi::Value c = o.Get("code");
              if (c.IsString()) code = c.As<Napi::String>().Utf8Value();
            } else {
              message = err.ToString().Utf8Value();
            }
            if (code.empty()) code = LooksLikeTimeout(message) ? "GLOO_TIMEOUT" : "GLOO_RENDEZVOUS";
            req->Finish(code, "rendezvous " + req->op + " failed: " + message, {});
            return e.Undefined();
          }
          std::vector<char> result;
          Napi::Value v = info.Length() > 1 ? info[1] : e.Undefined();
          if (v.IsTypedArray() || v.IsArrayBuffer()) {
            tensorwire::ByteView view = tensorwire::ByteViewOf(v, "rendezvous value");
            result.assign(reinterpret_cast<char*>(view.data), reinterpret_cast<char*>(view.data) + view.length);
          }
          req->Finish("", "", std::move(result));
          return e.Undefined();
        },
        "glooStoreDone");
    fn.Call({Napi::String::New(env, req->op), keys, value,
             Napi::Number::New(env, static_cast<double>(req->timeout.count())), done});
  } catch (const Napi::Error& e) {
    req->Finish("GLOO_RENDEZVOUS", "rendezvous " + req->op + " failed: " + e.Message(), {});
  } catch (const std::exception& e) {
    req->Finish("GLOO_RENDEZVOUS", "rendezvous " + req->op + " failed: " + e.what(), {});
  }
}

std::vector<char> JsStore::Call(const std::string& op, std::vector<std::string> keys, std::vector<char> value,
                                milliseconds timeout) {
  if (timeout <= milliseconds(0)) timeout = timeout_;
  auto req = std::make_shared<StoreRequest>();
  req->op = op;
  req->keys = std::move(keys);
  req->value = std::move(value);
  req->timeout = timeout;
  auto* data = new std::shared_ptr<StoreRequest>(req);
  if (tsfn_.NonBlockingCall(data) != napi_ok) {
    delete data;
    throw CodedError("GLOO_CLOSED", "rendezvous " + op + ": the JavaScript environment is shutting down");
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout + kGrace;
  std::unique_lock<std::mutex> lock(req->mu);
  while (!req->done) {
    tensorwire::ErrorInfo why;
    lock.unlock();
    bool broken = core_->broken(&why);
    lock.lock();
    if (req->done) break;
    if (broken) throw CodedError(why.code, "rendezvous " + op + " interrupted: " + why.message);
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string what = req->keys.empty() ? std::string() : " '" + req->keys.front() + "'";
      throw CodedError("GLOO_TIMEOUT", "rendezvous " + op + what + " timed out after " +
                                           std::to_string(timeout.count()) + " ms");
    }
    req->cv.wait_for(lock, kAbortPoll);
  }
  if (!req->errorCode.empty()) throw CodedError(req->errorCode, req->errorMessage);
  return std::move(req->result);
}

void JsStore::set(const std::string& key, const std::vector<char>& data) {
  Call("set", {key}, data, timeout_);
}

std::vector<char> JsStore::get(const std::string& key) { return Call("get", {key}, {}, timeout_); }

void JsStore::wait(const std::vector<std::string>& keys, const milliseconds& timeout) {
  Call("wait", keys, {}, timeout);
}

}  // namespace tensorwire_gloo
