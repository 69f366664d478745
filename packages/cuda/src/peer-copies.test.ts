/**
 * Copies across devices through the internal API, against the mock's two devices: peer to peer
 * when the devices allow it, through host memory otherwise; device identities that do not depend
 * on CUDA_VISIBLE_DEVICES; events destroyed on demand.
 */
import { mockOnly } from './test/driver-under-test';
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { RuntimeStateError, Tensor } from '@tensorwire/core';
import { CudaError } from './index';
import { canAccessPeer, copyBetweenDevices, copyHostToDevice, deviceIdentity, deviceWithIdentity, enablePeerAccess, Event, Stream } from './internal';
import { mock } from './testing';

const ints = (n: number, device: string) => Tensor.arange(n, undefined, 1, { dtype: 'int32', device });
const ptr = (t: Tensor) => ({ device: t.deviceBuffer!.deviceIndex, ptr: t.devicePtr! });

test.afterEach.always(() => {
  try {
    mock.setPeerAccess(true);
  } catch {
    // a real driver: nothing to restore
  }
});

mockOnly('device identities name the same GPU in processes with other CUDA_VISIBLE_DEVICES', (t) => {
  t.not(deviceIdentity(0), deviceIdentity(1));
  t.regex(deviceIdentity('cuda:1'), /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}$/);
  t.is(deviceWithIdentity(deviceIdentity(1)), 1);
  t.is(deviceWithIdentity('ffff:ff:ff'), -1);
  // A process that sees only physical device 1 calls it cuda:0, with the same identity.
  const script = "require('./index'); const i = require('./internal'); console.log(i.deviceIdentity(0), i.deviceWithIdentity(process.argv[1]))";
  const out = execFileSync(process.execPath, ['-e', script, deviceIdentity(0)], {
    cwd: __dirname,
    env: { ...process.env, CUDA_VISIBLE_DEVICES: '1' },
    encoding: 'utf8',
  }).trim();
  t.is(out, `${deviceIdentity(1)} -1`, "its cuda:0 is this process's cuda:1, and it does not see this process's cuda:0");
});

mockOnly('a copy across devices that can access each other goes peer to peer, with peer access enabled once', async (t) => {
  t.true(canAccessPeer(0, 1));
  t.true(canAccessPeer(1, 1), 'a device reaches its own memory');
  const src = ints(100_000, 'cuda:1');
  const dst = Tensor.zeros([100_000], { dtype: 'int32', device: 'cuda:0' });
  mock.resetCalls();
  t.is(await copyBetweenDevices(ptr(dst), ptr(src), src.nbytes), 'peer');
  t.is(await copyBetweenDevices(ptr(dst), ptr(src), src.nbytes), 'peer');
  const calls = mock.stats().calls;
  t.is(calls.cuCtxEnablePeerAccess, 1, 'enabled once per pair and process');
  t.is(calls.cuMemcpyPeerAsync, 2);
  t.is(calls.cuMemcpyDtoHAsync_v2 ?? 0, 0, 'nothing through the host');
  t.deepEqual(mock.stats().peerEnabled, [[0, 1]]);
  t.is(dst.sum(), src.sum());
  t.notThrows(() => enablePeerAccess(0, 1), 'again: nothing to do');
});

mockOnly('a copy across devices without peer access goes through host memory, in chunks, after the events', async (t) => {
  mock.setPeerAccess(false);
  t.false(canAccessPeer(0, 1));
  const err = t.throws(() => enablePeerAccess(1, 0), { instanceOf: CudaError });
  t.is(err!.code, 'CUDA_ERROR_PEER_ACCESS_UNSUPPORTED');
  const n = 300_001;
  const src = Tensor.zeros([n], { dtype: 'int32', device: 'cuda:1' });
  const dst = Tensor.zeros([n], { dtype: 'int32', device: 'cuda:0' });
  // The source is written on a stream of its own, slowly; only the event orders the copy after it.
  const writer = new Stream(1);
  const ready = new Event(1);
  const host = Int32Array.from({ length: n }, (_, i) => i);
  mock.setDelayUs(20_000);
  mock.resetCalls();
  const writing = copyHostToDevice(ptr(src), new Uint8Array(host.buffer), { stream: writer, record: ready });
  const chunkBytes = 512 * 1024;
  t.is(await copyBetweenDevices(ptr(dst), ptr(src), src.nbytes, { after: [ready], chunkBytes }), 'host');
  await writing;
  mock.setDelayUs(0);
  writer.destroy();
  const chunks = Math.ceil(src.nbytes / chunkBytes);
  const calls = mock.stats().calls;
  t.is(calls.cuMemcpyDtoHAsync_v2, chunks);
  t.is(calls.cuMemcpyHtoDAsync_v2, chunks + 1, 'the chunks, and the write of the source');
  t.is(calls.cuMemcpyPeerAsync ?? 0, 0);
  t.is(dst.at(n - 1), n - 1);
  t.is(dst.sum(), (n * (n - 1)) / 2);
  t.is(await copyBetweenDevices(ptr(dst), ptr(src), 0), 'host', '0 bytes: nothing to stage');
});

mockOnly('a destroyed event is refused by later operations; operations submitted before still wait for it', async (t) => {
  const e = new Event(0);
  const x = Tensor.zeros([1000], { dtype: 'int32', device: 'cuda:0' });
  mock.setDelayUs(10_000);
  const recorded = e.record();
  const y = Tensor.zeros([1000], { dtype: 'int32', device: 'cuda:0' });
  const copied = copyBetweenDevices(ptr(y), ptr(x), x.nbytes, { after: [e] });
  e.destroy();
  t.true(e.destroyed);
  e.destroy(); // idempotent
  await Promise.all([recorded, copied]);
  mock.setDelayUs(0);
  t.throws(() => e.query(), { instanceOf: RuntimeStateError, message: /destroyed/ });
  await t.throwsAsync(e.record(), { instanceOf: RuntimeStateError });
  await t.throwsAsync(copyBetweenDevices(ptr(y), ptr(x), x.nbytes, { after: [e] }), { instanceOf: RuntimeStateError });
});
