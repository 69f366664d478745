/**
 * System-level tests: the spec's GPU-object behaviour through the public runtime API
 * ('@tensorwire/core', API.md), with the transport under test chosen per call.
 */
import type { ExecutionContext } from 'ava';
import { nextSeed } from '../endpoint/env';
import { settleWithin } from '../endpoint/env';
import type { EffectiveOptions } from '../options';
import { MiB } from '../options';
import type { Registrar } from '../registrar';
import type { ResolvedTarget } from '../target';
import { core, missingApi, type ActorStats } from './core-api';
import { ActorSet, addSystemTransport, crash, deathNoticed, nameOf, pidOf, ensureRuntime, eventually, shutdownRuntime } from './runtime-env';
import { registerBeyondTests } from './beyond.tests';
import { registerFaultTests } from './faults.tests';
import type { SystemKit } from './kit';
import { registerShutdownLeakTests } from './shutdown-leaks.tests';
import { registerSoakTests } from './soak.tests';
import { ALL_DTYPES, fingerprint, makeInts, makeMixed, makeNested, makeTensor, withoutDevices, type TensorRecipe } from './values';

export interface SystemSuiteContext {
  readonly target: ResolvedTarget;
  readonly options: EffectiveOptions;
  /** The devices whose variant runs (CUDA: when it can, see cuda-setup.ts); others are skipped. */
  readonly devices: readonly ('cpu' | 'cuda')[];
}

type T = ExecutionContext<unknown>;

const sumInts = (n: number) => (n * (n - 1)) / 2;

/** The device tensors of a variant are made on, in every actor: the CPU, or cuda:0. */
const tensorDevice = (device: 'cpu' | 'cuda'): string | undefined => (device === 'cuda' ? 'cuda:0' : undefined);

export function registerSystemTests(r: Registrar, ctx: SystemSuiteContext): void {
  const missing = missingApi();
  if (missing.length) {
    r.skip('system: all tests', `@tensorwire/core does not export ${missing.join(', ')} (the runtime) yet`);
    return;
  }
  const supports = ctx.target.plugin.supports;
  if (!supports.devices.includes('cpu')) r.skip('system: all tests', `the CPU variant: supports.devices is [${supports.devices.join(', ')}]`);
  if (!supports.devices.includes('cuda')) r.skip('system/cuda: all tests', `the CUDA variant: supports.devices is [${supports.devices.join(', ')}]`);
  if (ctx.devices.length === 0) return;
  if (addSystemTransport(ctx.target.module, ctx.options)) r.after(shutdownRuntime);
  for (const device of ctx.devices) registerSystemTestsOn(r, ctx, device);
}

/** The system-level tests with tensors on `device` (titles 'system: ' for the CPU, 'system/cuda: '). */
function registerSystemTestsOn(r: Registrar, ctx: SystemSuiteContext, device: 'cpu' | 'cuda'): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ConformanceActor } = require('./actors') as typeof import('./actors');
  const name = ctx.target.name;
  const supports = ctx.target.plugin.supports;
  const oneSided = ctx.target.plugin.kind === 'one-sided';
  const transport = { tensorTransport: name };
  const deadline = Math.max(ctx.options.timeoutMs, 10_000) + 30_000;
  const d = device === 'cpu' ? 'system: ' : 'system/cuda: ';
  const dev = tensorDevice(device);
  const recipe = (dtype: string, shape: number[]): TensorRecipe => ({ seed: nextSeed(), dtype, shape, ...(dev ? { device: dev } : {}) });
  /**
   * Fingerprints of what `get` gives: device tensors may come back as CPU copies (through the
   * object store), so the CUDA variant compares them without their devices.
   */
  const strip = (fp: unknown): unknown => (dev ? withoutDevices(fp) : fp);
  const fpGet = (v: unknown): unknown => strip(fingerprint(v));

  /** A producer and consumer(s), in a group of this backend when the transport needs one. */
  const setup = async (t: T, consumers = 1) => {
    const set = new ActorSet(t, `conf-${name}`);
    const p = await set.spawn(ConformanceActor, 'producer');
    const cs = await Promise.all(Array.from({ length: consumers }, () => set.spawn(ConformanceActor, 'consumer')));
    const group = !oneSided ? await set.group([p, ...cs], name) : undefined;
    return { set, p, c: cs[0], cs, group };
  };
  /** A producer-side call whose result stays in the producer (a GPU object). */
  const produce = (h: any, method: string, ...args: unknown[]) => h[method].options(transport).remote(...args);
  const call = (h: any, method: string, ...args: unknown[]) => core.get(h[method].remote(...args));

  const test = (title: string, fn: (t: T) => Promise<void>, initOverrides: Record<string, unknown> = {}) =>
    r.test(d + title, async (t) => {
      await ensureRuntime(initOverrides);
      await fn(t);
    }, deadline * 3);
  const kit: SystemKit = {
    r, d, name, supports, oneSided, options: ctx.options, deadline, ConformanceActor, test, produce, call,
    setup: (t, consumers) => setup(t, consumers), device: dev, recipe, fpGet,
  };

  test('walkthrough: producer returns a tensor, consumer sums it, intra-actor sum, get', async (t) => {
    const { p, c, group } = await setup(t);
    if (group) {
      t.is(group.backend, name);
      t.is(group.rankOf(p), 0);
      t.is(group.rankOf(c), 1);
    }
    const ref = produce(p, 'makeInts', 1000, dev);
    t.is(await call(c, 'sum', ref), sumInts(1000), 'consumer sum (transfer producer -> consumer)');
    const both = await core.get([p.sum.remote(ref), c.sum.remote(ref)]);
    t.deepEqual(both, [sumInts(1000), sumInts(1000)], 'intra-actor and transferred sums');
    const copy = await core.get(ref);
    t.true(core.Tensor.isTensor(copy), 'get(ref) gives a Tensor');
    t.deepEqual(fpGet(copy), fpGet(makeInts(1000, dev)));
    const rec = recipe('float32', [500, 300]);
    const ref2 = produce(p, 'make', rec);
    t.deepEqual(await call(c, 'fp', ref2), fingerprint(makeTensor(rec)), 'random float32 [500, 300] arrives byte-exact');
  });

  test('every dtype and shapes: scalar, empty, 3-d, 1-d, in one result', async (t) => {
    const { p, c } = await setup(t);
    const recs = [
      ...ALL_DTYPES.map((dt) => recipe(dt, [33])),
      recipe('float32', []),
      recipe('int64', [0]),
      recipe('float16', [2, 0, 3]),
      recipe('int32', [2, 3, 4]),
      recipe('uint8', [100_003]),
    ];
    const ref = produce(p, 'makeMany', recs);
    const expected = fingerprint(recs.map(makeTensor));
    t.deepEqual(await call(c, 'fp', ref), expected, 'consumer');
    t.deepEqual(fpGet(await core.get(ref)), strip(expected), 'get');
  });

  test('tensors nested in objects, arrays and a Map', async (t) => {
    const { p, c } = await setup(t);
    const recs = [recipe('float32', [10, 10]), recipe('int64', [7]), recipe('float64', [3]), recipe('int8', [5])];
    const ref = produce(p, 'makeNested', recs);
    const expected = fingerprint(makeNested(recs));
    t.deepEqual(await call(c, 'fp', ref), expected, 'consumer');
    t.deepEqual(fpGet(await core.get(ref)), strip(expected), 'get');
  });

  test('several tensors in one result (a list of 5, 1 MiB each)', async (t) => {
    const { p, c } = await setup(t);
    const recs = Array.from({ length: 5 }, () => recipe('float32', [MiB / 4]));
    const ref = produce(p, 'makeMany', recs);
    t.deepEqual(await call(c, 'fp', ref), fingerprint(recs.map(makeTensor)));
  });

  test('a result with no tensor in it', async (t) => {
    const { p, c } = await setup(t);
    const ref = produce(p, 'noTensor');
    const expected = { n: 42, s: 'no tensor here', list: [1, 2, 3] };
    t.deepEqual(await core.get(ref), expected, 'get');
    t.deepEqual(await call(c, 'fp', ref), fingerprint(expected), 'consumer');
  });

  test('the same ref twice in one call (positional, and inside an object and an array)', async (t) => {
    const { p, c } = await setup(t);
    const rec = recipe('int16', [4097]);
    const ref = produce(p, 'make', rec);
    const exp = fingerprint(makeTensor(rec));
    const two = await call(c, 'fpTwo', ref, ref);
    t.deepEqual([two.a, two.b], [exp, exp]);
    t.log(`the consumer got ${two.identical ? 'one tensor object twice' : 'two tensor objects'}`);
    t.deepEqual(await call(c, 'fp', { x: ref, y: [ref, 'z'] }), { x: exp, y: [exp, 'z'] });
  });

  test('the same ref to the same consumer in two calls (concurrent, then again)', async (t) => {
    const { p, c } = await setup(t);
    const rec = recipe('float64', [10_000]);
    const ref = produce(p, 'make', rec);
    const exp = fingerprint(makeTensor(rec));
    t.deepEqual(await core.get([c.fp.remote(ref), c.fp.remote(ref)]), [exp, exp]);
    t.deepEqual(await call(c, 'fp', ref), exp);
  });

  test('CPU data (strings, numbers, bigint, Buffers, typed arrays) beside tensors, in results and arguments', async (t) => {
    const { p, c } = await setup(t);
    const recs = [recipe('float32', [64]), recipe('uint8', [9])];
    const ref = produce(p, 'makeMixed', recs);
    const expected = fingerprint(makeMixed(recs));
    t.deepEqual(await call(c, 'fp', ref), expected, 'consumer');
    t.deepEqual(fpGet(await core.get(ref)), strip(expected), 'get');
    const args = { s: 'arg', n: 1.5, buf: Buffer.from([1, 2, 3]), t: ref, list: [ref, Buffer.from('x')] };
    const value = makeMixed(recs);
    const expArgs = fingerprint({ s: 'arg', n: 1.5, buf: Buffer.from([1, 2, 3]), t: value, list: [value, Buffer.from('x')] });
    t.deepEqual(await call(c, 'fp', args), expArgs, 'refs inside an argument object resolve; Buffers stay Buffers');
  });

  test('intra-actor: the producer gets the very same tensor, mutable; later consumers see the mutation', async (t) => {
    const { p, c } = await setup(t);
    const ref = produce(p, 'makeInts', 100, dev);
    t.true(await call(p, 'isLast', ref), 'a ref passed back to its producer is the very same tensor object');
    t.is(await call(p, 'mutate', ref), sumInts(100) + 100);
    t.is(await call(p, 'sum', ref), sumInts(100) + 100, 'a later call on the producer sees the mutation');
    t.is(await call(c, 'sum', ref), sumInts(100) + 100, 'a consumer after the mutation sees it too (GPU objects are mutable)');
  });

  test('small objects travel inline; once back at the producer and changed, consumers get them over the transport', async (t) => {
    const { p, c } = await setup(t);
    const ref = produce(p, 'makeInts', 100, dev);
    t.is(await call(c, 'sum', ref), sumInts(100), 'a consumer before the change (from the inline copy, on the CPU)');
    t.is(await call(p, 'mutate', ref), sumInts(100) + 100);
    // One-sided transports register a small object only now, when a consumer must read it.
    t.is(await call(c, 'sum', ref), sumInts(100) + 100, 'a consumer after the change reads the changed tensor, not the inline copy');
    const changed = new core.Tensor(Int32Array.from({ length: 100 }, (_, i) => i + 1), [100]);
    t.deepEqual(fpGet(await core.get(ref)), fpGet(changed), 'get in the driver sees the change too');
    await core.free(ref);
    if (core.actorStats) {
      const clean = await eventually(async () => {
        const s = (await core.actorStats!(p)) as { gpuObjects: number; registrations?: number };
        return s.gpuObjects === 0 && (s.registrations ?? 0) === 0;
      }, 10_000);
      t.true(clean, `freed with its registration: ${JSON.stringify(await core.actorStats(p))}`);
    }
  }, { inlineGpuObjectBytes: 4096 });

  test('get of one ref, of a list (in order), and of a mixed value', async (t) => {
    const { p } = await setup(t);
    const recA = recipe('int32', [11]);
    const recs = [recipe('float32', [5]), recipe('bfloat16', [6])];
    const a = produce(p, 'make', recA);
    const plain = p.noTensor.remote();
    const mixed = produce(p, 'makeMixed', recs);
    t.deepEqual(fpGet(await core.get(a)), fpGet(makeTensor(recA)));
    const all = await core.get([mixed, plain, a]);
    t.deepEqual(fpGet(all), fpGet([makeMixed(recs), { n: 42, s: 'no tensor here', list: [1, 2, 3] }, makeTensor(recA)]));
  });

  test('an error thrown by the producer reaches consumers and get as TaskError; later transfers work', async (t) => {
    const { p, c } = await setup(t);
    const bad = produce(p, 'fail', 'conformance boom');
    const e1 = await t.throwsAsync(core.get(c.sum.remote(bad)));
    t.true(e1 instanceof core.TaskError, `consumer call: ${e1?.name}: ${e1?.message}`);
    t.regex(e1?.message ?? '', /conformance boom/);
    const e2 = await t.throwsAsync(core.get(bad));
    t.true(e2 instanceof core.TaskError, `get: ${e2?.name}: ${e2?.message}`);
    t.regex(e2?.message ?? '', /conformance boom/);
    t.is(await call(c, 'sum', produce(p, 'makeInts', 10, dev)), sumInts(10));
  });

  test('a producer busy in a long async call still serves transfers', async (t) => {
    const { p, c } = await setup(t);
    const rec = recipe('float32', [MiB / 4]);
    const ref = produce(p, 'make', rec);
    await core.wait([ref], { timeoutMs: deadline });
    const busy = core.get(p.sleep.remote(4000));
    const first = await Promise.race([
      core.get(c.fp.remote(ref)).then((v) => ({ who: 'transfer', v })),
      busy.then(() => ({ who: 'sleep', v: undefined })),
    ]);
    t.is(first.who, 'transfer', 'the transfer waited for the producer\'s user call to finish');
    if (first.who === 'transfer') t.deepEqual(first.v, fingerprint(makeTensor(rec)));
    await busy;
  });

  if (core.actorStats) {
    test('freeing: stores empty after use and after free(ref); waitTensorFreed resolves', async (t) => {
      const { p, c } = await setup(t);
      const statsOf = (h: unknown) => core.actorStats!(h) as Promise<ActorStats>;
      const storeBefore = core.objectStoreStats?.();
      const n = MiB / 4;
      const ref = produce(p, 'makeWatched', n, dev);
      const result = c.sum.remote(ref);
      t.is(await core.get(result), sumInts(n));
      const held = await statsOf(p);
      t.is(held.gpuObjects, 1, 'the producer holds the GPU object while the ref lives');
      const consumerClean = await eventually(async () => {
        const s = await statsOf(c);
        return s.receivedCopies === 0 && s.pendingTransfers === 0;
      }, 10_000);
      t.true(consumerClean, `the consumer dropped its received copy after the call: ${JSON.stringify(await statsOf(c))}`);
      t.is((await core.get(ref)).nbytes, MiB, 'get(ref) copies the tensor to the driver');
      await core.free([ref, result]);
      const producerClean = await eventually(async () => {
        const s = await statsOf(p);
        return s.gpuObjects === 0 && s.tensors === 0 && s.pendingTransfers === 0;
      }, 10_000);
      t.true(producerClean, `the producer dropped the tensors after free(ref): ${JSON.stringify(await statsOf(p))}`);
      t.true(await eventually(async () => (await call(p, 'freedCount')) >= 1, 10_000), 'waitTensorFreed resolved in the producer');
      if (storeBefore && core.objectStoreStats) {
        // Small results of the polling calls above stay; the 1 MiB tensor copy must not.
        const ok = await eventually(async () => core.objectStoreStats!().bytes < storeBefore.bytes + MiB / 4, 10_000);
        t.true(ok, `the driver's object store still holds the copy: ${JSON.stringify(storeBefore)} -> ${JSON.stringify(core.objectStoreStats())}`);
      }
    });
  } else {
    r.skip(`${d}freeing`, 'core does not export actorStats(handle)');
  }

  const isTransferFailure = (e: unknown) =>
    e instanceof core.TransferError || e instanceof core.ActorDiedError || e instanceof core.ObjectLostError;
  const namesActor = (e: Error | undefined, ...names: string[]) => {
    const text = `${e?.message} ${JSON.stringify((e as { details?: unknown } | undefined)?.details ?? {})} ${(e as { actorName?: string })?.actorName ?? ''}`;
    return names.some((n) => text.includes(n));
  };
  /** After a crash: `survivor` still works and transfers from a fresh producer reach it. */
  const stillWorks = async (t: T, set: ActorSet, survivor: any) => {
    t.is(typeof (await call(survivor, 'pid')), 'number', 'the surviving actor still answers');
    const p2 = await set.spawn(ConformanceActor, 'producer2');
    if (!oneSided) await set.group([p2, survivor], name);
    const rec = recipe('float32', [MiB / 4]);
    t.deepEqual(await call(survivor, 'fp', produce(p2, 'make', rec)), fingerprint(makeTensor(rec)), 'a new transfer works');
  };
  const largeElems = Math.min(ctx.options.largeBytes, 64 * MiB) / 4;

  test('sender killed (SIGKILL) after producing, before the transfer: the consumer call fails naming the actor', async (t) => {
    const { set, p, c, group } = await setup(t);
    const ref = produce(p, 'make', recipe('float32', [MiB]));
    await core.wait([ref], { timeoutMs: deadline });
    await crash(p);
    // SIGKILL is delivered asynchronously: until the process is gone its memory is still there,
    // and a one-sided read of it (cuda-ipc maps it) rightly succeeds. "Before the transfer"
    // means after the death: wait for the driver to see it.
    t.true(await deathNoticed(p, deadline), 'the driver did not notice the producer\'s death');
    const s = await settleWithin(core.get(c.fp.remote(ref)), deadline);
    t.is(s.status, 'rejected', `consumer call ${s.status} after the producer died`);
    if (s.status === 'rejected') {
      t.true(isTransferFailure(s.error), `${s.error.name}: ${s.error.message}`);
      t.true(namesActor(s.error, nameOf(p)), `the error names the producer: ${s.error.message}`);
    }
    const g = await settleWithin(core.get(ref), deadline);
    t.is(g.status, 'rejected', 'get of an object whose producer died fails');
    if (group) set.forgetGroup(group);
    await stillWorks(t, set, c);
  });

  test('sender killed (SIGKILL) during the transfer: the consumer call fails (or completes), no hang; others work', async (t) => {
    const { set, p, c, group } = await setup(t);
    const rec = recipe('float32', [largeElems]);
    const ref = produce(p, 'make', rec);
    await core.wait([ref], { timeoutMs: deadline });
    const pid = await pidOf(p);
    const pending = core.get(c.fp.remote(ref));
    setImmediate(() => process.kill(pid, 'SIGKILL'));
    const s = await settleWithin(pending, deadline);
    t.not(s.status, 'hung', 'the consumer call hangs after the producer died');
    if (s.status === 'rejected') {
      t.true(isTransferFailure(s.error), `${s.error.name}: ${s.error.message}`);
      t.true(namesActor(s.error, nameOf(p), nameOf(c)), `the error names the actors: ${s.error.message}`);
      t.log(`consumer call failed after ${s.ms} ms: ${s.error.name}: ${s.error.message.split('\n')[0]}`);
    } else if (s.status === 'fulfilled') {
      t.deepEqual(s.value, fingerprint(makeTensor(rec)));
      t.log('the transfer completed before the kill landed');
    }
    if (group) set.forgetGroup(group);
    await stillWorks(t, set, c);
  });

  test('receiver killed (SIGKILL) during the transfer: its call fails with a typed error naming the actors; the object still serves others', async (t) => {
    const { set, p, c, group } = await setup(t);
    const rec = recipe('float32', [largeElems]);
    const ref = produce(p, 'make', rec);
    await core.wait([ref], { timeoutMs: deadline });
    const pid = await pidOf(c);
    const pending = core.get(c.fp.remote(ref));
    setImmediate(() => process.kill(pid, 'SIGKILL'));
    const s = await settleWithin(pending, deadline);
    t.not(s.status, 'hung', 'the call on the dead receiver hangs');
    if (s.status === 'rejected') {
      t.true(isTransferFailure(s.error), `${s.error.name}: ${s.error.message}`);
      t.true(namesActor(s.error, nameOf(c), nameOf(p)), `the error names the actors: ${s.error.message}`);
      t.log(`the call failed after ${s.ms} ms: ${s.error.name}: ${s.error.message.split('\n')[0]}`);
    } else if (s.status === 'fulfilled') {
      t.log('the call completed before the kill landed');
    }
    t.deepEqual(await call(p, 'fp', ref), fingerprint(makeTensor(rec)), 'the producer still answers and holds the object');
    if (group) set.forgetGroup(group);
    const c2 = await set.spawn(ConformanceActor, 'consumer2');
    if (!oneSided) await set.group([p, c2], name);
    t.deepEqual(await call(c2, 'fp', ref), fingerprint(makeTensor(rec)), 'a new consumer receives the same object');
  });

  if (!oneSided) {
    test('collective groups: create, list, destroy, re-create; actors stay usable', async (t) => {
      const set = new ActorSet(t, `conf-${name}`);
      const [a, b] = await Promise.all([set.spawn(ConformanceActor, 'a'), set.spawn(ConformanceActor, 'b')]);
      const g1 = await core.createCollectiveGroup([a, b], { backend: name });
      const listed = await core.getCollectiveGroups([a, b], name);
      t.true(listed.some((g) => g.name === g1.name), 'getCollectiveGroups([a, b], backend) lists the new group');
      t.is(await call(b, 'sum', produce(a, 'makeInts', 10, dev)), sumInts(10));
      await core.destroyCollectiveGroup(g1);
      t.false((await core.getCollectiveGroups([a, b], name)).some((g) => g.name === g1.name), 'the destroyed group is gone');
      t.is(await call(a, 'pid') > 0, true, 'actors stay usable after destroy');
      const g2 = await set.group([b, a], name);
      t.is(g2.rankOf(b), 0);
      t.is(await call(a, 'sum', produce(b, 'makeInts', 20, dev)), sumInts(20), 'transfer on the re-created group');
    });

    test('a transfer between actors without a common group fails with CollectiveGroupError', async (t) => {
      const set = new ActorSet(t, `conf-${name}`);
      const [a, b] = await Promise.all([set.spawn(ConformanceActor, 'a'), set.spawn(ConformanceActor, 'b')]);
      const e = await t.throwsAsync(core.get(b.sum.remote(produce(a, 'makeInts', 10, dev))));
      t.true(e instanceof core.CollectiveGroupError, `${e?.name}: ${e?.message}`);
    });
  }

  if (oneSided) {
    test('one-sided: get over the transport and through the object store', async (t) => {
      const { p } = await setup(t, 0);
      const rec = recipe('float64', [12_345]);
      const ref = produce(p, 'make', rec);
      const exp = fingerprint(makeTensor(rec));
      t.deepEqual(fingerprint(await core.get(ref, { tensorTransport: name })), exp, `get(ref, { tensorTransport: '${name}' }): over the transport, onto the driver's device`);
      t.deepEqual(fpGet(await core.get(ref, { tensorTransport: 'object-store' })), strip(exp), "get(ref, { tensorTransport: 'object-store' })");
      t.deepEqual(fingerprint(await core.get(ref)), exp, 'get(ref)');
    });

    test('one-sided: put(tensor, { tensorTransport }) inside an actor makes an object others read', async (t) => {
      const { p, c } = await setup(t);
      const rec = recipe('int32', [5000]);
      const out = await call(p, 'putTensor', rec, name);
      const exp = fingerprint(makeTensor(rec));
      t.truthy(out?.ref, 'the actor returned a ref');
      t.deepEqual(await call(c, 'fp', out.ref), exp, 'consumer reads the put object');
      t.deepEqual(fpGet(await core.get(out.ref)), strip(exp), 'get of the put object');
    });

    test('one-sided: an actor spawned after the object was made reads it', async (t) => {
      const { set, p } = await setup(t, 0);
      const rec = recipe('float32', [MiB / 4]);
      const ref = produce(p, 'make', rec);
      await core.wait([ref], { timeoutMs: deadline });
      const late = await set.spawn(ConformanceActor, 'late');
      t.deepEqual(await call(late, 'fp', ref), fingerprint(makeTensor(rec)));
    });
  }

  registerBeyondTests(kit);
  registerSoakTests(kit);
  registerFaultTests(kit);
  registerShutdownLeakTests(kit);
}
