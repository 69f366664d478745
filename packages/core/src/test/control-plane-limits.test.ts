/**
 * Limits seen through the public API: maxFrameBytes on both sides, deeply nested values, and
 * init's host/port checks and listen errors, each a typed TensorwireError naming the fix.
 */
import test from 'ava';
import * as net from 'node:net';
import { init, shutdown, spawn, get, put, InvalidArgumentError, RuntimeStateError, TensorwireError } from '../index';
import { Counter } from './fixtures/actors';

const nested = (depth: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = { next: v };
  return v;
};

test.serial('a message above maxFrameBytes fails at its sender, driver or actor, naming the sizes and the option', async (t) => {
  await init({ maxFrameBytes: 256 * 1024 });
  t.teardown(shutdown);
  const a = await spawn(Counter);
  const big = 512 * 1024;
  // driver -> actor: the call is refused in the driver
  const sent = await t.throwsAsync(get(a.echo.remote(Buffer.alloc(big))), { instanceOf: InvalidArgumentError });
  t.regex(sent!.message, /message of 524,\d{3} bytes exceeds .*limit of 262,144 bytes \(maxFrameBytes\).*init\(\{ maxFrameBytes \}\)/);
  // actor -> driver: the actor knows the limit (from its spec) and refuses its own result
  const returned = await t.throwsAsync(get(a.bytes.remote(big)), { instanceOf: InvalidArgumentError });
  t.regex(returned!.message, /exceeds .*limit of 262,144 bytes \(maxFrameBytes\)/);
  // Nobody hung up: the same actor goes on serving, and messages under the limit pass.
  t.is(((await get(a.echo.remote(Buffer.alloc(1000)))) as Buffer).length, 1000);
  t.is(await get(a.inc.remote()), 1);
});

test.serial('values nested 100 000 deep are refused with an InvalidArgumentError naming the depth limit', async (t) => {
  await init();
  t.teardown(shutdown);
  const a = await spawn(Counter);
  const deep = nested(100_000);
  t.throws(() => a.echo.remote(deep), { instanceOf: InvalidArgumentError, message: /nested more than 1000 levels deep.*flatten/ });
  t.throws(() => put(deep), { instanceOf: InvalidArgumentError, message: /nested more than 1000 levels/ });
  // Deep but within the limit still travels both ways.
  t.deepEqual(await get(a.echo.remote(nested(500))), nested(500));
});

test.serial('init checks host and port, and listen errors are typed and name the address', async (t) => {
  for (const bad of [{ port: 70_000 }, { port: 1.5 }, { port: -1 }, { host: '' }, { host: 42 as unknown as string }]) {
    await t.throwsAsync(init(bad), { instanceOf: InvalidArgumentError, message: /init: (port|host)/ }, JSON.stringify(bad));
  }
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => taken.close());
  const port = (taken.address() as net.AddressInfo).port;
  const err = await t.throwsAsync(init({ host: '127.0.0.1', port }), { instanceOf: RuntimeStateError });
  t.true(err instanceof TensorwireError);
  t.regex(err!.message, new RegExp(`127\\.0\\.0\\.1:${port}.*EADDRINUSE`));
  // A failed init leaves nothing behind: the next one works.
  await init({ host: '127.0.0.1' });
  t.teardown(shutdown);
  const a = await spawn(Counter);
  t.is(await get(a.inc.remote()), 1);
});
