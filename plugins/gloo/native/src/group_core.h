// group_core.h: one Gloo group (context + TCP device) and everything that may block on it.
//
// No N-API in here: GroupWrap (group_wrap.cc) turns these calls into Promise-returning methods.
//
// Threads (why: a waiting recv must never hold up a send, and nothing blocks the JS thread):
//  - lane_  (WorkerThread): connect and collectives, in call order (Gloo needs the same order on
//    every rank);
//  - pool_  (ElasticPool): one thread per pending send/recv transfer, plus one watchdog per peer.
//
// Failure model: Gloo closes every pair of a context when one operation fails or times out, so
// the first failure *poisons* the group: that operation rejects with Gloo's message; every pending
// and later one rejects with "group ... is broken" and the same code. abort() and destroy() poison
// it on purpose. JS memory is only released (Promise settled) once Gloo can no longer touch it:
// after the operation completed, or after every pair of the context was closed.
#pragma once

#include <gloo/context.h>
#include <gloo/rendezvous/store.h>
#include <gloo/transport/device.h>
#include <gloo/transport/unbound_buffer.h>
#include <tensorwire/buffers.h>
#include <tensorwire/errors.h>
#include <tensorwire/worker.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "reduce.h"

namespace tensorwire_gloo {

struct GroupConfig {
  std::string name;
  int rank = 0;
  int size = 1;
  std::string hostname = "127.0.0.1";
  std::chrono::milliseconds timeout{30000};
};

enum class Direction { kSend, kRecv };

class GroupCore {
 public:
  explicit GroupCore(GroupConfig config);
  ~GroupCore();
  GroupCore(const GroupCore&) = delete;
  GroupCore& operator=(const GroupCore&) = delete;

  const GroupConfig& config() const { return config_; }
  tensorwire::WorkerThread& lane() { return lane_; }
  tensorwire::ElasticPool& pool() { return pool_; }

  /** lane: create the TCP device, rendezvous through `store`, connect every pair. */
  void Connect(gloo::rendezvous::Store& store);

  /** pool: send (or receive into) every buffer to/from `peer`; buffers of length 0 are skipped. */
  void Transfer(Direction dir, const std::vector<tensorwire::ByteView>& buffers, int peer, uint64_t tag);

  /** lane: collectives. */
  void Barrier();
  void Allreduce(tensorwire::ByteView buffer, const ReduceSpec& spec);
  void Broadcast(tensorwire::ByteView buffer, int root);

  /**
   * Any thread, never blocks for long: mark the group broken with `why` (first caller wins), wake
   * every pending wait and close every pair (on a pool thread, or inline when `inline_close`).
   */
  void Poison(const tensorwire::ErrorInfo& why, bool inline_close = false);

  /** Whether the group is broken; fills `why` with the first cause. */
  bool broken(tensorwire::ErrorInfo* why = nullptr);

  /** Operations submitted and not finished (JS thread increments, workers decrement). */
  void BeginOp() { inflight_.fetch_add(1); }
  void EndOp() { inflight_.fetch_sub(1); }

  /**
   * Release everything (not on lane_ or pool_). An idle, healthy group closes its sockets
   * gracefully (queued data still reaches the peer); otherwise the group is poisoned first.
   * Returns false if threads were still stuck after `budget` (the Gloo objects are then leaked on
   * purpose, since a stuck thread may still use them).
   */
  bool Teardown(std::chrono::milliseconds budget);

 private:
  struct PendingTransfer {
    Direction dir;
    std::vector<std::unique_ptr<gloo::transport::UnboundBuffer>> buffers;
    std::vector<uint64_t> slots;
  };

  std::shared_ptr<gloo::Context> CheckedContext();
  void SignalAndCloseContext();
  void WaitClosed();
  [[noreturn]] void ThrowBroken();
  [[noreturn]] void FailWith(const std::exception_ptr& ep, const std::string& what);
  void Watch(gloo::transport::UnboundBuffer* sentinel, int peer);
  std::string Describe(Direction dir, size_t n, int peer, uint64_t tag) const;

  const GroupConfig config_;
  std::mutex teardownMu_;  // destroy() and the exit hook may both tear down
  std::mutex mu_;
  std::condition_variable closedCv_;
  std::shared_ptr<gloo::transport::Device> device_;
  std::shared_ptr<gloo::Context> context_;
  std::set<PendingTransfer*> pending_;
  // One never-matched recv per peer: its wait throws as soon as the connection to that peer
  // fails, which is how a peer's death is noticed even when only a send is pending.
  std::vector<std::unique_ptr<gloo::transport::UnboundBuffer>> sentinels_;
  std::vector<char> sentinelBytes_;
  bool broken_ = false;
  tensorwire::ErrorInfo why_;
  bool closing_ = false;
  bool closed_ = false;
  bool tornDown_ = false;
  uint32_t collectiveTag_ = 0;  // lane only
  std::atomic<int> inflight_{0};

  // Last: threads stop before the state above goes away.
  tensorwire::ElasticPool pool_;
  tensorwire::WorkerThread lane_;
};

}  // namespace tensorwire_gloo
