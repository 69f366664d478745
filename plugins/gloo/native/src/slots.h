// slots.h: which Gloo slot a buffer of a tagged send/recv travels on.
//
// Gloo matches an unbound send with a recv by (peer, slot). The slot mixes the user's tag, the
// buffer's index in the transfer AND its byte size, for a safety reason: when a sender's message is
// larger than the receiver's posted buffer, Gloo's TCP loop thread fails an internal check and
// terminates the process. With the size in the slot, mismatched sizes simply never match, and the
// operation ends with GLOO_TIMEOUT instead. The top byte is a prefix Gloo's own collectives do not
// use (they use 0x01..0x08 and small nextSlot() counters), so p2p never collides with them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tensorwire_gloo {

constexpr uint64_t kP2pSlotPrefix = 0x7AULL;        // 'z'-ish, outside Gloo's 0x01..0x08
constexpr uint64_t kSentinelSlotPrefix = 0x7BULL;   // never-sent slot watched for pair failures

inline uint64_t Mix64(uint64_t x) {  // splitmix64 finaliser
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/** Slot of buffer `index` (of `nbytes` bytes) of the transfer tagged `tag`. */
inline uint64_t TransferSlot(uint64_t tag, size_t index, size_t nbytes) {
  uint64_t h = Mix64(tag);
  h = Mix64(h ^ static_cast<uint64_t>(index));
  h = Mix64(h ^ static_cast<uint64_t>(nbytes));
  return (kP2pSlotPrefix << 56) | (h & ((1ULL << 56) - 1));
}

inline uint64_t SentinelSlot() { return kSentinelSlotPrefix << 56; }

}  // namespace tensorwire_gloo
