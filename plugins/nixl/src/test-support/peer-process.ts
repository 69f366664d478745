/** Test-side handle of a forked peer (see peer.ts). */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export interface PeerError extends Error {
  code?: string;
}

export class PeerProcess {
  private nextRid = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly exited: Promise<void>;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: { rid: number; ok: boolean; value?: unknown; error?: { message: string; code?: string } }) => {
      const w = this.waiting.get(m.rid);
      if (!w) return;
      this.waiting.delete(m.rid);
      if (m.ok) w.resolve(m.value);
      else w.reject(Object.assign(new Error(m.error!.message), { code: m.error!.code }));
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        for (const w of this.waiting.values()) w.reject(new Error('peer exited'));
        this.waiting.clear();
        resolve();
      }),
    );
  }

  /** Fork a peer named `name`; extra environment variables (e.g. UCX_TLS) go to it only. */
  static async start(name: string, env: Record<string, string> = {}): Promise<PeerProcess> {
    const child = fork(path.join(__dirname, 'peer.js'), [name], { env: { ...process.env, ...env }, stdio: 'inherit' });
    const p = new PeerProcess(child);
    const ready = new Promise<unknown>((resolve, reject) => p.waiting.set(0, { resolve, reject }));
    await ready;
    return p;
  }

  get pid(): number {
    return this.child.pid!;
  }

  call<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const rid = this.nextRid++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(rid, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ rid, op, ...args });
    });
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}
