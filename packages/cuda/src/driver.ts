/**
 * The CUDA driver of this process, opened once, on first use: the addon dlopen()s
 * `libcuda.so.1` (or the file TENSORWIRE_LIBCUDA names, e.g. the mock driver) and calls cuInit.
 * When that fails, every use gets the same DeviceUnavailableError naming what is missing and the
 * fix; nothing is retried (the process keeps one driver for its life).
 */
import { DeviceUnavailableError } from '@tensorwire/core/spi';
import { loadAddon, type NativeBinding, type NativeOpenResult } from './native';

/** The library opened when TENSORWIRE_LIBCUDA is not set: the NVIDIA driver's. */
export const DEFAULT_LIBCUDA = 'libcuda.so.1';

/** What the driver library is and how opening it went. */
export interface DriverState {
  /** The file given to dlopen. */
  readonly libraryPath: string;
  /** Set when the driver is usable. */
  readonly binding?: NativeBinding;
  /** Set when it is not: what is missing and the fix. */
  readonly error?: DeviceUnavailableError;
}

let state: DriverState | undefined;

/** The library to load: TENSORWIRE_LIBCUDA, else libcuda.so.1. */
export function driverLibraryPath(): string {
  const named = process.env.TENSORWIRE_LIBCUDA;
  return named !== undefined && named !== '' ? named : DEFAULT_LIBCUDA;
}

/** Opens the driver (once per process) and says whether it is usable. Never throws. */
export function openDriver(): DriverState {
  if (state) return state;
  const libraryPath = driverLibraryPath();
  let binding: NativeBinding;
  try {
    binding = loadAddon();
  } catch (err) {
    state = { libraryPath, error: err as DeviceUnavailableError };
    return state;
  }
  const r = binding.open(libraryPath);
  state = r.ok ? { libraryPath, binding } : { libraryPath, error: unavailable(r) };
  return state;
}

/** The addon, with the driver open; throws DeviceUnavailableError when CUDA cannot be used here. */
export function requireDriver(): NativeBinding {
  const s = openDriver();
  if (s.error || !s.binding) throw s.error as DeviceUnavailableError;
  return s.binding;
}

/** Turns a failed open into what is missing and the fix. */
function unavailable(r: Extract<NativeOpenResult, { ok: false }>): DeviceUnavailableError {
  const named = process.env.TENSORWIRE_LIBCUDA !== undefined && process.env.TENSORWIRE_LIBCUDA !== '';
  const mockHint = "to run CUDA code paths without a GPU, set TENSORWIRE_LIBCUDA to the mock driver (require('@tensorwire/cuda/testing').mockLibraryPath)";
  if (r.stage === 'dlopen') {
    return named
      ? new DeviceUnavailableError('cuda', `TENSORWIRE_LIBCUDA=${r.path} could not be loaded (${r.message})`,
          'point TENSORWIRE_LIBCUDA at a CUDA driver library (libcuda.so.1) or at the mock driver, or unset it')
      : new DeviceUnavailableError('cuda', `the CUDA driver library ${r.path} could not be loaded (${r.message}): no NVIDIA driver is installed`,
          `on a machine with an NVIDIA GPU, install the NVIDIA driver (it provides ${DEFAULT_LIBCUDA}; no CUDA toolkit is needed); ${mockHint}`);
  }
  if (r.stage === 'symbols') {
    return new DeviceUnavailableError('cuda', `${r.path} is not a usable CUDA driver: ${r.message}`, 'install a current NVIDIA driver (CUDA 11 or newer)');
  }
  const visible = process.env.CUDA_VISIBLE_DEVICES;
  switch (r.code) {
    case 'CUDA_ERROR_NO_DEVICE':
      return new DeviceUnavailableError('cuda', `no CUDA device is visible: ${r.message}`,
        visible !== undefined
          ? `CUDA_VISIBLE_DEVICES=${JSON.stringify(visible)} hides every GPU: unset it or list devices that exist (nvidia-smi -L)`
          : `check that the GPU is present and the driver works (nvidia-smi); ${mockHint}`);
    case 'CUDA_ERROR_INSUFFICIENT_DRIVER':
      return new DeviceUnavailableError('cuda', `the NVIDIA driver is too old: ${r.message}`, 'update the NVIDIA driver');
    case 'CUDA_ERROR_STUB_LIBRARY':
      return new DeviceUnavailableError('cuda', `${r.path} is the CUDA toolkit's stub library, not the driver: ${r.message}`,
        "put the driver's libcuda.so.1 first: remove the toolkit's stubs directory from LD_LIBRARY_PATH, or install the NVIDIA driver");
    default:
      return new DeviceUnavailableError('cuda', `the CUDA driver ${r.path} did not initialize: ${r.message}`,
        'check the driver with nvidia-smi (a driver/kernel module mismatch needs a reboot or a driver reinstall)');
  }
}
