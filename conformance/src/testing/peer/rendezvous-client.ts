/**
 * The rendezvous store as a peer process sees it: each call goes to the test process, which
 * serves it from its {@link RendezvousHub} (as core serves it over its control plane).
 */
import type { RendezvousStore } from '@tensorwire/core';
import { sendToParent } from './child-ipc';
import type { ChildMessage, ParentMessage } from './protocol';

type RendezvousRequest = Extract<ChildMessage, { kind: 'rdv' }>;
/** A request as a caller words it: without the message kind and the request id. */
type RequestBody = RendezvousRequest extends infer M ? (M extends RendezvousRequest ? Omit<M, 'kind' | 'rid'> : never) : never;

let nextRid = 1;
const pending = new Map<number, { resolve: (v?: Uint8Array) => void; reject: (e: Error) => void }>();

function request(body: RequestBody): Promise<Uint8Array | undefined> {
  const rid = nextRid++;
  return new Promise((resolve, reject) => {
    pending.set(rid, { resolve, reject });
    sendToParent({ kind: 'rdv', rid, ...body } as RendezvousRequest);
  });
}

/** Settles the request a reply answers. */
export function onRendezvousReply(m: Extract<ParentMessage, { kind: 'rdv-reply' }>): void {
  const p = pending.get(m.rid);
  pending.delete(m.rid);
  if (!p) return;
  if (m.ok) p.resolve(m.value);
  else p.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
}

/** The store of one group (CreateGroupOptions.rendezvous). */
export function rendezvousFor(group: string): RendezvousStore {
  return {
    set: async (key, value) => {
      await request({ op: 'set', group, key, value: new Uint8Array(value) });
    },
    get: async (key, timeoutMs) => (await request({ op: 'get', group, key, timeoutMs }))!,
    wait: async (keys, timeoutMs) => {
      await request({ op: 'wait', group, keys: [...keys], timeoutMs });
    },
  };
}
