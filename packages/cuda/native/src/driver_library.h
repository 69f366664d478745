// driver_library.h: the CUDA driver library, opened at run time.
//
// The addon links no CUDA library: Open() dlopen()s the file it is given (libcuda.so.1 by default,
// or what TENSORWIRE_LIBCUDA names, e.g. the mock), looks up the functions of cuda_api.h and calls
// cuInit. A missing library, a missing symbol or a failing cuInit is reported as data (OpenResult),
// never as a crash, so the package loads everywhere and says why CUDA is unavailable.
#pragma once

#include <mutex>
#include <string>

#include "cuda_api.h"

namespace twcuda {

/** The driver's functions, named as in cuda_api.h (without the _v2 suffixes). */
struct DriverFunctions {
#define TW_CUDA_POINTER(field, symbol, ret, params) ret(*field) params = nullptr;
  TW_CUDA_FUNCTIONS(TW_CUDA_POINTER)
#undef TW_CUDA_POINTER
};

/** How opening went. */
struct OpenResult {
  bool ok = false;
  /** 'dlopen', 'symbols' or 'init' when not ok. */
  std::string stage;
  /** What went wrong, in the library's own words (dlerror, the missing symbol, cuInit's error). */
  std::string message;
  /** cuInit's result when stage is 'init'. */
  CUresult result = CUDA_SUCCESS;
  /** The CUresult's name, e.g. CUDA_ERROR_NO_DEVICE (stage 'init'). */
  std::string code;
};

class Driver {
 public:
  /** The process-wide driver. */
  static Driver& Get();

  /**
   * Opens `path` and initializes it, once per process: later calls return the first outcome
   * (a process cannot switch drivers: other code may hold pointers it gave out).
   */
  OpenResult Open(const std::string& path);

  /** True after a successful Open. */
  bool ready() const { return ready_; }
  const std::string& path() const { return path_; }
  const DriverFunctions& fn() const { return fn_; }

  /** The mock's control entry point (twmock_control), or null for a real driver. */
  using MockControl = int (*)(const char*, char*, size_t);
  MockControl mockControl() const { return mockControl_; }

  /** "CUDA_ERROR_OUT_OF_MEMORY" (or "CUDA_ERROR_<n>" for a result the driver cannot name). */
  std::string ErrorName(CUresult r) const;
  /** The driver's description of `r`, e.g. "out of memory". */
  std::string ErrorText(CUresult r) const;

  /** Throws tensorwire::CodedError(<name>, "<call> failed: <name> (<text>)") unless r is success. */
  void Check(CUresult r, const char* call) const;

 private:
  Driver() = default;
  std::mutex mu_;
  bool opened_ = false;
  bool ready_ = false;
  OpenResult outcome_;
  std::string path_;
  void* handle_ = nullptr;
  DriverFunctions fn_;
  MockControl mockControl_ = nullptr;
};

/** The process-wide driver's functions (after a successful Open). */
inline const DriverFunctions& Fn() { return Driver::Get().fn(); }

/** Throws a CodedError naming `call` unless `r` is CUDA_SUCCESS. */
inline void Check(CUresult r, const char* call) { Driver::Get().Check(r, call); }

}  // namespace twcuda
