// stream_wrap.cc: see stream_wrap.h.
#include "stream_wrap.h"

#include "addon_state.h"
#include "guard.h"
#include "js_args.h"
#include "tensorwire/errors.h"

namespace twcuda {

namespace {
Napi::FunctionReference* constructor = nullptr;
}

Napi::Function StreamWrap::Init(Napi::Env env) {
  Napi::Function cls = DefineClass(env, "Stream",
                                   {
                                       InstanceAccessor<&StreamWrap::Device>("device"),
                                       InstanceAccessor<&StreamWrap::Handle>("handle"),
                                       InstanceAccessor<&StreamWrap::Destroyed>("destroyed"),
                                       InstanceMethod<&StreamWrap::Synchronize>("synchronize"),
                                       InstanceMethod<&StreamWrap::Destroy>("destroy"),
                                   });
  constructor = new Napi::FunctionReference(Napi::Persistent(cls));  // lives as long as the process
  return cls;
}

StreamWrap::StreamWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<StreamWrap>(info) {
  int device = ArgDevice(info, 0);
  lane_ = Guard(info.Env(), [&] { return AddonState::Of(info.Env()).NewLane(device); });
}

StreamWrap::~StreamWrap() {
  if (lane_) lane_->Retire();  // collected without destroy(): the stream still goes
}

StreamWrap* StreamWrap::FromValue(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(constructor->Value()))
    tensorwire::ThrowTypeError(env, std::string(what) + " must be a Stream");
  return StreamWrap::Unwrap(value.As<Napi::Object>());
}

Napi::Value StreamWrap::Device(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), lane_->device()); }

Napi::Value StreamWrap::Handle(const Napi::CallbackInfo& info) {
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(reinterpret_cast<uintptr_t>(lane_->stream())));
}

Napi::Value StreamWrap::Destroyed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), lane_->retired()); }

Napi::Value StreamWrap::Synchronize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // A job with nothing to enqueue: the lane runs in order, so it finishes after all earlier work.
  auto job = std::make_unique<LaneJob>(lane_, StreamWork{});
  job->Keep(info.This());
  return AddonState::Of(env).Run(env, lane_, std::move(job), false);
}

Napi::Value StreamWrap::Destroy(const Napi::CallbackInfo& info) {
  lane_->Retire();
  return info.Env().Undefined();
}

}  // namespace twcuda
