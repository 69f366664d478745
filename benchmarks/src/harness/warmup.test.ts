import test from 'ava';
import { fixedWarmup, warmUp, warmupFor, type WarmupPolicy } from './warmup';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('small sizes warm up for at least the calls V8 needs to optimize, larger sizes for fewer reps', (t) => {
  t.like(warmupFor(1024), { minReps: 3000, minMs: 2000 });
  t.true(warmupFor(1024).window > 0);
  t.like(warmupFor(1 << 20), { minReps: 300, minMs: 1000 });
  t.like(warmupFor(64 << 20), { minReps: 2, window: 0 });
});

test('a fixed warm-up runs exactly its reps, each run taking turns', async (t) => {
  const order: string[] = [];
  const w = await warmUp([() => order.push('a'), () => order.push('b')], fixedWarmup(3));
  t.is(w.reps, 3);
  t.true(w.steady);
  t.deepEqual(order, ['a', 'b', 'a', 'b', 'a', 'b']);
  t.is((await warmUp([() => order.push('c')], fixedWarmup(0))).reps, 0);
});

test('a warm-up goes on past its minimum until two windows agree', async (t) => {
  // Getting faster over the first 20 reps (code being optimized), flat after: the windows
  // differ until two flat ones follow each other.
  let calls = 0;
  const run = async (): Promise<void> => {
    calls++;
    await sleep(Math.max(5, 40 - calls * 2));
  };
  const policy: WarmupPolicy = { minReps: 10, minMs: 0, maxMs: 10_000, window: 10 };
  const w = await warmUp([run], policy);
  t.true(w.steady);
  t.true(w.reps >= 30, `stopped after ${w.reps} reps`);
  t.is(w.reps % 10, 0);
});

test('a warm-up that never settles stops at its time cap and says so', async (t) => {
  let calls = 0;
  const run = async (): Promise<void> => {
    calls++;
    await sleep(calls % 20 < 10 ? 1 : 8); // alternating windows: never two alike
  };
  const w = await warmUp([run], { minReps: 1, minMs: 0, maxMs: 400, window: 10 });
  t.false(w.steady);
  t.true(w.ms >= 400 && w.ms < 2000);
});
