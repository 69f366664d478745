// gloo_errors.h: Gloo exceptions -> ErrorInfo codes shown to JavaScript.
//
//   GLOO_TIMEOUT   an operation (or connect/rendezvous) ran past the group's timeout
//   GLOO_IO        the connection failed (peer died, reset, closed)
//   GLOO_ENFORCE   Gloo rejected a call (an internal check failed)
//   GLOO_ERROR     any other Gloo or C++ failure
//   GLOO_ABORTED / GLOO_DESTROYED  the group was aborted / destroyed (raised by this addon)
#pragma once

#include <tensorwire/errors.h>

#include <exception>

namespace tensorwire_gloo {

/** Capture the in-flight exception of a Gloo call as code + Gloo's own message. */
tensorwire::ErrorInfo CaptureGlooError(const std::exception_ptr& ep);

}  // namespace tensorwire_gloo
