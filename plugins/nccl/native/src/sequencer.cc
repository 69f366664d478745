// sequencer.cc: see sequencer.h.
#include "sequencer.h"

#include <sstream>

namespace twnccl {

namespace {

std::string Bytes(const std::vector<uint64_t>& sizes) {
  std::ostringstream s;
  s << sizes.size() << " tensor(s) of [";
  for (size_t i = 0; i < sizes.size(); i++) s << (i ? ", " : "") << sizes[i];
  s << "] bytes";
  return s.str();
}

std::string Describe(const Message& m) {
  std::ostringstream s;
  s << KindName(m.kind);
  if (m.kind == OpKind::kAllreduce) s << " of " << (m.sizes.empty() ? 0 : m.sizes[0]) << " bytes (NCCL type " << m.dtype << ", op " << m.op << ")";
  if (m.kind == OpKind::kBroadcast) s << " of " << (m.sizes.empty() ? 0 : m.sizes[0]) << " bytes from root " << m.root;
  return s.str();
}

}  // namespace

std::vector<Delivery> Sequencer::Add(int from, const Message& intent) {
  if (IsCollective(intent.kind)) return AddCollective(from, intent);
  return AddP2p(intent);
}

std::vector<Delivery> Sequencer::AddP2p(const Message& intent) {
  Key key{intent.src, intent.dst, intent.tag};
  Pairing& p = p2p_[key];
  (intent.kind == OpKind::kSend ? p.sends : p.recvs).push_back(intent.sizes);
  std::vector<Delivery> out;
  if (p.sends.empty() || p.recvs.empty()) return out;
  std::vector<uint64_t> send = std::move(p.sends.front());
  std::vector<uint64_t> recv = std::move(p.recvs.front());
  p.sends.pop_front();
  p.recvs.pop_front();
  if (p.sends.empty() && p.recvs.empty()) p2p_.erase(key);
  Delivery d;
  d.message.kind = OpKind::kSend;  // the pair: each side finds its own send or recv by (src, dst, tag)
  d.message.src = intent.src;
  d.message.dst = intent.dst;
  d.message.tag = intent.tag;
  d.to = {static_cast<int>(intent.src), static_cast<int>(intent.dst)};
  if (send != recv) {
    d.message.type = MsgType::kReject;
    d.message.code = "NCCL_SIZE_MISMATCH";
    d.message.text = "the send of " + Bytes(send) + " from rank " + std::to_string(intent.src) + " to rank " +
                     std::to_string(intent.dst) + " with tag " + std::to_string(intent.tag) +
                     " does not match the recv of " + Bytes(recv) +
                     " (a send and its recv need the same number of tensors and byte sizes); nothing was transferred";
  } else {
    d.message.type = MsgType::kOrder;
    d.message.seq = nextSeq_++;
  }
  out.push_back(std::move(d));
  return out;
}

std::vector<Delivery> Sequencer::AddCollective(int from, const Message& intent) {
  std::vector<Message>& slots = collectives_[intent.collIndex];
  std::vector<bool>& present = present_[intent.collIndex];
  if (slots.empty()) {
    slots.resize(static_cast<size_t>(size_));
    present.assign(static_cast<size_t>(size_), false);
  }
  if (from < 0 || from >= size_) return {};
  slots[static_cast<size_t>(from)] = intent;
  present[static_cast<size_t>(from)] = true;
  for (bool p : present)
    if (!p) return {};
  Delivery d;
  d.message.kind = intent.kind;
  d.message.collIndex = intent.collIndex;
  for (int r = 0; r < size_; r++) d.to.push_back(r);
  const Message& first = slots[0];
  std::string disagreement;
  for (int r = 1; r < size_ && disagreement.empty(); r++) {
    const Message& m = slots[static_cast<size_t>(r)];
    if (m.kind != first.kind || m.sizes != first.sizes || m.dtype != first.dtype || m.op != first.op || m.root != first.root) {
      disagreement = "collective #" + std::to_string(intent.collIndex) + " differs between ranks: rank 0 calls " +
                     Describe(first) + ", rank " + std::to_string(r) + " calls " + Describe(m) +
                     " (every rank must call the same collectives, in the same order, with the same sizes)";
    }
  }
  if (!disagreement.empty()) {
    d.message.type = MsgType::kReject;
    d.message.code = "NCCL_COLLECTIVE_MISMATCH";
    d.message.text = disagreement + "; nothing was run";
  } else {
    d.message.type = MsgType::kOrder;
    d.message.seq = nextSeq_++;
  }
  collectives_.erase(intent.collIndex);
  present_.erase(intent.collIndex);
  std::vector<Delivery> out;
  out.push_back(std::move(d));
  return out;
}

}  // namespace twnccl
