// staging_wire.h: the three UCX active messages of the staging path, and their encoding.
//
//   STAGE_REQUEST  consumer -> producer (on the read's endpoint): "copy these registrations to
//                  pinned memory": the read's id and nonce, how long the consumer will wait, the
//                  consumer's reply address (its reading worker), host and pid, and per region
//                  the registration id, token and size from the descriptor.
//   STAGE_REPLY    producer -> consumer (on an endpoint the producer makes to the reply address):
//                  the id and nonce back, then an error (code, message) or per region the pinned
//                  address, its packed rkey and the lease id.
//   UNSTAGE        consumer -> producer: the leases it has read; their pinned chunks go back to
//                  the pool (a lease not returned expires after the consumer's deadline).
// Little-endian fixed-width fields, as both ends are the same build of this addon; every decoder
// checks lengths and counts, so a malformed or forged message is dropped, never read past.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace twnixl {

constexpr uint16_t kAmStageRequest = 0x7431;
constexpr uint16_t kAmStageReply = 0x7432;
constexpr uint16_t kAmUnstage = 0x7433;

struct StageEntry {
  uint32_t reg = 0;
  uint64_t token = 0;
  uint64_t size = 0;
};

struct StageRequest {
  uint64_t readId = 0;
  uint64_t nonce = 0;
  uint32_t ttlMs = 0;   // the consumer gives up after this long
  int32_t pid = 0;
  std::string host;
  std::string replyAddress;  // the consumer's reading worker
  std::vector<StageEntry> entries;
};

struct StagedRegion {
  uint64_t addr = 0;
  uint64_t lease = 0;
  std::string rkey;
};

struct StageReply {
  uint64_t readId = 0;
  uint64_t nonce = 0;
  std::string code;     // empty: success
  std::string message;
  std::vector<StagedRegion> regions;
};

std::string Encode(const StageRequest& m);
std::string Encode(const StageReply& m);
std::string EncodeUnstage(const std::vector<uint64_t>& leases);

bool Decode(const void* data, size_t length, StageRequest* out);
bool Decode(const void* data, size_t length, StageReply* out);
bool DecodeUnstage(const void* data, size_t length, std::vector<uint64_t>* out);

}  // namespace twnixl
