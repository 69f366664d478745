// event_wrap.cc: see event_wrap.h.
#include "event_wrap.h"

#include <cstring>

#include "addon_state.h"
#include "devices.h"
#include "driver_library.h"
#include "guard.h"
#include "js_args.h"
#include "tensorwire/buffers.h"
#include "tensorwire/errors.h"

namespace twcuda {

namespace {

Napi::FunctionReference* constructor = nullptr;

/** Marks a constructor call made by fromIpcHandle (which fills the handle itself). */
struct Adopt {};
Napi::External<Adopt> AdoptMarker(Napi::Env env) {
  static Adopt marker;
  return Napi::External<Adopt>::New(env, &marker);
}

}  // namespace

Napi::Function EventWrap::Init(Napi::Env env) {
  Napi::Function cls = DefineClass(env, "Event",
                                   {
                                       StaticMethod<&EventWrap::FromIpcHandle>("fromIpcHandle"),
                                       InstanceAccessor<&EventWrap::Device>("device"),
                                       InstanceAccessor<&EventWrap::Interprocess>("interprocess"),
                                       InstanceAccessor<&EventWrap::Imported>("imported"),
                                       InstanceMethod<&EventWrap::Record>("record"),
                                       InstanceMethod<&EventWrap::Query>("query"),
                                       InstanceMethod<&EventWrap::Synchronize>("synchronize"),
                                       InstanceMethod<&EventWrap::IpcHandle>("ipcHandle"),
                                       InstanceMethod<&EventWrap::Destroy>("destroy"),
                                       InstanceAccessor<&EventWrap::Destroyed>("destroyed"),
                                   });
  constructor = new Napi::FunctionReference(Napi::Persistent(cls));  // lives as long as the process
  return cls;
}

EventWrap::EventWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EventWrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() > 0 && info[0].IsExternal()) return;  // fromIpcHandle sets handle_
  int device = ArgDevice(info, 0);
  bool interprocess = false;
  bool blockingSync = false;
  if (info.Length() > 1 && info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    interprocess = o.Get("interprocess").ToBoolean().Value();
    blockingSync = o.Get("blockingSync").ToBoolean().Value();
  }
  // Never timed: timing costs, and interprocess events must not have it.
  unsigned flags = CU_EVENT_DISABLE_TIMING | (interprocess ? CU_EVENT_INTERPROCESS : 0u) |
                   (blockingSync ? CU_EVENT_BLOCKING_SYNC : 0u);
  handle_ = std::make_shared<EventHandle>();
  handle_->device = device;
  handle_->interprocess = interprocess;
  device_ = device;
  interprocess_ = interprocess;
  Guard(env, [&] {
    MakeCurrent(device);
    Check(Fn().cuEventCreate(&handle_->event, flags), "cuEventCreate");
    return 0;
  });
}

EventWrap* EventWrap::FromValue(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(constructor->Value()))
    tensorwire::ThrowTypeError(env, std::string(what) + " must be an Event");
  return EventWrap::Unwrap(value.As<Napi::Object>());
}

const EventPtr& EventWrap::handle(Napi::Env env) const {
  if (!handle_) tensorwire::ThrowError(env, "the event was destroyed (event.destroy())", "CUDA_EVENT_DESTROYED");
  return handle_;
}

Napi::Value EventWrap::FromIpcHandle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = ArgDevice(info, 0);
  tensorwire::ByteView bytes = tensorwire::ByteViewOf(info.Length() > 1 ? info[1] : env.Undefined(), "handle");
  if (bytes.length != CU_IPC_HANDLE_SIZE) tensorwire::ThrowTypeError(env, "handle must hold 64 bytes (from event.ipcHandle())");
  CUipcEventHandle h;
  std::memcpy(h.reserved, bytes.data, CU_IPC_HANDLE_SIZE);
  auto handle = std::make_shared<EventHandle>();
  handle->device = device;
  handle->interprocess = true;
  handle->imported = true;
  Guard(env, [&] {
    MakeCurrent(device);
    Check(Fn().cuIpcOpenEventHandle(&handle->event, h), "cuIpcOpenEventHandle");
    return 0;
  });
  Napi::Object obj = constructor->New({AdoptMarker(env)});
  EventWrap* wrap = EventWrap::Unwrap(obj);
  wrap->handle_ = handle;
  wrap->device_ = device;
  wrap->interprocess_ = true;
  wrap->imported_ = true;
  return obj;
}

Napi::Value EventWrap::Device(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), device_); }

Napi::Value EventWrap::Interprocess(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), interprocess_);
}

Napi::Value EventWrap::Imported(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), imported_); }

Napi::Value EventWrap::Destroyed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !handle_); }

Napi::Value EventWrap::Destroy(const Napi::CallbackInfo& info) {
  // Operations already submitted hold the handle: the CUevent goes when the last of them ran.
  handle_.reset();
  return info.Env().Undefined();
}

Napi::Value EventWrap::Record(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EventPtr handle = this->handle(env);
  StreamOptions o = ArgStreamOptions(info, 0, handle->device);
  StreamWork work;
  work.after = std::move(o.after);
  work.record = handle;
  auto job = std::make_unique<LaneJob>(o.lane, std::move(work));
  job->Keep(info.This());
  for (auto& v : o.keep) job->Keep(v);
  return AddonState::Of(env).Run(env, o.lane, std::move(job), o.sync);
}

Napi::Value EventWrap::Query(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EventPtr handle = this->handle(env);
  {
    // A record submitted but not yet issued by its lane: not complete.
    std::lock_guard<std::mutex> lock(handle->mu);
    if (handle->issued < handle->submitted) return Napi::Boolean::New(env, false);
  }
  return Guard(env, [&] {
    CUresult r = Fn().cuEventQuery(handle->event);
    if (r == CUDA_ERROR_NOT_READY) return Napi::Boolean::New(env, false);
    Check(r, "cuEventQuery");
    return Napi::Boolean::New(env, true);
  });
}

Napi::Value EventWrap::Synchronize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EventPtr handle = this->handle(env);
  uint64_t seq = handle->submitted;  // the records submitted before this call
  auto job = tensorwire::MakeJob([handle, seq] {
    if (seq > 0) handle->WaitIssued(seq);
    MakeCurrent(handle->device);
    Check(Fn().cuEventSynchronize(handle->event), "cuEventSynchronize");
  });
  job->Keep(info.This());
  AddonState& state = AddonState::Of(env);
  return tensorwire::Submit(env, state.waits(), state.completer(), std::move(job));
}

Napi::Value EventWrap::IpcHandle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EventPtr handle = this->handle(env);
  if (!handle->interprocess || handle->imported)
    tensorwire::ThrowError(env, "ipcHandle(): only an event made with { interprocess: true } here has an IPC handle",
                           "CUDA_EVENT_NOT_INTERPROCESS");
  CUipcEventHandle h;
  Guard(env, [&] {
    MakeCurrent(handle->device);
    Check(Fn().cuIpcGetEventHandle(&h, handle->event), "cuIpcGetEventHandle");
    return 0;
  });
  return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(h.reserved), CU_IPC_HANDLE_SIZE);
}

}  // namespace twcuda
