// events.cc: event counters on the heap or in shared memory (see events.h).
#include "events.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <new>
#include <thread>

namespace twmock {

namespace {
constexpr size_t kMapBytes = 4096;
}

std::shared_ptr<EventMemory> EventMemory::Create(bool interprocess) {
  std::shared_ptr<EventMemory> m(new EventMemory());
  if (!interprocess) {
    m->counters = new EventCounters();
    return m;
  }
  m->fd = memfd_create("tensorwire-mockcuda-event", MFD_CLOEXEC);
  if (m->fd < 0 || ftruncate(m->fd, kMapBytes) != 0) return nullptr;
  void* p = mmap(nullptr, kMapBytes, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
  if (p == MAP_FAILED) return nullptr;
  m->mapped_ = true;
  m->counters = new (p) EventCounters();  // lock-free 64-bit atomics work across processes
  struct stat st;
  if (fstat(m->fd, &st) == 0) m->inode = st.st_ino;
  return m;
}

std::shared_ptr<EventMemory> EventMemory::Open(int pid, int fd, uint64_t inode) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
  int local = open(path, O_RDWR | O_CLOEXEC);
  if (local < 0) return nullptr;
  struct stat st;
  if (fstat(local, &st) != 0 || static_cast<uint64_t>(st.st_ino) != inode) {
    close(local);  // the exporter's fd now names something else: its event is gone
    return nullptr;
  }
  void* p = mmap(nullptr, kMapBytes, PROT_READ | PROT_WRITE, MAP_SHARED, local, 0);
  if (p == MAP_FAILED) {
    close(local);
    return nullptr;
  }
  std::shared_ptr<EventMemory> m(new EventMemory());
  m->fd = local;
  m->inode = inode;
  m->mapped_ = true;
  m->counters = static_cast<EventCounters*>(p);
  return m;
}

EventMemory::~EventMemory() {
  if (mapped_) munmap(counters, kMapBytes);
  else delete counters;
  if (fd >= 0) close(fd);
}

void EventMemory::Complete(uint64_t gen) {
  uint64_t seen = counters->completed.load();
  while (seen < gen && !counters->completed.compare_exchange_weak(seen, gen)) {
  }
}

void EventMemory::WaitFor(uint64_t gen) const {
  auto pause = std::chrono::microseconds(10);
  while (counters->completed.load() < gen) {
    std::this_thread::sleep_for(pause);
    if (pause < std::chrono::microseconds(1000)) pause *= 2;
  }
}

}  // namespace twmock
