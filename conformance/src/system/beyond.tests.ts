/**
 * System tests of what tensorwire does beyond the spec's GPU objects, on the transport under
 * test: objects that share some tensors (registered once, freed with the last object), put()
 * inside an actor on every transport, get(ref, { into }) into tensors an actor holds, and (two-
 * sided) an actor in several groups of one backend.
 */
import { core, type ActorStats } from './core-api';
import type { SystemKit, T } from './kit';
import { ActorSet, eventually } from './runtime-env';
import { fingerprint, makeTensor } from './values';

export function registerBeyondTests(kit: SystemKit): void {
  // Tensors of the variant's device (the CPU, or cuda:0); `get` in the driver may give CPU copies.
  const { r, d, name, oneSided, test, recipe, fpGet } = kit;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { BeyondActor } = require('./beyond-actors') as typeof import('./beyond-actors');
  const api = core as unknown as Record<string, unknown>;
  const stats = core.actorStats;
  const transport = { tensorTransport: name };
  const produce = (h: any, method: string, ...args: unknown[]) => h[method].options(transport).remote(...args);

  /** A producer and a consumer (BeyondActor), in a group of this backend when it needs one. */
  const pair = async (t: T) => {
    const set = new ActorSet(t, `beyond-${name}`);
    const p = await set.spawn(BeyondActor, 'producer');
    const c = await set.spawn(BeyondActor, 'consumer');
    if (!oneSided) await set.group([p, c], name);
    return { set, p, c };
  };

  if (!stats) {
    r.skip(`${d}objects sharing some tensors`, 'core does not export actorStats(handle)');
  } else {
    test('objects sharing some tensors: both readable, each tensor registered once, freed with the last object holding it', async (t) => {
      const { p, c } = await pair(t);
      const [ra, rb, rc] = [recipe('float32', [4096]), recipe('int32', [333]), recipe('float64', [77])];
      await core.get(p.prepareShared.remote(ra, rb, rc));
      const x = produce(p, 'first');
      const y = produce(p, 'second');
      const [A, B, C] = [makeTensor(ra), makeTensor(rb), makeTensor(rc)];
      t.deepEqual(await core.get(c.fp.remote(x)), fingerprint([A, B]), 'the consumer reads [A, B]');
      t.deepEqual(await core.get(c.fp.remote(y)), fingerprint({ c: C, a: A }), 'the consumer reads { c: C, a: A }');
      t.deepEqual(fpGet(await core.get(y)), fpGet({ c: C, a: A }), 'get in the driver');
      await core.get(p.watchShared.remote());
      const held = (await stats.call(core, p)) as ActorStats;
      t.like(held, { gpuObjects: 2, tensors: 3 }, 'two objects, three distinct tensors');
      if (oneSided && held.registeredTensors !== undefined) {
        if (kit.supports && (kit.supports as { selectRegions?: boolean }).selectRegions) {
          t.is(held.registeredTensors, 3, `each tensor's memory registered once (stats: ${JSON.stringify(held)})`);
        } else {
          t.log(`without supports.selectRegions the second object registers all its tensors again: ${held.registeredTensors} registered`);
        }
      }
      await core.free(x);
      const afterX = await eventually(async () => ((await stats.call(core, p)) as ActorStats).gpuObjects === 1, 10_000);
      t.true(afterX, 'the first object is freed');
      t.like(await stats.call(core, p), { tensors: 2 }, 'A stays (the second object holds it), B is gone');
      t.false(await core.get(p.sharedAFreed.remote()), 'waitTensorFreed(A) still waits');
      t.deepEqual(await core.get(c.fp.remote(y)), fingerprint({ c: C, a: A }), 'the second object, A included, still reads after the first is freed');
      await core.free(y);
      const clean = await eventually(async () => {
        const s = (await stats.call(core, p)) as ActorStats;
        return s.gpuObjects === 0 && s.tensors === 0 && (s.registrations ?? 0) === 0;
      }, 10_000);
      t.true(clean, `everything released with the last object: ${JSON.stringify(await stats.call(core, p))}`);
      t.true(await eventually(async () => core.get(p.sharedAFreed.remote()), 10_000), 'waitTensorFreed(A) resolved');
    });
  }

  test('put(value, { tensorTransport }) inside an actor makes a GPU object a consumer receives and get copies', async (t) => {
    const { p, c } = await pair(t);
    const rec = recipe('int16', [5000]);
    const out = await core.get(p.putTensor.remote(rec, name));
    const exp = fingerprint(makeTensor(rec));
    t.deepEqual(await core.get(c.fp.remote(out.ref)), exp, 'the consumer receives the put object');
    t.deepEqual(fpGet(await core.get(out.ref)), fpGet(makeTensor(rec)), 'get of the put object');
    if (stats) t.like(await stats.call(core, p), { gpuObjects: 1 }, 'the put object stays in the actor');
  });

  if (typeof api.keepRef !== 'function') {
    r.skip(`${d}get(ref, { into }) inside an actor`, 'core does not export keepRef');
  } else {
    const keepRef = api.keepRef as (ref: unknown) => unknown;
    test('get(ref, { into }) inside an actor receives straight into the tensors it holds, step after step', async (t) => {
      const { p, c } = await pair(t);
      const shapes: Array<[string, number[]]> = [['float32', [1000]], ['int64', [3, 7]], ['uint8', [129]]];
      await core.get(c.allocateLive.remote(shapes.map(([dt, s]) => recipe(dt, s))));
      for (let step = 0; step < 3; step++) {
        const recs = shapes.map(([dt, s]) => recipe(dt, s));
        const got = await core.get(c.receiveInto.remote(keepRef(produce(p, 'makeMany', recs))));
        t.deepEqual(got, { fp: fingerprint(recs.map(makeTensor)), same: true }, `step ${step}: the actor's own tensors hold the new values`);
      }
    });
  }

  if (!oneSided) {
    test('an actor in two groups of this backend: a transfer names its group; unnamed it fails listing both', async (t) => {
      const set = new ActorSet(t, `beyond-${name}`);
      const [a, b] = await Promise.all([set.spawn(BeyondActor, 'a'), set.spawn(BeyondActor, 'b')]);
      const g1 = await set.group([a, b], name);
      const g2 = await set.group([b, a], name);
      const rec = recipe('float32', [2048]);
      const ref = produce(a, 'makeMany', [rec]);
      const e = await t.throwsAsync(core.get(b.fp.remote(ref)));
      t.true(e instanceof core.CollectiveGroupError, `${e?.name}: ${e?.message}`);
      t.deepEqual([...((e as { groups?: string[] }).groups ?? [])].sort(), [g1.name, g2.name].sort(), 'the error lists both groups');
      const exp = fingerprint([makeTensor(rec)]);
      t.deepEqual(await core.get(b.fp.options({ collectiveGroup: g1.name }).remote(ref)), exp, `over ${g1.name}`);
      t.deepEqual(await core.get(b.fp.options({ collectiveGroup: g2.name }).remote(ref)), exp, `over ${g2.name} (ranks swapped)`);
      await core.destroyCollectiveGroup(g1);
      set.forgetGroup(g1);
      t.deepEqual(await core.get(b.fp.remote(ref)), exp, 'one group left: no name needed');
    });
  }
}
