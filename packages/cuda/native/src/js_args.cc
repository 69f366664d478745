// js_args.cc: see js_args.h.
#include "js_args.h"

#include <cmath>
#include <string>

#include "addon_state.h"
#include "devices.h"
#include "event_wrap.h"
#include "guard.h"
#include "stream_wrap.h"
#include "tensorwire/errors.h"

namespace twcuda {

namespace {

[[noreturn]] void Bad(Napi::Env env, const std::string& message) { tensorwire::ThrowTypeError(env, message); }

}  // namespace

int ArgDevice(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  if (info.Length() <= i || !info[i].IsNumber()) Bad(env, "device must be a device index (a number)");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d != std::floor(d) || d > 1e6) Bad(env, "device must be a non-negative integer");
  int device = static_cast<int>(d);
  Guard(env, [&] {
    CheckDevice(device);
    return 0;
  });
  return device;
}

CUdeviceptr ArgPointer(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Napi::Env env = info.Env();
  if (info.Length() <= i || !info[i].IsBigInt()) Bad(env, std::string(what) + " must be a bigint device pointer");
  bool lossless = true;
  uint64_t p = info[i].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) Bad(env, std::string(what) + " does not fit in 64 bits (or is negative)");
  return static_cast<CUdeviceptr>(p);
}

size_t ArgSize(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Napi::Env env = info.Env();
  if (info.Length() <= i || !info[i].IsNumber()) Bad(env, std::string(what) + " must be a number");
  double n = info[i].As<Napi::Number>().DoubleValue();
  if (!(n >= 0) || n != std::floor(n) || n > 9007199254740991.0) Bad(env, std::string(what) + " must be a non-negative integer");
  return static_cast<size_t>(n);
}

Napi::BigInt PointerValue(Napi::Env env, CUdeviceptr p) { return Napi::BigInt::New(env, static_cast<uint64_t>(p)); }

StreamOptions ArgStreamOptions(const Napi::CallbackInfo& info, size_t i, int device) {
  Napi::Env env = info.Env();
  StreamOptions out;
  Napi::Object o;
  if (info.Length() > i && info[i].IsObject()) o = info[i].As<Napi::Object>();
  else if (info.Length() > i && !info[i].IsUndefined()) Bad(env, "options must be an object");
  if (!o.IsEmpty()) {
    Napi::Value stream = o.Get("stream");
    if (!stream.IsUndefined() && !stream.IsNull()) {
      StreamWrap* s = StreamWrap::FromValue(env, stream, "options.stream");
      if (s->lane()->device() != device) {
        Bad(env, "options.stream is on cuda:" + std::to_string(s->lane()->device()) + ", the operation on cuda:" +
                     std::to_string(device) + ": use a stream of the device whose memory is written");
      }
      out.lane = s->lane();
      out.keep.push_back(stream);
    }
    Napi::Value after = o.Get("after");
    if (!after.IsUndefined()) {
      if (!after.IsArray()) Bad(env, "options.after must be an array of Events");
      Napi::Array list = after.As<Napi::Array>();
      for (uint32_t k = 0; k < list.Length(); k++) {
        Napi::Value e = list.Get(k);
        out.after.push_back(EventWrap::FromValue(env, e, "options.after[]")->handle(env));
        out.keep.push_back(e);
      }
    }
    Napi::Value record = o.Get("record");
    if (!record.IsUndefined() && !record.IsNull()) {
      out.record = EventWrap::FromValue(env, record, "options.record")->handle(env);
      out.keep.push_back(record);
    }
    Napi::Value sync = o.Get("sync");
    if (!sync.IsUndefined()) out.sync = sync.ToBoolean().Value();
  }
  if (!out.lane) out.lane = Guard(env, [&] { return AddonState::Of(env).DefaultLane(device); });
  return out;
}

}  // namespace twcuda
