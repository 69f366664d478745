/**
 * Launchers start actor processes. The default starts a local Node child process; a runtime
 * can inject another (containers, remote hosts) through the `Launcher` DI token.
 */
import 'reflect-metadata';
import { spawn as spawnProcess } from 'node:child_process';
import { injectable } from 'tsyringe';

export interface LaunchSpec {
  readonly actorId: string;
  readonly name: string;
  /** Absolute path of the actor process entry (core's worker-main.js). */
  readonly entry: string;
  /** Environment for the process (already merged with the driver's). */
  readonly env: NodeJS.ProcessEnv;
  /** Extra Node flags for the process, e.g. ['--cpu-prof'] or ['--max-old-space-size=8192']. */
  readonly execArgv?: readonly string[];
}

export interface LaunchedProcess {
  readonly pid: number | undefined;
  kill(signal?: NodeJS.Signals): void;
  /** Called once when the process ends. */
  onExit(cb: (code: number | null, signal: string | null) => void): void;
}

export interface Launcher {
  launch(spec: LaunchSpec): LaunchedProcess;
}

/**
 * glibc settings for actor processes: serve large allocations from the heap (no mmap) and
 * keep freed memory, so that receive buffers of repeated transfers reuse pages that are
 * already mapped. First-touch page faults otherwise dominate large transfers (64 MiB of fresh
 * memory costs ~200 ms to touch on some VMs, 50x a memcpy). Users can opt out with
 * TENSORWIRE_MALLOC_TUNING=0 or by setting GLIBC_TUNABLES themselves.
 */
export const ACTOR_MALLOC_TUNABLES = 'glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967295';

export function actorEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.GLIBC_TUNABLES !== undefined || env.TENSORWIRE_MALLOC_TUNING === '0' || process.platform !== 'linux') return env;
  return { ...env, GLIBC_TUNABLES: ACTOR_MALLOC_TUNABLES };
}

/** Starts each actor as a child Node process sharing the driver's stdout/stderr. */
@injectable()
export class ChildProcessLauncher implements Launcher {
  launch(spec: LaunchSpec): LaunchedProcess {
    const child = spawnProcess(process.execPath, [...(spec.execArgv ?? []), spec.entry], {
      env: actorEnv(spec.env),
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    // The driver's liveness is governed by its pending work, not by its children.
    child.unref();
    let exited: { code: number | null; signal: string | null } | null = null;
    const listeners: Array<(c: number | null, s: string | null) => void> = [];
    const onEnd = (code: number | null, signal: string | null): void => {
      if (exited) return;
      exited = { code, signal };
      listeners.forEach((l) => l(code, signal));
    };
    child.on('exit', onEnd);
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
