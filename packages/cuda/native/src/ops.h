// ops.h: the groups of functions the addon exports (see each file's header for the contracts).
#pragma once

#include <napi.h>

namespace twcuda {

/** open, isMock, mockControl, driverVersion, deviceCount, deviceProperties, memory, IPC memory, peer access. */
void ExportDriverOps(Napi::Env env, Napi::Object exports);

/** copyHtoD, copyDtoH, copyDtoD, fill, synchronize. */
void ExportCopyOps(Napi::Env env, Napi::Object exports);

/** allocPinned (page-locked host memory), hostApi (the driver table for other addons). */
void ExportHostOps(Napi::Env env, Napi::Object exports);

}  // namespace twcuda
