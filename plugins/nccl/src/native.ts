/**
 * Loads the addon (`native/build/Release/tensorwire_nccl.node`) and types what it exports. The
 * addon links neither NCCL nor CUDA: `open(ncclPath, cudaPath)` loads them at run time
 * (library.ts). A missing addon is an NcclUnavailableError that names the fix.
 */
import * as path from 'node:path';
import { nativeAddonLoader } from '@tensorwire/core/spi';
import { NcclError } from './errors';

/** How open() went (native/src/libraries.h). */
export type NativeOpenResult =
  | { ok: true; version: number; mock: boolean }
  | { ok: false; stage: 'cuda-dlopen' | 'cuda-symbols' | 'dlopen' | 'symbols' | 'version'; message: string; version: number; mock: boolean };

/** Options of the native NcclGroup constructor. */
export interface NativeGroupOptions {
  name: string;
  rank: number;
  size: number;
  device: number;
  /** The CUstream the group's operations run on. */
  stream: bigint;
  /** IPv4 address rank 0's control channel listens on. */
  host: string;
  timeoutMs: number;
}

/** What a rank needs to join: NCCL's id and rank 0's control channel. */
export interface NativeConnectInfo {
  uniqueId: Uint8Array;
  rootHost: string;
  rootPort: number;
  token: bigint;
}

/** The addon's `NcclGroup` (native/src/group_wrap.h): every method that waits returns a Promise. */
export interface NativeGroup {
  readonly rank: number;
  readonly size: number;
  readonly name: string;
  readonly device: number;
  /** Rank 0: the control channel's port and token, for the others. */
  readonly controlPort: number;
  readonly token: bigint;
  readonly broken: boolean;
  readonly brokenCode: string | undefined;
  readonly brokenReason: string | undefined;
  /** Operations not settled yet. */
  readonly pending: number;
  connect(info: NativeConnectInfo): Promise<void>;
  send(ptrs: bigint[], sizes: number[], dstRank: number, tag: number): Promise<void>;
  recv(ptrs: bigint[], sizes: number[], srcRank: number, tag: number): Promise<void>;
  allreduce(ptr: bigint, count: number, ncclType: number, ncclOp: number, nbytes: number): Promise<void>;
  broadcast(ptr: bigint, nbytes: number, root: number): Promise<void>;
  barrier(): Promise<void>;
  abort(reason: string): void;
  destroy(): Promise<void>;
}

export interface NativeBinding {
  open(ncclPath: string, cudaPath: string): NativeOpenResult;
  uniqueId(): Buffer;
  /** 'domain:bus:device' of a visible CUDA device. */
  pciBusId(device: number): string;
  setEnv(name: string, value: string): void;
  communicatorsCreated(): number;
  NcclGroup: new (options: NativeGroupOptions) => NativeGroup;
  /**
   * The benchmark's bare-NCCL ceiling (native/src/bare_bench.h): a blocking communicator of its
   * own, ncclSend/ncclRecv and cuStreamSynchronize. Rank 0 resolves with round-trip times (ns).
   */
  barePingPong(options: {
    uniqueId: Uint8Array;
    rank: 0 | 1;
    device: number;
    stream: bigint;
    ptr: bigint;
    sizes: number[];
    reps: number;
    warmup: number;
  }): Promise<number[][]>;
}

/** The fix printed when the addon is missing. */
export const ADDON_FIX = 'build it: npm run build -w @tensorwire/nccl (needs cmake and a C++17 compiler; no NCCL or CUDA headers), or npm rebuild @tensorwire/nccl';

/** NCCL, CUDA or the addon is missing here. `code` is 'NCCL_UNAVAILABLE', `kind` UNAVAILABLE. */
export class NcclUnavailableError extends NcclError {
  constructor(readonly detail: string, readonly fix: string) {
    super('NCCL_UNAVAILABLE', `the NCCL transport is not available: ${detail}. Fix: ${fix}`);
    this.name = 'NcclUnavailableError';
  }
}

/** Root of this package (the folder holding package.json), from dist/ or src/. */
export const PACKAGE_ROOT = path.resolve(__dirname, '..');

/** Where the build puts the addon and the mock NCCL (cmake-js compile -d native -O native/build). */
export const BUILD_DIR = path.join(PACKAGE_ROOT, 'native', 'build', 'Release');
export const ADDON_PATH = path.join(BUILD_DIR, 'tensorwire_nccl.node');

/** Loads the addon once; throws NcclUnavailableError naming the fix. */
export const loadNative = nativeAddonLoader<NativeBinding, NcclUnavailableError>({
  file: ADDON_PATH,
  overrideEnv: 'TENSORWIRE_NCCL_ADDON',
  owner: '@tensorwire/nccl',
  unavailable: (detail) => new NcclUnavailableError(detail, ADDON_FIX),
});
