/**
 * Copies run off the JavaScript thread: the event loop keeps turning during a 1 GiB copy; work on
 * one stream runs in order, work on two streams does not wait for each other; events order work
 * across streams. Checked by the order things happen in (the mock makes each operation slow).
 */
import { mockOnly, usingMock } from './test/driver-under-test';
import test from 'ava';
import { Tensor } from '@tensorwire/core';
import { Stream, synchronize } from './index';
import { copyDeviceToHost, copyHostToDevice, Event } from './internal';
import { mock } from './testing';

const GiB = 2 ** 30;

test.serial('a 1 GiB host-to-device copy does not freeze the event loop', async (t) => {
  const host = Tensor.empty([GiB], 'uint8');
  host.bytes().fill(7, GiB - 16);
  if (usingMock) {
    mock.setDelayUs(300_000); // at least 0.3 s per copy, whatever the machine
    t.teardown(() => mock.setDelayUs(0));
  }
  let done = false;
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 1);
  const copy = host.toAsync('cuda:0').then((g) => {
    done = true;
    return g;
  });
  const immediateFirst = await new Promise<boolean>((resolve) => setImmediate(() => resolve(!done)));
  t.true(immediateFirst, 'a callback queued after the copy started ran before the copy finished');
  const timerFirst = await new Promise<boolean>((resolve) => setTimeout(() => resolve(!done), 20));
  t.true(timerFirst, 'so did a timer');
  const g = await copy;
  clearInterval(ticker);
  t.true(ticks >= 5, `the loop kept turning during the copy (${ticks} ticks of a 1 ms interval)`);
  t.is(g.nbytes, GiB);
  const tail = new Uint8Array(16);
  await copyDeviceToHost(tail, { device: 0, ptr: g.devicePtr! + BigInt(GiB - 16) });
  t.deepEqual([...tail], new Array(16).fill(7));
  g.release();
});

test.serial('a synchronous copy, by contrast, holds the thread until it is done', (t) => {
  if (usingMock) {
    mock.setDelayUs(50_000);
    t.teardown(() => mock.setDelayUs(0));
  }
  let ran = false;
  setImmediate(() => (ran = true));
  const g = Tensor.ones([16]).cuda();
  t.false(ran);
  t.is(g.sum(), 16);
  g.release();
});

mockOnly('one stream runs in order; another stream does not wait for it', async (t) => {
  const a = Tensor.zeros([1024], { device: 'cuda:0' });
  const b = Tensor.zeros([1024], { device: 'cuda:0' });
  const c = Tensor.zeros([1024], { device: 'cuda:0' });
  const src = new Uint8Array(4096).fill(1);
  const s = new Stream('cuda:0');
  t.teardown(() => s.destroy());
  mock.setDelayUs(200_000);
  t.teardown(() => mock.setDelayUs(0));
  const order: string[] = [];
  const first = copyHostToDevice({ device: 0, ptr: a.devicePtr! }, src).then(() => order.push('default 1'));
  const second = copyHostToDevice({ device: 0, ptr: b.devicePtr! }, src).then(() => order.push('default 2'));
  const other = copyHostToDevice({ device: 0, ptr: c.devicePtr! }, src, { stream: s }).then(() => order.push('stream'));
  await Promise.all([first, second, other]);
  t.is(order.indexOf('default 2'), 2, `the second copy on the default stream came last: ${order.join(', ')}`);
  t.true(order.indexOf('default 1') < order.indexOf('default 2'));
  const viaStream = await Tensor.arange(8, undefined, 1, { dtype: 'int64' }).toAsync('cuda:0', { stream: s });
  await s.synchronize();
  t.deepEqual(viaStream.toArray(), [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n]);
  s.destroy();
  t.true(s.destroyed);
  await t.throwsAsync(Tensor.ones([2]).toAsync('cuda:0', { stream: s }), { message: /stream was destroyed; make a new Stream/ });
});

mockOnly('events: recorded after earlier work; another stream waits for them on the GPU', async (t) => {
  const a = Tensor.zeros([1024], { device: 'cuda:0' });
  const b = Tensor.zeros([1024], { device: 'cuda:0' });
  const s = new Stream(0);
  t.teardown(() => s.destroy());
  const ready = new Event(0);
  t.true(ready.query(), 'never recorded: complete');
  mock.setDelayUs(150_000);
  t.teardown(() => mock.setDelayUs(0));
  const order: string[] = [];
  const produce = copyHostToDevice({ device: 0, ptr: a.devicePtr! }, new Uint8Array(4096).fill(9), { record: ready }).then(() => order.push('produced'));
  // Queued on another stream at once, but runs only after `ready` on the GPU.
  const consume = copyHostToDevice({ device: 0, ptr: b.devicePtr! }, new Uint8Array(4096), { stream: s, after: [ready] }).then(() => order.push('consumed'));
  await Promise.all([produce, consume]);
  t.deepEqual(order, ['produced', 'consumed']);
  await ready.synchronize();
  t.true(ready.query());
  await ready.record();
  await synchronize('cuda:0');
  t.is(a.at(0), Tensor.fromBytes(new Uint8Array(4).fill(9), 'float32', [1]).at(0));
  t.throws(() => ready.ipcHandle(), { message: /only an event made with \{ interprocess: true \}/ });
});

mockOnly('after: [event] follows the JavaScript order even when the record reaches the driver late', async (t) => {
  const p = new Stream(0);
  const s = new Stream(0);
  t.teardown(() => [p, s].forEach((x) => x.destroy()));
  const a = Tensor.zeros([1024], { device: 'cuda:0' });
  const b = Tensor.zeros([1024], { device: 'cuda:0' });
  const ready = new Event(0);
  mock.setDelayUs(150_000);
  t.teardown(() => mock.setDelayUs(0));
  const order: string[] = [];
  // Stream p is busy for 0.15 s before its lane even issues the record...
  const slow = copyHostToDevice({ device: 0, ptr: a.devicePtr! }, new Uint8Array(4096), { stream: p }).then(() => order.push('slow'));
  const recorded = ready.record({ stream: p });
  t.false(ready.query(), 'a submitted record counts as not done');
  // ...and this copy on stream s, submitted after the record, still waits for it.
  const waited = copyHostToDevice({ device: 0, ptr: b.devicePtr! }, new Uint8Array(4096), { stream: s, after: [ready] }).then(() => order.push('after the event'));
  await Promise.all([slow, recorded, waited]);
  t.deepEqual(order, ['slow', 'after the event']);
});
