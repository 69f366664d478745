// libraries.cc: see libraries.h.
#include "libraries.h"

#include <dlfcn.h>

#include <map>

#include "tensorwire/errors.h"

namespace twnccl {

Libraries& Libraries::Get() {
  static Libraries* libs = new Libraries();  // never destroyed: engine threads may use it at exit
  return *libs;
}

OpenResult Libraries::Open(const std::string& ncclPath, const std::string& cudaPath) {
  std::lock_guard<std::mutex> lock(mu_);
  if (opened_) return outcome_;
  // Until a library is loaded nothing is kept: another path may be tried (the plugin falls back
  // to the NCCL of a Python environment when libnccl.so.2 is not on the loader's path).
  OpenResult r;
  // The driver @tensorwire/cuda opened: dlopen of the same name returns the same, initialized
  // library (RTLD_NOLOAD makes sure it is already there rather than loading a second driver).
  void* cuda = dlopen(cudaPath.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (!cuda) {
    const char* err = dlerror();
    r.stage = "cuda-dlopen";
    r.message = "the CUDA driver " + cudaPath + " is not loaded in this process (" + (err ? err : "dlopen failed") +
                "); @tensorwire/cuda must open it first";
    return r;
  }
  std::string missing;
#define TW_NCCL_CUDA_LOOKUP(field, symbol, ret, params)                        \
  cuda_.field = reinterpret_cast<ret(*) params>(dlsym(cuda, symbol));          \
  if (!cuda_.field) missing += (missing.empty() ? "" : ", ") + std::string(symbol);
  TW_NCCL_CUDA_FUNCTIONS(TW_NCCL_CUDA_LOOKUP)
#undef TW_NCCL_CUDA_LOOKUP
  if (!missing.empty()) {
    r.stage = "cuda-symbols";
    r.message = "the CUDA driver " + cudaPath + " lacks " + missing;
    return r;
  }
  // RTLD_GLOBAL is not needed: NCCL finds its own dependencies (libcudart is linked into it).
  void* nccl = dlopen(ncclPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!nccl) {
    const char* err = dlerror();
    r.stage = "dlopen";
    r.message = err ? err : "dlopen failed";
    return r;
  }
  opened_ = true;
  ncclPath_ = ncclPath;
#define TW_NCCL_LOOKUP(field, symbol, ret, params)                             \
  nccl_.field = reinterpret_cast<ret(*) params>(dlsym(nccl, symbol));          \
  if (!nccl_.field) missing += (missing.empty() ? "" : ", ") + std::string(symbol);
  TW_NCCL_FUNCTIONS(TW_NCCL_LOOKUP)
#undef TW_NCCL_LOOKUP
  if (!missing.empty()) {
    r.stage = "symbols";
    r.message = "the library lacks " + missing + " (NCCL older than 2.14, or not NCCL)";
    return outcome_ = r;
  }
  mock_ = dlsym(nccl, "twmocknccl_info") != nullptr;
  r.mock = mock_;
  int v = 0;
  ncclResult_t vr = nccl_.ncclGetVersion(&v);
  if (vr != ncclSuccess) {
    r.stage = "version";
    r.message = std::string("ncclGetVersion failed: ") + ResultName(vr);
    return outcome_ = r;
  }
  version_ = v;
  r.version = v;
  if (v < NcclVersionCode(2, 14, 0)) {
    r.stage = "version";
    r.message = "NCCL " + std::to_string(v) + " is older than 2.14, the first with non-blocking communicators";
    return outcome_ = r;
  }
  ready_ = true;
  r.ok = true;
  return outcome_ = r;
}

const char* Libraries::ResultName(ncclResult_t r) {
  switch (r) {
    case ncclSuccess: return "ncclSuccess";
    case ncclUnhandledCudaError: return "ncclUnhandledCudaError";
    case ncclSystemError: return "ncclSystemError";
    case ncclInternalError: return "ncclInternalError";
    case ncclInvalidArgument: return "ncclInvalidArgument";
    case ncclInvalidUsage: return "ncclInvalidUsage";
    case ncclRemoteError: return "ncclRemoteError";
    case ncclInProgress: return "ncclInProgress";
    case ncclTimeout: return "ncclTimeout";
    default: return "ncclResult";
  }
}

std::string Libraries::ResultText(ncclResult_t r) const {
  const char* text = nccl_.ncclGetErrorString ? nccl_.ncclGetErrorString(r) : nullptr;
  return text ? text : "unknown NCCL result";
}

std::string Libraries::CudaErrorName(CUresult r) const {
  const char* name = nullptr;
  if (cuda_.cuGetErrorName && cuda_.cuGetErrorName(r, &name) == CUDA_SUCCESS && name) return name;
  return "CUDA_ERROR_" + std::to_string(r);
}

void CheckCuda(CUresult r, const char* call) {
  if (r == CUDA_SUCCESS) return;
  std::string name = Libraries::Get().CudaErrorName(r);
  throw tensorwire::CodedError(name, std::string(call) + " failed: " + name);
}

CUcontext ContextOf(int device) {
  static std::mutex mu;
  static std::map<int, CUcontext>* contexts = new std::map<int, CUcontext>();
  std::lock_guard<std::mutex> lock(mu);
  auto it = contexts->find(device);
  if (it != contexts->end()) return it->second;
  CUdevice dev = 0;
  CheckCuda(Cuda().cuDeviceGet(&dev, device), "cuDeviceGet");
  CUcontext ctx = nullptr;
  CheckCuda(Cuda().cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain");
  (*contexts)[device] = ctx;
  return ctx;
}

void MakeCurrent(int device) {
  thread_local CUcontext current = nullptr;
  CUcontext ctx = ContextOf(device);
  if (ctx == current) return;
  CheckCuda(Cuda().cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
  current = ctx;
}

}  // namespace twnccl
