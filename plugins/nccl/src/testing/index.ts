/**
 * `@tensorwire/nccl/testing`: the mock NCCL library, for tests on machines without a GPU (yours
 * and this package's). It is a shared library built with the addon (npm run build) that runs the
 * NCCL functions the addon uses between processes over local sockets, on the mock CUDA driver's
 * memory (@tensorwire/cuda/testing), with failures you can inject. It proves the code paths, not
 * NCCL: run GPU checks on a machine with one.
 *
 * @example
 * ```ts
 * import { useMockNccl } from '@tensorwire/nccl/testing';
 * useMockNccl();                          // the mock CUDA driver and the mock NCCL, here and in actors started later
 * useMockNccl({ hangAt: 2 });             // this process's 2nd NCCL operation never completes
 * ```
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeStateError } from '@tensorwire/core';
import { useMockDriver, type MockDriverOptions } from '@tensorwire/cuda/testing';
import { BUILD_DIR } from '../native';

/** Absolute path of the mock NCCL library (exists once the package is built). */
export const mockLibraryPath: string = path.join(BUILD_DIR, 'libtensorwire_mocknccl.so');

/** Failures and settings of the mock NCCL (each sets its environment variable; see native/mock/faults.cc). */
export interface MockNcclOptions {
  /** The N-th NCCL operation of the process never completes (TENSORWIRE_MOCK_NCCL_HANG). */
  hangAt?: number;
  /** The N-th operation fails asynchronously with `result` (default ncclSystemError) (TENSORWIRE_MOCK_NCCL_ASYNC_ERROR). */
  asyncErrorAt?: number;
  asyncError?: 'ncclSystemError' | 'ncclRemoteError' | 'ncclInternalError' | 'ncclUnhandledCudaError' | 'ncclInvalidUsage';
  /** The process kills itself (SIGKILL) when its N-th operation runs (TENSORWIRE_MOCK_NCCL_DIE). */
  dieAt?: number;
  /** How a lost peer looks: 'error' (NCCL's sockets: ncclRemoteError) or 'hang' (its shared memory: no end). */
  peerLoss?: 'error' | 'hang';
  /** The NCCL version to report, e.g. '2.27.3' (TENSORWIRE_MOCK_NCCL_VERSION; default 2.30.7). */
  version?: string;
  /** Extra milliseconds communicator initialization takes. */
  initDelayMs?: number;
  /** Options of the mock CUDA driver (useMockDriver of @tensorwire/cuda/testing). */
  cuda?: MockDriverOptions;
}

/** The environment variables that `options` stand for (for a child process's `env`). */
export function mockNcclEnv(options: MockNcclOptions = {}): Record<string, string> {
  const env: Record<string, string> = { TENSORWIRE_LIBNCCL: mockLibraryPath };
  if (options.hangAt !== undefined) env.TENSORWIRE_MOCK_NCCL_HANG = String(options.hangAt);
  if (options.asyncErrorAt !== undefined) env.TENSORWIRE_MOCK_NCCL_ASYNC_ERROR = `${options.asyncErrorAt}${options.asyncError ? `:${options.asyncError}` : ''}`;
  if (options.dieAt !== undefined) env.TENSORWIRE_MOCK_NCCL_DIE = String(options.dieAt);
  if (options.peerLoss !== undefined) env.TENSORWIRE_MOCK_NCCL_PEER_LOSS = options.peerLoss;
  if (options.version !== undefined) env.TENSORWIRE_MOCK_NCCL_VERSION = options.version;
  if (options.initDelayMs !== undefined) env.TENSORWIRE_MOCK_NCCL_INIT_DELAY_MS = String(options.initDelayMs);
  return env;
}

/**
 * Makes this process, and the processes it starts from now on (actors), use the mock CUDA
 * driver and the mock NCCL: sets TENSORWIRE_LIBCUDA, TENSORWIRE_LIBNCCL and the mocks' settings
 * in process.env. Call it before the first CUDA or NCCL use (a process keeps the libraries it
 * opened first).
 */
export function useMockNccl(options: MockNcclOptions = {}): void {
  if (!fs.existsSync(mockLibraryPath)) {
    throw new RuntimeStateError(`the mock NCCL is not built (${mockLibraryPath} is missing); run npm run build -w @tensorwire/nccl`);
  }
  useMockDriver(options.cuda);
  Object.assign(process.env, mockNcclEnv(options));
}
