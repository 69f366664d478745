// control.h: the control channel of a group, a TCP connection between rank 0 and every other
// rank, beside NCCL. NCCL matches sends and receives by order, has no tags, and runs the
// operations of one communicator one after the other on the GPU: a receive issued before the
// send it waits for would block every later operation (a send in the other direction included).
// So no operation reaches NCCL until every rank taking part has asked for it: each rank tells
// rank 0 what it wants (an intent), rank 0 matches sends with receives by (source, destination,
// tag) and collectives by their number, and answers with orders numbered in one sequence that
// every rank issues in (sequencer.h). The channel also carries failures and goodbyes, and its
// closing tells a rank that a peer died, even when NCCL itself would wait forever.
//
// Messages are framed (u32 type, u32 body length, body) and read and written without blocking.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace twnccl {

enum class OpKind : uint8_t { kSend = 0, kRecv = 1, kAllreduce = 2, kBroadcast = 3, kBarrier = 4 };

/** Words for an operation kind ("send", "allreduce", ...). */
const char* KindName(OpKind kind);
inline bool IsCollective(OpKind k) { return k == OpKind::kAllreduce || k == OpKind::kBroadcast || k == OpKind::kBarrier; }

enum class MsgType : uint32_t {
  kHello = 1,   // rank -> rank 0 on connect (rank, token); rank 0 answers with its own (ack)
  kIntent = 2,  // rank -> rank 0: an operation it wants (kind, src, dst, tag or collective index, sizes...)
  kOrder = 3,   // rank 0 -> participants: issue this operation now (seq, kind, key)
  kReject = 4,  // rank 0 -> participants: the operation cannot run (sizes differ...), code and text
  kFail = 5,    // any -> peers: this rank's group is broken (code, text); the peers abort theirs
  kBye = 6,     // any -> peers: this rank destroys its end of the group
};

/** One message; which fields matter depends on `type`. */
struct Message {
  MsgType type = MsgType::kHello;
  uint32_t rank = 0;  // hello, fail, bye: who sends it
  uint64_t token = 0;
  OpKind kind = OpKind::kSend;
  uint32_t src = 0;
  uint32_t dst = 0;
  uint64_t tag = 0;
  uint64_t collIndex = 0;
  uint64_t seq = 0;
  int32_t dtype = 0;
  int32_t op = 0;
  int32_t root = 0;
  std::vector<uint64_t> sizes;
  std::string code;
  std::string text;
};

std::string Encode(const Message& m);
/** Decodes one body; false when malformed. */
bool Decode(MsgType type, const uint8_t* body, size_t length, Message& out);

/** One non-blocking TCP connection carrying framed messages. */
class Connection {
 public:
  explicit Connection(int fd) : fd_(fd) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_; }
  /** Queues a message and writes what the socket takes now. */
  void Send(const Message& m);
  /** Writes queued bytes; false when the connection failed. */
  bool Flush();
  bool wantsWrite() const { return !out_.empty(); }
  /**
   * Reads what arrived and appends the complete messages to `out`. Returns false at end of
   * stream or on an error (messages read before are still appended).
   */
  bool Receive(std::vector<Message>& out);
  /** Tries for up to `budget` to write what is queued (before closing on a failure). */
  void Drain(std::chrono::milliseconds budget);
  void Close();
  bool closed() const { return fd_ < 0; }

  int rank = -1;  // who is at the other end, once known

 private:
  int fd_;
  std::string out_;
  size_t outPos_ = 0;
  std::vector<uint8_t> in_;
  bool broken_ = false;
};
using ConnectionPtr = std::unique_ptr<Connection>;

/** A listening TCP socket on `host` (IPv4) with a port the kernel picks; throws CodedError. */
int ListenOn(const std::string& host, int* port);
/** Accepts one connection (non-blocking), or -1 when none is waiting. */
int AcceptOne(int listenFd);
/**
 * Starts a non-blocking connect; returns the fd (the connect may still be in progress), or
 * -errno when it failed at once. Throws CodedError for a bad address.
 */
int StartConnect(const std::string& host, int port);
/** For a connect in progress: 1 connected, 0 still in progress, -errno failed. */
int FinishConnect(int fd);

}  // namespace twnccl
