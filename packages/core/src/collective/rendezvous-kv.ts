import { CollectiveGroupError } from '../errors/errors';

/**
 * The rendezvous key-value store core serves over its control plane, so transports need no
 * shared file system and no server of their own. Keys are write-once; gets wait for the key.
 */
export class RendezvousKv {
  private readonly values = new Map<string, Uint8Array>();
  private readonly waiters = new Map<string, Array<() => void>>();

  set(key: string, value: Uint8Array): void {
    if (this.values.has(key)) throw new CollectiveGroupError(`rendezvous key '${key}' was already set (keys are write-once)`);
    // Own the bytes: the message buffer they arrived in is not ours to keep.
    this.values.set(key, new Uint8Array(value));
    const w = this.waiters.get(key);
    this.waiters.delete(key);
    w?.forEach((f) => f());
  }

  async get(key: string, timeoutMs: number): Promise<Uint8Array> {
    await this.wait([key], timeoutMs);
    return this.values.get(key)!;
  }

  wait(keys: readonly string[], timeoutMs: number): Promise<void> {
    const missing = keys.filter((k) => !this.values.has(k));
    if (missing.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let left = missing.length;
      const timer = setTimeout(() => {
        const still = missing.filter((k) => !this.values.has(k));
        reject(new CollectiveGroupError(`rendezvous timed out after ${timeoutMs} ms waiting for key(s) ${still.join(', ')}`));
      }, timeoutMs);
      for (const k of missing) {
        const list = this.waiters.get(k) ?? [];
        list.push(() => {
          if (--left === 0) {
            clearTimeout(timer);
            resolve();
          }
        });
        this.waiters.set(k, list);
      }
    });
  }

  /** Drop every key under `prefix` (a destroyed group's namespace). */
  deletePrefix(prefix: string): void {
    for (const k of [...this.values.keys()]) if (k.startsWith(prefix)) this.values.delete(k);
  }
}
