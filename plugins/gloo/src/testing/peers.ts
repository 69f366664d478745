/** Test harness: fork real peer processes and talk to them. The parent serves the rendezvous. */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { KvServer } from '../ipc-rendezvous';
import type { CommandMessage, CommandReply } from './protocol';

export class CommandError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export class Peer {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Resolves when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly ready: Promise<void>;

  constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    this.ready = new Promise((resolve) => child.on('message', (m: { kind?: string }) => m?.kind === 'tw-peer-ready' && resolve()));
    child.on('message', (m: CommandReply) => {
      if (m?.kind !== 'tw-cmd-reply') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new CommandError(m.error?.code ?? 'ERR', m.error?.message ?? 'failed'));
    });
    void this.exited.then(({ code, signal }) => {
      for (const p of this.pending.values()) p.reject(new CommandError('PEER_EXITED', `peer exited (${signal ?? code}) before replying`));
      this.pending.clear();
    });
  }

  /** Run a command in the peer; rejects with CommandError (code + message) if it failed. */
  call<T = unknown>(name: string, args: Record<string, unknown> = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!this.child.connected) return reject(new CommandError('PEER_EXITED', 'peer is gone'));
      const id = ++this.nextId;
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ kind: 'tw-cmd', id, name, args } satisfies CommandMessage);
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

/** Fork `n` peers sharing one rendezvous store; `fn` runs with them; they are killed afterwards. */
export async function withPeers<T>(n: number, fn: (peers: Peer[]) => Promise<T>): Promise<T> {
  const kv = new KvServer();
  const script = path.join(__dirname, 'peer-main.js');
  const peers = Array.from({ length: n }, () => {
    const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    kv.serve(child);
    return new Peer(child);
  });
  try {
    await Promise.all(peers.map((p) => p.ready));
    return await fn(peers);
  } finally {
    for (const p of peers) p.kill('SIGKILL');
    await Promise.all(peers.map((p) => p.exited));
  }
}

/** Create group `name` of all peers (rank = index). */
export async function createGroup(peers: Peer[], name: string, timeoutMs = 20000): Promise<void> {
  await Promise.all(peers.map((p, rank) => p.call('create', { name, rank, size: peers.length, timeoutMs })));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
