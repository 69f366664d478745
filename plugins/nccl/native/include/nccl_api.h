// nccl_api.h: the NCCL types, constants and functions this package uses, declared here so that
// neither the addon nor the mock library needs NCCL's headers (or CUDA's) to build.
//
// Values and signatures follow NCCL's public API reference (nccl.h). The addon never links
// libnccl: it loads it at run time (dlopen) and looks these functions up by name
// (nccl_library.cc). The mock library (native/mock) exports the same names.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cuda_subset.h"

extern "C" {

typedef struct ncclComm* ncclComm_t;

/** The id rank 0 makes (ncclGetUniqueId) and every rank passes to ncclCommInitRankConfig. */
enum { NCCL_UNIQUE_ID_BYTES = 128 };
typedef struct {
  char internal[NCCL_UNIQUE_ID_BYTES];
} ncclUniqueId;

typedef enum {
  ncclSuccess = 0,
  ncclUnhandledCudaError = 1,
  ncclSystemError = 2,
  ncclInternalError = 3,
  ncclInvalidArgument = 4,
  ncclInvalidUsage = 5,
  ncclRemoteError = 6,
  ncclInProgress = 7,
  ncclTimeout = 8,
  ncclNumResults = 9
} ncclResult_t;

typedef enum { ncclSum = 0, ncclProd = 1, ncclMax = 2, ncclMin = 3, ncclAvg = 4 } ncclRedOp_t;

typedef enum {
  ncclInt8 = 0,
  ncclUint8 = 1,
  ncclInt32 = 2,
  ncclUint32 = 3,
  ncclInt64 = 4,
  ncclUint64 = 5,
  ncclFloat16 = 6,
  ncclFloat32 = 7,
  ncclFloat64 = 8,
  ncclBfloat16 = 9,   // NCCL 2.10 and later
  ncclFloat8e4m3 = 10,  // NCCL 2.24 and later
  ncclFloat8e5m2 = 11,  // NCCL 2.24 and later
} ncclDataType_t;

/** NCCL_VERSION(X, Y, Z) of nccl.h: the code ncclGetVersion reports. */
constexpr int NcclVersionCode(int major, int minor, int patch) {
  return (major <= 2 && minor <= 8) ? major * 1000 + minor * 100 + patch : major * 10000 + minor * 100 + patch;
}

/** ncclConfig_t's magic (NCCL_API_MAGIC). */
constexpr unsigned kNcclConfigMagic = 0xcafebeef;
/** INT_MIN: "not set, use NCCL's default" for an int field of the config. */
constexpr int kNcclConfigUndefInt = -2147483647 - 1;

/**
 * The first fields of ncclConfig_t, those NCCL 2.14 already had. NCCL reads `size` bytes of the
 * struct and takes each later field's default when `version` predates it, so this prefix (with
 * version 2.14.0) is a valid config for every NCCL from 2.14 on. Only `blocking` is set: 0 makes
 * the communicator non-blocking (calls return ncclInProgress; ncclCommGetAsyncError tells when
 * they finished), which is what lets a deadline or a peer's death end in ncclCommAbort.
 */
struct ncclConfigPrefix {
  size_t size = sizeof(ncclConfigPrefix);
  unsigned magic = kNcclConfigMagic;
  unsigned version = NcclVersionCode(2, 14, 0);
  int blocking = kNcclConfigUndefInt;
  int cgaClusterSize = kNcclConfigUndefInt;
  int minCTAs = kNcclConfigUndefInt;
  int maxCTAs = kNcclConfigUndefInt;
  const char* netName = nullptr;
};

// The functions, as pointer types (addon) and names (mock). Keep nccl_library.cc in step.
#define TW_NCCL_FUNCTIONS(X)                                                                       \
  X(ncclGetVersion, "ncclGetVersion", ncclResult_t, (int* version))                                \
  X(ncclGetUniqueId, "ncclGetUniqueId", ncclResult_t, (ncclUniqueId * id))                         \
  X(ncclCommInitRankConfig, "ncclCommInitRankConfig", ncclResult_t,                                \
    (ncclComm_t * comm, int nranks, ncclUniqueId id, int rank, ncclConfigPrefix* config))          \
  X(ncclCommGetAsyncError, "ncclCommGetAsyncError", ncclResult_t, (ncclComm_t comm, ncclResult_t * error)) \
  X(ncclCommFinalize, "ncclCommFinalize", ncclResult_t, (ncclComm_t comm))                         \
  X(ncclCommDestroy, "ncclCommDestroy", ncclResult_t, (ncclComm_t comm))                           \
  X(ncclCommAbort, "ncclCommAbort", ncclResult_t, (ncclComm_t comm))                               \
  X(ncclGetErrorString, "ncclGetErrorString", const char*, (ncclResult_t result))                  \
  X(ncclGetLastError, "ncclGetLastError", const char*, (ncclComm_t comm))                          \
  X(ncclGroupStart, "ncclGroupStart", ncclResult_t, ())                                            \
  X(ncclGroupEnd, "ncclGroupEnd", ncclResult_t, ())                                                \
  X(ncclSend, "ncclSend", ncclResult_t,                                                            \
    (const void* buf, size_t count, ncclDataType_t type, int peer, ncclComm_t comm, CUstream stream)) \
  X(ncclRecv, "ncclRecv", ncclResult_t,                                                            \
    (void* buf, size_t count, ncclDataType_t type, int peer, ncclComm_t comm, CUstream stream))    \
  X(ncclAllReduce, "ncclAllReduce", ncclResult_t,                                                  \
    (const void* sendbuf, void* recvbuf, size_t count, ncclDataType_t type, ncclRedOp_t op,        \
     ncclComm_t comm, CUstream stream))                                                            \
  X(ncclBroadcast, "ncclBroadcast", ncclResult_t,                                                  \
    (const void* sendbuf, void* recvbuf, size_t count, ncclDataType_t type, int root,              \
     ncclComm_t comm, CUstream stream))

}  // extern "C"
