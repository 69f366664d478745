/**
 * OS resources of the driver and of actor processes, read from /proc (Linux): open file
 * descriptors, child processes, resident memory, and the files in /dev/shm. The soak and the
 * fault tests compare them before and after, to find what a transport or the runtime leaks.
 * Where /proc is missing (not Linux) every reading is undefined and the checks are skipped.
 */
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

const hasProc = fs.existsSync('/proc/self/fd');

/** Whether this machine has /proc (the resource checks need it). */
export function canMeasure(): boolean {
  return hasProc;
}

/**
 * What @tensorwire/cuda's mock driver backs each device allocation with (its interprocess events
 * are 'tensorwire-mockcuda-event', and stay counted). Such a descriptor stands for device memory,
 * which a caching allocator keeps on purpose and a GPU holds without any descriptor: the
 * descriptor counts leave them out.
 */
const MOCK_DEVICE_MEMORY = '/memfd:tensorwire-mockcuda (deleted)';

/**
 * Open file descriptors of `pid` (default: this process), or undefined when unreadable; the mock
 * CUDA driver's device memory is not counted (see MOCK_DEVICE_MEMORY).
 */
export function fdCount(pid: number | 'self' = 'self'): number | undefined {
  if (!hasProc) return undefined;
  try {
    // readdir itself opens one descriptor on /proc/self/fd, counted in the listing.
    const fds = fs.readdirSync(`/proc/${pid}/fd`);
    let n = fds.length;
    for (const fd of fds) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === MOCK_DEVICE_MEMORY) n--;
      } catch {
        // closed meanwhile (or the listing's own descriptor): counted as the listing saw it
      }
    }
    return pid === 'self' || pid === process.pid ? n - 1 : n;
  } catch {
    return undefined;
  }
}

/** What each descriptor of `pid` points to (socket:[..], pipe:[..], /dev/shm/..., anon_inode:...), for messages. */
export function fdTargets(pid: number | 'self' = 'self'): string[] {
  if (!hasProc) return [];
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        return [fs.readlinkSync(`/proc/${pid}/fd/${fd}`)];
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

/** Kinds of descriptors and how many of each: socket, pipe, anon_inode:[eventfd], /dev/shm/... */
export function fdKinds(pid: number | 'self' = 'self'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const target of fdTargets(pid)) {
    const kind = target.replace(/:\[\d+\]$/, '').replace(/^\/proc\/\d+\/fd$/, '/proc/self/fd');
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

/** The difference of two fdKinds readings (only kinds that changed), for messages. */
export function fdKindsDiff(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const d = (after[k] ?? 0) - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

interface ProcStat {
  pid: number;
  ppid: number;
  state: string;
}

function readStat(pid: string): ProcStat | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { pid: Number(pid), state: rest[0]!, ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** Child processes of `ppid` (default: this process), zombies included, or undefined without /proc. */
export function childPids(ppid = process.pid): number[] | undefined {
  if (!hasProc) return undefined;
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(name);
    if (st && st.ppid === ppid) out.push(st.pid);
  }
  return out.sort((a, b) => a - b);
}

/** Is `pid` a live (not zombie) process? */
export function isAlive(pid: number): boolean {
  const st = hasProc ? readStat(String(pid)) : undefined;
  if (hasProc) return !!st && st.state !== 'Z' && st.state !== 'X';
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resident set size of `pid` in bytes (VmRSS), or undefined. */
export function rssBytes(pid: number | 'self' = 'self'): number | undefined {
  if (pid === 'self' || pid === process.pid) return process.memoryUsage.rss();
  if (!hasProc) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Names of the files in /dev/shm (undefined when there is no /dev/shm). */
export function shmFiles(): Set<string> | undefined {
  try {
    return new Set(fs.readdirSync('/dev/shm'));
  } catch {
    return undefined;
  }
}

let gcFn: (() => void) | undefined;
/**
 * The garbage collector, also without `--expose-gc`: collection of ObjectRefs is what frees
 * objects nobody holds any more, and the tests need it to happen now rather than some time.
 */
export function collectGarbage(): void {
  if (!gcFn) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === 'function') gcFn = g;
    else {
      v8.setFlagsFromString('--expose-gc');
      gcFn = vm.runInNewContext('gc') as () => void;
    }
  }
  gcFn();
}

/** Collect garbage and let FinalizationRegistry callbacks (ObjectRef collection) run. */
export async function collectRefs(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    collectGarbage();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The files in /dev/shm that `pid` has open or mapped and that still have a name there (an
 * unlinked file goes when its last user does). Empty without /proc or when `pid` is gone.
 */
export function shmFilesOf(pid: number): Set<string> {
  const names = new Set<string>();
  const note = (target: string) => {
    if (target.startsWith('/dev/shm/') && !target.endsWith(' (deleted)')) names.add(target.slice('/dev/shm/'.length));
  };
  if (!hasProc) return names;
  for (const target of fdTargets(pid)) note(target);
  try {
    for (const line of fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
      const i = line.indexOf('/dev/shm/');
      if (i >= 0) note(line.slice(i));
    }
  } catch {
    /* gone */
  }
  return names;
}

/**
 * Which of the /dev/shm files `names` some live process still has open or mapped. A file that
 * appeared during a test and nobody holds was left behind by a dead process; one that is held
 * belongs to a live process (possibly of another program on this machine).
 */
export function shmHeld(names: readonly string[]): Set<string> {
  const wanted = new Set(names.map((n) => `/dev/shm/${n}`));
  const held = new Set<string>();
  if (!hasProc || wanted.size === 0) return held;
  const note = (target: string) => {
    const path = target.replace(/ \(deleted\)$/, '');
    if (wanted.has(path)) held.add(path.slice('/dev/shm/'.length));
  };
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
        try {
          note(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        } catch {
          /* closed meanwhile */
        }
      }
      for (const line of fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
        const i = line.indexOf('/dev/shm/');
        if (i >= 0) note(line.slice(i));
      }
    } catch {
      /* gone, or not ours to read */
    }
    if (held.size === wanted.size) break;
  }
  return held;
}

/** One reading of the driver's OS resources. */
export interface DriverResources {
  readonly fds?: number;
  readonly fdKinds: Record<string, number>;
  readonly children?: number[];
  readonly shm?: Set<string>;
}

export function driverResources(): DriverResources {
  return { fds: fdCount(), fdKinds: fdKinds(), children: childPids(), shm: shmFiles() };
}

/**
 * What grew from `before` to `now`, beyond `fdSlack` descriptors: descriptors, child
 * processes (new pids still present), files in /dev/shm. Empty when nothing leaked.
 */
export function resourceGrowth(before: DriverResources, now: DriverResources, fdSlack: number): string[] {
  const problems: string[] = [];
  if (before.fds !== undefined && now.fds !== undefined && now.fds > before.fds + fdSlack) {
    problems.push(`driver file descriptors ${before.fds} -> ${now.fds} (slack ${fdSlack}; by kind ${JSON.stringify(fdKindsDiff(before.fdKinds, now.fdKinds))})`);
  }
  if (before.children && now.children) {
    const had = new Set(before.children);
    const extra = now.children.filter((p) => !had.has(p));
    if (extra.length > 0) {
      const what = extra.map((p) => `${p}${isAlive(p) ? '' : ' (zombie)'}`);
      problems.push(`driver child processes: ${before.children.length} -> ${now.children.length}, new: ${what.join(', ')}`);
    }
  }
  if (before.shm && now.shm) {
    // New files nobody holds any more: left behind by a process that died. (Files other programs
    // on this machine create and still hold are not ours to judge.)
    const fresh = [...now.shm].filter((f) => !before.shm!.has(f));
    const held = shmHeld(fresh);
    const extra = fresh.filter((f) => !held.has(f));
    if (extra.length > 0) problems.push(`new files in /dev/shm that no live process holds: ${extra.slice(0, 10).join(', ')}${extra.length > 10 ? ` (+${extra.length - 10})` : ''}`);
  }
  return problems;
}

/** Poll `read` until `problems(read())` is empty or `ms` pass; returns the last problems. */
export async function settleProblems<R>(read: () => R | Promise<R>, problems: (r: R) => string[], ms: number): Promise<string[]> {
  const until = Date.now() + ms;
  for (;;) {
    const p = problems(await read());
    if (p.length === 0 || Date.now() > until) return p;
    await new Promise((r) => setTimeout(r, 100));
  }
}
