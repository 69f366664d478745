/**
 * Loads the addon (`native/build/Release/tensorwire_gloo.node`) and types what it exports.
 * Loading fails with {@link GlooUnavailableError} saying how to fix it, never with a bare
 * "Cannot find module".
 */
import * as path from 'node:path';
import { TensorwireError } from '@tensorwire/core';
import { nativeAddonLoader } from '@tensorwire/core/spi';

/** Store callback the addon calls during connect (runs on the JS thread). */
export type NativeStoreFn = (
  op: 'set' | 'get' | 'wait',
  keys: string[],
  value: Uint8Array | undefined,
  timeoutMs: number,
  done: (err: unknown, value?: Uint8Array) => void,
) => void;

/** Options of the native `GlooGroup` constructor. */
export interface NativeGroupOptions {
  name: string;
  rank: number;
  size: number;
  /** IPv4 address the TCP device binds and advertises. */
  hostname: string;
  timeoutMs: number;
}

/** The addon's `GlooGroup`: every method that may block returns a Promise. */
export interface NativeGroup {
  readonly rank: number;
  readonly size: number;
  readonly name: string;
  readonly broken: boolean;
  readonly brokenCode: string | undefined;
  readonly brokenReason: string | undefined;
  connect(store: NativeStoreFn): Promise<void>;
  send(buffers: Uint8Array[], dstRank: number, tag: number): Promise<void>;
  recv(buffers: Uint8Array[], srcRank: number, tag: number): Promise<void>;
  barrier(): Promise<void>;
  allreduce(buffer: Uint8Array, dtype: string, op: string): Promise<void>;
  broadcast(buffer: Uint8Array, root: number): Promise<void>;
  abort(reason: string): void;
  destroy(): Promise<void>;
}

export interface NativeBinding {
  GlooGroup: new (options: NativeGroupOptions) => NativeGroup;
  /** Gloo's version from its headers, e.g. '0.5.0'. */
  glooVersion: string;
  /** Creates and drops a TCP device on `hostname`; returns Gloo's description of it. */
  probeDevice(hostname: string): string;
}

/** The fix printed whenever the addon cannot be loaded. */
export const GLOO_FIX = 'apt-get install libgloo-dev, then npm run build -w @tensorwire/gloo';

/** The addon or libgloo is missing. `code` is 'GLOO_UNAVAILABLE'. */
export class GlooUnavailableError extends TensorwireError {
  constructor(readonly detail: string, readonly fix: string = GLOO_FIX) {
    super('GLOO_UNAVAILABLE', `the Gloo transport is not available: ${detail}. Fix: ${fix}`);
  }
}

/** Root of this package (the folder holding package.json), from dist/ or src/. */
export const PACKAGE_ROOT = path.resolve(__dirname, '..');

/** Where the build puts the addon (cmake-js compile -d native -O native/build). */
export const ADDON_PATH = path.join(PACKAGE_ROOT, 'native', 'build', 'Release', 'tensorwire_gloo.node');

/** Load the addon once; throws {@link GlooUnavailableError} with an actionable message. */
export const loadNative = nativeAddonLoader<NativeBinding, GlooUnavailableError>({
  file: ADDON_PATH,
  overrideEnv: 'TENSORWIRE_GLOO_ADDON',
  library: { pattern: /libgloo/, name: 'libgloo' },
  unavailable: (detail) => new GlooUnavailableError(detail),
});

/** Like {@link loadNative} but returns the error instead of throwing. */
export function tryLoadNative(): { binding?: NativeBinding; error?: GlooUnavailableError } {
  try {
    return { binding: loadNative() };
  } catch (err) {
    return { error: err instanceof GlooUnavailableError ? err : new GlooUnavailableError(String(err)) };
  }
}
