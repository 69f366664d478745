// event_wrap.h: the JS class Event, a CUDA event (always without timing).
//
//   new Event(device, { interprocess?, blockingSync? })
//   Event.fromIpcHandle(device, handle)   opens another process's event (64-byte Buffer)
//   event.device, event.interprocess, event.imported
//   event.record({ stream? })   Promise: records on the stream (default lane) after the work
//                               submitted to it before; resolves once that work has run
//   event.query()               true when the work before the last record has run (a record
//                               submitted but not yet issued by its lane counts as not run)
//   event.synchronize()         Promise: resolves when it has (waits on a thread of its own)
//   event.ipcHandle()           Buffer(64) for Event.fromIpcHandle in another process
//                               (interprocess events only)
//   event.destroy()             lets the CUDA event go now (once the operations already
//                               submitted with it ran) instead of at garbage collection; any
//                               later use throws CUDA_EVENT_DESTROYED. event.destroyed
// Operations also take events in their options: { after: [event] } waits on the GPU for the
// last record of each submitted before the operation (in JavaScript call order, see lane.h),
// { record: event } records one after.
#pragma once

#include <napi.h>

#include "lane.h"

namespace twcuda {

class EventWrap : public Napi::ObjectWrap<EventWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit EventWrap(const Napi::CallbackInfo& info);

  /** The Event behind `value`, or a TypeError naming `what`. */
  static EventWrap* FromValue(Napi::Env env, const Napi::Value& value, const char* what);
  /** The event's handle; throws CUDA_EVENT_DESTROYED after destroy(). */
  const EventPtr& handle(Napi::Env env) const;

 private:
  static Napi::Value FromIpcHandle(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value Interprocess(const Napi::CallbackInfo& info);
  Napi::Value Imported(const Napi::CallbackInfo& info);
  Napi::Value Record(const Napi::CallbackInfo& info);
  Napi::Value Query(const Napi::CallbackInfo& info);
  Napi::Value Synchronize(const Napi::CallbackInfo& info);
  Napi::Value IpcHandle(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  Napi::Value Destroyed(const Napi::CallbackInfo& info);

  EventPtr handle_;  // null after destroy()
  int device_ = 0;
  bool interprocess_ = false;
  bool imported_ = false;
};

}  // namespace twcuda
