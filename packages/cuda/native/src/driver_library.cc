// driver_library.cc: dlopen of the CUDA driver and the error names (see driver_library.h).
#include "driver_library.h"

#include <dlfcn.h>

#include "tensorwire/errors.h"

namespace twcuda {

Driver& Driver::Get() {
  static Driver* driver = new Driver();  // never destroyed: worker threads may use it at exit
  return *driver;
}

OpenResult Driver::Open(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (opened_) return outcome_;
  opened_ = true;
  path_ = path;
  OpenResult r;
  // RTLD_LOCAL: the driver's symbols stay out of the global namespace, as with any plugin library.
  handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle_) {
    const char* err = dlerror();
    r.stage = "dlopen";
    r.message = err ? err : "dlopen failed";
    return outcome_ = r;
  }
  std::string missing;
#define TW_CUDA_LOOKUP(field, symbol, ret, params)                                  \
  fn_.field = reinterpret_cast<ret(*) params>(dlsym(handle_, symbol));              \
  if (!fn_.field) missing += (missing.empty() ? "" : ", ") + std::string(symbol);
  TW_CUDA_FUNCTIONS(TW_CUDA_LOOKUP)
#undef TW_CUDA_LOOKUP
  if (!missing.empty()) {
    r.stage = "symbols";
    r.message = "the library lacks " + missing + " (a driver older than CUDA 11, or not a CUDA driver)";
    return outcome_ = r;
  }
  mockControl_ = reinterpret_cast<MockControl>(dlsym(handle_, "twmock_control"));
  CUresult init = fn_.cuInit(0);
  if (init != CUDA_SUCCESS) {
    r.stage = "init";
    r.result = init;
    r.code = ErrorName(init);
    r.message = "cuInit failed: " + r.code + " (" + ErrorText(init) + ")";
    return outcome_ = r;
  }
  ready_ = true;
  r.ok = true;
  return outcome_ = r;
}

std::string Driver::ErrorName(CUresult r) const {
  const char* name = nullptr;
  if (fn_.cuGetErrorName && fn_.cuGetErrorName(r, &name) == CUDA_SUCCESS && name) return name;
  return "CUDA_ERROR_" + std::to_string(r);
}

std::string Driver::ErrorText(CUresult r) const {
  const char* text = nullptr;
  if (fn_.cuGetErrorString && fn_.cuGetErrorString(r, &text) == CUDA_SUCCESS && text) return text;
  return "error " + std::to_string(r);
}

void Driver::Check(CUresult r, const char* call) const {
  if (r == CUDA_SUCCESS) return;
  std::string name = ErrorName(r);
  throw tensorwire::CodedError(name, std::string(call) + " failed: " + name + " (" + ErrorText(r) + ")");
}

}  // namespace twcuda
