import test from 'ava';
import { DESCEND, Walker, walkValue } from './walk';

const identity = { rootName: 'v', instances: 'plain' as const, visit: () => DESCEND };

test('copies containers, preserves shared and circular references', (t) => {
  const shared = { n: 1 };
  const input: Record<string, unknown> = { a: [shared, shared], m: new Map([[shared, shared]]), s: new Set([shared]) };
  input.self = input;
  const out = walkValue(input, identity) as typeof input;
  t.not(out, input);
  t.is(out.self, out);
  const [x, y] = out.a as unknown[];
  t.is(x, y);
  t.not(x, shared);
  t.deepEqual(x, shared);
  const [[k, v]] = [...(out.m as Map<unknown, unknown>)];
  t.is(k, x);
  t.is(v, x);
  t.true((out.s as Set<unknown>).has(x));
});

test('in place mode mutates and keeps identities', (t) => {
  const arr = [1, { b: 2 }];
  const out = walkValue(arr, { ...identity, inPlace: true, visit: (v) => (typeof v === 'object' && !Array.isArray(v) && 'b' in v ? 'B' : DESCEND) });
  t.is(out, arr);
  t.deepEqual(arr, [1, 'B']);
});

test('pathString formats indices, keys, odd keys and special segments', (t) => {
  const paths: string[] = [];
  walkValue(
    { list: [0, { 'odd key': new Map([['k', new Set([Symbol.iterator])]]) }] },
    {
      rootName: 'args',
      instances: 'plain',
      visit: (v, w: Walker) => {
        if (typeof v === 'symbol') paths.push(w.pathString());
        return typeof v === 'symbol' ? v : DESCEND;
      },
    },
  );
  t.deepEqual(paths, ['args.list[1]["odd key"].get("k")<set item #0>']);
});

test('copy-on-change keeps untouched class instances and copies changed ones with their prototype', (t) => {
  class A {
    constructor(public x: unknown) {}
    get twice(): unknown {
      return [this.x, this.x];
    }
  }
  const same = new A(1);
  const changed = new A({ swap: true });
  const out = walkValue([same, changed], {
    rootName: 'v',
    instances: 'copy-on-change',
    visit: (v) => (typeof v === 'object' && 'swap' in v ? 'swapped' : DESCEND),
  }) as A[];
  t.is(out[0], same);
  t.not(out[1], changed);
  t.true(out[1] instanceof A);
  t.deepEqual(out[1]!.twice, ['swapped', 'swapped']);
  t.deepEqual(changed.x, { swap: true });
});

test('leave policy does not look inside instances; plain policy flattens them', (t) => {
  class B {
    y = [1];
  }
  const b = new B();
  t.is((walkValue([b], { ...identity, instances: 'leave' }) as unknown[])[0], b);
  const flat = (walkValue([b], identity) as unknown[])[0] as object;
  t.is(Object.getPrototypeOf(flat), Object.prototype);
  t.deepEqual(flat, { y: [1] });
});

test('renameKey renames plain object keys (in place too)', (t) => {
  const o = { a: 1, b: { a: 2 } };
  const rename = (k: string) => (k === 'a' ? 'z' : k);
  t.deepEqual(walkValue(o, { ...identity, renameKey: rename }), { z: 1, b: { z: 2 } });
  t.deepEqual(o, { a: 1, b: { a: 2 } });
  t.deepEqual(walkValue(o, { ...identity, inPlace: true, renameKey: rename }), { z: 1, b: { z: 2 } });
});

test('deep arrays of 100k elements', (t) => {
  const big = Array.from({ length: 100_000 }, (_, i) => [i]);
  const out = walkValue(big, identity) as number[][];
  t.is(out.length, 100_000);
  t.deepEqual(out[12_345], [12_345]);
});
