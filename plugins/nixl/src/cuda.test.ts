/**
 * CUDA tensors through nixl (staging through pinned memory, as on Debian's UCX without CUDA): on
 * the mock driver here, so these tests prove the code paths (requests, copies on the staging
 * thread, the pinned pool, deadlines, deaths), not the GPU.
 */
import { secondDevice, usingMock } from './testing/cuda-driver';
import test from 'ava';
import { Tensor, type TransportTensor } from '@tensorwire/core';
import { allocateTensor, tensorSpec, type Peer, type TensorSpec } from '@tensorwire/conformance/testing';
import '@tensorwire/cuda';
import { mock, type MockStats } from '@tensorwire/cuda/testing';
import { nixlPlugin, NixlEndpoint, type NixlDescriptor } from './index';
import { allocateCudaTensor, checkAnyTensors } from './testing/cuda-tensors';
import { nixlCudaPeers } from './testing/nixl-peers';

const MiB = 2 ** 20;
const cuda1 = secondDevice(); // 'cuda:1' on the mock's two devices, 'cuda:0' on a one-GPU machine
const mockOnly = usingMock ? test.serial : test.serial.skip;
let consumer: NixlEndpoint;
const peers = nixlCudaPeers();

interface Registered {
  handle: number;
  desc: NixlDescriptor;
}

const specsOf = (sizes: number[]): TensorSpec[] => sizes.map((n) => tensorSpec(n, 1));

async function register(p: Peer, specs: TensorSpec[], devices: string[]): Promise<Registered> {
  return p.call<Registered>('registerDevices', { specs, devices });
}

/** Fresh destinations for `specs` on `devices` in this process. */
function destinations(specs: TensorSpec[], devices: string[]): TransportTensor[] {
  return specs.map((s, i) => (devices[i] === 'cpu' ? allocateTensor(s) : allocateCudaTensor(s, devices[i])));
}

/** Reads `desc` here into fresh tensors on `devices` and returns the problems found. */
async function readHere(desc: NixlDescriptor, specs: TensorSpec[], devices: string[], timeoutMs = 30_000): Promise<string[]> {
  const into = destinations(specs, devices);
  await consumer.read(desc, into, timeoutMs);
  return checkAnyTensors(specs, into as Tensor[]);
}

const expectedMode = (): 'staged' | 'cuda' => (consumer.stats().cuda.ucxCudaMemory ? 'cuda' : 'staged');

test.before(async () => {
  consumer = (await nixlPlugin.createEndpoint({ processName: 'cuda-consumer', options: {}, log: () => undefined })) as NixlEndpoint;
});

test.after.always(async () => {
  await peers.killAll();
  await consumer?.close();
});

test.serial('CUDA tensors: registered for staging, read byte-exact into CUDA and CPU tensors', async (t) => {
  const p = await peers.startOne('cuda-producer');
  const specs = specsOf([MiB, 13, 0, 3 * MiB + 5]);
  const devices = ['cuda:0', cuda1, 'cuda:0', 'cuda:0'];
  const { desc } = await register(p, specs, devices);
  t.deepEqual(desc.regions.map((r) => r.mode), [expectedMode(), expectedMode(), undefined, expectedMode()], 'empty regions need nothing');
  t.is(desc.regions[1].device, cuda1);
  t.deepEqual(JSON.parse(JSON.stringify(desc)), desc, 'the descriptor survives JSON');
  t.deepEqual(await readHere(desc, specs, ['cuda:0', 'cuda:0', cuda1, cuda1]), []);
  t.deepEqual(await readHere(desc, specs, ['cpu', 'cpu', 'cpu', 'cpu']), [], 'into CPU tensors: no CUDA copy here');
  const stats = await p.call<{ cuda: { deviceRegistrations: number; stagings: number } }>('stats');
  t.is(stats.cuda.deviceRegistrations, 3);
  t.is(stats.cuda.stagings, 2, 'one staging per read');
});

test.serial('mixed CPU and CUDA tensors in one registration, read across devices', async (t) => {
  const p = await peers.startOne('mixed-producer');
  const specs = specsOf([4096, 2 * MiB, 100, 65536 + 3]);
  const { desc } = await register(p, specs, ['cpu', 'cuda:0', 'cpu', cuda1]);
  t.deepEqual(desc.regions.map((r) => r.mode), [undefined, expectedMode(), undefined, expectedMode()]);
  t.deepEqual(await readHere(desc, specs, ['cuda:0', 'cpu', cuda1, 'cpu']), []);
  t.deepEqual(await readHere(desc, specs, ['cpu', 'cuda:0', 'cpu', 'cuda:0']), []);
});

test.serial('a change after register is seen by a later read (no snapshot at register)', async (t) => {
  const p = await peers.startOne('mutating-producer');
  const specs = specsOf([MiB, 512]);
  const { handle, desc } = await register(p, specs, ['cuda:0', 'cpu']);
  t.deepEqual(await readHere(desc, specs, ['cuda:0', 'cuda:0']), []);
  const changed = specsOf([MiB, 512]);
  await p.call('mutate', { handle, changes: changed.map((spec, index) => ({ index, spec })) });
  t.deepEqual(await readHere(desc, changed, ['cuda:0', 'cuda:0']), [], 'the read sees the new bytes');
});

test.serial('concurrent reads: 8 at once here and 4 in another consumer, of one registration', async (t) => {
  const p = await peers.startOne('shared-producer');
  const other = await peers.startOne('other-consumer');
  const specs = specsOf([2 * MiB, 4096]);
  const { desc } = await register(p, specs, ['cuda:0', 'cuda:0']);
  const [here, there] = await Promise.all([
    Promise.all(Array.from({ length: 8 }, (_, k) => readHere(desc, specs, k % 2 ? ['cuda:0', 'cpu'] : ['cpu', cuda1]))),
    other.call<{ problems: string[] }>('readDevices', { desc, specs, devices: ['cuda:0', 'cuda:0'], times: 4, timeoutMs: 30_000 }),
  ]);
  t.deepEqual(here.flat(), []);
  t.deepEqual(there.problems, []);
  const stats = await p.call<{ cuda: { stagedLeases: number } }>('stats');
  t.is(stats.cuda.stagedLeases, 0, 'every pinned chunk lent to a reader came back');
});

test.serial('staging over tcp only (UCX_TLS=tcp on both sides)', async (t) => {
  const env = { UCX_TLS: 'tcp' };
  const p = await peers.startOne('tcp-cuda-producer', { env });
  const c = await peers.startOne('tcp-cuda-consumer', { env });
  const specs = specsOf([2 * MiB, 10]);
  const { desc } = await register(p, specs, ['cuda:0', 'cpu']);
  const read = await c.call<{ problems: string[] }>('readDevices', { desc, specs, devices: [cuda1, 'cuda:0'], times: 2, timeoutMs: 30_000 });
  t.deepEqual(read.problems, []);
});

mockOnly('the pinned pools are reused: no cuMemHostAlloc per transfer on either side', async (t) => {
  const p = await peers.startOne('pool-producer');
  const specs = specsOf([MiB, 70_000]);
  const { desc } = await register(p, specs, ['cuda:0', 'cuda:0']);
  t.deepEqual(await readHere(desc, specs, ['cuda:0', 'cuda:0']), []); // warms both pools
  const hereBefore = mock.stats().calls.cuMemHostAlloc ?? 0;
  const thereBefore = (await p.call<MockStats>('mockStats')).calls.cuMemHostAlloc ?? 0;
  const statsBefore = consumer.stats().cuda.pinned;
  for (let i = 0; i < 10; i++) t.deepEqual(await readHere(desc, specs, ['cuda:0', 'cuda:0']), []);
  t.is(mock.stats().calls.cuMemHostAlloc ?? 0, hereBefore, 'no pinned allocation in the consumer after the first read');
  t.is((await p.call<MockStats>('mockStats')).calls.cuMemHostAlloc ?? 0, thereBefore, 'nor in the producer');
  const statsAfter = consumer.stats().cuda.pinned;
  t.is(statsAfter.allocations, statsBefore.allocations);
  t.is(statsAfter.hits, statsBefore.hits + 20, 'two chunks per read, from the cache');
  t.is(statsAfter.inUse, 0);
  const producerPinned = (await p.call<{ cuda: { pinned: { allocations: number; inUse: number } } }>('stats')).cuda.pinned;
  t.is(producerPinned.allocations, 2);
  t.is(producerPinned.inUse, 0);
});

mockOnly('a read whose staging outlasts its deadline fails with TIMEOUT; later reads work', async (t) => {
  const p = await peers.startOne('slow-producer');
  const specs = specsOf([MiB]);
  const { desc } = await register(p, specs, ['cuda:0']);
  await p.call('mockDelay', { us: 3_000_000 }); // each stream operation of the producer: 3 s
  const started = Date.now();
  const err = await t.throwsAsync(readHere(desc, specs, ['cuda:0'], 300));
  t.is((err as { kind?: string }).kind, 'TIMEOUT');
  t.is((err as { code?: string }).code, 'NIXL_TIMEOUT');
  t.true(Date.now() - started < 2_500, 'the read gave up at its deadline, not when the copy ended');
  await p.call('mockDelay', { us: 0 });
  t.deepEqual(await readHere(desc, specs, ['cuda:0']), [], 'after the slow copy (queued first on the same thread)');
  await new Promise((r) => setTimeout(r, 2_500)); // the abandoned lease expires (deadline + 2 s grace)
  t.is((await p.call<{ cuda: { stagedLeases: number } }>('stats')).cuda.stagedLeases, 0, 'the unclaimed pinned chunk came back');
});

mockOnly('a producer killed before or during staging: the read fails with PEER_LOST, fast', async (t) => {
  const specs = specsOf([MiB]);
  const before = await peers.startOne('killed-before');
  const { desc: d1 } = await register(before, specs, ['cuda:0']);
  await before.kill('SIGKILL');
  const e1 = await t.throwsAsync(readHere(d1, specs, ['cuda:0'], 20_000));
  t.is((e1 as { kind?: string }).kind, 'PEER_LOST');

  const during = await peers.startOne('killed-during');
  const { desc: d2 } = await register(during, specs, ['cuda:0']);
  await during.call('mockDelay', { us: 5_000_000 });
  const started = Date.now();
  const reading = readHere(d2, specs, ['cuda:0'], 20_000);
  await new Promise((r) => setTimeout(r, 300)); // the staging copy is under way
  await during.kill('SIGKILL');
  const e2 = await t.throwsAsync(reading);
  t.is((e2 as { kind?: string }).kind, 'PEER_LOST');
  t.true(Date.now() - started < 3_000, 'noticed through the pid watch, not the 20 s deadline');

  const fresh = await peers.startOne('after-kills');
  const { desc: d3 } = await register(fresh, specs, ['cuda:0']);
  t.deepEqual(await readHere(d3, specs, ['cuda:0']), [], 'reads from a new producer work');
});

mockOnly('release during a staging copy: the copy ends first, then the memory goes; later reads fail INVALID', async (t) => {
  const p = await peers.startOne('releasing-producer');
  const specs = specsOf([MiB]);
  const { handle, desc } = await register(p, specs, ['cuda:0']);
  await p.call('mockDelay', { us: 1_500_000 });
  const reading = readHere(desc, specs, ['cuda:0'], 20_000);
  const stagings = async () => (await p.call<{ cuda: { stagings: number } }>('stats')).cuda.stagings;
  while ((await stagings()) === 0) await new Promise((r) => setTimeout(r, 10)); // the 1.5 s copy is under way
  const releasedAt = Date.now();
  await p.call('releaseDevices', { handle, releaseTensors: true });
  t.true(Date.now() - releasedAt >= 400, 'release() waited for the copy that reads the memory');
  t.deepEqual(await reading, [], 'the read that was under way got the bytes');
  await p.call('mockDelay', { us: 0 });
  const err = await t.throwsAsync(readHere(desc, specs, ['cuda:0'], 5_000));
  t.is((err as { code?: string }).code, 'NIXL_REGISTRATION_RELEASED');
  t.is((err as { kind?: string }).kind, 'INVALID');
  const memory = await p.call<{ allocatedBytes: number }>('deviceMemory');
  t.is(memory.allocatedBytes, 0, "the tensor's block went back to the allocator");
  t.is((await p.call<{ cuda: { deviceRegistrations: number } }>('stats')).cuda.deviceRegistrations, 0);
});

test.serial('forged CUDA regions are refused (INVALID), and the producer keeps working', async (t) => {
  const p = await peers.startOne('forged-producer');
  const specs = specsOf([4096]);
  const { desc } = await register(p, specs, ['cuda:0']);
  if (desc.regions[0].mode !== 'staged') return t.pass('this UCX registers CUDA memory: nothing is staged');
  const forge = (region: Record<string, unknown>): NixlDescriptor => ({ ...desc, regions: [{ ...desc.regions[0], ...region }] as never });
  const token = await t.throwsAsync(readHere(forge({ token: String(BigInt(desc.regions[0].token) + 1n) }), specs, ['cuda:0']));
  t.is((token as { code?: string }).code, 'NIXL_REGISTRATION_RELEASED');
  const reg = await t.throwsAsync(readHere(forge({ reg: desc.regions[0].reg + 1000 }), specs, ['cuda:0']));
  t.is((reg as { kind?: string }).kind, 'INVALID');
  const bigger = specsOf([8192]);
  const size = await t.throwsAsync(readHere(forge({ size: '8192' }), bigger, ['cuda:0']));
  t.is((size as { code?: string }).code, 'NIXL_BAD_DESCRIPTOR');
  t.is((size as { kind?: string }).kind, 'INVALID');
  const mode = await t.throwsAsync(readHere(forge({ mode: 'bogus' }), specs, ['cuda:0']));
  t.is((mode as { code?: string }).code, 'NIXL_BAD_DESCRIPTOR');
  const noReg = await t.throwsAsync(readHere(forge({ reg: 0 }), specs, ['cuda:0']));
  t.is((noReg as { code?: string }).code, 'NIXL_BAD_DESCRIPTOR');
  t.deepEqual(await readHere(desc, specs, ['cuda:0']), [], 'the real descriptor still reads');
});

test.serial('this process registers its own CUDA tensors, and reads them back', async (t) => {
  const src = Tensor.arange(0, 250, 1, { dtype: 'uint8', device: cuda1 });
  const desc = await consumer.register([src]);
  const into = Tensor.zeros([250], { device: 'cuda:0', dtype: 'uint8' });
  await consumer.read(desc, [into], 10_000);
  t.deepEqual(into.toArray(), src.toArray(), 'the same bytes, cuda:1 -> cuda:0');
  await consumer.release(desc);
  t.is(consumer.stats().cuda.deviceRegistrations, 0);
});
