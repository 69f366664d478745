/** CUDA IPC through the internal API against the mock: handles and events really cross processes. */
import { mockOnly, usingMock } from './test/driver-under-test';
import test from 'ava';
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { Tensor } from '@tensorwire/core';
import { CudaError } from './index';
import { allocationOf, closeIpcMemHandle, copyDeviceToDevice, Event, ipcMemHandle, openIpcMemHandle } from './internal';
import { mock } from './testing';

interface Exported {
  handle: number[];
  offset: number;
  size: number;
  nbytes: number;
  event: number[];
}

function startProducer(): Promise<{ child: ChildProcess; msg: Exported }> {
  const child = fork(path.join(__dirname, 'test', 'fixtures', 'ipc-producer.js'), [], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', (msg) => resolve({ child, msg: msg as Exported }));
    child.once('exit', (code) => reject(new Error(`the producer exited (${code}) before sending its handles`)));
  });
}

test.serial('another process opens the memory and the event, and reads the tensor after the event', async (t) => {
  const { child, msg } = await startProducer();
  const exited = new Promise((r) => child.once('exit', r));
  t.teardown(() => child.kill());
  t.true(msg.offset > 0 || msg.size >= msg.nbytes);
  const handle = Buffer.from(msg.handle);
  const base = openIpcMemHandle(0, handle);
  t.is(openIpcMemHandle('cuda:0', handle), base, 'opened again: the same address (the driver counts opens)');
  if (usingMock) t.is(mock.stats().imports, 1);
  const ready = Event.fromIpcHandle(0, Buffer.from(msg.event));
  t.true(ready.imported);
  const into = Tensor.empty([1000], 'int32', { device: 'cuda:0' });
  await copyDeviceToDevice({ device: 0, ptr: into.devicePtr! }, { device: 0, ptr: base + BigInt(msg.offset) }, msg.nbytes, { after: [ready] });
  t.is(into.at(999), 999);
  t.is(into.sum(), (999 * 1000) / 2);
  closeIpcMemHandle(0, base);
  if (usingMock) t.is(mock.stats().imports, 1, 'one open left');
  closeIpcMemHandle(0, base);
  if (usingMock) t.is(mock.stats().imports, 0);
  t.throws(() => closeIpcMemHandle(0, base), { instanceOf: CudaError });
  child.send('exit');
  await exited;
  const err = t.throws(() => openIpcMemHandle(0, handle), { instanceOf: CudaError });
  if (usingMock) t.is(err!.code, 'CUDA_ERROR_INVALID_HANDLE', 'the exporter is gone, and its memory with it');
});

mockOnly("a process cannot open its own handles (as with the real driver); handles name the allocation's base", (t) => {
  const a = Tensor.zeros([16], { device: 'cuda:0' });
  const b = Tensor.zeros([16], { device: 'cuda:0' });
  const range = allocationOf(b.deviceBuffer!);
  t.true(range.offset > 0, 'b is a block inside a larger allocation');
  t.deepEqual(ipcMemHandle(0, b.devicePtr!), ipcMemHandle(0, range.base), 'a handle names the whole allocation');
  const err = t.throws(() => openIpcMemHandle(0, ipcMemHandle(0, a.devicePtr!)), { instanceOf: CudaError });
  t.is(err!.code, 'CUDA_ERROR_INVALID_CONTEXT');
  t.throws(() => new Event(0, { interprocess: true }).ipcHandle().length === 64 && openIpcMemHandle(0, Buffer.alloc(64)), {
    instanceOf: CudaError,
    message: /CUDA_ERROR_INVALID_VALUE/,
  });
});
