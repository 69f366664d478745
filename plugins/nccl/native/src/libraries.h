// libraries.h: NCCL and the CUDA driver, opened at run time.
//
// The addon links neither: Open() dlopen()s NCCL (libnccl.so.2, or the file TENSORWIRE_LIBNCCL
// names, e.g. the mock) and the CUDA driver that @tensorwire/cuda already opened in this process
// (its path comes from JavaScript), looks up the functions of nccl_api.h / cuda_subset.h and
// reports failures as data (OpenResult), never as a crash: the package loads everywhere and says
// why NCCL is unavailable.
#pragma once

#include <mutex>
#include <string>

#include "cuda_subset.h"
#include "nccl_api.h"

namespace twnccl {

struct NcclFunctions {
#define TW_NCCL_POINTER(field, symbol, ret, params) ret(*field) params = nullptr;
  TW_NCCL_FUNCTIONS(TW_NCCL_POINTER)
#undef TW_NCCL_POINTER
};

struct CudaFunctions {
#define TW_NCCL_CUDA_POINTER(field, symbol, ret, params) ret(*field) params = nullptr;
  TW_NCCL_CUDA_FUNCTIONS(TW_NCCL_CUDA_POINTER)
#undef TW_NCCL_CUDA_POINTER
};

/** How opening went. */
struct OpenResult {
  bool ok = false;
  /** 'cuda-dlopen', 'cuda-symbols', 'dlopen', 'symbols' or 'version' when not ok. */
  std::string stage;
  /** What went wrong, in the loader's or library's own words. */
  std::string message;
  /** ncclGetVersion's code (e.g. 23007 for 2.30.7) when NCCL was loaded. */
  int version = 0;
  /** True when the NCCL library is the mock (it exports twmocknccl_info). */
  bool mock = false;
};

class Libraries {
 public:
  static Libraries& Get();

  /**
   * Opens the CUDA driver at `cudaPath` (which @tensorwire/cuda has loaded and initialized) and
   * NCCL at `ncclPath`, once per process: later calls return the first outcome.
   */
  OpenResult Open(const std::string& ncclPath, const std::string& cudaPath);

  bool ready() const { return ready_; }
  const NcclFunctions& nccl() const { return nccl_; }
  const CudaFunctions& cuda() const { return cuda_; }
  int version() const { return version_; }
  bool mock() const { return mock_; }
  const std::string& ncclPath() const { return ncclPath_; }

  /** "ncclRemoteError"-style name of a result. */
  static const char* ResultName(ncclResult_t r);
  /** NCCL's description of a result (ncclGetErrorString). */
  std::string ResultText(ncclResult_t r) const;
  /** "CUDA_ERROR_NOT_READY"-style name (cuGetErrorName), or the number. */
  std::string CudaErrorName(CUresult r) const;

 private:
  Libraries() = default;
  std::mutex mu_;
  bool opened_ = false;
  bool ready_ = false;
  OpenResult outcome_;
  NcclFunctions nccl_;
  CudaFunctions cuda_;
  int version_ = 0;
  bool mock_ = false;
  std::string ncclPath_;
};

inline const NcclFunctions& Nccl() { return Libraries::Get().nccl(); }
inline const CudaFunctions& Cuda() { return Libraries::Get().cuda(); }

/** Throws CodedError('CUDA_ERROR_...', "<call> failed: ...") unless r is CUDA_SUCCESS. */
void CheckCuda(CUresult r, const char* call);

/** The primary context of `device` (retained once per device, kept for the process). */
CUcontext ContextOf(int device);

/** Makes `device`'s primary context current on the calling thread. */
void MakeCurrent(int device);

}  // namespace twnccl
