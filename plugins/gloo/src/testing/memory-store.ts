/** An in-process RendezvousStore (write-once keys), for single-process tests. */
import type { RendezvousStore } from '@tensorwire/core';

export function memoryStore(): RendezvousStore & { readonly keys: string[] } {
  const kv = new Map<string, Uint8Array>();
  const waiters = new Set<() => void>();
  const until = (ready: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      if (ready()) return resolve();
      const check = () => {
        if (!ready()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(Object.assign(new Error(`memory store: ${what} timed out after ${timeoutMs} ms`), { code: 'GLOO_TIMEOUT' }));
      }, timeoutMs);
      waiters.add(check);
    });
  return {
    get keys() {
      return [...kv.keys()];
    },
    async set(key, value) {
      if (kv.has(key)) throw new Error(`key '${key}' already set`);
      kv.set(key, value.slice());
      for (const w of [...waiters]) w();
    },
    async get(key, timeoutMs) {
      await until(() => kv.has(key), timeoutMs, `get ${key}`);
      return kv.get(key)!;
    },
    async wait(keys, timeoutMs) {
      await until(() => keys.every((k) => kv.has(k)), timeoutMs, `wait ${keys.join(',')}`);
    },
  };
}
