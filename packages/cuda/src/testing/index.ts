/**
 * `@tensorwire/cuda/testing`: the mock CUDA driver, for tests on machines without a GPU (yours
 * and this package's). The mock is a shared library built with the addon (npm run build); it
 * implements the driver API on host memory behind fake device addresses, with CUDA IPC that
 * really crosses processes, streams that run later on threads of their own, and failures you can
 * inject. It proves the code paths, not the GPU: run GPU checks on a machine with one.
 *
 * @example
 * ```ts
 * import { useMockDriver, mock } from '@tensorwire/cuda/testing';
 * useMockDriver({ devices: 2, memory: '256M' }); // before the first CUDA use; actors inherit it
 * import('@tensorwire/cuda');
 * mock.fail('cuMemAlloc_v2', 'CUDA_ERROR_OUT_OF_MEMORY', { count: 1 }); // the next cuMemAlloc fails
 * ```
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, RuntimeStateError } from '@tensorwire/core';
import { openDriver, requireDriver } from '../driver';
import { BUILD_DIR } from '../native';

/** Absolute path of the mock driver library (exists once the package is built). */
export const mockLibraryPath: string = path.join(BUILD_DIR, 'libtensorwire_mockcuda.so');

/** Options of useMockDriver (each sets the mock's environment variable). */
export interface MockDriverOptions {
  /** Physical devices (TENSORWIRE_MOCK_CUDA_DEVICES, default 2); CUDA_VISIBLE_DEVICES still applies. */
  devices?: number;
  /** Memory per device, e.g. '64M' or a byte count (TENSORWIRE_MOCK_CUDA_MEMORY, default 16G). */
  memory?: string | number;
  /** Failures to inject from the start (TENSORWIRE_MOCK_CUDA_FAIL), e.g. 'cuInit:100'. */
  fail?: string;
  /** Extra microseconds every stream operation takes (TENSORWIRE_MOCK_CUDA_DELAY_US). */
  delayUs?: number;
  /** false: devices cannot access each other's memory (TENSORWIRE_MOCK_CUDA_PEER_ACCESS=0); default true. */
  peerAccess?: boolean;
}

/**
 * Makes this process, and the actor processes it starts from now on, use the mock driver: sets
 * TENSORWIRE_LIBCUDA and the mock's settings in process.env. Call it before the first CUDA use
 * (a process keeps the driver it opened first).
 */
export function useMockDriver(options: MockDriverOptions = {}): void {
  if (!fs.existsSync(mockLibraryPath)) {
    throw new RuntimeStateError(`the mock CUDA driver is not built (${mockLibraryPath} is missing); run npm run build -w @tensorwire/cuda`);
  }
  process.env.TENSORWIRE_LIBCUDA = mockLibraryPath;
  if (options.devices !== undefined) process.env.TENSORWIRE_MOCK_CUDA_DEVICES = String(options.devices);
  if (options.memory !== undefined) process.env.TENSORWIRE_MOCK_CUDA_MEMORY = String(options.memory);
  if (options.fail !== undefined) process.env.TENSORWIRE_MOCK_CUDA_FAIL = options.fail;
  if (options.delayUs !== undefined) process.env.TENSORWIRE_MOCK_CUDA_DELAY_US = String(options.delayUs);
  if (options.peerAccess !== undefined) process.env.TENSORWIRE_MOCK_CUDA_PEER_ACCESS = options.peerAccess ? '1' : '0';
}

/** The variable that makes tests run on the machine's driver: TENSORWIRE_CUDA_TEST_DRIVER=real. */
export const TEST_DRIVER_ENV = 'TENSORWIRE_CUDA_TEST_DRIVER';

/**
 * For test files (this package's, its transports', yours): the mock driver (with `options`),
 * unless TENSORWIRE_CUDA_TEST_DRIVER=real asks for the machine's driver (scripts/gpu-check.sh on
 * a GPU machine). Returns true when the tests run on the mock, so that tests needing its controls
 * (delays, injected failures, two devices) can skip themselves on a real driver.
 *
 * @example
 * ```ts
 * export const usingMock = useTestDriver({ devices: 2 }); // first thing in a test file
 * ```
 */
export function useTestDriver(options: MockDriverOptions = {}): boolean {
  if (process.env[TEST_DRIVER_ENV] === 'real') return false;
  useMockDriver(options);
  return true;
}

/** What the mock reports about this process. */
export interface MockStats {
  physicalDevices: number;
  /** Physical devices this process sees, in order (CUDA_VISIBLE_DEVICES). */
  visible: number[];
  memoryPerDevice: number;
  /** Live cuMemAlloc allocations and their bytes. */
  allocations: number;
  allocatedBytes: number;
  /** Open IPC mappings of other processes' memory. */
  imports: number;
  streams: number;
  events: number;
  /** Whether two devices can access each other's memory (cuDeviceCanAccessPeer). */
  peerAccess: boolean;
  /** Pairs [from, to] of physical devices with peer access enabled (cuCtxEnablePeerAccess). */
  peerEnabled: Array<[number, number]>;
  /** Live page-locked host allocations (cuMemHostAlloc) and their bytes. */
  pinnedAllocations: number;
  pinnedBytes: number;
  /** Calls per driver function, e.g. calls.cuMemAlloc_v2. */
  calls: Record<string, number>;
}

/** CUresult values by name, for `mock.fail`. */
export const CUDA_RESULTS = Object.freeze({
  CUDA_ERROR_INVALID_VALUE: 1,
  CUDA_ERROR_OUT_OF_MEMORY: 2,
  CUDA_ERROR_NOT_INITIALIZED: 3,
  CUDA_ERROR_STUB_LIBRARY: 34,
  CUDA_ERROR_INSUFFICIENT_DRIVER: 35,
  CUDA_ERROR_NO_DEVICE: 100,
  CUDA_ERROR_INVALID_DEVICE: 101,
  CUDA_ERROR_INVALID_CONTEXT: 201,
  CUDA_ERROR_INVALID_HANDLE: 400,
  CUDA_ERROR_ILLEGAL_ADDRESS: 700,
  CUDA_ERROR_UNKNOWN: 999,
} as const);

function control(command: string): string {
  const b = requireDriver();
  if (!b.isMock()) {
    throw new RuntimeStateError(`the CUDA driver in use (${openDriver().libraryPath}) is not the mock: call useMockDriver() before the first CUDA use`);
  }
  return b.mockControl(command);
}

/** Controls of the mock driver loaded in this process (each throws when the driver is not the mock). */
export const mock = {
  /** Counters and live resources of the mock in this process. */
  stats(): MockStats {
    return JSON.parse(control('stats')) as MockStats;
  },
  /**
   * Makes `fn` (a driver symbol such as 'cuMemAlloc_v2') return `result` for `count` calls (all
   * later calls when omitted) after `skip` successful ones.
   */
  fail(fn: string, result: keyof typeof CUDA_RESULTS | number, options: { skip?: number; count?: number } = {}): void {
    const code = typeof result === 'number' ? result : CUDA_RESULTS[result];
    if (!/^cu[A-Za-z0-9_]+$/.test(fn) || !Number.isInteger(code)) {
      throw new InvalidArgumentError(`mock.fail: expected a driver function such as 'cuMemAlloc_v2' and a CUresult, got ${fn}, ${String(result)}`);
    }
    control(`fail ${fn}:${code}:${options.skip ?? 0}:${options.count ?? -1}`);
  },
  /** Removes every injected failure. */
  clearFailures(): void {
    control('clear-failures');
  },
  /** Sets the memory of each device (e.g. '64M'): allocations beyond it run out of memory. */
  setMemory(bytes: string | number): void {
    control(`memory ${bytes}`);
  },
  /** Makes every stream operation take `us` microseconds longer (0: none). */
  setDelayUs(us: number): void {
    control(`delay ${Math.max(0, Math.floor(us))}`);
  },
  /** Zeroes the call counters. */
  resetCalls(): void {
    control('reset-calls');
  },
  /** Whether devices can access each other's memory from now on (cuDeviceCanAccessPeer's answer). */
  setPeerAccess(enabled: boolean): void {
    control(`peer-access ${enabled ? 1 : 0}`);
  },
};
