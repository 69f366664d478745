/**
 * Launchers start actor processes. The default starts a local Node child process; a runtime
 * can inject another (containers, remote hosts) through the `Launcher` DI token.
 */
import { spawn as spawnProcess } from 'node:child_process';
import { injectable } from 'tsyringe';

export interface LaunchSpec {
  readonly actorId: string;
  readonly name: string;
  /** Absolute path of the actor process entry (core's worker-main.js). */
  readonly entry: string;
  /** Environment for the process (already merged with the driver's). */
  readonly env: NodeJS.ProcessEnv;
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

/** Starts each actor as a child Node process sharing the driver's stdout/stderr. */
@injectable()
export class ChildProcessLauncher implements Launcher {
  launch(spec: LaunchSpec): LaunchedProcess {
    const child = spawnProcess(process.execPath, [spec.entry], {
      env: spec.env,
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
