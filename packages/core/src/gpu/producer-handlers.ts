/**
 * The producer's half of GPU-object transfers inside an actor process: the system-lane
 * handlers the driver calls on the actor that holds an object's tensors. Running calls never
 * block them (see worker/worker-runtime.ts).
 * - `gpu.send`: two-sided transports: send the tensors to a consumer's rank in a group;
 * - `gpu.fetch`: CPU copies of the tensors (device tensors copied to the host), for
 *   `get(ref, { tensorTransport: 'object-store' })` and for transports the consumer cannot use;
 * - `gpu.register`: one-sided transports: register a small (inlined) object's tensors now, for a
 *   consumer that must read them (see GpuResults.registerStored); replies with the descriptor;
 * - `gpu.free`: the driver freed the objects: drop their tensors (and registrations).
 */
import { RuntimeStateError, TransferError } from '../errors/errors';
import type { Serializer } from '../objects/serializer';
import type { Connection } from '../rpc/connection';
import type { CollectiveGroup } from '../transport/spi';
import type { TensorStore } from './tensor-store';

export interface ProducerDeps {
  /** The tensors this actor holds for its GPU objects. */
  readonly tensors: TensorStore;
  readonly serializer: Serializer;
  /** This actor's name (for error messages). */
  readonly selfName: string;
  /** The collective group of that name this actor is in. */
  group(name: string): CollectiveGroup | undefined;
  /** The registration of a held object with its one-sided transport, made now if it has none. */
  register(objectId: string): Promise<unknown>;
}

export function installProducerHandlers(conn: Connection, p: ProducerDeps): void {
  conn.handle('gpu.send', (b: { objectId: string; group: string; dstRank: number; tag: number }) => send(p, b));
  conn.handle('gpu.fetch', async (b: { objectId: string }) => {
    const tensors = p.tensors.tensors(b.objectId);
    if (!tensors) throw new RuntimeStateError(`object ${b.objectId} is not held by actor ${p.selfName} (freed)`);
    // get() hands out CPU copies: device tensors are copied to the host off the JavaScript
    // thread first, so a large fetch does not stall this actor's calls.
    const host = await Promise.all(tensors.map((t) => (t.device === 'cpu' ? t : t.toAsync('cpu'))));
    return p.serializer.encode(host);
  });
  conn.handle('gpu.register', (b: { objectId: string }) => p.register(b.objectId));
  conn.handle('gpu.free', (b: { ids: string[] }) => b.ids.forEach((id) => p.tensors.free(id)));
}

async function send(p: ProducerDeps, b: { objectId: string; group: string; dstRank: number; tag: number }): Promise<void> {
  const group = p.group(b.group);
  if (!group) throw new TransferError(`actor ${p.selfName} is not in collective group '${b.group}'`, { objectId: b.objectId });
  const tensors = p.tensors.beginSend(b.objectId);
  if (!tensors) throw new TransferError(`object ${b.objectId} is not held by actor ${p.selfName} (freed)`, { objectId: b.objectId });
  try {
    await group.send(tensors, b.dstRank, b.tag);
  } finally {
    p.tensors.endSend(b.objectId);
  }
}
