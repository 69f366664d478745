#include "mapping.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <tensorwire/errors.h>

namespace tensorwire_shm {

std::string ErrnoName(int err) {
  switch (err) {
#define TW_E(x) case x: return #x;
    TW_E(ENOSPC) TW_E(ENOENT) TW_E(EEXIST) TW_E(EACCES) TW_E(EPERM) TW_E(ENOMEM) TW_E(EINVAL)
    TW_E(EMFILE) TW_E(ENFILE) TW_E(ERANGE) TW_E(EBADF) TW_E(EFBIG) TW_E(ENAMETOOLONG) TW_E(EROFS)
#undef TW_E
    default: return "E" + std::to_string(err);
  }
}

void ThrowErrno(const std::string& what, int err) {
  throw tensorwire::CodedError(ErrnoName(err), what + ": " + std::strerror(err));
}

std::shared_ptr<Mapping> Mapping::Open(const std::string& path, size_t bytes, bool create) {
  int fd = create ? ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)
                  : ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) ThrowErrno(std::string(create ? "creating " : "opening ") + path, errno);
  auto fail = [&](const std::string& what, int err) {
    ::close(fd);
    if (create) ::unlink(path.c_str());
    ThrowErrno(what + " " + path, err);
  };
  if (create) {
    if (bytes == 0) fail("an arena file needs a size:", EINVAL);
    int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
    if (rc != 0) fail("reserving " + std::to_string(bytes) + " bytes for", rc);
  } else {
    struct stat st;
    if (::fstat(fd, &st) != 0) fail("stat of", errno);
    bytes = static_cast<size_t>(st.st_size);
    if (bytes == 0) fail("empty arena file", EINVAL);
  }
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (p == MAP_FAILED) fail("mapping", errno);
  ::close(fd);  // the mapping keeps the file's pages; no descriptor stays open
  return std::shared_ptr<Mapping>(new Mapping(path, static_cast<uint8_t*>(p), bytes));
}

Mapping::~Mapping() { ::munmap(data_, size_); }

void Mapping::CheckRange(size_t offset, size_t length, const char* what) const {
  if (offset > size_ || length > size_ - offset) {
    throw tensorwire::CodedError("ERANGE", std::string(what) + ": bytes " + std::to_string(offset) + ".." +
                                               std::to_string(offset + length) + " are outside " + path_ + " (" +
                                               std::to_string(size_) + " bytes)");
  }
}

}  // namespace tensorwire_shm
