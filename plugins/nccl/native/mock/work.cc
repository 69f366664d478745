// work.cc: moving bytes between ranks. Every message on a connection is a 16-byte header (magic,
// byte count) and its bytes; the sends and receives of one piece of work progress together
// (non-blocking sockets, one poll loop), so two ranks that send to each other in one group
// never wait for each other. A receive whose header announces another size than expected fails
// the communicator (ncclInvalidUsage), rather than writing past the buffer.
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "mock_nccl.h"

namespace twmn {

namespace {

constexpr uint64_t kFrameMagic = 0x74776d6e66726d31ull;  // "twmnfrm1"

struct Frame {
  uint64_t magic;
  uint64_t bytes;
};

struct Stream {
  // Outgoing: header then payload of each send, in order. Incoming: same for each receive.
  std::vector<const Transfer*> sends;
  std::vector<const Transfer*> recvs;
  size_t sendIndex = 0, recvIndex = 0;
  uint64_t sendPos = 0, recvPos = 0;  // bytes of header + payload done for the current one
  Frame outHeader{};
  Frame inHeader{};
  bool done() const { return sendIndex == sends.size() && recvIndex == recvs.size(); }
};

/** A lost peer: recorded as NCCL's sockets would report it, or a wait until abort (hang mode). */
void PeerLost(CommState& comm, int peer) {
  if (comm.aborted.load()) return;
  if (GetFaults().peerLossHangs) {
    WaitForAbort(comm);
    return;
  }
  comm.SetError(ncclRemoteError, "rank " + std::to_string(comm.rank) + ": the connection to rank " + std::to_string(peer) +
                                     " closed (the remote process exited or there was a network error)");
}

}  // namespace

bool Exchange(CommState& comm, const std::vector<Transfer>& transfers) {
  std::vector<Stream> streams(static_cast<size_t>(comm.nranks));
  for (const Transfer& t : transfers) {
    Stream& s = streams[static_cast<size_t>(t.peer)];
    (t.send ? s.sends : s.recvs).push_back(&t);
  }
  for (;;) {
    if (comm.aborted.load()) return false;
    std::vector<pollfd> fds;
    std::vector<int> peers;
    for (int peer = 0; peer < comm.nranks; peer++) {
      Stream& s = streams[static_cast<size_t>(peer)];
      if (s.done()) continue;
      short events = 0;
      if (s.sendIndex < s.sends.size()) events |= POLLOUT;
      if (s.recvIndex < s.recvs.size()) events |= POLLIN;
      fds.push_back({comm.fds[static_cast<size_t>(peer)], events, 0});
      peers.push_back(peer);
    }
    if (fds.empty()) return true;
    fds.push_back({comm.abortFd, POLLIN, 0});
    int n = poll(fds.data(), fds.size(), 100);
    if (n < 0 && errno != EINTR) return false;
    if (fds.back().revents) return false;  // aborted
    for (size_t i = 0; i + 1 < fds.size(); i++) {
      int peer = peers[i];
      Stream& s = streams[static_cast<size_t>(peer)];
      int fd = fds[i].fd;
      short re = fds[i].revents;
      if (re & POLLOUT) {
        while (s.sendIndex < s.sends.size()) {
          const Transfer* t = s.sends[s.sendIndex];
          if (s.sendPos == 0) s.outHeader = {kFrameMagic, t->bytes};
          const uint8_t* base;
          uint64_t left;
          if (s.sendPos < sizeof(Frame)) {
            base = reinterpret_cast<const uint8_t*>(&s.outHeader) + s.sendPos;
            left = sizeof(Frame) - s.sendPos;
          } else {
            base = t->host + (s.sendPos - sizeof(Frame));
            left = t->bytes - (s.sendPos - sizeof(Frame));
          }
          if (left == 0) {
            s.sendIndex++;
            s.sendPos = 0;
            continue;
          }
          ssize_t w = send(fd, base, left, MSG_NOSIGNAL | MSG_DONTWAIT);
          if (w > 0) {
            s.sendPos += static_cast<uint64_t>(w);
            continue;
          }
          if (w < 0 && (errno == EAGAIN || errno == EINTR)) break;
          PeerLost(comm, peer);
          return false;
        }
      }
      if (re & (POLLIN | POLLHUP | POLLERR)) {
        while (s.recvIndex < s.recvs.size()) {
          const Transfer* t = s.recvs[s.recvIndex];
          uint8_t* base;
          uint64_t left;
          if (s.recvPos < sizeof(Frame)) {
            base = reinterpret_cast<uint8_t*>(&s.inHeader) + s.recvPos;
            left = sizeof(Frame) - s.recvPos;
          } else {
            if (s.recvPos == sizeof(Frame) && (s.inHeader.magic != kFrameMagic || s.inHeader.bytes != t->bytes)) {
              comm.SetError(ncclInvalidUsage,
                            "rank " + std::to_string(comm.rank) + ": rank " + std::to_string(peer) + " sent " +
                                std::to_string(s.inHeader.bytes) + " bytes where this rank receives " +
                                std::to_string(t->bytes) + " (send and recv counts differ)");
              return false;
            }
            base = t->host + (s.recvPos - sizeof(Frame));
            left = t->bytes - (s.recvPos - sizeof(Frame));
          }
          if (left == 0) {
            s.recvIndex++;
            s.recvPos = 0;
            continue;
          }
          ssize_t r = recv(fd, base, left, MSG_DONTWAIT);
          if (r > 0) {
            s.recvPos += static_cast<uint64_t>(r);
            continue;
          }
          if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
          PeerLost(comm, peer);
          return false;
        }
        if ((re & (POLLHUP | POLLERR)) && !(re & POLLIN) && s.recvIndex == s.recvs.size() && s.sendIndex < s.sends.size()) {
          PeerLost(comm, peer);
          return false;
        }
      }
    }
  }
}

}  // namespace twmn
