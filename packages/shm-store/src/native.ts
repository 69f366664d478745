/** The addon (native/src/addon.cc), loaded once, with an error that names the fix. */
import * as path from 'node:path';
import { nativeAddonLoader } from '@tensorwire/core/spi';
import { ShmStoreUnavailableError } from './errors';

/** What tensorwire_shm_store.node exports; see native/src/addon.cc. Failures carry an errno `code`. */
export interface ShmBinding {
  /** Map a file: a new one of `bytes` (create), else the existing one. Returns a handle. */
  open(file: string, bytes: number, create: boolean): number;
  close(handle: number): void;
  size(handle: number): number;
  copyIn(handle: number, offsets: number[], sources: Uint8Array[]): Promise<void>;
  copyOut(handle: number, offsets: number[], targets: Uint8Array[]): Promise<void>;
  copyInSync(handle: number, offsets: number[], sources: Uint8Array[]): void;
  copyOutSync(handle: number, offsets: number[], targets: Uint8Array[]): void;
  load32(handle: number, offset: number): number;
  store32(handle: number, offset: number, value: number): void;
  /** False when there was no such file. */
  unlink(file: string): boolean;
  /** Bytes an unprivileged writer may still use in `dir`. */
  available(dir: string): number;
}

export const loadNative = nativeAddonLoader<ShmBinding, ShmStoreUnavailableError>({
  file: path.join(__dirname, '..', 'native', 'build', 'Release', 'tensorwire_shm_store.node'),
  overrideEnv: 'TENSORWIRE_SHM_STORE_ADDON',
  owner: '@tensorwire/shm-store',
  unavailable: (detail) => new ShmStoreUnavailableError(detail),
});
