/**
 * `@actor` and `@method()` compiled as standard (TC39) decorators, TypeScript 5's default:
 * this project sets neither experimentalDecorators nor emitDecoratorMetadata and imports no
 * reflect-metadata.
 */
import test from 'ava';
import * as path from 'node:path';
import { init, shutdown, spawn, get, actorStats, method, InvalidArgumentError, InvalidTransportError } from '@tensorwire/core';
import { StdActor, StdDerived } from './actors';

test.before(async () => {
  // Core's pure-TypeScript test transport, built by core's own project next to this folder.
  await init({ transports: [path.join(__dirname, '..', 'fixtures', 'tcp-transport.js')] });
});
test.after.always(async () => {
  await shutdown();
});

test.serial('a standard-decorated actor spawns, serves calls and keeps its @method options', async (t) => {
  const a = await spawn(StdActor, { args: ['hey'] });
  t.is(await get(a.hello.remote('ray')), 'hey ray');
  t.is(await get(a.sum.remote(a.make.remote(2))), 6);
  t.like(await actorStats(a), { gpuObjects: 1 }, "make() returned a GPU object of 'tcp-test'");
  t.throws(() => a.onGpu.remote(), { instanceOf: InvalidTransportError, message: /unknown tensor transport 'nccl'/ });
});

test.serial('a subclass keeps the method options of its base class', async (t) => {
  const d = await spawn(StdDerived);
  t.is(await get(d.hello.remote('ray')), 'hi ray');
  t.is(await get(d.sum.remote(d.make.remote(1))), 3);
  t.like(await actorStats(d), { gpuObjects: 1 });
});

test('@method() on a static method fails when the class is defined, saying what it decorates', (t) => {
  const err = t.throws(() => {
    class Misused {
      @method()
      static helper(): number {
        return 1;
      }
    }
    return Misused;
  }, { instanceOf: InvalidArgumentError });
  t.regex(err!.message, /@method\(\) decorates a public instance method with a string name, not a static method helper/);
});

test('a typo in a transport name fails at compile time and when the class is defined', (t) => {
  const err = t.throws(() => {
    class Typo {
      // @ts-expect-error: 'tcp_test' is not a declared transport name
      @method({ tensorTransport: 'tcp_test' })
      f(): number {
        return 1;
      }
    }
    return Typo;
  }, { instanceOf: InvalidTransportError });
  t.regex(err!.message, /did you mean 'tcp-test'\?/);
});
