// mock_nccl.h: the state shared by the mock NCCL library's files.
//
// libtensorwire_mocknccl.so exports the NCCL functions the addon uses (nccl_api.h) and runs them
// between processes over local (abstract Unix) sockets, on the host memory behind the mock CUDA
// driver's fake device addresses, so that the addon's real code paths run on machines without a
// GPU. It needs the mock driver (@tensorwire/cuda/testing, loaded through TENSORWIRE_LIBCUDA)
// and keeps what the addon relies on:
//  - communicators initialize in the background when created non-blocking (ncclInProgress,
//    then ncclCommGetAsyncError), connecting every pair of ranks; two ranks on one GPU are
//    refused as NCCL refuses them (before 2.30: a distinct NCCL_HOSTID per rank makes them two
//    hosts; from 2.30: NCCL_MULTI_RANK_GPU_ENABLE=1);
//  - operations run later, in order, on the CUDA stream they were given (cuLaunchHostFunc on the
//    mock driver), so events recorded after them complete when they did; the sends and receives
//    of one ncclGroupStart/ncclGroupEnd progress together; a receive waits for its send on the
//    stream, as an NCCL kernel does; sizes are checked;
//  - ncclCommAbort stops what is running and makes queued work do nothing;
//  - failures can be injected (faults.cc), and a peer that dies is seen as NCCL's socket
//    transport sees it (an asynchronous ncclRemoteError) or as its shared-memory transport does
//    (the operation never finishes), per TENSORWIRE_MOCK_NCCL_PEER_LOSS.
// It proves the code paths, not NCCL: no GPU, no NVLink, no real kernels, no performance.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nccl_api.h"

#define TWMN_API __attribute__((visibility("default")))

namespace twmn {

using Clock = std::chrono::steady_clock;

/** The mock driver's functions this library uses (cuda_link.cc). */
struct MockCuda {
  CUresult (*launchHostFunc)(CUstream, CUhostFn, void*) = nullptr;
  CUresult (*ctxGetDevice)(CUdevice*) = nullptr;
  CUresult (*deviceGetAttribute)(int*, CUdevice_attribute, CUdevice) = nullptr;
  CUresult (*hostRange)(CUdeviceptr, size_t, void**) = nullptr;
};
/** Finds the mock driver (TENSORWIRE_LIBCUDA); null with `error` set when it is not there. */
const MockCuda* LinkCuda(std::string& error);

/** Failures to inject and how a lost peer looks (faults.cc). */
struct Faults {
  long hangAt = 0;        // TENSORWIRE_MOCK_NCCL_HANG=N: the N-th operation never completes
  long asyncErrorAt = 0;  // TENSORWIRE_MOCK_NCCL_ASYNC_ERROR=N[:result]
  ncclResult_t asyncError = ncclSystemError;
  long dieAt = 0;         // TENSORWIRE_MOCK_NCCL_DIE=N: the process kills itself at the N-th operation
  bool peerLossHangs = false;  // TENSORWIRE_MOCK_NCCL_PEER_LOSS=hang (default: error)
  long initDelayMs = 0;   // TENSORWIRE_MOCK_NCCL_INIT_DELAY_MS
  ncclResult_t initFailure = ncclSuccess;  // TENSORWIRE_MOCK_NCCL_INIT_FAIL=<result name>
};
const Faults& GetFaults();
ncclResult_t ResultByName(const std::string& name, ncclResult_t fallback);
/** The NCCL version this mock reports (TENSORWIRE_MOCK_NCCL_VERSION, default 2.30.7). */
int MockVersion();

/** What one rank tells the others when the mesh connects. */
struct RankInfo {
  int rank = 0;
  int nranks = 0;
  int physicalDevice = 0;
  int version = 0;
  bool multiRankGpu = false;
  std::string hostId;
};

/** One communicator (shared by its handle and the work queued on streams). */
struct CommState {
  int rank = 0;
  int nranks = 1;
  bool blocking = true;
  int device = 0;
  std::string key;  // from the unique id: names the sockets of this communicator
  RankInfo self;

  std::mutex mu;
  std::condition_variable cv;
  ncclResult_t asyncError = ncclInProgress;  // until the mesh is up
  std::string lastError;
  bool finalizing = false;
  int queued = 0;   // launched work not finished
  int running = 0;  // work running now on some stream
  Clock::time_point busyUntil{};
  std::vector<bool> contacted;  // peers a send or recv went to already

  std::mutex workMu;  // one piece of work at a time per communicator, as NCCL serializes them
  std::atomic<bool> aborted{false};
  int abortFd = -1;        // eventfd: wakes what waits on sockets
  std::vector<int> fds;    // per rank (-1 for this one)
  std::thread init;

  ~CommState();
  /** Records an asynchronous error (the first one stays). */
  void SetError(ncclResult_t r, const std::string& text);
};
using CommPtr = std::shared_ptr<CommState>;

/** Connects the mesh and checks the ranks (mesh.cc); sets asyncError. Runs on `init`. */
void ConnectMesh(const CommPtr& comm);

/** Blocks until abort (used by hangs and lost peers in hang mode). */
void WaitForAbort(CommState& comm);

/** One send or receive of a piece of work, on host memory. */
struct Transfer {
  int peer = 0;
  bool send = true;
  uint8_t* host = nullptr;
  uint64_t bytes = 0;
};

/**
 * Runs transfers to and from several peers together over the mesh (work.cc). False when the
 * communicator was aborted or failed meanwhile (the error is recorded).
 */
bool Exchange(CommState& comm, const std::vector<Transfer>& transfers);

/** dst[i] = dst[i] (op) src[i] for `count` elements of NCCL type `type` (reduce.cc). */
void Reduce(void* dst, const void* src, size_t count, ncclDataType_t type, ncclRedOp_t op);
/** dst[i] /= n (ncclAvg's last step). */
void DivideBy(void* dst, size_t count, ncclDataType_t type, int n);
/** Bytes of one element, or 0 for an unknown type. */
size_t TypeSize(ncclDataType_t type);

/** The process-wide "last error" NCCL keeps for calls without a communicator. */
void SetGlobalError(const std::string& text);
std::string GlobalError();

}  // namespace twmn

/** ncclComm_t points to this. */
struct ncclComm {
  twmn::CommPtr state;
};
