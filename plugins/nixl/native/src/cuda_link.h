// cuda_link.h: the CUDA driver as @tensorwire/cuda loaded it, for this addon's threads.
//
// This addon never opens libcuda itself: JavaScript hands it @tensorwire/cuda's driver table
// (tensorwire/cuda_host_api.h, from `cudaHostApi()`) the first time a CUDA tensor is registered
// or read, and every CUDA call here goes through that table: the same library (the mock under
// TENSORWIRE_LIBCUDA too), the same primary contexts.
#pragma once

#include <string>

#include "tensorwire/cuda_host_api.h"

namespace twnixl {
namespace cuda {

/** Adopt the table (process-wide; the first one stays). Throws CodedError('NIXL_CUDA_UNAVAILABLE') for a bad one. */
void Adopt(const tw_cuda_host_api* api);

/** The adopted table, or null. */
const tw_cuda_host_api* Api();

/** The adopted table; throws CodedError('NIXL_CUDA_UNAVAILABLE') when there is none. */
const tw_cuda_host_api& Require();

/** Throws CodedError('NIXL_CUDA_FAILED', "<what> failed: CUDA_ERROR_X (text)") unless `result` is 0. */
void Check(int result, const std::string& what);

}  // namespace cuda
}  // namespace twnixl
