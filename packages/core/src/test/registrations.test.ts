/** Registrations shared between GPU objects (gpu/registrations.ts), against a recording endpoint. */
import test from 'ava';
import { Registrations, readObject, isPartsDescriptor } from '../gpu/registrations';
import { Tensor } from '../index';
import type { OneSidedEndpoint, TransportTensor } from '../transport/spi';

/** An in-memory one-sided endpoint that records what core asks of it. */
function recordingEndpoint(withSelect: boolean) {
  const regs = new Map<number, readonly TransportTensor[]>();
  const log: string[] = [];
  let next = 1;
  const ep: OneSidedEndpoint = {
    kind: 'one-sided',
    async register(ts) {
      const id = next++;
      regs.set(id, [...ts]);
      log.push(`register ${id} (${ts.length})`);
      return { id };
    },
    async read(d, into) {
      const { id, pick } = d as { id: number; pick?: number[] };
      const ts = regs.get(id);
      if (!ts) throw new Error(`registration ${id} released`);
      const src = pick ? pick.map((i) => ts[i]!) : ts;
      into.forEach((t, i) => t.bytes().set(src[i]!.bytes()));
    },
    async release(d) {
      log.push(`release ${(d as { id: number }).id}`);
      regs.delete((d as { id: number }).id);
    },
    async close() {},
    ...(withSelect ? { select: (d: unknown, indices: readonly number[]) => ({ id: (d as { id: number }).id, pick: [...indices] }) } : {}),
  };
  return { ep, log, live: () => regs.size };
}

test('an object of exactly one registration reuses it; sharing some tensors registers only the new ones; released with the last user', async (t) => {
  const { ep, log, live } = recordingEndpoint(true);
  const r = new Registrations();
  const [a, b, c] = [Tensor.full([3], 1), Tensor.full([2], 2), Tensor.full([4], 3)];
  const dx = await r.register('x', 'rma', ep, [a, b]);
  const dSame = await r.register('same', 'rma', ep, [a, b]);
  t.is(dSame, dx, 'the same tensors again: the same registration');
  const dy = await r.register('y', 'rma', ep, [c, a]);
  t.true(isPartsDescriptor(dy));
  t.deepEqual(log, ['register 1 (2)', 'register 2 (1)'], 'C alone is registered; A is read through a selection');
  t.deepEqual(r.stats(), { registrations: 2, registeredTensors: 3 });
  const into = [Tensor.zeros([4]), Tensor.zeros([3])];
  await readObject(ep, dy, into, 1000);
  t.deepEqual(into.map((x) => x.sum()), [12, 3], 'parts land at their positions');
  t.deepEqual(r.drop('x'), [], 'registration 1 still used by "same" and y');
  t.deepEqual(r.drop('same'), []);
  const released = r.drop('y');
  t.deepEqual(released.map((x) => x.descriptor), [{ id: 1 }, { id: 2 }], 'both released with the last object');
  t.deepEqual(r.stats(), { registrations: 0, registeredTensors: 0 });
  t.is(live(), 2, 'releasing is the caller\'s job (GpuResults), with what drop returns');
  await r.register('z', 'rma', ep, [a]);
  t.is(log.at(-1), 'register 3 (1)', 'after release, A is registered afresh');
});

test('without select, an object sharing some tensors is registered whole', async (t) => {
  const { ep, log } = recordingEndpoint(false);
  const r = new Registrations();
  const [a, b, c] = [Tensor.full([3], 1), Tensor.full([2], 2), Tensor.full([4], 3)];
  await r.register('x', 'rma', ep, [a, b]);
  const dy = await r.register('y', 'rma', ep, [c, a]);
  t.false(isPartsDescriptor(dy));
  t.deepEqual(log, ['register 1 (2)', 'register 2 (2)']);
  t.deepEqual(r.drop('x').map((x) => x.descriptor), [{ id: 1 }]);
  t.deepEqual(r.drop('y').map((x) => x.descriptor), [{ id: 2 }]);
});
