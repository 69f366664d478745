// api.cc: the NCCL functions the mock exports (the subset the addon uses, see nccl_api.h).
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>

#include "mock_nccl.h"

using namespace twmn;

extern "C" TWMN_API ncclResult_t ncclGroupEnd();

namespace twmn {

namespace {

constexpr char kIdMagic[8] = {'t', 'w', 'm', 'n', 'c', 'c', 'l', '1'};
// A communicator's first send or recv to a peer "sets up the connection" for this long: a
// non-blocking communicator's ncclGroupEnd returns ncclInProgress meanwhile, as NCCL's does.
constexpr std::chrono::milliseconds kConnectionSetup{3};

std::mutex globalMu;
std::string globalError;
std::atomic<long> operations{0};

std::string HostId() {
  if (const char* id = std::getenv("NCCL_HOSTID"); id && *id) return id;
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::string boot;
  std::ifstream f("/proc/sys/kernel/random/boot_id");
  f >> boot;
  return std::string(host) + boot;
}

bool MultiRankGpuEnabled() {
  const char* v = std::getenv("NCCL_MULTI_RANK_GPU_ENABLE");
  return v && std::strtol(v, nullptr, 10) != 0;
}

/** One call made inside ncclGroupStart/ncclGroupEnd (or alone). */
struct Call {
  enum Kind { kSend, kRecv, kAllReduce, kBroadcast } kind;
  ncclComm* comm;
  CUstream stream;
  uint8_t* host;
  size_t count;
  ncclDataType_t type;
  ncclRedOp_t op;
  int peer;  // send/recv peer, broadcast root
};

/** The calls of one communicator from one ncclGroupEnd: run together on its stream. */
struct Work {
  CommPtr comm;
  std::vector<Call> calls;
  long index = 0;  // the process's operation number (for injected faults)
};

struct GroupState {
  int depth = 0;
  std::vector<Call> calls;
  ncclResult_t error = ncclSuccess;  // the first failure of a call inside the group
};

GroupState& Group() {
  thread_local GroupState g;
  return g;
}

ncclResult_t Fail(ncclComm* comm, ncclResult_t r, const std::string& text) {
  if (comm) {
    std::lock_guard<std::mutex> lock(comm->state->mu);
    comm->state->lastError = text;
  }
  SetGlobalError(text);
  return r;
}

/** Host memory of `bytes` at device address `ptr` (the mock driver's), or null. */
uint8_t* HostOf(const void* ptr, size_t bytes) {
  std::string error;
  const MockCuda* cuda = LinkCuda(error);
  if (!cuda) return nullptr;
  void* host = nullptr;
  if (cuda->hostRange(reinterpret_cast<CUdeviceptr>(ptr), bytes, &host) != CUDA_SUCCESS) return nullptr;
  return static_cast<uint8_t*>(host);
}

void RunCollective(CommState& comm, const Call& c) {
  size_t bytes = c.count * TypeSize(c.type);
  if (c.kind == Call::kBroadcast) {
    std::vector<Transfer> t;
    if (comm.rank == c.peer) {
      for (int r = 0; r < comm.nranks; r++)
        if (r != comm.rank) t.push_back({r, true, c.host, bytes});
    } else {
      t.push_back({c.peer, false, c.host, bytes});
    }
    Exchange(comm, t);
    return;
  }
  // allreduce: everyone's buffer to rank 0, which reduces in rank order and sends the result back.
  if (comm.rank == 0) {
    std::vector<std::vector<uint8_t>> parts(static_cast<size_t>(comm.nranks));
    std::vector<Transfer> in;
    for (int r = 1; r < comm.nranks; r++) {
      parts[static_cast<size_t>(r)].resize(bytes);
      in.push_back({r, false, parts[static_cast<size_t>(r)].data(), bytes});
    }
    if (!Exchange(comm, in)) return;
    ncclRedOp_t op = c.op == ncclAvg ? ncclSum : c.op;
    for (int r = 1; r < comm.nranks; r++) Reduce(c.host, parts[static_cast<size_t>(r)].data(), c.count, c.type, op);
    if (c.op == ncclAvg) DivideBy(c.host, c.count, c.type, comm.nranks);
    std::vector<Transfer> out;
    for (int r = 1; r < comm.nranks; r++) out.push_back({r, true, c.host, bytes});
    Exchange(comm, out);
  } else {
    if (!Exchange(comm, {{0, true, c.host, bytes}})) return;
    Exchange(comm, {{0, false, c.host, bytes}});
  }
}

/** What a piece of work does on its stream's thread. */
void RunWork(void* arg) {
  std::unique_ptr<Work> work(static_cast<Work*>(arg));
  CommState& comm = *work->comm;
  {
    std::lock_guard<std::mutex> lock(comm.mu);
    comm.running++;
  }
  {
    std::lock_guard<std::mutex> serial(comm.workMu);
    const Faults& f = GetFaults();
    bool healthy;
    {
      std::lock_guard<std::mutex> lock(comm.mu);
      healthy = comm.asyncError == ncclSuccess;
    }
    if (comm.aborted.load() || !healthy) {
      // Aborted, or failed before: NCCL runs nothing more on this communicator.
    } else if (work->index == f.dieAt) {
      kill(getpid(), SIGKILL);
      WaitForAbort(comm);
    } else if (work->index == f.hangAt) {
      WaitForAbort(comm);
    } else if (work->index == f.asyncErrorAt) {
      comm.SetError(f.asyncError, "rank " + std::to_string(comm.rank) + ": operation " + std::to_string(work->index) +
                                      " failed (TENSORWIRE_MOCK_NCCL_ASYNC_ERROR)");
      WaitForAbort(comm);
    } else {
      std::vector<Transfer> p2p;
      for (const Call& c : work->calls)
        if (c.kind == Call::kSend || c.kind == Call::kRecv)
          p2p.push_back({c.peer, c.kind == Call::kSend, c.host, c.count * TypeSize(c.type)});
      bool ok = p2p.empty() || Exchange(comm, p2p);
      for (const Call& c : work->calls) {
        if (!ok || comm.aborted.load()) break;
        if (c.kind == Call::kAllReduce || c.kind == Call::kBroadcast) RunCollective(comm, c);
        std::lock_guard<std::mutex> lock(comm.mu);
        ok = comm.asyncError == ncclSuccess;
      }
    }
  }
  std::lock_guard<std::mutex> lock(comm.mu);
  comm.running--;
  comm.queued--;
  comm.cv.notify_all();
}

ncclResult_t Validate(Call& c, const void* ptr);

/** Validates a call and adds it to the current group (or runs it alone). */
ncclResult_t AddCall(Call c, const void* ptr) {
  GroupState& g = Group();
  ncclResult_t r = Validate(c, ptr);
  if (r != ncclSuccess) {
    if (g.depth > 0 && g.error == ncclSuccess) g.error = r;  // ncclGroupEnd reports it too
    return r;
  }
  g.calls.push_back(c);
  if (g.depth > 0) return ncclSuccess;
  g.depth = 1;
  return ncclGroupEnd();
}

ncclResult_t Validate(Call& c, const void* ptr) {
  if (!c.comm || !c.comm->state) return Fail(nullptr, ncclInvalidArgument, "invalid communicator");
  CommState& s = *c.comm->state;
  if (c.type < 0 || TypeSize(c.type) == 0) return Fail(c.comm, ncclInvalidArgument, "invalid data type " + std::to_string(c.type));
  if ((c.kind == Call::kSend || c.kind == Call::kRecv || c.kind == Call::kBroadcast) && (c.peer < 0 || c.peer >= s.nranks)) {
    return Fail(c.comm, ncclInvalidArgument, "invalid peer or root " + std::to_string(c.peer));
  }
  if ((c.kind == Call::kSend || c.kind == Call::kRecv) && c.peer == s.rank) {
    return Fail(c.comm, ncclInvalidUsage, "the mock NCCL does not send to the same rank");
  }
  if (c.kind == Call::kAllReduce && (c.op < ncclSum || c.op > ncclAvg)) return Fail(c.comm, ncclInvalidArgument, "invalid reduction");
  size_t bytes = c.count * TypeSize(c.type);
  if (bytes > 0) {
    c.host = HostOf(ptr, bytes);
    if (!c.host) return Fail(c.comm, ncclInvalidArgument, "invalid device pointer " + std::to_string(reinterpret_cast<uintptr_t>(ptr)) + " (" + std::to_string(bytes) + " bytes)");
  }
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.asyncError == ncclInProgress && !s.finalizing) return Fail(c.comm, ncclInvalidUsage, "the communicator is still initializing");
    if (s.asyncError != ncclSuccess && s.asyncError != ncclInProgress) return s.asyncError;
  }
  return ncclSuccess;
}

}  // namespace

CommState::~CommState() {
  if (init.joinable()) init.detach();
  for (int fd : fds)
    if (fd >= 0) close(fd);
  if (abortFd >= 0) close(abortFd);
}

void CommState::SetError(ncclResult_t r, const std::string& text) {
  std::lock_guard<std::mutex> lock(mu);
  if (asyncError == ncclSuccess || asyncError == ncclInProgress) {
    asyncError = r;
    lastError = text;
  }
  cv.notify_all();
}

void SetGlobalError(const std::string& text) {
  std::lock_guard<std::mutex> lock(globalMu);
  globalError = text;
}

std::string GlobalError() {
  std::lock_guard<std::mutex> lock(globalMu);
  return globalError;
}

}  // namespace twmn

extern "C" {

TWMN_API const char* twmocknccl_info() { return "tensorwire mock NCCL"; }

TWMN_API ncclResult_t ncclGetVersion(int* version) {
  if (!version) return ncclInvalidArgument;
  *version = MockVersion();
  return ncclSuccess;
}

TWMN_API ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  if (!id) return ncclInvalidArgument;
  std::memset(id, 0, sizeof(*id));
  std::memcpy(id->internal, kIdMagic, sizeof(kIdMagic));
  uint64_t random[2] = {0, 0};
  if (getrandom(random, sizeof(random), 0) != sizeof(random)) {
    random[0] = static_cast<uint64_t>(Clock::now().time_since_epoch().count());
    random[1] = static_cast<uint64_t>(getpid());
  }
  std::memcpy(id->internal + 8, random, sizeof(random));
  return ncclSuccess;
}

TWMN_API ncclResult_t ncclCommInitRankConfig(ncclComm_t* out, int nranks, ncclUniqueId id, int rank, ncclConfigPrefix* config) {
  if (!out) return ncclInvalidArgument;
  *out = nullptr;
  if (std::memcmp(id.internal, kIdMagic, sizeof(kIdMagic)) != 0) {
    return Fail(nullptr, ncclInvalidArgument, "the unique id was not made by ncclGetUniqueId of this (mock) NCCL");
  }
  if (nranks < 1 || rank < 0 || rank >= nranks) {
    return Fail(nullptr, ncclInvalidArgument, "rank " + std::to_string(rank) + " is out of range for nranks " + std::to_string(nranks));
  }
  bool blocking = true;
  if (config) {
    if (config->magic != kNcclConfigMagic) return Fail(nullptr, ncclInvalidArgument, "ncclConfig_t not initialized with NCCL_CONFIG_INITIALIZER");
    blocking = config->blocking != 0;
  }
  std::string error;
  const MockCuda* cuda = LinkCuda(error);
  if (!cuda) return Fail(nullptr, ncclSystemError, error);
  CUdevice device = 0;
  if (cuda->ctxGetDevice(&device) != CUDA_SUCCESS) {
    return Fail(nullptr, ncclUnhandledCudaError, "Cuda failure: no current CUDA context on the calling thread (cuCtxGetDevice)");
  }
  int physical = 0;
  cuda->deviceGetAttribute(&physical, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, device);  // the mock's physical index

  auto state = std::make_shared<CommState>();
  state->rank = rank;
  state->nranks = nranks;
  state->blocking = blocking;
  state->device = device;
  char key[33];
  const auto* bytes = reinterpret_cast<const uint8_t*>(id.internal + 8);
  for (int i = 0; i < 16; i++) std::snprintf(key + 2 * i, 3, "%02x", bytes[i]);
  state->key = key;
  state->self = RankInfo{rank, nranks, physical, MockVersion(), MultiRankGpuEnabled(), HostId()};
  state->contacted.assign(static_cast<size_t>(nranks), false);
  state->abortFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  auto* comm = new ncclComm{state};
  state->init = std::thread([state] { ConnectMesh(state); });
  *out = comm;
  if (!blocking) return ncclInProgress;
  std::unique_lock<std::mutex> lock(state->mu);
  state->cv.wait(lock, [&] { return state->asyncError != ncclInProgress; });
  return state->asyncError;
}

TWMN_API ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t* error) {
  if (!comm || !error) return ncclInvalidArgument;
  CommState& s = *comm->state;
  std::lock_guard<std::mutex> lock(s.mu);
  ncclResult_t r = s.asyncError;
  if (r == ncclSuccess && s.finalizing && s.queued > 0) r = ncclInProgress;
  if (r == ncclSuccess && Clock::now() < s.busyUntil) r = ncclInProgress;
  *error = r;
  return ncclSuccess;
}

TWMN_API const char* ncclGetErrorString(ncclResult_t r) {
  switch (r) {
    case ncclSuccess: return "no error";
    case ncclUnhandledCudaError: return "unhandled cuda error (the mock: a CUDA call failed)";
    case ncclSystemError: return "unhandled system error (a system call or the network failed)";
    case ncclInternalError: return "internal error";
    case ncclInvalidArgument: return "invalid argument";
    case ncclInvalidUsage: return "invalid usage";
    case ncclRemoteError: return "remote process exited or there was a network error";
    case ncclInProgress: return "NCCL operation in progress";
    case ncclTimeout: return "timeout";
    default: return "unknown result code";
  }
}

TWMN_API const char* ncclGetLastError(ncclComm_t comm) {
  thread_local std::string copy;
  if (comm && comm->state) {
    std::lock_guard<std::mutex> lock(comm->state->mu);
    copy = comm->state->lastError;
  } else {
    copy = GlobalError();
  }
  return copy.c_str();
}

TWMN_API ncclResult_t ncclCommAbort(ncclComm_t comm) {
  if (!comm) return ncclSuccess;
  CommPtr s = comm->state;
  s->aborted.store(true);
  uint64_t one = 1;
  ssize_t n = write(s->abortFd, &one, sizeof(one));
  (void)n;
  for (int fd : s->fds)
    if (fd >= 0) shutdown(fd, SHUT_RDWR);  // the peers see the connection end at once
  {
    std::unique_lock<std::mutex> lock(s->mu);
    s->cv.wait(lock, [&] { return s->running == 0; });  // what runs now stops; what is queued will do nothing
  }
  if (s->init.joinable()) s->init.join();
  delete comm;
  return ncclSuccess;
}

TWMN_API ncclResult_t ncclCommFinalize(ncclComm_t comm) {
  if (!comm) return ncclInvalidArgument;
  CommState& s = *comm->state;
  std::unique_lock<std::mutex> lock(s.mu);
  s.finalizing = true;
  if (!s.blocking) return s.queued > 0 ? ncclInProgress : ncclSuccess;
  s.cv.wait(lock, [&] { return s.queued == 0; });
  return s.asyncError == ncclInProgress ? ncclSuccess : s.asyncError;
}

TWMN_API ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  if (!comm) return ncclSuccess;
  CommPtr s = comm->state;
  {
    std::unique_lock<std::mutex> lock(s->mu);
    if (s->asyncError == ncclInProgress) {
      // Destroyed before it finished connecting: stop connecting.
      s->aborted.store(true);
      uint64_t one = 1;
      ssize_t n = write(s->abortFd, &one, sizeof(one));
      (void)n;
    }
    s->cv.wait(lock, [&] { return s->queued == 0; });
  }
  if (s->init.joinable()) s->init.join();
  for (int& fd : s->fds) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
  delete comm;
  return ncclSuccess;
}

TWMN_API ncclResult_t ncclGroupStart() {
  GroupState& g = Group();
  if (g.depth == 0) g.error = ncclSuccess;
  g.depth++;
  return ncclSuccess;
}

TWMN_API ncclResult_t ncclGroupEnd() {
  GroupState& g = Group();
  if (g.depth <= 0) return Fail(nullptr, ncclInvalidUsage, "ncclGroupEnd without ncclGroupStart");
  if (--g.depth > 0) return ncclSuccess;
  std::vector<Call> calls;
  calls.swap(g.calls);
  if (g.error != ncclSuccess) return g.error;
  std::string error;
  const MockCuda* cuda = LinkCuda(error);
  if (!cuda) return Fail(nullptr, ncclSystemError, error);
  // One piece of work per communicator, in the order the communicators were first used.
  std::vector<std::unique_ptr<Work>> works;
  std::map<ncclComm*, Work*> byComm;
  std::map<ncclComm*, CUstream> streams;
  for (const Call& c : calls) {
    Work*& w = byComm[c.comm];
    if (!w) {
      works.push_back(std::make_unique<Work>());
      w = works.back().get();
      w->comm = c.comm->state;
      streams[c.comm] = c.stream;
    } else if (streams[c.comm] != c.stream) {
      return Fail(c.comm, ncclInvalidUsage, "the mock NCCL needs one stream per communicator within a group");
    }
    w->calls.push_back(c);
  }
  ncclResult_t result = ncclSuccess;
  for (auto& w : works) {
    ncclComm* handle = w->calls.front().comm;
    CUstream stream = w->calls.front().stream;
    CommState& s = *w->comm;
    bool setup = false;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      for (const Call& c : w->calls) {
        if ((c.kind == Call::kSend || c.kind == Call::kRecv) && !s.contacted[static_cast<size_t>(c.peer)]) {
          s.contacted[static_cast<size_t>(c.peer)] = true;
          setup = true;
        }
      }
      s.queued++;
      if (setup && !s.blocking) s.busyUntil = Clock::now() + kConnectionSetup;
    }
    w->index = ++operations;
    Work* raw = w.release();
    if (cuda->launchHostFunc(stream, &RunWork, raw) != CUDA_SUCCESS) {
      delete raw;
      {
        std::lock_guard<std::mutex> lock(s.mu);
        s.queued--;
      }
      return Fail(handle, ncclUnhandledCudaError, "Cuda failure: cuLaunchHostFunc on the communicator's stream failed");
    }
    if (setup && !s.blocking) result = ncclInProgress;
  }
  return result;
}

TWMN_API ncclResult_t ncclSend(const void* buf, size_t count, ncclDataType_t type, int peer, ncclComm_t comm, CUstream stream) {
  return AddCall({Call::kSend, comm, stream, nullptr, count, type, ncclSum, peer}, buf);
}

TWMN_API ncclResult_t ncclRecv(void* buf, size_t count, ncclDataType_t type, int peer, ncclComm_t comm, CUstream stream) {
  return AddCall({Call::kRecv, comm, stream, nullptr, count, type, ncclSum, peer}, buf);
}

TWMN_API ncclResult_t ncclAllReduce(const void* sendbuf, void* recvbuf, size_t count, ncclDataType_t type, ncclRedOp_t op,
                                    ncclComm_t comm, CUstream stream) {
  if (sendbuf != recvbuf) return Fail(comm, ncclInvalidUsage, "the mock NCCL reduces in place only (sendbuf == recvbuf)");
  return AddCall({Call::kAllReduce, comm, stream, nullptr, count, type, op, 0}, recvbuf);
}

TWMN_API ncclResult_t ncclBroadcast(const void* sendbuf, void* recvbuf, size_t count, ncclDataType_t type, int root,
                                    ncclComm_t comm, CUstream stream) {
  if (sendbuf != recvbuf) return Fail(comm, ncclInvalidUsage, "the mock NCCL broadcasts in place only (sendbuf == recvbuf)");
  return AddCall({Call::kBroadcast, comm, stream, nullptr, count, type, ncclSum, root}, recvbuf);
}

}  // extern "C"
