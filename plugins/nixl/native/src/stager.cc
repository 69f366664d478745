// stager.cc: see stager.h.
#include "stager.h"

#include <set>
#include <string>

#include "cuda_link.h"

namespace twnixl {

void* Stager::StreamOf(int device) {
  auto it = streams_.find(device);
  if (it != streams_.end()) return it->second;
  const tw_cuda_host_api& api = cuda::Require();
  cuda::Check(api.make_current(device), "making the context of cuda:" + std::to_string(device) + " current");
  void* stream = nullptr;
  cuda::Check(api.stream_create(&stream), "cuStreamCreate on cuda:" + std::to_string(device));
  streams_[device] = stream;
  return stream;
}

void Stager::Copy(const std::vector<CopyOp>& ops) {
  const tw_cuda_host_api& api = cuda::Require();
  std::set<int> used;
  std::string failure;
  int failed = 0;
  for (const CopyOp& op : ops) {
    if (op.bytes == 0) continue;
    void* stream = StreamOf(op.device);
    cuda::Check(api.make_current(op.device), "making the context of cuda:" + std::to_string(op.device) + " current");
    used.insert(op.device);
    int r = op.toHost ? api.memcpy_dtoh_async(op.host, op.devicePtr, op.bytes, stream)
                      : api.memcpy_htod_async(op.devicePtr, op.host, op.bytes, stream);
    if (r != 0) {
      failed = r;
      failure = std::string(op.toHost ? "cuMemcpyDtoHAsync" : "cuMemcpyHtoDAsync") + " of " + std::to_string(op.bytes) +
                " bytes on cuda:" + std::to_string(op.device);
      break;  // the copies already issued are still waited for below
    }
  }
  // Wait for every stream used, even after a failure: no copy may touch the memory afterwards.
  for (int device : used) {
    int r = api.make_current(device);
    if (r == 0) r = api.stream_synchronize(streams_[device]);
    if (r != 0 && failed == 0) {
      failed = r;
      failure = "cuStreamSynchronize on cuda:" + std::to_string(device);
    }
  }
  cuda::Check(failed, failure);
}

bool Stager::Stop(std::chrono::milliseconds patience) {
  if (stopped_) return joined_;
  stopped_ = true;
  worker_.Post([this] {
    const tw_cuda_host_api* api = cuda::Api();
    for (auto& kv : streams_) {
      if (api && api->make_current(kv.first) == 0) api->stream_destroy(kv.second);
    }
    streams_.clear();
  });
  joined_ = worker_.ShutdownFor(patience);
  return joined_;
}

}  // namespace twnixl
