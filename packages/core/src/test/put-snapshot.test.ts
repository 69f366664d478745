/** The driver's put stores a snapshot, as Ray's put: later changes to the caller's buffers do not reach it. */
import test from 'ava';
import { init, shutdown, spawn, get, put, Tensor } from '../index';
import { Counter } from './fixtures/actors';

test.before(async () => {
  await init();
});
test.after.always(async () => {
  await shutdown();
});

test.serial('changing a tensor or a buffer after put changes neither get nor what an actor receives', async (t) => {
  const tensor = Tensor.full([1 << 16], 1);
  const buf = Buffer.alloc(1 << 20, 7);
  const ref = put({ tensor, buf });
  (tensor.data as Float32Array).fill(9);
  buf.fill(0);
  const back = (await get(ref)) as { tensor: Tensor; buf: Uint8Array };
  t.is(back.tensor.sum(), 1 << 16);
  t.is(back.buf[0], 7);
  t.is(back.buf[(1 << 20) - 1], 7);
  const a = await spawn(Counter);
  t.is(await get(a.echo.remote(ref)).then((v) => ((v as { tensor: Tensor }).tensor).sum()), 1 << 16);
});
