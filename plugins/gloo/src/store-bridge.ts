/**
 * Adapts core's {@link RendezvousStore} (async set/get/wait) to the callback the addon's
 * rendezvous calls during `connect`.
 */
import type { RendezvousStore } from '@tensorwire/core';
import type { NativeStoreFn } from './native';

/**
 * Store callback for the addon. Every key gets `prefix` in front: keys are write-once per group,
 * and Gloo writes the same keys (`rank_<r>`, `<r>`) for every context, so a group re-created
 * under the same name uses a fresh prefix (see `GlooEndpoint`).
 */
export function nativeStoreFor(store: RendezvousStore, prefix: string): NativeStoreFn {
  return (op, keys, value, timeoutMs, done) => {
    const full = keys.map((k) => prefix + k);
    let work: Promise<Uint8Array | void>;
    try {
      if (op === 'set') work = store.set(full[0], value ?? new Uint8Array(0));
      else if (op === 'get') work = store.get(full[0], timeoutMs);
      else work = store.wait(full, timeoutMs);
    } catch (err) {
      done(err);
      return;
    }
    work.then(
      (result) => done(null, result instanceof Uint8Array ? result : undefined),
      (err: unknown) => done(err ?? new Error('rendezvous store rejected')),
    );
  };
}
