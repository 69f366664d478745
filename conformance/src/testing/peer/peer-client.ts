/**
 * The test process's side of a peer process: fork it, call commands with a deadline (a hang
 * becomes a test failure, never a stuck run), serve it the rendezvous store, signal and kill it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { Availability } from '@tensorwire/core';
import type { RendezvousHub } from '../rendezvous-hub';
import { PeerError, serializeError, type ChildMessage, type InitArgs, type ParentMessage } from './protocol';

/** The transport a peer loads. */
export interface PeerTarget {
  /** Absolute path of the module that registers the transport when imported. */
  readonly module: string;
  /** The transport's registered name. */
  readonly name: string;
  /** Passed as EndpointContext.options. */
  readonly endpointOptions?: Readonly<Record<string, unknown>>;
}

/** How one peer process is started, besides its target. */
export interface PeerOptions {
  /** Environment of this peer only, over the test process's (e.g. UCX_TLS); `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Absolute paths of modules that export `peerCommands` (see `PeerCommands`): a
   * transport's own test operations, beside the generic ones.
   */
  readonly commands?: readonly string[];
}

/** What a peer's process ended with. */
export interface PeerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Default deadline for one peer command; a transport that needs longer is hanging. */
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;

/** A command under way in a peer. */
export interface PendingCall<T> {
  /** Settles with the command's result. */
  readonly result: Promise<T>;
  /** Resolves once the peer started the transport operation (its Promise exists). */
  readonly posted: Promise<void>;
}

/** A peer process with one endpoint of the transport under test. */
export class Peer {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; posted: () => void; cmd: string }
  >();
  private readonly output: string[] = [];
  /** Resolves when the process has exited. */
  readonly exited: Promise<PeerExit>;
  private exitInfo: PeerExit | undefined;
  readonly pid: number;
  /** The last lines the transport logged through EndpointContext.log. */
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

  /**
   * Fork a peer named `name`, load the transport and create its endpoint (unless `probe()` says
   * the transport is unavailable there: see `availability`). When that fails, the peer is killed
   * and the error (a {@link PeerError} with the transport's code) rejects.
   */
  static async start(
    name: string,
    target: PeerTarget,
    hub: RendezvousHub,
    options: PeerOptions = {},
  ): Promise<{ peer: Peer; availability: Availability }> {
    const env: NodeJS.ProcessEnv = { ...process.env, TENSORWIRE_CONFORMANCE_PEER: name };
    for (const [k, v] of Object.entries(options.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const child = fork(path.join(__dirname, 'peer-main.js'), [], {
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [],
      env,
    });
    const peer = new Peer(name, child, hub);
    const init: InitArgs = {
      module: target.module,
      name: target.name,
      processName: name,
      options: target.endpointOptions ?? {},
      commands: options.commands ?? [],
    };
    try {
      const r = await peer.call<{ pid: number; availability: Availability }>('init', init);
      return { peer, availability: r.availability };
    } catch (e) {
      await peer.kill();
      throw e;
    }
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** Last lines the peer printed (stdout and stderr), for failure messages. */
  recentOutput(): string {
    return this.output.join('').split('\n').slice(-40).join('\n');
  }

  /** Run a command; rejects with a {@link PeerError} (the peer's name, code and message) when it failed. */
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
    // A command that fails before posting must not leave `posted` waiters stuck; and one whose
    // result nobody awaits (the peer was killed on purpose) is not an unhandled rejection.
    result.catch(() => onPosted());
    return { result, posted };
  }

  /** Send `sig` (e.g. SIGSTOP, SIGCONT) without waiting for anything. */
  signal(sig: NodeJS.Signals): void {
    if (this.alive) this.child.kill(sig);
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
