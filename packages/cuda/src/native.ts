/**
 * Loads the addon (`native/build/Release/tensorwire_cuda.node`) and types what it exports. The
 * addon itself links no CUDA library: `open(path)` loads the driver at run time (see driver.ts).
 * A missing or unloadable addon is a DeviceUnavailableError that names the fix, never a bare
 * "Cannot find module".
 */
import * as path from 'node:path';
import { DeviceUnavailableError, nativeAddonLoader } from '@tensorwire/core/spi';

/** Options of every stream operation of the addon (copies, fills, event records). */
export interface NativeStreamOptions {
  /** The lane to run on; the device's default lane when omitted. */
  stream?: NativeStream;
  /** Events whose last record submitted before this call the operation waits for (on the GPU). */
  after?: NativeEvent[];
  /** Event recorded right after the operation. */
  record?: NativeEvent;
  /** Wait on this thread instead of returning a Promise (small copies that need an answer now). */
  sync?: boolean;
}

/** What the addon's stream operations return: a Promise, or undefined with `sync: true`. */
export type NativeOpResult = Promise<void> | undefined;

/** A CUDA stream served by a thread of its own (native/src/stream_wrap.h). */
export interface NativeStream {
  readonly device: number;
  /** The CUstream as a number, for other libraries in this process. */
  readonly handle: bigint;
  readonly destroyed: boolean;
  synchronize(): Promise<void>;
  destroy(): void;
}

/** A CUDA event, always without timing (native/src/event_wrap.h). */
export interface NativeEvent {
  readonly device: number;
  readonly interprocess: boolean;
  /** Opened from another process's IPC handle. */
  readonly imported: boolean;
  record(options?: NativeStreamOptions): NativeOpResult;
  query(): boolean;
  synchronize(): Promise<void>;
  /** 64 bytes another process opens with Event.fromIpcHandle (interprocess events only). */
  ipcHandle(): Buffer;
  /** Lets the CUDA event go once the operations submitted with it ran; later uses throw. */
  destroy(): void;
  readonly destroyed: boolean;
}

export interface NativeEventConstructor {
  new (device: number, options?: { interprocess?: boolean; blockingSync?: boolean }): NativeEvent;
  fromIpcHandle(device: number, handle: Uint8Array): NativeEvent;
}

/** How open() went (native/src/driver_library.h). */
export type NativeOpenResult =
  | { ok: true; path: string }
  | { ok: false; path: string; stage: 'dlopen' | 'symbols' | 'init'; message: string; result?: number; code?: string };

export interface NativeDeviceProperties {
  name: string;
  totalBytes: number;
  pciBusId: number;
  pciDeviceId: number;
  pciDomainId: number;
  major: number;
  minor: number;
}

/** The addon's exports (documented in native/src/driver_ops.cc and copy_ops.cc). */
export interface NativeBinding {
  open(libraryPath: string): NativeOpenResult;
  isMock(): boolean;
  mockControl(command: string): string;
  driverVersion(): number;
  deviceCount(): number;
  deviceProperties(device: number): NativeDeviceProperties;
  memGetInfo(device: number): { freeBytes: number; totalBytes: number };
  memAlloc(device: number, bytes: number): bigint;
  memFree(device: number, ptr: bigint): void;
  addressRange(device: number, ptr: bigint): { base: bigint; size: number };
  pointerDevice(ptr: bigint): number;
  ipcGetMemHandle(device: number, ptr: bigint): Buffer;
  ipcOpenMemHandle(device: number, handle: Uint8Array): bigint;
  ipcCloseMemHandle(device: number, ptr: bigint): void;
  canAccessPeer(device: number, peer: number): boolean;
  /** False when peer access from `device` to `peer` was enabled already. */
  enablePeerAccess(device: number, peer: number): boolean;
  copyHtoD(device: number, dst: bigint, src: Uint8Array, options?: NativeStreamOptions): NativeOpResult;
  copyDtoH(device: number, dst: Uint8Array, src: bigint, options?: NativeStreamOptions): NativeOpResult;
  copyDtoD(dstDevice: number, dst: bigint, srcDevice: number, src: bigint, bytes: number, options?: NativeStreamOptions): NativeOpResult;
  fill(device: number, dst: bigint, elementBytes: 1 | 2 | 4 | 8, pattern: bigint, count: number, options?: NativeStreamOptions): NativeOpResult;
  synchronize(device: number, options?: NativeStreamOptions): NativeOpResult;
  allocPinned(device: number, bytes: number): Uint8Array;
  /** An External holding the tw_cuda_host_api table (native/include/tensorwire/cuda_host_api.h). */
  hostApi(): object;
  Stream: new (device: number) => NativeStream;
  Event: NativeEventConstructor;
}

/** Root of this package (the folder holding package.json), from dist/ or src/. */
export const PACKAGE_ROOT = path.resolve(__dirname, '..');

/** Where the build puts the addon and the mock driver (cmake-js compile -d native -O native/build). */
export const BUILD_DIR = path.join(PACKAGE_ROOT, 'native', 'build', 'Release');
export const ADDON_PATH = path.join(BUILD_DIR, 'tensorwire_cuda.node');

/** The fix printed whenever the addon is missing. */
export const ADDON_FIX = 'build it: npm run build -w @tensorwire/cuda (needs cmake and a C++17 compiler, no CUDA toolkit), or npm rebuild @tensorwire/cuda';

/** Loads the addon once; throws DeviceUnavailableError('cuda', ...) naming the fix. */
export const loadAddon = nativeAddonLoader<NativeBinding, DeviceUnavailableError>({
  file: ADDON_PATH,
  overrideEnv: 'TENSORWIRE_CUDA_ADDON',
  owner: '@tensorwire/cuda',
  unavailable: (detail) => new DeviceUnavailableError('cuda', detail, ADDON_FIX),
});
