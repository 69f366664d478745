/**
 * The driver's half of registering small one-sided GPU objects on demand
 * (GpuObjectManager.readBy): the read counts from before the producer is asked, one ask serves
 * every reader, and a failed ask (producer frozen past the deadline, producer gone, registration
 * refused) becomes a typed error with the read count undone, so a deferred free still happens.
 */
import test from 'ava';
import { GpuObjectManager } from '../gpu/gpu-object-manager';
import type { GpuDriverPort } from '../gpu/driver-port';
import { pendingReads, type GpuEntry } from '../gpu/gpu-entry';
import type { GpuResult } from '../gpu/gpu-object';
import { registerTransport } from '../transport/registry';
import type { OneSidedTransportPlugin } from '../transport/spi';
import { ConnectionClosedError, type Connection } from '../rpc/connection';
import { ConsoleLogger } from '../log/logger';
import { OutOfBandSerializer } from '../objects/serializer';

const TRANSPORT = 'rma-on-demand-test';
const plugin: OneSidedTransportPlugin = {
  name: TRANSPORT,
  kind: 'one-sided',
  supports: { devices: ['cpu'] },
  probe: async () => ({ available: true, detail: 'never used (test)' }),
  createEndpoint: async () => {
    throw new Error('not used');
  },
};
registerTransport(plugin, { module: __filename });

const serializer = new OutOfBandSerializer();

/** A manager whose producer 'p' answers `gpu.register` with `answer` (and records the asks). */
function setup(answer: (objectId: string) => Promise<unknown>, alive = true) {
  const entries = new Map<string, GpuEntry>();
  const asks: string[] = [];
  const sent: string[] = [];
  const conn = {
    request: (type: string, body: { objectId: string }) => {
      asks.push(`${type} ${body.objectId}`);
      return answer(body.objectId);
    },
    notify: (type: string, body: { ids: string[] }) => void sent.push(`${type} ${body.ids.join(',')}`),
  } as unknown as Connection;
  const port: GpuDriverPort = {
    logger: new ConsoleLogger(),
    transferTimeoutMs: 200,
    entry: (id) => entries.get(id),
    entries: () => entries.values(),
    forget: (id) => void entries.delete(id),
    storedValue: () => undefined,
    errorOf: () => new Error('failed'),
    actorName: (id) => id,
    aliveConn: () => (alive ? conn : undefined),
    route: () => {
      throw new Error('one-sided only');
    },
    groupActive: () => false,
    destroyGroup: () => {},
  };
  const manager = new GpuObjectManager(port);
  /** A small object made by 'p', stored without a registration, already back at its producer. */
  const make = (id: string): GpuEntry => {
    const e: GpuEntry = { id, state: 'ready', refs: 1, reads: new Map(), sentTo: new Set() };
    const result: GpuResult = {
      skeleton: serializer.encode(null), metas: [{ dtype: 'uint8', shape: [4], device: 'cpu', nbytes: 4 }], transport: TRANSPORT,
      inline: serializer.encode([]),
    };
    manager.adopt(e, result, 'p');
    e.inlineTensors = undefined; // it went back to its producer: readers read it over the transport
    entries.set(id, e);
    return e;
  };
  return { manager, make, asks, sent };
}

test('one registration serves every reader; its descriptor goes into the object', async (t) => {
  let reply!: (d: unknown) => void;
  const { manager, make, asks } = setup(() => new Promise((r) => (reply = r)));
  const e = make('x');
  const first = manager.resolveForCall(e, 'c1');
  const second = manager.resolveForCall(e, 'c2');
  t.is(pendingReads(e), 2, 'the reads count from before the producer answers');
  reply({ id: 7 });
  const [r1, r2] = await Promise.all([first, second]);
  t.is(r1.k, 'gpu-read');
  t.is(r2.k, 'gpu-read');
  t.deepEqual(e.gpu!.descriptor, { id: 7 });
  t.deepEqual(asks, ['gpu.register x'], 'the producer is asked once');
  await manager.resolveForCall(e, 'c3');
  t.is(asks.length, 1, 'a later reader uses the descriptor it has');
});

test('a producer frozen past the deadline: TransferError, the read undone, a free deferred meanwhile happens, a later reader asks again', async (t) => {
  let frozen = true;
  const { manager, make, asks, sent } = setup(() => (frozen ? new Promise(() => {}) : Promise.resolve({ id: 1 })));
  const e = make('y');
  const pending = manager.resolveForCall(e, 'c1');
  manager.free(e); // the last ref went away while the registration was asked
  t.true(e.freeDeferred);
  const r = await pending;
  t.is(r.k, 'error');
  t.is(r.k === 'error' && r.error.name, 'TransferError');
  t.regex(r.k === 'error' ? r.error.message : '', /registering object y .* did not finish within 200 ms/);
  t.is(pendingReads(e), 0, 'the read is undone');
  t.false(e.freeDeferred, 'the deferred free went ahead');
  manager.flushFrees('p');
  t.deepEqual(sent, ['gpu.free y']);
  frozen = false;
  const again = make('z');
  const first = await manager.resolveForCall(again, 'c1');
  t.is(first.k, 'gpu-read', 'a producer that answers again serves the next object');
  t.deepEqual(asks, ['gpu.register y', 'gpu.register z']);
});

test('a producer that died before answering: ObjectLostError; a refused registration: TransferError naming the cause', async (t) => {
  const gone = setup(() => Promise.reject(new ConnectionClosedError('connection closed')));
  const r1 = await gone.manager.resolveForCall(gone.make('a'), 'c1');
  t.is(r1.k === 'error' && r1.error.name, 'ObjectLostError');
  const refused = setup(() => Promise.reject(new Error('registration refused by the NIC')));
  const e = refused.make('b');
  const r2 = await refused.manager.resolveForCall(e, 'c1');
  t.is(r2.k === 'error' && r2.error.name, 'TransferError');
  t.regex(r2.k === 'error' ? r2.error.message : '', /registration refused by the NIC/);
  t.is(pendingReads(e), 0);
  t.is(e.registering, undefined, 'not kept: the next reader asks again');
});
