// bare_bench.cc: see bare_bench.h.
#include "bare_bench.h"

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "addon_data.h"
#include "js_args.h"
#include "libraries.h"
#include "tensorwire/addon.h"

namespace twnccl {

namespace {

struct OneThread {  // each run on a thread of its own: it blocks in NCCL for its whole length
  bool Post(tensorwire::Task task) {
    std::thread(std::move(task)).detach();
    return true;
  }
};

void CheckNccl(ncclResult_t r, const char* what) {
  if (r == ncclSuccess) return;
  throw tensorwire::CodedError("NCCL_ERROR", std::string(what) + " failed: " + Libraries::ResultName(r) + " (" +
                                                 Libraries::Get().ResultText(r) + ")");
}

}  // namespace

Napi::Value BarePingPong(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Libraries::Get().ready()) tensorwire::ThrowError(env, "NCCL is not open in this process", "NCCL_UNAVAILABLE");
  if (info.Length() < 1 || !info[0].IsObject()) tensorwire::ThrowTypeError(env, "barePingPong({ uniqueId, rank, device, stream, ptr, sizes, reps, warmup })");
  Napi::Object o = info[0].As<Napi::Object>();
  tensorwire::ByteView id = tensorwire::ByteViewOf(OptionOr(o, "uniqueId"), "uniqueId");
  if (id.length != NCCL_UNIQUE_ID_BYTES) ThrowRange(env, "uniqueId must be 128 bytes", "NCCL_INVALID_ARGUMENT");
  auto uid = std::make_shared<ncclUniqueId>();
  std::memcpy(uid->internal, id.data, NCCL_UNIQUE_ID_BYTES);
  int rank = static_cast<int>(IntegerArg(env, OptionOr(o, "rank"), "rank", 0, 1));
  int device = static_cast<int>(IntegerArg(env, OptionOr(o, "device"), "device", 0, 1023));
  auto stream = reinterpret_cast<CUstream>(static_cast<uintptr_t>(PointerArg(env, OptionOr(o, "stream"), "stream")));
  uint64_t ptr = PointerArg(env, OptionOr(o, "ptr"), "ptr");
  int reps = static_cast<int>(IntegerArg(env, OptionOr(o, "reps"), "reps", 1, 1e6));
  int warmup = static_cast<int>(IntegerArg(env, OptionOr(o, "warmup"), "warmup", 0, 1e6));
  Napi::Value sv = OptionOr(o, "sizes");
  if (!sv.IsArray()) tensorwire::ThrowTypeError(env, "sizes must be an array of byte counts");
  std::vector<uint64_t> sizes;
  Napi::Array arr = sv.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) sizes.push_back(static_cast<uint64_t>(IntegerArg(env, arr.Get(i), "size", 1, 9007199254740991.0)));
  auto samples = std::make_shared<std::vector<std::vector<double>>>(sizes.size());
  auto job = tensorwire::MakeJob(
      [=] {
        MakeCurrent(device);
        const NcclFunctions& n = Nccl();
        ncclComm_t comm = nullptr;
        ncclConfigPrefix cfg;
        cfg.blocking = 1;
        CheckNccl(n.ncclCommInitRankConfig(&comm, 2, *uid, rank, &cfg), "ncclCommInitRankConfig");
        int peer = 1 - rank;
        void* buf = reinterpret_cast<void*>(static_cast<uintptr_t>(ptr));
        auto sync = [&] { CheckCuda(Cuda().cuStreamSynchronize(stream), "cuStreamSynchronize"); };
        try {
          for (size_t s = 0; s < sizes.size(); s++) {
            for (int i = 0; i < warmup + reps; i++) {
              auto t0 = std::chrono::steady_clock::now();
              if (rank == 0) {
                CheckNccl(n.ncclSend(buf, sizes[s], ncclInt8, peer, comm, stream), "ncclSend");
                sync();
                CheckNccl(n.ncclRecv(buf, sizes[s], ncclInt8, peer, comm, stream), "ncclRecv");
                sync();
              } else {
                CheckNccl(n.ncclRecv(buf, sizes[s], ncclInt8, peer, comm, stream), "ncclRecv");
                sync();
                CheckNccl(n.ncclSend(buf, sizes[s], ncclInt8, peer, comm, stream), "ncclSend");
                sync();
              }
              auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
              if (i >= warmup && rank == 0) (*samples)[s].push_back(ns);
            }
          }
        } catch (...) {
          n.ncclCommAbort(comm);
          throw;
        }
        n.ncclCommDestroy(comm);
      },
      [samples](Napi::Env e) -> Napi::Value {
        Napi::Array out = Napi::Array::New(e, samples->size());
        for (size_t s = 0; s < samples->size(); s++) {
          Napi::Array row = Napi::Array::New(e, (*samples)[s].size());
          for (size_t i = 0; i < (*samples)[s].size(); i++) row.Set(static_cast<uint32_t>(i), Napi::Number::New(e, (*samples)[s][i]));
          out.Set(static_cast<uint32_t>(s), row);
        }
        return out;
      });
  OneThread thread;
  return tensorwire::Submit(env, thread, GetAddonData(env).completer, std::move(job));
}

}  // namespace twnccl
