/**
 * A rendezvous key-value store served by a parent process to its forked children over the
 * Node IPC channel, for the bare ping-pong benchmark: its peers run without tensorwire's runtime
 * (core serves the real store over its control plane). Tests use the hub of
 * `@tensorwire/conformance/testing` instead; the published benchmark cannot depend on it.
 *
 * Only node built-ins and type imports here: the bare benchmark's peers load nothing else.
 */
import type { ChildProcess } from 'node:child_process';
import type { RendezvousStore } from '@tensorwire/core';

/** Request a child sends. Values travel as base64. */
export interface KvRequest {
  readonly kind: 'tw-kv';
  readonly id: number;
  readonly op: 'set' | 'get' | 'wait';
  readonly keys: string[];
  readonly value?: string;
  readonly timeoutMs?: number;
}

/** Reply the parent sends back. */
export interface KvReply {
  readonly kind: 'tw-kv-reply';
  readonly id: number;
  readonly value?: string;
  readonly error?: { message: string; code: string };
}

export function isKvRequest(m: unknown): m is KvRequest {
  return typeof m === 'object' && m !== null && (m as { kind?: unknown }).kind === 'tw-kv';
}

function isKvReply(m: unknown): m is KvReply {
  return typeof m === 'object' && m !== null && (m as { kind?: unknown }).kind === 'tw-kv-reply';
}

/** The parent's store: write-once keys, waits with timeouts. */
export class KvServer {
  private readonly kv = new Map<string, string>();
  private readonly waiters = new Set<{ keys: string[]; done: () => void }>();

  /** Answer this child's KV requests. */
  serve(child: ChildProcess): void {
    child.on('message', (m: unknown) => {
      if (!isKvRequest(m)) return;
      const reply = (r: Omit<KvReply, 'kind' | 'id'>) => {
        if (child.connected) child.send({ kind: 'tw-kv-reply', id: m.id, ...r } satisfies KvReply);
      };
      this.handle(m).then(
        (value) => reply({ value }),
        (err: Error & { code?: string }) => reply({ error: { message: err.message, code: err.code ?? 'KV_ERROR' } }),
      );
    });
  }

  private handle(m: KvRequest): Promise<string | undefined> {
    if (m.op === 'set') {
      const key = m.keys[0];
      if (this.kv.has(key)) {
        return Promise.reject(Object.assign(new Error(`rendezvous key '${key}' was already set (keys are write-once)`), { code: 'KV_EXISTS' }));
      }
      this.kv.set(key, m.value ?? '');
      for (const w of [...this.waiters]) if (w.keys.every((k) => this.kv.has(k))) w.done();
      return Promise.resolve(undefined);
    }
    const timeoutMs = m.timeoutMs ?? 30000;
    return new Promise((resolve, reject) => {
      const finish = () => resolve(m.op === 'get' ? this.kv.get(m.keys[0]) : undefined);
      if (m.keys.every((k) => this.kv.has(k))) return finish();
      const w = {
        keys: m.keys,
        done: () => {
          clearTimeout(timer);
          this.waiters.delete(w);
          finish();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        const missing = m.keys.filter((k) => !this.kv.has(k));
        reject(Object.assign(new Error(`rendezvous ${m.op} timed out after ${timeoutMs} ms waiting for ${missing.join(', ')}`), { code: 'GLOO_TIMEOUT' }));
      }, timeoutMs);
      this.waiters.add(w);
    });
  }
}

/** The child's side: a RendezvousStore that asks the parent over IPC. */
export function ipcRendezvousStore(): RendezvousStore {
  if (!process.send) throw new Error('ipcRendezvousStore: this process has no IPC channel (start it with child_process.fork)');
  let nextId = 0;
  const pending = new Map<number, { resolve: (r: KvReply) => void }>();
  process.on('message', (m: unknown) => {
    if (!isKvReply(m)) return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    p.resolve(m);
  });
  const call = (op: KvRequest['op'], keys: string[], value?: Uint8Array, timeoutMs?: number): Promise<KvReply> =>
    new Promise<KvReply>((resolve) => {
      const id = ++nextId;
      pending.set(id, { resolve });
      const req: KvRequest = {
        kind: 'tw-kv', id, op, keys, timeoutMs,
        value: value ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') : undefined,
      };
      process.send!(req);
    }).then((r) => {
      if (r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code });
      return r;
    });
  return {
    async set(key, value) {
      await call('set', [key], value);
    },
    async get(key, timeoutMs) {
      const r = await call('get', [key], undefined, timeoutMs);
      return new Uint8Array(Buffer.from(r.value ?? '', 'base64'));
    },
    async wait(keys, timeoutMs) {
      await call('wait', [...keys], undefined, timeoutMs);
    },
  };
}
