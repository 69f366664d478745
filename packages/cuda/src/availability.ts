/**
 * Whether CUDA can be used in this process, and what it offers: the answers of
 * `npx tensorwire doctor`, for programs.
 */
import type { DeviceProbe } from '@tensorwire/core';
import { cudaBackend } from './backend';
import { openDriver, requireDriver } from './driver';

/**
 * True when the CUDA driver loads and sees at least one device (never throws).
 *
 * @example
 * ```ts
 * import { isAvailable } from '@tensorwire/cuda';
 * const device = isAvailable() ? 'cuda:0' : 'cpu';
 * ```
 */
export function isAvailable(): boolean {
  const s = openDriver();
  if (!s.binding) return false;
  try {
    return cudaBackend.deviceCount() > 0;
  } catch {
    return false;
  }
}

/**
 * The driver (version, library, whether it is the mock) and every device with its memory, or
 * why CUDA is unavailable and the fix. Never rejects.
 *
 * @example
 * ```ts
 * const a = await availability();
 * if (!a.available) console.error(a.detail, a.fix);
 * ```
 */
export function availability(): Promise<DeviceProbe> {
  return cudaBackend.probe();
}

/**
 * Number of CUDA devices this process sees; throws DeviceUnavailableError (what is missing, the fix) without a driver.
 *
 * @example
 * ```ts
 * const devices = Array.from({ length: deviceCount() }, (_, i) => `cuda:${i}`);
 * ```
 */
export function deviceCount(): number {
  return cudaBackend.deviceCount();
}

/**
 * The driver's CUDA version, e.g. '12.8'; throws DeviceUnavailableError without a driver.
 *
 * @example
 * ```ts
 * console.log(`CUDA ${driverVersion()}`);
 * ```
 */
export function driverVersion(): string {
  const v = requireDriver().driverVersion();
  return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;
}
