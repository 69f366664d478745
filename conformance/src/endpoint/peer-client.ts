/**
 * Parent side of a peer process: fork, call commands with a deadline (a hang becomes a test
 * failure, never a stuck suite), serve the rendezvous store, kill.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { Availability } from '@tensorwire/core';
import { PeerError, serializeError, type ChildMessage, type ParentMessage } from './protocol';
import type { RendezvousHub } from './rendezvous-hub';

export interface PeerTarget {
  /** Absolute path of the module that registers the transport. */
  readonly module: string;
  /** The transport's registered name. */
  readonly name: string;
  /** Passed as EndpointContext.options. */
  readonly endpointOptions?: Readonly<Record<string, unknown>>;
}

/** Default deadline for one peer command; a transport that needs longer is hanging. */
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;

export interface PendingCall<T> {
  /** Settles with the command's result. */
  readonly result: Promise<T>;
  /** Resolves once the peer started the SPI operation (its Promise exists). */
  readonly posted: Promise<void>;
}

export class Peer {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; posted: () => void; cmd: string }
  >();
  private readonly output: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  pid = 0;
  readonly logs: string[] = [];

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    private readonly hub: RendezvousHub,
  ) {
    this.pid = child.pid ?? 0;
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('message', (m: ChildMessage) => this.onMessage(m));
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        const why = `peer ${name} (pid ${this.pid}) exited (${signal ? `signal ${signal}` : `code ${code}`})`;
        for (const [, p] of this.pending) p.reject(new Error(`${why} during ${p.cmd}. Output:\n${this.recentOutput()}`));
        this.pending.clear();
        resolve({ code, signal });
      });
    });
  }

  /** Fork a peer, load the transport and create its endpoint. */
  static async start(
    name: string,
    target: PeerTarget,
    hub: RendezvousHub,
  ): Promise<{ peer: Peer; availability: Availability }> {
    const child = fork(path.join(__dirname, 'peer.js'), [], {
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [],
      env: { ...process.env, TENSORWIRE_CONFORMANCE_PEER: name },
    });
    const peer = new Peer(name, child, hub);
    const r = await peer.call<{ pid: number; availability: Availability }>('init', {
      module: target.module,
      name: target.name,
      processName: name,
      options: target.endpointOptions ?? {},
    });
    return { peer, availability: r.availability };
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** Last lines the peer printed (stdout and stderr), for failure messages. */
  recentOutput(): string {
    return this.output.join('').split('\n').slice(-40).join('\n');
  }

  call<T = unknown>(cmd: string, args: unknown = {}, timeoutMs = DEFAULT_CALL_TIMEOUT_MS): Promise<T> {
    return this.start<T>(cmd, args, timeoutMs).result;
  }

  /** Start a command; `posted` tells when the transport operation is under way. */
  start<T = unknown>(cmd: string, args: unknown = {}, timeoutMs = DEFAULT_CALL_TIMEOUT_MS): PendingCall<T> {
    let onPosted!: () => void;
    const posted = new Promise<void>((r) => (onPosted = r));
    const result = new Promise<T>((resolve, reject) => {
      if (!this.alive) {
        reject(new Error(`peer ${this.name} is not running (cannot ${cmd})`));
        return;
      }
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(
            `peer ${this.name}: ${cmd} did not settle within ${timeoutMs} ms (the transport hangs). ` +
              `Peer output:\n${this.recentOutput()}`,
          ),
        );
      }, timeoutMs);
      this.pending.set(id, {
        cmd,
        posted: onPosted,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ kind: 'call', id, cmd, args } satisfies ParentMessage);
    });
    // A command that fails before posting must not leave `posted` waiters stuck.
    result.catch(() => onPosted());
    return { result, posted };
  }

  /** Kill the peer (SIGKILL by default) and wait until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.alive) this.child.kill(signal);
    await this.exited;
  }

  private onMessage(m: ChildMessage): void {
    switch (m.kind) {
      case 'reply': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.value);
        else p.reject(new PeerError(this.name, p.cmd, m.error));
        return;
      }
      case 'posted':
        this.pending.get(m.id)?.posted();
        return;
      case 'log':
        this.logs.push(`[${m.level}] ${m.message}`);
        if (this.logs.length > 200) this.logs.shift();
        return;
      case 'rdv':
        void this.serveRendezvous(m);
        return;
    }
  }

  private async serveRendezvous(m: Extract<ChildMessage, { kind: 'rdv' }>): Promise<void> {
    let reply: ParentMessage;
    try {
      let value: Uint8Array | undefined;
      if (m.op === 'set') this.hub.set(m.group, m.key, m.value);
      else if (m.op === 'get') value = await this.hub.get(m.group, m.key, m.timeoutMs);
      else await this.hub.wait(m.group, m.keys, m.timeoutMs);
      reply = { kind: 'rdv-reply', rid: m.rid, ok: true, value };
    } catch (e) {
      reply = { kind: 'rdv-reply', rid: m.rid, ok: false, error: serializeError(e) };
    }
    if (this.alive && this.child.connected) this.child.send(reply);
  }
}
