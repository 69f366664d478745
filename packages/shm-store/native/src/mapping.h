// mapping.h: one shared-memory file mapped into this process (MAP_SHARED, read-write), kept
// until unmapped. Mappings are made once per file and reused: on this kind of machine a fresh
// mapping of tmpfs pages costs a page fault per 4 KiB page on first touch (~13 us each), far
// more than the copy, so the store never maps per object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tensorwire_shm {

class Mapping {
 public:
  /**
   * Create `path` (must not exist) with `bytes` reserved (posix_fallocate: a full /dev/shm
   * fails here with ENOSPC instead of killing a later writer with SIGBUS), or open the existing
   * file (bytes = 0: its size). Pages are pre-faulted (MAP_POPULATE). Throws CodedError
   * (code: the errno name) on failure; the file descriptor is closed once mapped.
   */
  static std::shared_ptr<Mapping> Open(const std::string& path, size_t bytes, bool create);
  ~Mapping();
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  /** Throws CodedError ERANGE when [offset, offset+length) is not inside the mapping. */
  void CheckRange(size_t offset, size_t length, const char* what) const;

 private:
  Mapping(std::string path, uint8_t* data, size_t size) : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  uint8_t* data_;
  size_t size_;
};

/** "ENOSPC" for ENOSPC etc. ("E<number>" for unknown ones). */
std::string ErrnoName(int err);
/** Throws CodedError(ErrnoName(err), what + ": " + strerror(err)). */
[[noreturn]] void ThrowErrno(const std::string& what, int err);

}  // namespace tensorwire_shm
