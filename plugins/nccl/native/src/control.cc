// control.cc: see control.h.
#include "control.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tensorwire/errors.h"

namespace twnccl {

const char* KindName(OpKind kind) {
  switch (kind) {
    case OpKind::kSend: return "send";
    case OpKind::kRecv: return "recv";
    case OpKind::kAllreduce: return "allreduce";
    case OpKind::kBroadcast: return "broadcast";
    case OpKind::kBarrier: return "barrier";
  }
  return "operation";
}

namespace {

constexpr uint32_t kMaxBody = 1u << 20;

void PutU32(std::string& s, uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); }
void PutU64(std::string& s, uint64_t v) { s.append(reinterpret_cast<const char*>(&v), 8); }
void PutStr(std::string& s, const std::string& v) {
  PutU32(s, static_cast<uint32_t>(v.size()));
  s.append(v);
}

struct Reader {
  const uint8_t* p;
  size_t left;
  bool ok = true;
  template <typename T>
  T Get() {
    T v{};
    if (left < sizeof(T)) {
      ok = false;
      return v;
    }
    std::memcpy(&v, p, sizeof(T));
    p += sizeof(T);
    left -= sizeof(T);
    return v;
  }
  std::string Str() {
    uint32_t n = Get<uint32_t>();
    if (!ok || n > left) {
      ok = false;
      return {};
    }
    std::string s(reinterpret_cast<const char*>(p), n);
    p += n;
    left -= n;
    return s;
  }
};

void SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void SetNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

sockaddr_in AddressOf(const std::string& host, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
    throw tensorwire::CodedError("NCCL_INVALID_ARGUMENT", "'" + host + "' is not an IPv4 address (the nccl control channel's host)");
  }
  return a;
}

}  // namespace

std::string Encode(const Message& m) {
  std::string body;
  PutU32(body, m.rank);
  PutU64(body, m.token);
  body.push_back(static_cast<char>(m.kind));
  PutU32(body, m.src);
  PutU32(body, m.dst);
  PutU64(body, m.tag);
  PutU64(body, m.collIndex);
  PutU64(body, m.seq);
  PutU32(body, static_cast<uint32_t>(m.dtype));
  PutU32(body, static_cast<uint32_t>(m.op));
  PutU32(body, static_cast<uint32_t>(m.root));
  PutU32(body, static_cast<uint32_t>(m.sizes.size()));
  for (uint64_t s : m.sizes) PutU64(body, s);
  PutStr(body, m.code);
  PutStr(body, m.text);
  std::string frame;
  PutU32(frame, static_cast<uint32_t>(m.type));
  PutU32(frame, static_cast<uint32_t>(body.size()));
  return frame + body;
}

bool Decode(MsgType type, const uint8_t* body, size_t length, Message& m) {
  Reader r{body, length};
  m.type = type;
  m.rank = r.Get<uint32_t>();
  m.token = r.Get<uint64_t>();
  m.kind = static_cast<OpKind>(r.Get<uint8_t>());
  m.src = r.Get<uint32_t>();
  m.dst = r.Get<uint32_t>();
  m.tag = r.Get<uint64_t>();
  m.collIndex = r.Get<uint64_t>();
  m.seq = r.Get<uint64_t>();
  m.dtype = static_cast<int32_t>(r.Get<uint32_t>());
  m.op = static_cast<int32_t>(r.Get<uint32_t>());
  m.root = static_cast<int32_t>(r.Get<uint32_t>());
  uint32_t n = r.Get<uint32_t>();
  if (!r.ok || n > r.left / 8) return false;
  m.sizes.resize(n);
  for (uint32_t i = 0; i < n; i++) m.sizes[i] = r.Get<uint64_t>();
  m.code = r.Str();
  m.text = r.Str();
  return r.ok && static_cast<uint8_t>(m.kind) <= static_cast<uint8_t>(OpKind::kBarrier);
}

Connection::~Connection() { Close(); }

void Connection::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

void Connection::Send(const Message& m) {
  if (fd_ < 0) return;
  out_ += Encode(m);
  Flush();
}

bool Connection::Flush() {
  if (fd_ < 0 || broken_) return false;
  while (outPos_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + outPos_, out_.size() - outPos_, MSG_NOSIGNAL);
    if (n > 0) {
      outPos_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    broken_ = true;
    return false;
  }
  if (outPos_ == out_.size()) {
    out_.clear();
    outPos_ = 0;
  }
  return true;
}

bool Connection::Receive(std::vector<Message>& out) {
  if (fd_ < 0) return false;
  bool alive = true;
  uint8_t buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      in_.insert(in_.end(), buf, buf + n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    alive = false;  // 0: the peer closed; < 0: reset
    break;
  }
  size_t pos = 0;
  while (in_.size() - pos >= 8) {
    uint32_t type, length;
    std::memcpy(&type, in_.data() + pos, 4);
    std::memcpy(&length, in_.data() + pos + 4, 4);
    if (length > kMaxBody) return false;  // garbage: treat as a failed connection
    if (in_.size() - pos - 8 < length) break;
    Message m;
    if (!Decode(static_cast<MsgType>(type), in_.data() + pos + 8, length, m)) return false;
    out.push_back(std::move(m));
    pos += 8 + length;
  }
  in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(pos));
  return alive;
}

void Connection::Drain(std::chrono::milliseconds budget) {
  auto end = std::chrono::steady_clock::now() + budget;
  while (fd_ >= 0 && wantsWrite() && !broken_) {
    if (!Flush()) return;
    if (!wantsWrite()) return;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
    if (left <= 0) return;
    pollfd p{fd_, POLLOUT, 0};
    poll(&p, 1, static_cast<int>(left));
  }
}

int ListenOn(const std::string& host, int* port) {
  sockaddr_in a = AddressOf(host, 0);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw tensorwire::CodedError("NCCL_SYSTEM", std::string("socket: ") + std::strerror(errno));
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(fd, 128) != 0) {
    std::string err = std::strerror(errno);
    close(fd);
    throw tensorwire::CodedError("NCCL_SYSTEM", "cannot listen on " + host + " for the nccl control channel: " + err +
                                                    " (set TENSORWIRE_NCCL_HOST, or transportOptions.nccl.host, to an IPv4 address of this machine)");
  }
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  SetNonBlocking(fd);
  return fd;
}

int AcceptOne(int listenFd) {
  int fd = accept4(listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0) SetNoDelay(fd);
  return fd;
}

int StartConnect(const std::string& host, int port) {
  sockaddr_in a = AddressOf(host, port);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw tensorwire::CodedError("NCCL_SYSTEM", std::string("socket: ") + std::strerror(errno));
  SetNoDelay(fd);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 && errno != EINPROGRESS) {
    int err = errno;
    close(fd);
    return -err;  // e.g. refused: the caller retries until its deadline
  }
  return fd;
}

int FinishConnect(int fd) {
  pollfd p{fd, POLLOUT, 0};
  if (poll(&p, 1, 0) <= 0) return 0;
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return -errno;
  return err == 0 ? 1 : -err;
}

}  // namespace twnccl
