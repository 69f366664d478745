// addon.cc: module entry of tensorwire_shm_store.node.
//
// Exports (handles are small integers naming a mapping of this process; see mapping.h):
//   open(path, bytes, create) -> handle     create: a new file of `bytes`; else map the existing one
//   close(handle)                            unmap (copies in flight keep the mapping alive)
//   size(handle) -> bytes
//   copyIn(handle, offsets, sources) -> Promise     sources[i] into the mapping at offsets[i], off the JS thread
//   copyOut(handle, offsets, targets) -> Promise    the mapping at offsets[i] into targets[i], off the JS thread
//   copyInSync / copyOutSync: the same on the JS thread (small copies, where a thread hop costs more)
//   load32(handle, offset) / store32(handle, offset, value): atomic (acquire / release) 32-bit flags
//   unlink(path) -> boolean (false: there was no such file)
//   available(dir) -> bytes free for an unprivileged writer (statvfs)
// Failures are JS Errors whose `code` is the errno name (ENOSPC, ENOENT...) or ERANGE/EBADF.
#include <napi.h>
#include <sys/statvfs.h>
#include <tensorwire/addon.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <cstdlib>
#include <map>
#include <thread>
#include <vector>

#include "mapping.h"

namespace tensorwire_shm {
namespace {

struct AddonData {
  std::map<uint32_t, std::shared_ptr<Mapping>> mappings;
  uint32_t next = 1;
  std::shared_ptr<tensorwire::Completer> completer;
  tensorwire::ElasticPool pool{4};
};

AddonData& Data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

template <typename F>
auto Guard(Napi::Env env, F&& f) -> decltype(f()) {
  return tensorwire::GuardJs(env, "ERR_SHM_STORE", std::forward<F>(f));
}

std::shared_ptr<Mapping> MappingOf(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) tensorwire::ThrowTypeError(info.Env(), "handle must be a number");
  auto& d = Data(info.Env());
  auto it = d.mappings.find(info[0].As<Napi::Number>().Uint32Value());
  if (it == d.mappings.end()) throw tensorwire::CodedError("EBADF", "no such shared-memory mapping (closed already?)");
  return it->second;
}

size_t SizeArg(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) tensorwire::ThrowTypeError(v.Env(), std::string(what) + " must be a number");
  double n = v.As<Napi::Number>().DoubleValue();
  if (!(n >= 0) || n > 9007199254740991.0 || n != static_cast<double>(static_cast<uint64_t>(n))) {
    tensorwire::ThrowTypeError(v.Env(), std::string(what) + " must be a non-negative integer", "ERR_OUT_OF_RANGE");
  }
  return static_cast<size_t>(n);
}

/** One planned copy: `length` bytes between the mapping at `offset` and `bytes`. */
struct Piece {
  size_t offset;
  uint8_t* bytes;
  size_t length;
};

/** Copies at least this large are split between threads (below, one memcpy is as fast). */
constexpr size_t kParallelBytes = 8u << 20;

/**
 * Threads for one large copy: TENSORWIRE_SHM_COPY_THREADS (1 to 8), default 1. On the 2-core
 * development VM one thread already reached the memcpy bandwidth (64 MiB in ~4.2 ms with 1 or
 * 2 threads); machines where one core cannot saturate memory may gain from more.
 */
size_t CopyThreads() {
  static const size_t n = [] {
    const char* v = std::getenv("TENSORWIRE_SHM_COPY_THREADS");
    long k = v ? std::strtol(v, nullptr, 10) : 1L;
    return static_cast<size_t>(std::clamp(k, 1L, 8L));
  }();
  return n;
}

/**
 * Copy `pieces` between the mapping at `base` and their buffers (into the mapping when `in`).
 * A large copy may be cut into equal stripes run on several threads (CopyThreads).
 */
void CopyPieces(uint8_t* base, const std::vector<Piece>& pieces, bool in, size_t threads) {
  size_t total = 0;
  for (const Piece& p : pieces) total += p.length;
  auto copy = [&](const Piece& p, size_t from, size_t len) {
    if (len == 0) return;
    if (in) std::memcpy(base + p.offset + from, p.bytes + from, len);
    else std::memcpy(p.bytes + from, base + p.offset + from, len);
  };
  if (threads <= 1 || total < kParallelBytes) {
    for (const Piece& p : pieces) copy(p, 0, p.length);
    return;
  }
  // Stripe k covers bytes [k*stripe, (k+1)*stripe) of the pieces laid end to end.
  size_t stripe = (total + threads - 1) / threads;
  auto run = [&](size_t k) {
    size_t lo = k * stripe, hi = std::min(total, lo + stripe), at = 0;
    for (const Piece& p : pieces) {
      size_t a = std::max(lo, at), b = std::min(hi, at + p.length);
      if (a < b) copy(p, a - at, b - a);
      at += p.length;
    }
  };
  std::vector<std::thread> helpers;
  for (size_t k = 1; k < threads; k++) helpers.emplace_back(run, k);
  run(0);
  for (auto& t : helpers) t.join();
}

/** The (offsets, buffers) arguments as pieces, range-checked; `job` (if any) keeps the buffers alive. */
std::vector<Piece> Pieces(const Napi::CallbackInfo& info, const Mapping& m, tensorwire::Job* job) {
  if (info.Length() < 3 || !info[1].IsArray() || !info[2].IsArray()) {
    tensorwire::ThrowTypeError(info.Env(), "expected (handle, offsets: number[], buffers: Uint8Array[])");
  }
  Napi::Array offsets = info[1].As<Napi::Array>();
  Napi::Array buffers = info[2].As<Napi::Array>();
  if (offsets.Length() != buffers.Length()) tensorwire::ThrowTypeError(info.Env(), "offsets and buffers differ in length");
  std::vector<Piece> out;
  for (uint32_t i = 0; i < offsets.Length(); i++) {
    Napi::Value b = buffers.Get(i);
    tensorwire::ByteView v = job ? job->KeepBytes(b, "buffer") : tensorwire::ByteViewOf(b, "buffer");
    size_t offset = SizeArg(offsets.Get(i), "offset");
    m.CheckRange(offset, v.length, "copy");
    out.push_back({offset, v.data, v.length});
  }
  return out;
}

Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (info.Length() < 3 || !info[0].IsString()) tensorwire::ThrowTypeError(env, "expected (path, bytes, create)");
    auto m = Mapping::Open(info[0].As<Napi::String>().Utf8Value(), SizeArg(info[1], "bytes"), info[2].ToBoolean());
    auto& d = Data(env);
    uint32_t h = d.next++;
    d.mappings[h] = std::move(m);
    return Napi::Number::New(env, h);
  });
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    auto m = MappingOf(info);
    Data(info.Env()).mappings.erase(info[0].As<Napi::Number>().Uint32Value());
    return info.Env().Undefined();
  });
}

Napi::Value Size(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value { return Napi::Number::New(info.Env(), static_cast<double>(MappingOf(info)->size())); });
}

template <bool In>
Napi::Value CopyAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto m = MappingOf(info);
    auto pieces = std::make_shared<std::vector<Piece>>();
    // The job holds the mapping (a close meanwhile does not unmap under the copy) and, through
    // KeepBytes in Pieces, the JS buffers until the Promise settles.
    auto work = tensorwire::MakeJob([m, pieces] { CopyPieces(m->data(), *pieces, In, CopyThreads()); });
    *pieces = Pieces(info, *m, work.get());
    auto& d = Data(env);
    return tensorwire::Submit(env, d.pool, d.completer, std::move(work));
  });
}

template <bool In>
Napi::Value CopySync(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    auto m = MappingOf(info);
    CopyPieces(m->data(), Pieces(info, *m, nullptr), In, 1);
    return info.Env().Undefined();
  });
}

uint32_t* FlagAt(const Napi::CallbackInfo& info, const Mapping& m) {
  size_t offset = SizeArg(info[1], "offset");
  if (offset % 4 != 0) throw tensorwire::CodedError("EINVAL", "flag offsets must be multiples of 4");
  m.CheckRange(offset, 4, "flag");
  return reinterpret_cast<uint32_t*>(m.data() + offset);
}

Napi::Value Load32(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    auto m = MappingOf(info);
    return Napi::Number::New(info.Env(), __atomic_load_n(FlagAt(info, *m), __ATOMIC_ACQUIRE));
  });
}

Napi::Value Store32(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    auto m = MappingOf(info);
    uint32_t* flag = FlagAt(info, *m);
    __atomic_store_n(flag, info[2].As<Napi::Number>().Uint32Value(), __ATOMIC_RELEASE);
    return info.Env().Undefined();
  });
}

Napi::Value Unlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsString()) tensorwire::ThrowTypeError(env, "path must be a string");
    std::string path = info[0].As<Napi::String>().Utf8Value();
    if (::unlink(path.c_str()) == 0) return Napi::Boolean::New(env, true);
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    ThrowErrno("removing " + path, errno);
  });
}

Napi::Value Available(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsString()) tensorwire::ThrowTypeError(env, "dir must be a string");
    std::string dir = info[0].As<Napi::String>().Utf8Value();
    struct statvfs st;
    if (::statvfs(dir.c_str(), &st) != 0) ThrowErrno("statvfs of " + dir, errno);
    return Napi::Number::New(env, static_cast<double>(st.f_bavail) * static_cast<double>(st.f_frsize));
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->completer = tensorwire::Completer::Create(env, "tensorwire-shm-store");
  env.SetInstanceData<AddonData>(data);
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("size", Napi::Function::New(env, Size, "size"));
  exports.Set("copyIn", Napi::Function::New(env, CopyAsync<true>, "copyIn"));
  exports.Set("copyOut", Napi::Function::New(env, CopyAsync<false>, "copyOut"));
  exports.Set("copyInSync", Napi::Function::New(env, CopySync<true>, "copyInSync"));
  exports.Set("copyOutSync", Napi::Function::New(env, CopySync<false>, "copyOutSync"));
  exports.Set("load32", Napi::Function::New(env, Load32, "load32"));
  exports.Set("store32", Napi::Function::New(env, Store32, "store32"));
  exports.Set("unlink", Napi::Function::New(env, Unlink, "unlink"));
  exports.Set("available", Napi::Function::New(env, Available, "available"));
  return exports;
}

}  // namespace
}  // namespace tensorwire_shm

static Napi::Object InitTensorwireShmStore(Napi::Env env, Napi::Object exports) {
  return tensorwire_shm::Init(env, exports);
}

NODE_API_MODULE(tensorwire_shm_store, InitTensorwireShmStore)
