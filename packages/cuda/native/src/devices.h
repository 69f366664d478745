// devices.h: the visible devices and their primary contexts.
//
// Every thread that calls the driver makes a context current first (the JS thread for
// allocations, each lane's worker for its stream operations). The primary context of a device
// is retained once, on first use, and kept for the life of the process: it is what CUDA runtime
// libraries (PyTorch, CuPy) in the same process use too, so their pointers work here.
#pragma once

#include "cuda_api.h"

namespace twcuda {

/** Number of visible devices. Throws CodedError('CUDA_UNAVAILABLE') before a successful open. */
int DeviceCount();

/** Throws CodedError('ERR_OUT_OF_RANGE') unless `device` is a visible device's index. */
void CheckDevice(int device);

/** The device's primary context (retained on first use). */
CUcontext ContextOf(int device);

/** Makes `device`'s primary context current on the calling thread (skipped when it already is). */
void MakeCurrent(int device);

}  // namespace twcuda
