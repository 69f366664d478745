/**
 * The rendezvous store a test process serves, in the role core plays in the runtime: keys are
 * write-once per group; `get`/`wait` block until keys exist or the timeout passes. Peer processes
 * reach it over IPC (see peer/peer-client.ts); code in the test process itself takes a
 * {@link RendezvousStore} view of one group with {@link RendezvousHub.storeFor}.
 */
import type { RendezvousStore } from '@tensorwire/core';

export class RendezvousHub {
  private readonly values = new Map<string, Uint8Array>();
  private readonly waiters = new Map<string, Array<() => void>>();

  private static key(group: string, key: string): string {
    return `${group}\u0000${key}`;
  }

  /** Sets `key` of `group`; throws when it is already set (keys are write-once). */
  set(group: string, key: string, value: Uint8Array): void {
    const k = RendezvousHub.key(group, key);
    if (this.values.has(k)) throw new Error(`rendezvous key '${key}' of group '${group}' is already set (keys are write-once)`);
    this.values.set(k, value.slice());
    const w = this.waiters.get(k);
    this.waiters.delete(k);
    w?.forEach((f) => f());
  }

  /** The value of `key` once some member has set it; rejects after `timeoutMs`. */
  async get(group: string, key: string, timeoutMs: number): Promise<Uint8Array> {
    await this.wait(group, [key], timeoutMs);
    return this.values.get(RendezvousHub.key(group, key))!;
  }

  /** Resolves when every key exists; rejects after `timeoutMs`. */
  async wait(group: string, keys: readonly string[], timeoutMs: number): Promise<void> {
    await Promise.all(keys.map((key) => this.waitOne(group, key, timeoutMs)));
  }

  /** The store of one group, for a transport endpoint created in this process. */
  storeFor(group: string): RendezvousStore {
    return {
      set: async (key, value) => this.set(group, key, value),
      get: (key, timeoutMs) => this.get(group, key, timeoutMs),
      wait: (keys, timeoutMs) => this.wait(group, keys, timeoutMs),
    };
  }

  private waitOne(group: string, key: string, timeoutMs: number): Promise<void> {
    const k = RendezvousHub.key(group, key);
    if (this.values.has(k)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const list = this.waiters.get(k) ?? [];
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      // "timed out" in the message: transports recognise a store timeout by it (gloo's addon
      // turns it into GLOO_TIMEOUT, as with core's store).
      const timer = setTimeout(() => {
        const l = this.waiters.get(k);
        if (l) l.splice(l.indexOf(done), 1);
        reject(new Error(`rendezvous: waiting for key '${key}' of group '${group}' timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      list.push(done);
      this.waiters.set(k, list);
    });
  }
}
