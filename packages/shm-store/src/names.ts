/**
 * Arena file names: `tensorwire-store-<driver pid>-<runtime id>-<actor>-<chunk>` in the store's
 * directory (/dev/shm, or TENSORWIRE_SHM_STORE_DIR). They carry the driver's pid and runtime id
 * so the driver removes a dead actor's files and everything at shutdown, and a later driver
 * removes what a killed one left behind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const PREFIX = 'tensorwire-store-';

export function storeDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.TENSORWIRE_SHM_STORE_DIR || '/dev/shm';
}

const safe = (s: string): string => s.replace(/[^A-Za-z0-9_]/g, '_');

/** The prefix of every file of a runtime (`actorId` given: of that actor). */
export function filePrefix(driverPid: number, runtimeId: string, actorId?: string): string {
  const base = `${PREFIX}${driverPid}-${safe(runtimeId)}-`;
  return actorId === undefined ? base : `${base}${safe(actorId.split('@')[0]!)}-`;
}

export function chunkFile(dir: string, driverPid: number, runtimeId: string, actorId: string, chunk: number): string {
  return path.join(dir, `${filePrefix(driverPid, runtimeId, actorId)}${chunk}`);
}

/** Files in `dir` whose names start with `prefix`. */
export function filesWithPrefix(dir: string, prefix: string): string[] {
  try {
    return fs.readdirSync(dir).filter((n) => n.startsWith(prefix)).map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

/** The driver pid in an arena file's name, or undefined for other files. */
export function driverPidOf(file: string): number | undefined {
  const m = /^tensorwire-store-(\d+)-/.exec(path.basename(file));
  return m ? Number(m[1]) : undefined;
}
