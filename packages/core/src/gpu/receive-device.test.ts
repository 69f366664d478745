/**
 * Receive tensors of device tensors: allocated on the consumer's cuda:0 (the producer's index
 * means nothing in another process), and a typed error naming the fixes, before any transfer,
 * when this process cannot hold CUDA tensors.
 */
import 'reflect-metadata';
import test from 'ava';
import { DeviceUnavailableError, TransferError } from '../errors/errors';
import { extractTensors } from '../objects/codec';
import { OutOfBandSerializer } from '../objects/serializer';
import { registerDeviceBackend, unregisterDeviceBackend, type DeviceBackend, type DeviceBuffer } from '../tensor/device';
import { Tensor } from '../tensor/tensor';
import type { OneSidedEndpoint, TransportTensor } from '../transport/spi';
import { tensorMetas, type GpuObjectInfo, type TensorMeta } from './gpu-object';
import { materialize, type MaterializeDeps } from './materialize';
import { receiveDevices } from './receive-device';

/** Device memory on the host: enough for allocation and the byte checks here. */
function fakeCuda(devices = 2): DeviceBackend {
  const mem = new Map<bigint, Uint8Array>();
  let next = 0x1000n;
  return {
    deviceCount: () => devices,
    allocate(deviceIndex: number, nbytes: number): DeviceBuffer {
      const devicePtr = next;
      next += BigInt(nbytes) + 256n;
      mem.set(devicePtr, new Uint8Array(nbytes));
      return { devicePtr, nbytes, deviceIndex };
    },
    copyFromHost: (dst, src) => mem.get(dst.devicePtr)!.set(src),
    copyToHost: (src, dst) => dst.set(mem.get(src.devicePtr)!.subarray(0, dst.byteLength)),
  };
}

function withBackend(backend: DeviceBackend | undefined, fn: () => Promise<void>): Promise<void> {
  if (backend) registerDeviceBackend('cuda', backend);
  return fn().finally(() => unregisterDeviceBackend('cuda'));
}

const serializer = new OutOfBandSerializer();

/** A GPU object of `metas` made by 'actor-p' over the one-sided 'fake-rma'. */
function gpuObject(metas: TensorMeta[]): GpuObjectInfo {
  const { skeleton } = extractTensors(metas.map((m) => Tensor.empty(m.shape, m.dtype)));
  return {
    objectId: 'obj-1', transport: 'fake-rma', producerId: 'actor-p', producerName: 'producer',
    skeleton: serializer.encode(skeleton), metas, descriptor: { fake: true },
  } as GpuObjectInfo;
}

/** An endpoint that records what it was asked to read into (and has a CPU pool). */
function recordingEndpoint() {
  const reads: TransportTensor[][] = [];
  let pooled = 0;
  const ep: OneSidedEndpoint = {
    kind: 'one-sided',
    register: async () => ({}),
    read: async (_desc, into) => void reads.push([...into]),
    release: async () => undefined,
    allocate: (n) => (pooled++, new Uint8Array(n)),
    close: async () => undefined,
  };
  return { ep, reads, pooled: () => pooled };
}

function deps(ep: OneSidedEndpoint): MaterializeDeps {
  return {
    serializer,
    decodeHooks: {},
    selfName: 'consumer',
    localTensors: () => undefined,
    group: () => undefined,
    endpoint: async () => ep,
  };
}

const cudaMeta = (device: string): TensorMeta => ({ dtype: 'float32', shape: [4], device, nbytes: 16 });
const cpuMeta: TensorMeta = { dtype: 'int32', shape: [3], device: 'cpu', nbytes: 12 };

test.serial("device tensors are received on the consumer's cuda:0, whatever the producer's index; CPU ones from the pool", (t) =>
  withBackend(fakeCuda(2), async () => {
    const gpu = gpuObject([cudaMeta('cuda:3'), cpuMeta, cudaMeta('cuda:1')]);
    t.deepEqual(receiveDevices(gpu, 'consumer'), ['cuda:0', 'cpu', 'cuda:0'], "cuda:3 of the producer does not exist here, and need not");
    const { ep, reads, pooled } = recordingEndpoint();
    const m = await materialize({ k: 'gpu-read', gpu, timeoutMs: 1000 }, deps(ep));
    t.deepEqual(reads[0].map((x) => x.device), ['cuda:0', 'cpu', 'cuda:0']);
    t.true(reads[0][0].devicePtr !== undefined && reads[0][0].deviceBuffer !== undefined, 'device receive tensors carry their buffer');
    t.is(pooled(), 1, 'only the CPU tensor comes from the registered pool');
    t.deepEqual(tensorMetas(m.received).map((x) => x.device), ['cuda:0', 'cpu', 'cuda:0']);
  }));

test.serial('without a CUDA backend: DeviceUnavailableError naming the object, the producer and the fixes, before any read', (t) =>
  withBackend(undefined, async () => {
    const { ep, reads } = recordingEndpoint();
    const gpu = gpuObject([cpuMeta, cudaMeta('cuda:1')]);
    const err = await t.throwsAsync(materialize({ k: 'gpu-read', gpu, timeoutMs: 1000 }, deps(ep)), { instanceOf: DeviceUnavailableError });
    t.false(err instanceof TransferError, 'not a transfer failure: nothing was transferred');
    t.is((err as DeviceUnavailableError).code, 'TRANSPORT_UNAVAILABLE');
    t.regex(err!.message, /object obj-1 \(transport fake-rma\) holds CUDA tensors \(on cuda:1 of its producer, actor producer\)/);
    t.regex(err!.message, /receiving them in consumer needs a CUDA device here/);
    t.regex(err!.message, /no 'cuda' device backend is registered in this process/);
    t.regex(err!.message, /Fix: import @tensorwire\/cuda/);
    t.regex(err!.message, /tensor\.cpu\(\)/);
    t.regex(err!.message, /get\(ref, \{ tensorTransport: 'object-store' \}\)/);
    t.is(reads.length, 0);
    t.deepEqual(receiveDevices(gpuObject([cpuMeta]), 'consumer'), ['cpu'], 'CPU tensors need no backend');
  }));

test.serial('a backend that sees no device: the same error, with its reason', (t) => {
  const none: DeviceBackend = {
    ...fakeCuda(),
    deviceCount: () => {
      throw new DeviceUnavailableError('cuda', 'no NVIDIA driver is installed', 'install it');
    },
  };
  return withBackend(none, async () => {
    const err = t.throws(() => receiveDevices(gpuObject([cudaMeta('cuda:0')]), 'driver'), { instanceOf: DeviceUnavailableError });
    t.regex(err!.message, /receiving them in driver needs a CUDA device here .*but CUDA is not available here: no NVIDIA driver is installed/);
  });
});

test.serial('a two-sided receive allocates on cuda:0 too, and fails the same way without a backend', async (t) => {
  const into: TransportTensor[][] = [];
  const group = {
    name: 'g', rank: 1, worldSize: 2,
    recv: async (tensors: readonly TransportTensor[]) => void into.push([...tensors]),
  };
  const d: MaterializeDeps = { ...deps(recordingEndpoint().ep), group: () => group as never };
  const gpu = gpuObject([cudaMeta('cuda:1')]);
  await withBackend(fakeCuda(1), async () => {
    await materialize({ k: 'gpu-recv', gpu, group: 'g', srcRank: 0, tag: 1, timeoutMs: 1000 }, d);
    t.is(into[0][0].device, 'cuda:0');
  });
  await t.throwsAsync(materialize({ k: 'gpu-recv', gpu, group: 'g', srcRank: 0, tag: 1, timeoutMs: 1000 }, d), { instanceOf: DeviceUnavailableError });
  t.is(into.length, 1);
});
