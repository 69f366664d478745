// faults.cc: what the environment asks the mock to do wrong (read once per process):
//   TENSORWIRE_MOCK_NCCL_HANG=N            the N-th operation this process launches never
//                                          completes (until ncclCommAbort)
//   TENSORWIRE_MOCK_NCCL_ASYNC_ERROR=N[:R] at the N-th operation the communicator reports the
//                                          asynchronous error R (default ncclSystemError) and
//                                          the operation does not complete
//   TENSORWIRE_MOCK_NCCL_DIE=N             the process kills itself (SIGKILL) when its N-th
//                                          operation runs: "a peer that dies"
//   TENSORWIRE_MOCK_NCCL_PEER_LOSS=hang    a lost peer makes operations wait forever, as NCCL's
//                                          shared-memory and P2P transports do (default: error,
//                                          an asynchronous ncclRemoteError, as its sockets do)
//   TENSORWIRE_MOCK_NCCL_INIT_DELAY_MS=ms  initialization takes this much longer
//   TENSORWIRE_MOCK_NCCL_INIT_FAIL=R       initialization fails with the result R
//   TENSORWIRE_MOCK_NCCL_VERSION=2.27.3    the version ncclGetVersion reports (default 2.30.7)
// Operations are counted per process from 1: each ncclGroupEnd, or each collective outside a
// group, is one.
#include <cstdlib>
#include <sstream>

#include "mock_nccl.h"

namespace twmn {

namespace {

long Number(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtol(v, nullptr, 10) : 0;
}

}  // namespace

ncclResult_t ResultByName(const std::string& name, ncclResult_t fallback) {
  static const struct {
    const char* name;
    ncclResult_t r;
  } kResults[] = {{"ncclUnhandledCudaError", ncclUnhandledCudaError}, {"ncclSystemError", ncclSystemError},
                  {"ncclInternalError", ncclInternalError},           {"ncclInvalidArgument", ncclInvalidArgument},
                  {"ncclInvalidUsage", ncclInvalidUsage},             {"ncclRemoteError", ncclRemoteError},
                  {"ncclTimeout", ncclTimeout}};
  for (const auto& k : kResults)
    if (name == k.name) return k.r;
  char* end = nullptr;
  long n = std::strtol(name.c_str(), &end, 10);
  if (end && *end == '\0' && !name.empty() && n > 0 && n < ncclNumResults && n != ncclInProgress) return static_cast<ncclResult_t>(n);
  return fallback;
}

const Faults& GetFaults() {
  static Faults* faults = [] {
    auto* f = new Faults();
    f->hangAt = Number("TENSORWIRE_MOCK_NCCL_HANG");
    f->dieAt = Number("TENSORWIRE_MOCK_NCCL_DIE");
    f->initDelayMs = Number("TENSORWIRE_MOCK_NCCL_INIT_DELAY_MS");
    if (const char* v = std::getenv("TENSORWIRE_MOCK_NCCL_ASYNC_ERROR"); v && *v) {
      std::string spec(v);
      size_t colon = spec.find(':');
      f->asyncErrorAt = std::strtol(spec.substr(0, colon).c_str(), nullptr, 10);
      if (colon != std::string::npos) f->asyncError = ResultByName(spec.substr(colon + 1), ncclSystemError);
    }
    if (const char* v = std::getenv("TENSORWIRE_MOCK_NCCL_PEER_LOSS"); v && std::string(v) == "hang") f->peerLossHangs = true;
    if (const char* v = std::getenv("TENSORWIRE_MOCK_NCCL_INIT_FAIL"); v && *v) f->initFailure = ResultByName(v, ncclSystemError);
    return f;
  }();
  return *faults;
}

int MockVersion() {
  static int version = [] {
    const char* v = std::getenv("TENSORWIRE_MOCK_NCCL_VERSION");
    if (!v || !*v) return NcclVersionCode(2, 30, 7);
    int major = 0, minor = 0, patch = 0;
    char dot;
    std::istringstream s(v);
    if (s >> major >> dot >> minor >> dot >> patch) return NcclVersionCode(major, minor, patch);
    return static_cast<int>(std::strtol(v, nullptr, 10));
  }();
  return version;
}

}  // namespace twmn
