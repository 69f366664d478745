// sequencer.h: rank 0's matching of the group's operations (see control.h for why).
//
// Every rank sends rank 0 an intent per operation, in the order it posts them. A send from s to
// d with tag t is matched with the oldest receive at d from s with tag t (and vice versa); the
// n-th collective of every rank is matched with the n-th of the others. A match becomes an order
// with the next number of one sequence, sent to the ranks that take part: each rank issues its
// orders in that sequence, so the operations of every rank reach NCCL in one global order and
// no rank ever waits, on the GPU, for an operation another rank has queued behind one of its own.
// A match that cannot run (different sizes, a collective the ranks disagree on) is rejected
// before anything reaches NCCL: those operations fail and the group stays usable.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <tuple>
#include <vector>

#include "control.h"

namespace twnccl {

/** A message for some ranks (rank 0 included: its own orders are handled locally). */
struct Delivery {
  Message message;
  std::vector<int> to;
};

class Sequencer {
 public:
  explicit Sequencer(int size) : size_(size) {}

  /** An intent from rank `from`; returns the orders or rejections it completes. */
  std::vector<Delivery> Add(int from, const Message& intent);

 private:
  std::vector<Delivery> AddP2p(const Message& intent);
  std::vector<Delivery> AddCollective(int from, const Message& intent);

  using Key = std::tuple<uint32_t, uint32_t, uint64_t>;  // src, dst, tag
  struct Pairing {
    std::deque<std::vector<uint64_t>> sends;
    std::deque<std::vector<uint64_t>> recvs;
  };
  int size_;
  uint64_t nextSeq_ = 1;
  std::map<Key, Pairing> p2p_;
  std::map<uint64_t, std::vector<Message>> collectives_;  // by collective index: one per rank (kind set when present)
  std::map<uint64_t, std::vector<bool>> present_;
};

}  // namespace twnccl
