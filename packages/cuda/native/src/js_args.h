// js_args.h: reading the addon's JS arguments (device indices, bigint pointers, sizes, the
// options object of stream operations). Bad arguments throw JS TypeErrors with a code.
#pragma once

#include <napi.h>

#include <cstdint>
#include <vector>

#include "lane.h"

namespace twcuda {

/** A device index argument (checked against the visible devices). */
int ArgDevice(const Napi::CallbackInfo& info, size_t i);

/** A bigint device pointer argument. */
CUdeviceptr ArgPointer(const Napi::CallbackInfo& info, size_t i, const char* what);

/** A non-negative integer (safe integer) argument. */
size_t ArgSize(const Napi::CallbackInfo& info, size_t i, const char* what);

/** A CUdeviceptr as a JS bigint. */
Napi::BigInt PointerValue(Napi::Env env, CUdeviceptr p);

/**
 * The options of a stream operation: { stream?: Stream, after?: Event[], record?: Event,
 * sync?: boolean }. `lane` is the stream's lane, or the default lane of `device`.
 */
struct StreamOptions {
  LanePtr lane;
  std::vector<EventPtr> after;
  EventPtr record;
  bool sync = false;
  /** The JS objects to keep alive while the operation runs (the events, the stream). */
  std::vector<Napi::Value> keep;
};
StreamOptions ArgStreamOptions(const Napi::CallbackInfo& info, size_t i, int device);

}  // namespace twcuda
