// cuda_link.cc: see cuda_link.h.
#include "cuda_link.h"

#include <atomic>

#include "tensorwire/errors.h"

namespace twnixl {
namespace cuda {

namespace {
std::atomic<const tw_cuda_host_api*> adopted{nullptr};

// The last function of version 1: a table must be at least this large.
constexpr size_t kVersion1Size = offsetof(tw_cuda_host_api, describe) + sizeof(void (*)(int, char*, size_t));
}  // namespace

void Adopt(const tw_cuda_host_api* api) {
  if (!api || api->magic != TW_CUDA_HOST_API_MAGIC) {
    throw tensorwire::CodedError("NIXL_CUDA_UNAVAILABLE", "not a @tensorwire/cuda driver table (cudaHostApi())");
  }
  if (api->version < 1 || api->size < kVersion1Size) {
    throw tensorwire::CodedError("NIXL_CUDA_UNAVAILABLE", "the @tensorwire/cuda driver table is version " +
                                                              std::to_string(api->version) +
                                                              ", this addon needs version 1 or newer: update @tensorwire/cuda");
  }
  const tw_cuda_host_api* none = nullptr;
  adopted.compare_exchange_strong(none, api);
}

const tw_cuda_host_api* Api() { return adopted.load(); }

const tw_cuda_host_api& Require() {
  const tw_cuda_host_api* api = adopted.load();
  if (!api) {
    throw tensorwire::CodedError("NIXL_CUDA_UNAVAILABLE",
                                 "this process has not handed @tensorwire/cuda's driver to nixl (a CUDA tensor needs it)");
  }
  return *api;
}

void Check(int result, const std::string& what) {
  if (result == 0) return;
  char text[256] = {0};
  Require().describe(result, text, sizeof(text));
  throw tensorwire::CodedError("NIXL_CUDA_FAILED", what + " failed: " + text);
}

}  // namespace cuda
}  // namespace twnixl
