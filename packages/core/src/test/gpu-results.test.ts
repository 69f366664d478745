/**
 * The producer's GPU results (gpu/gpu-results.ts) over a one-sided transport: small inlined
 * objects are stored unregistered and registered on demand (`registerStored`, the producer's
 * half of `gpu.register`), once however many ask, and released when freed, even mid-registration.
 */
import test from 'ava';
import { GpuResults } from '../gpu/gpu-results';
import { encodeHooks } from '../actor/value-hooks';
import { OutOfBandSerializer } from '../objects/serializer';
import { ConsoleLogger } from '../log/logger';
import { EndpointCache } from '../transport/endpoints';
import { registerTransport } from '../transport/registry';
import type { OneSidedEndpoint, OneSidedTransportPlugin } from '../transport/spi';
import { RuntimeStateError } from '../errors/errors';
import { Tensor } from '../index';

const TRANSPORT = 'rma-results-test';
const log: string[] = [];
/** While set, `register` waits for it (a registration in flight). */
let gate: Promise<void> | undefined;
let next = 1;
const endpoint: OneSidedEndpoint = {
  kind: 'one-sided',
  async register(ts) {
    await gate;
    const id = next++;
    log.push(`register ${id} (${ts.length})`);
    return { id };
  },
  async read() {},
  async release(d) {
    log.push(`release ${(d as { id: number }).id}`);
  },
  async close() {},
};
const plugin: OneSidedTransportPlugin = {
  name: TRANSPORT,
  kind: 'one-sided',
  supports: { devices: ['cpu'] },
  probe: async () => ({ available: true, detail: 'in-memory (test)' }),
  createEndpoint: async () => endpoint,
};
registerTransport(plugin, { module: __filename });

function results(): GpuResults {
  const logger = new ConsoleLogger();
  return new GpuResults(new OutOfBandSerializer(), new EndpointCache('test', logger), logger, encodeHooks);
}

const settle = () => new Promise((r) => setImmediate(r));

test.serial('a small object is stored unregistered and registered once on demand; a large one at once; each released when freed', async (t) => {
  log.length = 0;
  const g = results();
  const small = await g.store('small', null, [Tensor.full([4], 1)], TRANSPORT, 1024);
  t.truthy(small.inline, 'the small object carries its copy');
  t.is(small.descriptor, undefined, 'and no registration');
  t.deepEqual(log, [], 'nothing registered for it');
  const big = await g.store('big', null, [Tensor.full([4], 2)], TRANSPORT, 0);
  t.truthy(big.descriptor, 'an object that does not travel inline is registered when made');
  t.is(log.length, 1);
  const [d1, d2] = await Promise.all([g.registerStored('small'), g.registerStored('small')]);
  t.deepEqual(d1, d2, 'concurrent asks share one registration');
  t.is(await g.registerStored('small'), d1, 'a later ask gets the same descriptor');
  t.is(await g.registerStored('big'), big.descriptor, "a registered object's own descriptor");
  t.is(log.filter((l) => l.startsWith('register')).length, 2, 'one registration per object');
  g.tensors.free('small');
  g.tensors.free('big');
  await settle();
  t.is(log.filter((l) => l.startsWith('release')).length, 2, 'both released when freed');
  t.deepEqual(g.registrations.stats(), { registrations: 0, registeredTensors: 0 });
});

test.serial('an object freed while it registers is released and the ask fails; a freed object cannot be registered', async (t) => {
  log.length = 0;
  const g = results();
  await g.store('x', null, [Tensor.full([4], 3)], TRANSPORT, 1024);
  let open!: () => void;
  gate = new Promise((r) => (open = r));
  const asked = g.registerStored('x');
  await settle();
  g.tensors.free('x'); // the driver's free arrives while the registration is in flight
  open();
  gate = undefined;
  await t.throwsAsync(asked, { instanceOf: RuntimeStateError, message: /freed while it was being registered/ });
  await settle();
  t.deepEqual(log.map((l) => l.split(' ')[0]), ['register', 'release'], 'the late registration is released, not leaked');
  t.deepEqual(g.registrations.stats(), { registrations: 0, registeredTensors: 0 });
  await t.throwsAsync(g.registerStored('x'), { instanceOf: RuntimeStateError, message: /not held/ });
});
