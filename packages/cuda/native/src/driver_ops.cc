// driver_ops.cc: the addon's functions about the driver, devices, memory and peer access (JS thread).
//
//   open(path) -> { ok, stage?, message?, result?, code? }   dlopen + cuInit (once per process)
//   isMock() -> boolean                  the loaded library is tensorwire's mock
//   mockControl(command) -> string       the mock's twmock_control (see native/mock/control.cc)
//   driverVersion() -> number            e.g. 12080 for CUDA 12.8
//   deviceCount() -> number
//   deviceProperties(device) -> { name, totalBytes, pciBusId, pciDeviceId, pciDomainId, major, minor }
//   memGetInfo(device) -> { freeBytes, totalBytes }
//   memAlloc(device, bytes) -> bigint    cuMemAlloc (bytes > 0)
//   memFree(device, ptr)                 cuMemFree
//   addressRange(device, ptr) -> { base: bigint, size }   the allocation holding ptr
//   pointerDevice(ptr) -> number         the device ordinal of device memory, -1 when the driver
//                                        does not know the pointer
//   ipcGetMemHandle(device, ptr) -> Buffer(64)   handle to the allocation holding ptr
//   ipcOpenMemHandle(device, handle) -> bigint   base of the other process's allocation here
//   ipcCloseMemHandle(device, ptr)
//   canAccessPeer(device, peer) -> boolean     cuDeviceCanAccessPeer: can `device` address `peer`'s
//                                        memory directly (NVLink or PCIe peer-to-peer)?
//   enablePeerAccess(device, peer) -> boolean  cuCtxEnablePeerAccess from `device`'s context to
//                                        `peer`'s; false when it was enabled already
// Allocation and IPC calls run on the JS thread, as a CUDA allocator's do (they do not wait for
// the GPU to do work); copies and waits never do (copy_ops.cc).
#include <cstring>
#include <string>

#include "devices.h"
#include "driver_library.h"
#include "guard.h"
#include "js_args.h"
#include "ops.h"
#include "tensorwire/buffers.h"
#include "tensorwire/errors.h"

namespace twcuda {

namespace {

Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) tensorwire::ThrowTypeError(env, "open(path): path must be a string");
  OpenResult r = Driver::Get().Open(info[0].As<Napi::String>().Utf8Value());
  Napi::Object out = Napi::Object::New(env);
  out.Set("ok", r.ok);
  out.Set("path", Driver::Get().path());
  if (!r.ok) {
    out.Set("stage", r.stage);
    out.Set("message", r.message);
    if (r.stage == "init") {
      out.Set("result", r.result);
      out.Set("code", r.code);
    }
  }
  return out;
}

Napi::Value IsMock(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Driver::Get().mockControl() != nullptr);
}

Napi::Value MockControl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) tensorwire::ThrowTypeError(env, "mockControl(command): command must be a string");
  Driver::MockControl control = Driver::Get().mockControl();
  if (!control) {
    tensorwire::ThrowError(env, "the CUDA library in use (" + Driver::Get().path() + ") is not tensorwire's mock driver",
                           "CUDA_NOT_MOCK");
  }
  std::string out(1 << 16, '\0');
  int status = control(info[0].As<Napi::String>().Utf8Value().c_str(), &out[0], out.size());
  out.resize(std::strlen(out.c_str()));
  if (status != 0) tensorwire::ThrowError(env, "mock control: " + out, "CUDA_MOCK_CONTROL");
  return Napi::String::New(env, out);
}

Napi::Value DriverVersion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&] {
    DeviceCount();  // throws unless the driver is open
    int v = 0;
    Check(Fn().cuDriverGetVersion(&v), "cuDriverGetVersion");
    return Napi::Number::New(env, v);
  });
}

Napi::Value Count(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&] { return Napi::Number::New(env, DeviceCount()); });
}

Napi::Value DeviceProperties(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = ArgDevice(info, 0);
  return Guard(env, [&] {
    CUdevice dev = 0;
    Check(Fn().cuDeviceGet(&dev, device), "cuDeviceGet");
    char name[256] = {0};
    Check(Fn().cuDeviceGetName(name, sizeof(name) - 1, dev), "cuDeviceGetName");
    size_t total = 0;
    Check(Fn().cuDeviceTotalMem(&total, dev), "cuDeviceTotalMem");
    auto attribute = [&](CUdevice_attribute a) {
      int v = 0;
      Check(Fn().cuDeviceGetAttribute(&v, a, dev), "cuDeviceGetAttribute");
      return v;
    };
    Napi::Object out = Napi::Object::New(env);
    out.Set("name", std::string(name));
    out.Set("totalBytes", static_cast<double>(total));
    out.Set("pciBusId", attribute(CU_DEVICE_ATTRIBUTE_PCI_BUS_ID));
    out.Set("pciDeviceId", attribute(CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID));
    out.Set("pciDomainId", attribute(CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID));
    out.Set("major", attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR));
    out.Set("minor", attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR));
    return out;
  });
}

Napi::Value MemGetInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = ArgDevice(info, 0);
  return Guard(env, [&] {
    MakeCurrent(device);
    size_t free = 0, total = 0;
    Check(Fn().cuMemGetInfo(&free, &total), "cuMemGetInfo");
    Napi::Object out = Napi::Object::New(env);
    out.Set("freeBytes", static_cast<double>(free));
    out.Set("totalBytes", static_cast<double>(total));
    return out;
  });
}

Napi::Value MemAlloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = ArgDevice(info, 0);
  size_t bytes = ArgSize(info, 1, "bytes");
  if (bytes == 0) tensorwire::ThrowTypeError(env, "memAlloc: bytes must be positive (the driver refuses 0)", "ERR_OUT_OF_RANGE");
  return Guard(env, [&] {
    MakeCurrent(device);
    CUdeviceptr p = 0;
    Check(Fn().cuMemAlloc(&p, bytes), "cuMemAlloc");
    return PointerValue(env, p);
  });
}

Napi::Value MemFree(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = ArgDevice(info, 0);
  CUdeviceptr p = ArgPointer(info, 1, "ptr");
  Guard(env, [&] {
    MakeCurrent(device);
    Check(Fn().cuMemFree(p), "cuMemFree");
    return 0;
  });
  return env.Undefined();
}

Napi::Value AddressRange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = ArgDevice(info, 0);
  CUdeviceptr p = ArgPointer(info, 1, "ptr");
  return Guard(env, [&] {
    MakeCurrent(device);
    CUdeviceptr base = 0;
    size_t size = 0;
    Check(Fn().cuMemGetAddressRange(&base, &size, p), "cuMemGetAddressRange");
    Napi::Object out = Napi::Object::New(env);
    out.Set("base", PointerValue(env, base));
    out.Set("size", static_cast<double>(size));
    return out;
  });
}

Napi::Value PointerDevice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CUdeviceptr p = ArgPointer(info, 0, "ptr");
  return Guard(env, [&] {
    DeviceCount();  // throws unless the driver is open
    int ordinal = -1;
    unsigned type = 0;
    if (Fn().cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, p) != CUDA_SUCCESS || type != CU_MEMORYTYPE_DEVICE)
      return Napi::Number::New(env, -1);
    if (Fn().cuPointerGetAttribute(&ordinal, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, p) != CUDA_SUCCESS) ordinal = -1;
    return Napi::Number::New(env, ordinal);
  });
}

Napi::Value IpcGetMemHandle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = ArgDevice(info, 0);
  CUdeviceptr p = ArgPointer(info, 1, "ptr");
  CUipcMemHandle h;
  Guard(env, [&] {
    MakeCurrent(device);
    Check(Fn().cuIpcGetMemHandle(&h, p), "cuIpcGetMemHandle");
    return 0;
  });
  return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(h.reserved), CU_IPC_HANDLE_SIZE);
}

Napi::Value IpcOpenMemHandle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = ArgDevice(info, 0);
  tensorwire::ByteView bytes = tensorwire::ByteViewOf(info.Length() > 1 ? info[1] : env.Undefined(), "handle");
  if (bytes.length != CU_IPC_HANDLE_SIZE) tensorwire::ThrowTypeError(env, "handle must hold 64 bytes (from ipcGetMemHandle)");
  CUipcMemHandle h;
  std::memcpy(h.reserved, bytes.data, CU_IPC_HANDLE_SIZE);
  return Guard(env, [&] {
    MakeCurrent(device);
    CUdeviceptr p = 0;
    Check(Fn().cuIpcOpenMemHandle(&p, h, CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS), "cuIpcOpenMemHandle");
    return PointerValue(env, p);
  });
}

Napi::Value IpcCloseMemHandle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = ArgDevice(info, 0);
  CUdeviceptr p = ArgPointer(info, 1, "ptr");
  Guard(env, [&] {
    MakeCurrent(device);
    Check(Fn().cuIpcCloseMemHandle(p), "cuIpcCloseMemHandle");
    return 0;
  });
  return env.Undefined();
}

Napi::Value CanAccessPeer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = ArgDevice(info, 0);
  int peer = ArgDevice(info, 1);
  return Guard(env, [&] {
    if (device == peer) return Napi::Boolean::New(env, true);
    int can = 0;
    Check(Fn().cuDeviceCanAccessPeer(&can, device, peer), "cuDeviceCanAccessPeer");
    return Napi::Boolean::New(env, can != 0);
  });
}

Napi::Value EnablePeerAccess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = ArgDevice(info, 0);
  int peer = ArgDevice(info, 1);
  if (device == peer) tensorwire::ThrowTypeError(env, "enablePeerAccess: device and peer are the same device", "ERR_OUT_OF_RANGE");
  return Guard(env, [&] {
    CUcontext peerCtx = ContextOf(peer);
    MakeCurrent(device);
    CUresult r = Fn().cuCtxEnablePeerAccess(peerCtx, 0);
    if (r == CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED) return Napi::Boolean::New(env, false);
    Check(r, "cuCtxEnablePeerAccess");
    return Napi::Boolean::New(env, true);
  });
}

}  // namespace

void ExportDriverOps(Napi::Env env, Napi::Object exports) {
  exports.Set("open", Napi::Function::New(env, Open));
  exports.Set("isMock", Napi::Function::New(env, IsMock));
  exports.Set("mockControl", Napi::Function::New(env, MockControl));
  exports.Set("driverVersion", Napi::Function::New(env, DriverVersion));
  exports.Set("deviceCount", Napi::Function::New(env, Count));
  exports.Set("deviceProperties", Napi::Function::New(env, DeviceProperties));
  exports.Set("memGetInfo", Napi::Function::New(env, MemGetInfo));
  exports.Set("memAlloc", Napi::Function::New(env, MemAlloc));
  exports.Set("memFree", Napi::Function::New(env, MemFree));
  exports.Set("addressRange", Napi::Function::New(env, AddressRange));
  exports.Set("pointerDevice", Napi::Function::New(env, PointerDevice));
  exports.Set("ipcGetMemHandle", Napi::Function::New(env, IpcGetMemHandle));
  exports.Set("ipcOpenMemHandle", Napi::Function::New(env, IpcOpenMemHandle));
  exports.Set("ipcCloseMemHandle", Napi::Function::New(env, IpcCloseMemHandle));
  exports.Set("canAccessPeer", Napi::Function::New(env, CanAccessPeer));
  exports.Set("enablePeerAccess", Napi::Function::New(env, EnablePeerAccess));
}

}  // namespace twcuda
