/**
 * Launchers start actor processes. The default starts a local Node child process; a runtime
 * can inject another (containers, remote hosts) through the `Launcher` DI token, or name a
 * registered one with `init({ launcher })` (see ./launcher-registry).
 *
 * A launcher whose actors run on other hosts (a *remote* launcher) says so with
 * `controlHost()`: the driver then listens on that address over TLS instead of on its Unix
 * socket, and each actor process joins it with what `spec.env` carries (address, token,
 * certificate fingerprint; see worker/join-driver.ts). Such a launcher may also place actors
 * itself (`placesActors`): spawn's `numGpus` and `node` then reach it in `spec.placement`.
 */
import 'reflect-metadata';
import { spawn as spawnProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { injectable } from 'tsyringe';
import { actorOutputPrefix, PrefixedOutput } from './prefixed-output';
import type { LaunchSpec, LaunchedProcess, Launcher } from '../runtime/launcher-types';

export type { LaunchSpec, LaunchedProcess, Launcher, Placement } from '../runtime/launcher-types';

/**
 * glibc settings for actor processes: serve large allocations from the heap (no mmap), keep
 * freed memory, and back the heap with transparent huge pages (`hugetlb=1`: madvise, glibc >=
 * 2.35; older glibcs ignore it), so that receive buffers of repeated transfers reuse pages that
 * are already mapped and fresh ones fault in 2 MiB at a time. First-touch page faults otherwise
 * dominate large transfers: on this project's VM 64 MiB of fresh memory costs ~190 ms to touch
 * in 4 KiB pages and ~3-5 ms with huge pages (memcpy: 4 ms). Users can opt out with
 * TENSORWIRE_MALLOC_TUNING=0 or by setting GLIBC_TUNABLES themselves.
 */
export const ACTOR_MALLOC_TUNABLES = 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967295';

export function actorEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.GLIBC_TUNABLES !== undefined || env.TENSORWIRE_MALLOC_TUNING === '0' || process.platform !== 'linux') return env;
  return { ...env, GLIBC_TUNABLES: ACTOR_MALLOC_TUNABLES };
}

/**
 * How long the end of a process waits for its output pipes to close after it exited, so its
 * last lines are forwarded before anyone hears of the exit. Only a process that handed its
 * pipes on (a child of its own still running) makes this wait run out.
 */
const OUTPUT_DRAIN_MS = 1000;

/**
 * Starts each actor as a child Node process. Its output reaches the driver's stdout/stderr,
 * line by line with a `(ClassName pid=123) ` prefix when the spec has an outputLabel.
 */
@injectable()
export class ChildProcessLauncher implements Launcher {
  launch(spec: LaunchSpec): LaunchedProcess {
    const piped = spec.outputLabel !== undefined;
    const child = spawnProcess(process.execPath, [...(spec.execArgv ?? []), spec.entry], {
      env: actorEnv(spec.env),
      stdio: ['ignore', piped ? 'pipe' : 'inherit', piped ? 'pipe' : 'inherit'],
    });
    // The driver's liveness is governed by its pending work, not by its children.
    child.unref();
    if (piped) {
      const prefix = actorOutputPrefix(spec.outputLabel!, child.pid);
      forward(child.stdout!, new PrefixedOutput(prefix, (b) => process.stdout.write(b)));
      forward(child.stderr!, new PrefixedOutput(prefix, (b) => process.stderr.write(b)));
    }
    let exited: { code: number | null; signal: string | null } | null = null;
    const listeners: Array<(c: number | null, s: string | null) => void> = [];
    const onEnd = (code: number | null, signal: string | null): void => {
      if (exited) return;
      exited = { code, signal };
      listeners.forEach((l) => l(code, signal));
    };
    if (piped) {
      // 'close' comes after 'exit' once the output pipes are drained and closed.
      child.on('close', onEnd);
      child.on('exit', (code, signal) => setTimeout(() => onEnd(code, signal), OUTPUT_DRAIN_MS).unref());
    } else {
      child.on('exit', onEnd);
    }
    child.on('error', (err) => {
      process.stderr.write(`[tensorwire] could not start actor ${spec.name}: ${err.message}\n`);
      onEnd(null, null);
    });
    return {
      pid: child.pid,
      kill: (signal = 'SIGKILL') => {
        if (!exited) child.kill(signal);
      },
      onExit: (cb) => {
        if (exited) cb(exited.code, exited.signal);
        else listeners.push(cb);
      },
    };
  }
}

/** Pipe a child's output stream into `out`, without the pipe keeping the driver alive. */
function forward(stream: Readable, out: PrefixedOutput): void {
  stream.on('data', (chunk: Buffer) => out.push(chunk));
  stream.on('end', () => out.end());
  stream.on('error', () => out.end());
  (stream as Readable & { unref?: () => void }).unref?.();
}
