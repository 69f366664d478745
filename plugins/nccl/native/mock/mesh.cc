// mesh.cc: a communicator's connections. Every rank listens on an abstract Unix socket named by
// the unique id and its rank (no file to clean up: the name goes when the process does),
// connects to every lower rank and accepts every higher one, then all exchange what they are
// (RankInfo) and check the group as NCCL does: same size everywhere, and no two ranks on one GPU
// of one host unless NCCL is told to allow it.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "mock_nccl.h"

namespace twmn {

namespace {

constexpr uint32_t kHelloMagic = 0x74776d6e;  // "twmn"

sockaddr_un AddressOf(const std::string& key, int rank, socklen_t* len) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::string name = "tensorwire-mocknccl-" + key + "-" + std::to_string(rank);
  // Abstract namespace: a leading NUL, no file.
  std::memcpy(a.sun_path + 1, name.data(), std::min(name.size(), sizeof(a.sun_path) - 2));
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + std::min(name.size(), sizeof(a.sun_path) - 2));
  return a;
}

/** Waits until `fd` is ready for `events` or the communicator is aborted; false on abort. */
bool WaitFd(CommState& comm, int fd, short events) {
  for (;;) {
    if (comm.aborted.load()) return false;
    pollfd p[2] = {{fd, events, 0}, {comm.abortFd, POLLIN, 0}};
    int n = poll(p, 2, 100);
    if (n < 0 && errno != EINTR) return false;
    if (p[1].revents) return false;
    if (n > 0 && p[0].revents) return true;
  }
}

bool WriteAll(CommState& comm, int fd, const void* data, size_t bytes) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (bytes > 0) {
    ssize_t n = send(fd, p, bytes, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      p += n;
      bytes -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFd(comm, fd, POLLOUT)) return false;
      continue;
    }
    return false;
  }
  return true;
}

bool ReadAll(CommState& comm, int fd, void* data, size_t bytes) {
  auto* p = static_cast<uint8_t*>(data);
  while (bytes > 0) {
    ssize_t n = recv(fd, p, bytes, MSG_DONTWAIT);
    if (n > 0) {
      p += n;
      bytes -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFd(comm, fd, POLLIN)) return false;
      continue;
    }
    return false;
  }
  return true;
}

bool SendHello(CommState& comm, int fd) {
  const RankInfo& i = comm.self;
  uint32_t header[6] = {kHelloMagic,
                        static_cast<uint32_t>(i.rank),
                        static_cast<uint32_t>(i.nranks),
                        static_cast<uint32_t>(i.physicalDevice),
                        static_cast<uint32_t>(i.version) | (i.multiRankGpu ? 0x80000000u : 0u),
                        static_cast<uint32_t>(i.hostId.size())};
  return WriteAll(comm, fd, header, sizeof(header)) && WriteAll(comm, fd, i.hostId.data(), i.hostId.size());
}

bool ReadHello(CommState& comm, int fd, RankInfo& out) {
  uint32_t header[6];
  if (!ReadAll(comm, fd, header, sizeof(header)) || header[0] != kHelloMagic || header[5] > 4096) return false;
  out.rank = static_cast<int>(header[1]);
  out.nranks = static_cast<int>(header[2]);
  out.physicalDevice = static_cast<int>(header[3]);
  out.version = static_cast<int>(header[4] & 0x7fffffffu);
  out.multiRankGpu = (header[4] & 0x80000000u) != 0;
  out.hostId.resize(header[5]);
  return ReadAll(comm, fd, out.hostId.data(), header[5]);
}

void Fail(CommState& comm, ncclResult_t r, const std::string& text) {
  if (!comm.aborted.load()) comm.SetError(r, text);
}

}  // namespace

void ConnectMesh(const CommPtr& state) {
  CommState& comm = *state;
  const Faults& faults = GetFaults();
  comm.fds.assign(static_cast<size_t>(comm.nranks), -1);
  socklen_t len = 0;
  sockaddr_un self = AddressOf(comm.key, comm.rank, &len);
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&self), len) != 0 || listen(listener, 256) != 0) {
    std::string err = std::strerror(errno);
    if (listener >= 0) close(listener);
    Fail(comm, ncclInvalidUsage,
         "rank " + std::to_string(comm.rank) + " cannot join this communicator (" + err + "): is the rank used twice?");
    return;
  }
  std::vector<RankInfo> infos(static_cast<size_t>(comm.nranks));
  infos[static_cast<size_t>(comm.rank)] = comm.self;
  bool ok = true;
  // Lower ranks: dial (retrying until they listen), say hello.
  for (int peer = 0; peer < comm.rank && ok; peer++) {
    socklen_t plen = 0;
    sockaddr_un addr = AddressOf(comm.key, peer, &plen);
    for (;;) {
      if (comm.aborted.load()) {
        ok = false;
        break;
      }
      int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), plen) == 0) {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
        comm.fds[static_cast<size_t>(peer)] = fd;
        ok = SendHello(comm, fd);
        break;
      }
      if (fd >= 0) close(fd);
      pollfd p{comm.abortFd, POLLIN, 0};
      poll(&p, 1, 10);
    }
  }
  // Higher ranks: accept, say hello (they say who they are in theirs).
  std::vector<int> accepted;
  for (int n = comm.rank + 1; n < comm.nranks && ok; n++) {
    if (!WaitFd(comm, listener, POLLIN)) {
      ok = false;
      break;
    }
    int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      n--;
      continue;
    }
    accepted.push_back(fd);
    ok = SendHello(comm, fd);
  }
  close(listener);
  for (int peer = 0; peer < comm.rank && ok; peer++) {
    RankInfo info;
    ok = ReadHello(comm, comm.fds[static_cast<size_t>(peer)], info) && info.rank == peer;
    if (ok) infos[static_cast<size_t>(peer)] = info;
  }
  for (int fd : accepted) {
    RankInfo info;
    if (!ok || !ReadHello(comm, fd, info) || info.rank <= comm.rank || info.rank >= comm.nranks ||
        comm.fds[static_cast<size_t>(info.rank)] != -1) {
      close(fd);
      ok = false;
      continue;
    }
    comm.fds[static_cast<size_t>(info.rank)] = fd;
    infos[static_cast<size_t>(info.rank)] = info;
  }
  if (!ok) {
    Fail(comm, ncclRemoteError, "rank " + std::to_string(comm.rank) + ": a peer left while the communicator was being initialized");
    return;
  }
  for (const RankInfo& i : infos) {
    if (i.nranks != comm.nranks) {
      Fail(comm, ncclInvalidUsage,
           "rank " + std::to_string(i.rank) + " initialized with nranks " + std::to_string(i.nranks) + ", this rank with " +
               std::to_string(comm.nranks));
      return;
    }
  }
  // NCCL refuses two ranks on one GPU of one host, unless NCCL >= 2.30 is told it may.
  for (const RankInfo& other : infos) {
    if (other.rank == comm.rank || other.hostId != comm.self.hostId || other.physicalDevice != comm.self.physicalDevice) continue;
    bool allowed = comm.self.version >= NcclVersionCode(2, 30, 0) && comm.self.multiRankGpu && other.multiRankGpu;
    if (allowed) continue;
    char text[256];
    int lo = std::min(other.rank, comm.rank), hi = std::max(other.rank, comm.rank);
    if (comm.self.version >= NcclVersionCode(2, 30, 0)) {
      std::snprintf(text, sizeof(text),
                    "Multiple ranks use the same GPU (ranks %d and %d, device %x): set NCCL_MULTI_RANK_GPU_ENABLE=1 to allow it",
                    lo, hi, comm.self.physicalDevice);
    } else {
      std::snprintf(text, sizeof(text), "Duplicate GPU detected: rank %d and rank %d both on CUDA device %x", lo, hi,
                    comm.self.physicalDevice);
    }
    Fail(comm, ncclInvalidUsage, text);
    return;
  }
  if (faults.initDelayMs > 0) {
    pollfd p{comm.abortFd, POLLIN, 0};
    poll(&p, 1, static_cast<int>(faults.initDelayMs));
  }
  if (faults.initFailure != ncclSuccess) {
    Fail(comm, faults.initFailure, "initialization failed (TENSORWIRE_MOCK_NCCL_INIT_FAIL)");
    return;
  }
  std::lock_guard<std::mutex> lock(comm.mu);
  if (comm.asyncError == ncclInProgress) comm.asyncError = ncclSuccess;
  comm.cv.notify_all();
}

void WaitForAbort(CommState& comm) {
  while (!comm.aborted.load()) {
    pollfd p{comm.abortFd, POLLIN, 0};
    poll(&p, 1, 100);
  }
}

}  // namespace twmn
