// cuda_link.cc: the mock driver, found as the addon found it (TENSORWIRE_LIBCUDA names it; it is
// already loaded in the process, so dlopen returns that very library and its state).
#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "mock_nccl.h"

namespace twmn {

const MockCuda* LinkCuda(std::string& error) {
  static std::once_flag once;
  static MockCuda cuda;
  static std::string failure;
  std::call_once(once, [] {
    const char* path = std::getenv("TENSORWIRE_LIBCUDA");
    if (!path || !*path) {
      failure = "the mock NCCL runs on the mock CUDA driver only: set TENSORWIRE_LIBCUDA to it (require('@tensorwire/cuda/testing').mockLibraryPath)";
      return;
    }
    void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* e = dlerror();
      failure = std::string("the mock NCCL cannot load TENSORWIRE_LIBCUDA=") + path + ": " + (e ? e : "dlopen failed");
      return;
    }
    cuda.launchHostFunc = reinterpret_cast<CUresult (*)(CUstream, CUhostFn, void*)>(dlsym(lib, "cuLaunchHostFunc"));
    cuda.ctxGetDevice = reinterpret_cast<CUresult (*)(CUdevice*)>(dlsym(lib, "cuCtxGetDevice"));
    cuda.deviceGetAttribute = reinterpret_cast<CUresult (*)(int*, CUdevice_attribute, CUdevice)>(dlsym(lib, "cuDeviceGetAttribute"));
    cuda.hostRange = reinterpret_cast<CUresult (*)(CUdeviceptr, size_t, void**)>(dlsym(lib, "twmock_host_range"));
    if (!cuda.launchHostFunc || !cuda.ctxGetDevice || !cuda.deviceGetAttribute || !cuda.hostRange) {
      failure = std::string("TENSORWIRE_LIBCUDA=") + path +
                " is not the mock CUDA driver (no twmock_host_range): the mock NCCL needs the mock driver of @tensorwire/cuda/testing";
      cuda = MockCuda();
    }
  });
  if (!failure.empty()) {
    error = failure;
    return nullptr;
  }
  return &cuda;
}

}  // namespace twmn
