/**
 * cuda-ipc against @tensorwire/cuda's mock driver (two devices; IPC handles really cross
 * processes): registration (offsets inside the caching allocator's segments, holds, one handle per
 * segment), reads between processes, the handle cache (bound, eviction, closing what was released
 * or belongs to a dead producer), forged and foreign descriptors, producer death, deadlines,
 * cross-device reads (peer to peer, through the host, devices under other CUDA_VISIBLE_DEVICES).
 */
import { mockOnly, usingMock } from './testing/driver-under-test';
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { hasTransport, isTransportError, Tensor, type TransportTensor } from '@tensorwire/core';
import { allocateTensor, checkTensors, makeTensor, tensorSpec, type Peer, type TensorSpec } from '@tensorwire/conformance/testing';
import { mock } from '@tensorwire/cuda/testing';
import { cudaIpcPlugin, CudaIpcEndpoint, CudaIpcError, type CudaIpcDescriptor, type CudaIpcStats } from './index';
import { cudaIpcPeers } from './testing/cuda-ipc-peers';

const MiB = 2 ** 20;
const peers = cudaIpcPeers();
const endpoints: CudaIpcEndpoint[] = [];

/** An endpoint in this process (closed after the tests). */
async function endpoint(name: string, options: Record<string, unknown> = {}): Promise<CudaIpcEndpoint> {
  const ep = (await cudaIpcPlugin.createEndpoint({ processName: name, options, log: () => undefined })) as CudaIpcEndpoint;
  endpoints.push(ep);
  return ep;
}

/** CUDA specs on `device` of every process. */
const cuda = (numel: number, elementSize: 1 | 2 | 4 | 8, offset = 0, device = 'cuda:0'): TensorSpec => tensorSpec(numel, elementSize, offset, device);

/** Registers seeded CUDA tensors in peer `p`. */
async function register(p: Peer, specs: TensorSpec[]): Promise<CudaIpcDescriptor> {
  return (await p.call<{ handle: number; desc: CudaIpcDescriptor }>('register', { specs })).desc;
}

/** Reads `desc` into fresh tensors of `specs` here and checks every byte. */
async function readHere(t: { deepEqual(a: unknown, b: unknown, m?: string): void }, ep: CudaIpcEndpoint, desc: unknown, specs: TensorSpec[], timeoutMs = 30_000) {
  const into = specs.map((s) => allocateTensor(s));
  await ep.read(desc, into, timeoutMs);
  t.deepEqual(checkTensors(specs, into).problems, [], "the producer's bytes arrive exactly");
}

/** `p` rejects with a CudaIpcError of `code` (and kind `kind`). */
async function rejectsWith(t: { true(v: boolean, m?: string): void; is(a: unknown, b: unknown, m?: string): void; throwsAsync: any }, p: Promise<unknown>, kind: string, code?: string | RegExp) {
  const err = await t.throwsAsync(p);
  t.true(isTransportError(err) && err instanceof CudaIpcError, `a CudaIpcError: ${String(err)}`);
  t.is((err as CudaIpcError).kind, kind, (err as Error).message);
  if (typeof code === 'string') t.is((err as CudaIpcError).code, code, (err as Error).message);
  else if (code) t.true(code.test((err as Error).message), (err as Error).message);
  return err as CudaIpcError;
}

const waitFor = async (check: () => boolean | Promise<boolean>, ms = 10_000): Promise<boolean> => {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
};

test.after.always(async () => {
  await peers.killAll();
  for (const ep of endpoints) await ep.close();
});

test.serial('plugin: registered, one-sided, CUDA tensors only, available on a driver with a device', async (t) => {
  t.true(hasTransport('cuda-ipc'));
  t.is(cudaIpcPlugin.kind, 'one-sided');
  t.deepEqual(cudaIpcPlugin.supports, { devices: ['cuda'] });
  const a = await cudaIpcPlugin.probe();
  t.true(a.available, a.detail);
  t.regex(a.detail, /CUDA IPC on \d device\(s\): cuda:0 /);
  if (usingMock) t.regex(a.detail, /mock/);
});

test.serial('probe() without a CUDA driver: not available, with what is missing and the fix', (t) => {
  const script = `require(${JSON.stringify(path.join(__dirname, 'index.js'))}).cudaIpcPlugin.probe().then((a) => console.log(JSON.stringify(a)))`;
  const r = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: { ...process.env, TENSORWIRE_LIBCUDA: '/nonexistent/libcuda.so.1' },
  });
  const a = JSON.parse(r.stdout.trim().split('\n').pop()!);
  t.false(a.available);
  t.regex(a.detail, /CUDA is not available here: TENSORWIRE_LIBCUDA=\/nonexistent\/libcuda\.so\.1 could not be loaded/);
  t.truthy(a.fix);
});

test.serial('register: plain-data descriptor naming the producer; tensors inside one caching-allocator segment share one handle, at their offsets', async (t) => {
  const ep = await endpoint('t-register');
  const a = makeTensor(cuda(1000, 4)) as TransportTensor;
  const b = makeTensor(cuda(3, 8, 5)) as TransportTensor;
  const empty = makeTensor(cuda(0, 4)) as TransportTensor;
  const desc = await ep.register([a, empty, b]);
  t.deepEqual(structuredClone(desc), desc, 'structuredClone keeps it');
  t.deepEqual(JSON.parse(JSON.stringify(desc)), desc, 'so does JSON');
  t.is(desc.transport, 'cuda-ipc');
  t.is(desc.producer.pid, process.pid);
  t.regex(desc.producer.host, /^[0-9a-f-]{36}\/\d+$/, 'boot id / pid namespace');
  t.regex(desc.producer.start, /^\d+$/);
  t.is(desc.devices.length, 1);
  t.is(desc.regions[1].nbytes, 0);
  t.is(desc.regions[1].handle, '');
  t.is(desc.regions[0].handle, desc.regions[2].handle, 'small tensors are blocks of one 2 MiB segment: one IPC handle');
  t.true(desc.regions[2].offset > desc.regions[0].offset, 'the second block lies further in the segment');
  t.is(desc.regions[2].offset % 512, 40, 'the tensor sits 5 elements into its test block');
  t.is(desc.regions[0].size, 2 * MiB);
  t.deepEqual(ep.stats().registrations, 1);
  t.deepEqual(ep.stats().exportedAllocations, 1);
  await ep.release(desc);
  await ep.release(desc); // idempotent
  t.is(ep.stats().registrations, 0);
  t.is(ep.stats().exportedAllocations, 0);
});

test.serial('register refuses CPU tensors, and read refuses CPU destinations: INVALID naming the fix', async (t) => {
  const ep = await endpoint('t-cpu');
  const err = await rejectsWith(t, ep.register([makeTensor(tensorSpec(10, 4))]), 'INVALID', 'CUDA_IPC_UNSUPPORTED_DEVICE');
  t.regex(err.message, /tensor 0 is on 'cpu'.*Fix: move it to the GPU \(tensor\.cuda\(\)/);
  const p = await peers.startOne('cpu-dst');
  const specs = [cuda(10, 4)];
  const desc = await register(p, specs);
  await rejectsWith(t, ep.read(desc, [allocateTensor(tensorSpec(10, 4))], 5000), 'INVALID', 'CUDA_IPC_UNSUPPORTED_DEVICE');
});

test.serial('reads from another process: every byte, tensors at offsets inside segments and test blocks, repeated and concurrent', async (t) => {
  const ep = await endpoint('t-read');
  const p = await peers.startOne('read');
  const specs = [cuda(1, 1), cuda(1023, 2, 3), cuda(65_537, 4), cuda(100, 8, 1), cuda(3 * MiB / 4, 4)];
  const desc = await register(p, specs);
  t.true(desc.regions.some((r) => r.offset > 0), 'sub-allocated blocks');
  await readHere(t, ep, desc, specs);
  await Promise.all(Array.from({ length: 8 }, () => readHere(t, ep, desc, specs)));
  const s = ep.stats();
  t.is(s.reads, 9);
  t.true(s.hits > 0, 'later reads use the allocations opened by the first');
  t.true(s.opens <= 3, `${s.opens} allocations opened for 5 tensors`);
});

test.serial("the producer's hold: a tensor released after register keeps its block until release()", async (t) => {
  const ep = await endpoint('t-hold');
  const consumer = await peers.startOne('hold-consumer');
  const spec = cuda(4096, 4);
  const tensor = makeTensor(spec) as TransportTensor & { block: Tensor; deviceBuffer: { devicePtr: bigint }; release(): void };
  const desc = await ep.register([tensor]);
  const ptr = tensor.devicePtr;
  tensor.release(); // the user lets the tensor go: the registration still holds the block
  const fresh = Tensor.empty([tensor.block.nbytes], 'uint8', { device: 'cuda:0' });
  t.not(fresh.devicePtr, tensor.deviceBuffer.devicePtr, 'a new tensor does not get the held block');
  const r = await consumer.call<{ problems: string[] }>('read', { desc, specs: [spec], timeoutMs: 10_000 });
  t.deepEqual(r.problems, [], 'the consumer reads the right bytes from the held block');
  await ep.release(desc);
  t.truthy(ptr);
});

test.serial('a registration released: reads fail with INVALID (CUDA_IPC_REGISTRATION_RELEASED); others still read', async (t) => {
  const ep = await endpoint('t-released');
  const p = await peers.startOne('released');
  const specs = [cuda(1000, 4)];
  const reg = await p.call<{ handle: number; desc: CudaIpcDescriptor }>('register', { specs });
  const other = await register(p, specs);
  await readHere(t, ep, reg.desc, specs);
  await p.call('release', { handle: reg.handle });
  await rejectsWith(t, ep.read(reg.desc, [allocateTensor(specs[0])], 5000), 'INVALID', 'CUDA_IPC_REGISTRATION_RELEASED');
  await readHere(t, ep, other, specs);
});

test.serial('forged and foreign descriptors are INVALID, never a crash', async (t) => {
  const ep = await endpoint('t-forged');
  const p = await peers.startOne('forged');
  const specs = [cuda(256, 4)];
  const desc = await register(p, specs);
  const into = () => [allocateTensor(specs[0])];
  const forged: Array<[string, unknown, string]> = [
    ['not an object', 42, 'CUDA_IPC_BAD_DESCRIPTOR'],
    ["another transport's", { transport: 'nixl', version: 1 }, 'CUDA_IPC_BAD_DESCRIPTOR'],
    ['a handle that is not 64 bytes', { ...desc, regions: [{ ...desc.regions[0], handle: 'AAAA' }] }, 'CUDA_IPC_BAD_DESCRIPTOR'],
    ['a region past its allocation', { ...desc, regions: [{ ...desc.regions[0], offset: desc.regions[0].size }] }, 'CUDA_IPC_BAD_DESCRIPTOR'],
    ['a region on a device it does not list', { ...desc, regions: [{ ...desc.regions[0], device: 3 }] }, 'CUDA_IPC_BAD_DESCRIPTOR'],
    ['a malformed token', { ...desc, table: { ...desc.table, token: 'zz' } }, 'CUDA_IPC_BAD_DESCRIPTOR'],
    ['a token of no registration', { ...desc, table: { ...desc.table, token: '0123456789abcdef' } }, 'CUDA_IPC_REGISTRATION_RELEASED'],
    ['garbage in a well-formed handle', { ...desc, regions: [{ ...desc.regions[0], handle: Buffer.alloc(64, 7).toString('base64') }] }, 'CUDA_IPC_BAD_HANDLE'],
    ['garbage in the event handle', { ...desc, devices: [{ ...desc.devices[0], event: Buffer.alloc(64, 9).toString('base64') }] }, 'CUDA_IPC_BAD_HANDLE'],
    ['a device no process here has', { ...desc, devices: [{ ...desc.devices[0], id: 'ffff:ff:ff' }] }, 'CUDA_IPC_DEVICE_NOT_VISIBLE'],
  ];
  for (const [what, d, code] of forged) {
    const err = await rejectsWith(t, ep.read(d, into(), 5000), 'INVALID', code);
    t.log(`${what}: ${err.code}: ${err.message.slice(0, 140)}`);
  }
  const elsewhere = await rejectsWith(t, ep.read({ ...desc, producer: { ...desc.producer, host: 'another-boot-id/1' } }, into(), 5000), 'INVALID', 'CUDA_IPC_OTHER_HOST');
  t.regex(elsewhere.message, /cuda-ipc moves tensors between processes of one host/);
  await readHere(t, ep, desc, specs); // the real one still reads
});

test.serial('the handle cache: bounded (least recently used closed), and closes what was released once idle', async (t) => {
  const ep = await endpoint('t-cache', { handleCacheSize: 2, livenessIntervalMs: 50, idleCloseMs: 300 });
  const p = await peers.startOne('cache');
  // Tensors over 10 MiB get an allocation of their own: four handles.
  const big = () => [cuda((11 * MiB) / 4, 4)];
  const regs = await Promise.all(Array.from({ length: 4 }, async () => {
    const specs = big();
    return { specs, reg: await p.call<{ handle: number; desc: CudaIpcDescriptor }>('register', { specs }) };
  }));
  t.is(new Set(regs.map((r) => r.reg.desc.regions[0].handle)).size, 4);
  for (const { specs, reg } of regs) await readHere(t, ep, reg.desc, specs);
  let s: CudaIpcStats = ep.stats();
  t.is(s.opens, 4);
  t.is(s.evictions, 2, 'two closed to stay within 2');
  t.is(s.open, 2);
  await readHere(t, ep, regs[3].reg.desc, regs[3].specs);
  t.is(ep.stats().hits, 1, 'the most recent one was kept');
  // The producer's next tensor in released memory (its caching allocator reuses the segment),
  // registered within idleCloseMs, is read without opening the allocation again.
  await p.call('release', { handle: regs[3].reg.handle });
  await new Promise((r) => setTimeout(r, 100));
  const next = await p.call<{ handle: number; desc: CudaIpcDescriptor }>('register', { specs: regs[3].specs });
  t.is(next.desc.regions[0].handle, regs[3].reg.desc.regions[0].handle, 'the same segment serves the next tensor');
  await readHere(t, ep, next.desc, regs[3].specs);
  t.is(ep.stats().opens, 4, 'no new open');
  for (const h of [regs[0], regs[1], regs[2]].map((r) => r.reg.handle).concat(next.handle)) await p.call('release', { handle: h });
  t.true(await waitFor(() => ep.stats().open === 0), `released registrations: their allocations closed once idle (${JSON.stringify(ep.stats())})`);
  s = ep.stats();
  t.is(s.released, 2);
  t.is(s.closes, 4);
});

test.serial('producer death: reads fail with PEER_LOST, and what was opened for it is closed without a read', async (t) => {
  const ep = await endpoint('t-death', { livenessIntervalMs: 50 });
  const p = await peers.startOne('death');
  const specs = [cuda(1000, 4)];
  const desc = await register(p, specs);
  await readHere(t, ep, desc, specs);
  t.is(ep.stats().open, 1);
  t.is(ep.stats().producers, 1);
  const imports = usingMock ? mock.stats().imports : 0;
  await p.kill();
  t.true(await waitFor(() => ep.stats().open === 0 && ep.stats().producers === 0), 'the sweep closed the dead producer\'s allocation');
  await rejectsWith(t, ep.read(desc, [allocateTensor(specs[0])], 5000), 'PEER_LOST', 'CUDA_IPC_PRODUCER_LOST');
  if (usingMock) t.is(mock.stats().imports, imports - 1, 'no mapping of the dead process is left');
});

mockOnly('a read past its deadline: TIMEOUT; the receive tensor stays reserved until the late copy ends; later reads work', async (t) => {
  const ep = await endpoint('t-timeout');
  const p = await peers.startOne('timeout');
  const specs = [cuda(MiB / 4, 4)];
  const desc = await register(p, specs);
  await readHere(t, ep, desc, specs); // opened: the slow part is the copy
  const into = allocateTensor(specs[0]) as TransportTensor & { block: Tensor; deviceBuffer: { devicePtr: bigint } };
  mock.setDelayUs(1_500_000);
  const t0 = Date.now();
  const err = await rejectsWith(t, ep.read(desc, [into], 300), 'TIMEOUT', 'CUDA_IPC_TIMEOUT');
  mock.setDelayUs(0);
  t.true(Date.now() - t0 < 1200, 'failed at its deadline, not when the copy ended');
  t.regex(err.message, /do not use them/);
  t.is(ep.stats().retiredStreams, 1, 'the stream holding the late copy is not used again');
  const block = into.deviceBuffer.devicePtr;
  into.block.release(); // the caller drops the tensor: its block must wait for the copy
  const other = Tensor.empty([into.block.nbytes], 'uint8', { device: 'cuda:0' });
  t.not(other.devicePtr, block, 'a new tensor does not get the block the late copy writes');
  const t1 = Date.now();
  await readHere(t, ep, desc, specs);
  t.true(Date.now() - t1 < 1000, 'a new read does not queue behind the late copy');
  await new Promise((r) => setTimeout(r, 1500));
  const reused = Tensor.empty([into.block.nbytes], 'uint8', { device: 'cuda:0' });
  t.is(reused.devicePtr, block, 'once the late copy ended, the block is free again');
});

test.serial('close(): a pending read fails with CLOSED; later operations too', async (t) => {
  const ep = new CudaIpcEndpoint('t-close');
  const p = await peers.startOne('close');
  const specs = [cuda(MiB, 4)];
  const desc = await register(p, specs);
  if (usingMock) mock.setDelayUs(500_000);
  const pending = ep.read(desc, [allocateTensor(specs[0])], 30_000);
  await ep.close();
  if (usingMock) mock.setDelayUs(0);
  if (usingMock) await rejectsWith(t, pending, 'CLOSED', 'CUDA_IPC_CLOSED');
  else await pending.catch(() => undefined);
  await rejectsWith(t, ep.read(desc, [allocateTensor(specs[0])], 1000), 'CLOSED', 'CUDA_IPC_CLOSED');
  await rejectsWith(t, ep.register([makeTensor(specs[0])]), 'CLOSED', 'CUDA_IPC_CLOSED');
});

mockOnly('across devices: peer to peer where the devices can access each other, through the host where they cannot', async (t) => {
  const ep = await endpoint('t-devices', { stagingChunkBytes: 256 * 1024 });
  const p = await peers.startOne('devices');
  const specs = [cuda(MiB / 4, 4)]; // on the producer's cuda:0
  const desc = await register(p, specs);
  const onOne = [{ ...specs[0], device: 'cuda:1' }]; // received on this process's cuda:1
  await readHere(t, ep, desc, onOne);
  t.is(ep.stats().peerCopies, 1);
  t.true(mock.stats().peerEnabled.some(([a, b]) => a === 1 && b === 0), 'peer access enabled from cuda:1 to cuda:0');
  mock.setPeerAccess(false);
  try {
    const into = [allocateTensor(onOne[0])];
    mock.resetCalls();
    await ep.read(desc, into, 30_000);
    t.is(mock.stats().calls.cuMemcpyDtoHAsync_v2, 4, '1 MiB staged in 256 KiB chunks');
    t.is(ep.stats().hostCopies, 1);
    t.deepEqual(checkTensors(onOne, into).problems, []);
  } finally {
    mock.setPeerAccess(true);
  }
});

mockOnly("devices are matched by identity, not index: another CUDA_VISIBLE_DEVICES; a GPU the consumer does not see is INVALID", async (t) => {
  // The producer sees only physical GPU 1, as its cuda:0.
  const p = await peers.startOne('gpu1', { env: { CUDA_VISIBLE_DEVICES: '1' } });
  const specs = [cuda(10_000, 4)];
  const desc = await register(p, specs);
  const ep = await endpoint('t-identity');
  mock.resetCalls();
  await readHere(t, ep, desc, [{ ...specs[0], device: 'cuda:1' }]);
  t.is(mock.stats().calls.cuMemcpyPeerAsync ?? 0, 0, "its cuda:0 is this process's cuda:1: a copy on one device");
  // A consumer that sees only physical GPU 0 cannot reach the producer's GPU.
  const blind = await peers.startOne('gpu0', { env: { CUDA_VISIBLE_DEVICES: '0' } });
  const err = await t.throwsAsync(blind.call('read', { desc, specs, timeoutMs: 5000 }));
  t.regex(err!.message, /CUDA_IPC_DEVICE_NOT_VISIBLE/);
  t.regex(err!.message, /CUDA_VISIBLE_DEVICES=0/);
});
