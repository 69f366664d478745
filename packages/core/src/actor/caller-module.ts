/**
 * Finds the module file that is evaluating a decorator, so actor processes can load the same
 * module. Uses V8's structured call sites; frames of the decorator code itself are skipped.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

// Frames of the decorator machinery itself (this folder's compiled files) are skipped.
const OWN_DIR = __dirname;
const HELPER_PACKAGES = ['tsyringe', 'reflect-metadata', 'tslib'];

export function callerModuleFile(): string | undefined {
  const prev = Error.prepareStackTrace;
  const prevLimit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 30;
    Error.prepareStackTrace = (_e, sites) => sites;
    const sites = new Error().stack as unknown as NodeJS.CallSite[];
    for (const s of sites) {
      // Code from eval/new Function (and the REPL) has no module a process could load.
      if (s.isEval()) return undefined;
      let f = s.getFileName();
      if (!f) continue;
      if (f.startsWith('file://')) f = fileURLToPath(f);
      if (f.startsWith('node:') || !path.isAbsolute(f)) continue;
      if (path.dirname(f) === OWN_DIR) continue;
      // Decorator helpers (`__decorate`, `__esDecorate`) live in tslib under importHelpers.
      if (HELPER_PACKAGES.some((p) => f.includes(`${path.sep}${p}${path.sep}`))) continue;
      return f;
    }
    return undefined;
  } finally {
    Error.prepareStackTrace = prev;
    Error.stackTraceLimit = prevLimit;
  }
}
