/**
 * The module a package's name stands for, found from its directory: what `require('<name>')`
 * would load from outside the package. Node resolves a package's own name only from inside
 * files of that package, so the suite, running in its own files, resolves `.` and the name of
 * the package the user runs it in through this.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

interface PackageJson {
  readonly name?: unknown;
  readonly main?: unknown;
  readonly exports?: unknown;
}

/** The conditions `require()` matches in an `exports` map, besides the order the map gives. */
const REQUIRE_CONDITIONS = new Set(['require', 'node', 'node-addons', 'default']);

function readPackageJson(dir: string): PackageJson | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
}

/** The target of an exports entry for require(): a path, or the first matching condition's (in the map's order). */
function requireTarget(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (Array.isArray(entry)) {
    for (const e of entry) {
      const t = requireTarget(e);
      if (t) return t;
    }
    return undefined;
  }
  if (entry && typeof entry === 'object') {
    for (const [condition, value] of Object.entries(entry)) {
      if (!REQUIRE_CONDITIONS.has(condition)) continue;
      const t = requireTarget(value);
      if (t) return t;
    }
  }
  return undefined;
}

/** The "." entry of an `exports` field (a string, a map of subpaths, or a map of conditions). */
function rootExport(exports: unknown): string | undefined {
  if (exports && typeof exports === 'object' && !Array.isArray(exports)) {
    const subpaths = Object.keys(exports).some((k) => k.startsWith('.'));
    if (subpaths) return requireTarget((exports as Record<string, unknown>)['.']);
  }
  return requireTarget(exports);
}

/** The package directory `dir` is in (the nearest one holding a package.json), or undefined. */
export function enclosingPackageDir(dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json'))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

/** The name in the package.json of `dir`, or undefined. */
export function packageName(dir: string): string | undefined {
  const name = readPackageJson(dir)?.name;
  return typeof name === 'string' ? name : undefined;
}

/**
 * The absolute path of the module the package in `dir` exports as "." (its `exports`, else its
 * `main`, else index.js), as `require` of its name would find it. Throws when it does not exist.
 */
export function packageEntry(dir: string): string {
  const pkg = readPackageJson(dir);
  if (!pkg) throw new Error(`${dir} has no readable package.json`);
  const main = typeof pkg.main === 'string' && pkg.main ? pkg.main : undefined;
  const entry = pkg.exports !== undefined ? rootExport(pkg.exports) : (main ?? 'index.js');
  if (!entry) throw new Error(`the "exports" of ${path.join(dir, 'package.json')} has no "." entry that require() can load`);
  return require.resolve(path.resolve(dir, entry));
}
