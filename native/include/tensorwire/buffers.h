// tensorwire/buffers.h: (pointer, length) views of JS byte containers.
//
// A view is only valid while the JS object behind it is alive and not detached, so views that
// outlive the current call are taken through Job::KeepBytes (jobs.h), which also holds a
// reference to the object until the job settles.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "tensorwire/errors.h"

namespace tensorwire {

/** A raw, non-owning view of bytes in a JS ArrayBuffer / TypedArray / DataView / Buffer. */
struct ByteView {
  uint8_t* data = nullptr;
  size_t length = 0;
};

/** True when `v` is something ByteViewOf accepts. */
inline bool IsByteContainer(const Napi::Value& v) {
  return v.IsTypedArray() || v.IsArrayBuffer() || v.IsDataView() || v.IsBuffer();
}

/**
 * View the bytes of a Uint8Array (any TypedArray or DataView, honouring its byteOffset) or an
 * ArrayBuffer. Throws a JS TypeError (code ERR_INVALID_ARG_TYPE) naming `what` otherwise.
 * Zero-length containers give {nullptr or some pointer, 0}: never dereference when length is 0.
 */
inline ByteView ByteViewOf(const Napi::Value& v, const char* what = "argument") {
  ByteView view;
  if (v.IsTypedArray()) {
    Napi::TypedArray ta = v.As<Napi::TypedArray>();
    Napi::ArrayBuffer ab = ta.ArrayBuffer();
    view.data = static_cast<uint8_t*>(ab.Data()) + ta.ByteOffset();
    view.length = ta.ByteLength();
  } else if (v.IsDataView()) {
    Napi::DataView dv = v.As<Napi::DataView>();
    view.data = static_cast<uint8_t*>(dv.ArrayBuffer().Data()) + dv.ByteOffset();
    view.length = dv.ByteLength();
  } else if (v.IsArrayBuffer()) {
    Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
    view.data = static_cast<uint8_t*>(ab.Data());
    view.length = ab.ByteLength();
  } else {
    ThrowTypeError(v.Env(), std::string(what) + " must be a Uint8Array or an ArrayBuffer");
  }
  if (view.length == 0) view.data = nullptr;
  return view;
}

}  // namespace tensorwire
