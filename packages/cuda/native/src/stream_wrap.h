// stream_wrap.h: the JS class Stream, a lane (lane.h) of its own on one device.
//
//   new Stream(device)        a new non-blocking CUDA stream served by its own thread
//   stream.device             its device index
//   stream.handle             the CUstream as a bigint (for other libraries in the process)
//   stream.synchronize()      Promise: resolves when everything submitted before has run
//   stream.destroy()          stops taking work; the stream is destroyed after its queued work
//                             (also done when the object is collected)
#pragma once

#include <napi.h>

#include "lane.h"

namespace twcuda {

class StreamWrap : public Napi::ObjectWrap<StreamWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit StreamWrap(const Napi::CallbackInfo& info);
  ~StreamWrap() override;

  /** The Stream behind `value`, or a TypeError naming `what`. */
  static StreamWrap* FromValue(Napi::Env env, const Napi::Value& value, const char* what);
  const LanePtr& lane() const { return lane_; }

 private:
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value Handle(const Napi::CallbackInfo& info);
  Napi::Value Destroyed(const Napi::CallbackInfo& info);
  Napi::Value Synchronize(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);

  LanePtr lane_;
};

}  // namespace twcuda
