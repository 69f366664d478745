/**
 * NCCL in this process, opened once, on first use: the addon dlopen()s `libnccl.so.2` (or the
 * file TENSORWIRE_LIBNCCL names, e.g. the mock; else, when the loader finds none, the one of a
 * Python environment, see python-nccl.ts) together with the CUDA driver @tensorwire/cuda
 * opened. A failure is an NcclUnavailableError naming what is missing and the fix; a success
 * is kept for the process's life.
 */
import { openDriver } from '@tensorwire/cuda/internal';
import { loadNative, NcclUnavailableError, type NativeBinding } from './native';
import { findPythonNccl } from './python-nccl';

/** The library loaded when TENSORWIRE_LIBNCCL is not set. */
export const DEFAULT_LIBNCCL = 'libnccl.so.2';

/** The fix for a machine without NCCL. */
export const NCCL_FIX =
  'install NCCL: `pip install nvidia-nccl-cu12` (PyTorch installs it) and set TENSORWIRE_LIBNCCL=<site-packages>/nvidia/nccl/lib/libnccl.so.2 ' +
  "(found automatically when that Python is on PATH), or NVIDIA's libnccl2 package; to run the code paths without a GPU, set TENSORWIRE_LIBNCCL to the mock " +
  "(require('@tensorwire/nccl/testing').mockLibraryPath) with the mock CUDA driver";

/** Where the NCCL in use came from. */
export type NcclSource = 'TENSORWIRE_LIBNCCL' | 'loader path' | 'Python environment';

export interface NcclRuntime {
  readonly binding: NativeBinding;
  /** ncclGetVersion's code, e.g. 23007. */
  readonly versionCode: number;
  /** '2.30.7'. */
  readonly version: string;
  readonly libraryPath: string;
  readonly source: NcclSource;
  /** True when the library is the mock NCCL of @tensorwire/nccl/testing. */
  readonly mock: boolean;
  /** The CUDA driver library the addon shares with @tensorwire/cuda. */
  readonly cudaLibraryPath: string;
}

/** '2.30.7' from NCCL's version code (NCCL_VERSION of nccl.h). */
export function versionString(code: number): string {
  const [major, rest] = code >= 10000 ? [Math.floor(code / 10000), code % 10000] : [Math.floor(code / 1000), code % 1000];
  return `${major}.${Math.floor(rest / 100)}.${rest % 100}`;
}

let runtime: NcclRuntime | undefined;

/** NCCL, opened (once per process); throws NcclUnavailableError when it cannot be used here. */
export function openNccl(): NcclRuntime {
  if (runtime) return runtime;
  const binding = loadNative();
  const driver = openDriver();
  if (driver.error || !driver.binding) {
    const e = driver.error as (Error & { detail?: string; fix?: string }) | undefined;
    throw new NcclUnavailableError(
      `CUDA is not available: ${e?.detail ?? e?.message ?? 'the CUDA driver could not be opened'}`,
      e?.fix ?? 'see npx tensorwire doctor (the cuda device backend)',
    );
  }
  const named = process.env.TENSORWIRE_LIBNCCL;
  const candidates: { path: string; source: NcclSource }[] =
    named !== undefined && named !== '' ? [{ path: named, source: 'TENSORWIRE_LIBNCCL' }] : [{ path: DEFAULT_LIBNCCL, source: 'loader path' }];
  const dlopenErrors: string[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i];
    const r = binding.open(c.path, driver.libraryPath);
    if (r.ok) {
      runtime = Object.freeze({
        binding, versionCode: r.version, version: versionString(r.version), libraryPath: c.path, source: c.source, mock: r.mock,
        cudaLibraryPath: driver.libraryPath,
      });
      return runtime;
    }
    if (r.stage === 'dlopen') {
      dlopenErrors.push(r.message);
      // No libnccl.so.2 on the loader's path: try the Python environments' (PyTorch's) NCCL.
      if (c.source === 'loader path' && candidates.length === 1) {
        for (const p of findPythonNccl()) candidates.push({ path: p, source: 'Python environment' });
      }
      continue;
    }
    if (r.stage === 'cuda-dlopen' || r.stage === 'cuda-symbols') {
      throw new NcclUnavailableError(r.message, 'import @tensorwire/cuda first and check npx tensorwire doctor (the cuda device backend)');
    }
    throw new NcclUnavailableError(`${c.path} is not a usable NCCL: ${r.message}`, 'install NCCL 2.14 or newer (pip install -U nvidia-nccl-cu12)');
  }
  if (named !== undefined && named !== '') {
    throw new NcclUnavailableError(
      `TENSORWIRE_LIBNCCL=${named} could not be loaded (${dlopenErrors[0]})`,
      "point TENSORWIRE_LIBNCCL at an NCCL library (libnccl.so.2) or at the mock (require('@tensorwire/nccl/testing').mockLibraryPath), or unset it",
    );
  }
  throw new NcclUnavailableError(
    `${DEFAULT_LIBNCCL} could not be loaded (${dlopenErrors[0]}) and no Python environment with NCCL (nvidia-nccl-cu12, which PyTorch installs) was found`,
    NCCL_FIX,
  );
}

/** Like {@link openNccl} but returns the error instead of throwing. */
export function tryOpenNccl(): { runtime?: NcclRuntime; error?: NcclUnavailableError } {
  try {
    return { runtime: openNccl() };
  } catch (err) {
    return { error: err instanceof NcclUnavailableError ? err : new NcclUnavailableError(String((err as Error)?.message ?? err), NCCL_FIX) };
  }
}
