/**
 * Who a producer is, in terms another process on the same host can check: the host (the
 * kernel's boot id, and the PID namespace, since a pid means something only inside one), the
 * pid, and the process's start time (so a recycled pid is not taken for the producer). Read
 * from /proc (Linux, where CUDA IPC runs).
 */
import * as fs from 'node:fs';

/** A producer process, as its descriptors name it. Plain data. */
export interface ProcessIdentity {
  /** `<boot id>/<pid namespace>`: equal for two processes that can reach each other by pid. */
  readonly host: string;
  readonly pid: number;
  /** Start time in clock ticks after boot (/proc/<pid>/stat field 22), as a decimal string. */
  readonly start: string;
}

function readHost(): string {
  const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const ns = fs.readlinkSync('/proc/self/ns/pid'); // 'pid:[4026531836]'
  return `${boot}/${ns.replace(/^pid:\[(\d+)\]$/, '$1')}`;
}

let self: ProcessIdentity | undefined;

/** This process. Throws when /proc cannot be read (not Linux). */
export function selfIdentity(): ProcessIdentity {
  if (!self) {
    const start = startTimeOf(process.pid);
    if (start === undefined) throw new Error('cannot read /proc/self/stat');
    self = { host: readHost(), pid: process.pid, start };
  }
  return self;
}

/** The start time of `pid`, or undefined when no such process runs (a zombie counts as gone). */
export function startTimeOf(pid: number): string | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ... starttime ...": comm may hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X' || state === 'x') return undefined;
  return fields[19]; // field 22 of the line; fields[0] is field 3
}

/** Whether the process `who` names still runs (false once it died, also when its pid was reused). */
export function isRunning(who: ProcessIdentity): boolean {
  return startTimeOf(who.pid) === who.start;
}

/** Whether `who` runs on this host, in this PID namespace. */
export function onThisHost(who: ProcessIdentity): boolean {
  return who.host === selfIdentity().host;
}
