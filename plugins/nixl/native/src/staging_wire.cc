// staging_wire.cc: see staging_wire.h.
#include "staging_wire.h"

#include <cstring>

namespace twnixl {

namespace {

constexpr uint32_t kVersion = 1;
constexpr size_t kMaxEntries = 1 << 16;
constexpr size_t kMaxString = 1 << 16;

class Writer {
 public:
  template <typename T>
  void Put(T v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof(v));
  }
  void Str(const std::string& s) {
    Put<uint32_t>(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(const void* data, size_t length) : p_(static_cast<const char*>(data)), left_(data ? length : 0) {}
  template <typename T>
  bool Get(T* v) {
    if (left_ < sizeof(T)) return false;
    std::memcpy(v, p_, sizeof(T));
    p_ += sizeof(T);
    left_ -= sizeof(T);
    return true;
  }
  bool Str(std::string* s) {
    uint32_t n = 0;
    if (!Get(&n) || n > kMaxString || left_ < n) return false;
    s->assign(p_, n);
    p_ += n;
    left_ -= n;
    return true;
  }
  bool Count(uint32_t* n) { return Get(n) && *n <= kMaxEntries; }
  bool Done() const { return left_ == 0; }

 private:
  const char* p_;
  size_t left_;
};

}  // namespace

std::string Encode(const StageRequest& m) {
  Writer w;
  w.Put<uint32_t>(kVersion);
  w.Put(m.readId);
  w.Put(m.nonce);
  w.Put(m.ttlMs);
  w.Put(m.pid);
  w.Str(m.host);
  w.Str(m.replyAddress);
  w.Put<uint32_t>(static_cast<uint32_t>(m.entries.size()));
  for (const StageEntry& e : m.entries) {
    w.Put(e.reg);
    w.Put(e.token);
    w.Put(e.size);
  }
  return w.Take();
}

bool Decode(const void* data, size_t length, StageRequest* out) {
  Reader r(data, length);
  uint32_t version = 0, n = 0;
  if (!r.Get(&version) || version != kVersion) return false;
  if (!r.Get(&out->readId) || !r.Get(&out->nonce) || !r.Get(&out->ttlMs) || !r.Get(&out->pid)) return false;
  if (!r.Str(&out->host) || !r.Str(&out->replyAddress) || !r.Count(&n)) return false;
  out->entries.resize(n);
  for (StageEntry& e : out->entries) {
    if (!r.Get(&e.reg) || !r.Get(&e.token) || !r.Get(&e.size)) return false;
  }
  return r.Done() && !out->replyAddress.empty();
}

std::string Encode(const StageReply& m) {
  Writer w;
  w.Put<uint32_t>(kVersion);
  w.Put(m.readId);
  w.Put(m.nonce);
  w.Str(m.code);
  w.Str(m.message);
  w.Put<uint32_t>(static_cast<uint32_t>(m.regions.size()));
  for (const StagedRegion& s : m.regions) {
    w.Put(s.addr);
    w.Put(s.lease);
    w.Str(s.rkey);
  }
  return w.Take();
}

bool Decode(const void* data, size_t length, StageReply* out) {
  Reader r(data, length);
  uint32_t version = 0, n = 0;
  if (!r.Get(&version) || version != kVersion) return false;
  if (!r.Get(&out->readId) || !r.Get(&out->nonce) || !r.Str(&out->code) || !r.Str(&out->message) || !r.Count(&n)) return false;
  out->regions.resize(n);
  for (StagedRegion& s : out->regions) {
    if (!r.Get(&s.addr) || !r.Get(&s.lease) || !r.Str(&s.rkey)) return false;
  }
  return r.Done();
}

std::string EncodeUnstage(const std::vector<uint64_t>& leases) {
  Writer w;
  w.Put<uint32_t>(kVersion);
  w.Put<uint32_t>(static_cast<uint32_t>(leases.size()));
  for (uint64_t l : leases) w.Put(l);
  return w.Take();
}

bool DecodeUnstage(const void* data, size_t length, std::vector<uint64_t>* out) {
  Reader r(data, length);
  uint32_t version = 0, n = 0;
  if (!r.Get(&version) || version != kVersion || !r.Count(&n)) return false;
  out->resize(n);
  for (uint64_t& l : *out) {
    if (!r.Get(&l)) return false;
  }
  return r.Done();
}

}  // namespace twnixl
