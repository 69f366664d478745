// ucx_status.h: UCX status codes -> tensorwire error codes and messages.
#pragma once

#include <ucp/api/ucp.h>

#include <string>

#include "tensorwire/errors.h"

namespace twnixl {

/** Throw a CodedError for a failed UCX call (`what` says which call). */
[[noreturn]] inline void ThrowUcs(const char* code, const std::string& what, ucs_status_t st) {
  throw tensorwire::CodedError(code, what + ": " + ucs_status_string(st));
}

/** True when the status means the peer went away (as opposed to a local/usage error). */
inline bool IsPeerFailure(ucs_status_t st) {
  switch (st) {
    case UCS_ERR_ENDPOINT_TIMEOUT:
    case UCS_ERR_CONNECTION_RESET:
    case UCS_ERR_UNREACHABLE:
    case UCS_ERR_REJECTED:
    case UCS_ERR_CANCELED:
    case UCS_ERR_IO_ERROR:
    case UCS_ERR_NOT_CONNECTED:
      return true;
    default:
      return false;
  }
}

}  // namespace twnixl
