/**
 * Loading a package's native addon (a transport's, a device backend's) once, with an error
 * that names the fix instead of a bare "Cannot find module": the one loader that
 * `@tensorwire/gloo`, `@tensorwire/nixl` and `@tensorwire/cuda` share, and a third party may use.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface NativeAddonSpec<E extends Error> {
  /** Where the package's build puts the addon (e.g. native/build/Release/x.node). */
  readonly file: string;
  /** Environment variable that names another build to load instead (e.g. TENSORWIRE_GLOO_ADDON). */
  readonly overrideEnv: string;
  /** Named in the "not built" detail when given: "the native addon of <owner> was not built". */
  readonly owner?: string;
  /** A library the addon links: a load error that mentions it says that library is missing. */
  readonly library?: { readonly pattern: RegExp; readonly name: string };
  /** The package's own error for `detail` (what is missing); it should carry the fix. */
  unavailable(detail: string): E;
}

/**
 * A function that loads the addon on its first call and returns the same module (or throws the
 * same error) on every later call.
 *
 * @example
 * ```ts
 * export const loadNative = nativeAddonLoader<Binding, ShmUnavailableError>({
 *   file: path.join(__dirname, '..', 'native', 'build', 'Release', 'shm.node'),
 *   overrideEnv: 'ACME_SHM_ADDON',
 *   unavailable: (detail) => new ShmUnavailableError(detail),
 * });
 * ```
 */
export function nativeAddonLoader<T, E extends Error>(spec: NativeAddonSpec<E>): () => T {
  let loaded: T | undefined;
  let failure: E | undefined;
  return () => {
    if (loaded) return loaded;
    if (failure) throw failure;
    const override = process.env[spec.overrideEnv];
    const file = override && override.length > 0 ? path.resolve(override) : spec.file;
    if (!fs.existsSync(file)) {
      failure = spec.unavailable(`the native addon${spec.owner ? ` of ${spec.owner}` : ''} was not built (${file} is missing)`);
      throw failure;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require(file) as T;
      return loaded;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const detail = spec.library?.pattern.test(message)
        ? `${spec.library.name} could not be loaded (${message})`
        : `the native addon ${file} failed to load (${message})`;
      failure = spec.unavailable(detail);
      throw failure;
    }
  };
}
