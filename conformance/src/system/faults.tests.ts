/**
 * The fault matrix of the system-level suite: the producer or the consumer of a GPU object is
 * killed (SIGKILL from outside, or core's kill(handle)) before, during or after a transfer, and
 * the producer is frozen (SIGSTOP) past the transfer deadline. After each:
 *   - the waiting call or get fails with a typed error (TransferError, ObjectLostError or
 *     ActorDiedError, all TensorwireErrors), never hangs; so do the driver's own gets in flight
 *     (through the object store, and over a one-sided transport) and later calls on the victim;
 *   - the surviving actor holds nothing once the refs are freed (actorStats back to zero);
 *   - new transfers between the survivor and a new actor work;
 *   - once its peers are dead, the survivor has no more open file descriptors than before the
 *     transfers (beyond a small slack);
 *   - once the test's actors are gone, the driver has no more open file descriptors (beyond a
 *     small slack), child processes or files in /dev/shm (left by a dead process) than before.
 * "During" is made by ordering, not timing: the producer is stopped (SIGSTOP), the consumer's
 * call is sent and its receive posted (a stats request on the same connection answers after
 * the call was taken in), then the victim is killed. A one-sided transport may complete a read
 * from a stopped producer (true RDMA needs no producer CPU): then the call may succeed, with the
 * right bytes.
 */
import { isDeepStrictEqual } from 'node:util';
import { settleWithin, type Settled } from '../endpoint/env';
import { MiB } from '../options';
import { core } from './core-api';
import type { SystemKit, T } from './kit';
import { childPids, collectRefs, driverResources, fdCount, fdKinds, resourceGrowth, settleProblems, type DriverResources } from './resources';
import { ActorSet, deathNoticed, eventually, nameOf, pidOf, runtimeGeneration } from './runtime-env';
import { fingerprint, makeTensor, type TensorRecipe } from './values';

type Victim = 'producer' | 'consumer';
type Via = 'SIGKILL' | 'kill()';
type When = 'before' | 'during' | 'after';

/** Open descriptors the driver may gain in a fault test (a cache entry, a lazily opened endpoint). */
const FD_SLACK = 2;
/** Longest wait for frees, deaths and closes to be noticed (they are asynchronous). */
const SETTLE_MS = 10_000;


const countsOf = (s: { gpuObjects: number; tensors: number; receivedCopies: number; pendingTransfers: number }) =>
  `gpuObjects ${s.gpuObjects}, tensors ${s.tensors}, receivedCopies ${s.receivedCopies}, pendingTransfers ${s.pendingTransfers}`;

/**
 * Checks that do not stop the test when they fail: a fault test goes on to its later checks
 * (the survivor, new transfers, leaks), and fails at the end listing every check that failed.
 */
class Checks {
  readonly failures: string[] = [];
  constructor(private readonly t: T) {}

  log(message: string): void {
    this.t.log(message);
  }

  fail(message: string): void {
    this.failures.push(message);
    this.t.log(`FAILED: ${message}`);
  }

  true(value: boolean, message: string): boolean {
    if (value !== true) this.fail(message);
    return value === true;
  }

  is(actual: unknown, expected: unknown, message: string): void {
    if (!Object.is(actual, expected)) this.fail(`${message} (got ${String(actual)}, expected ${String(expected)})`);
  }

  not(actual: unknown, unexpected: unknown, message: string): void {
    if (Object.is(actual, unexpected)) this.fail(message);
  }

  deepEqual(actual: unknown, expected: unknown, message: string): void {
    if (!isDeepStrictEqual(actual, expected)) this.fail(`${message}: got ${JSON.stringify(actual)?.slice(0, 300)}, expected ${JSON.stringify(expected)?.slice(0, 300)}`);
  }
}

/** Run `body` with soft checks; one assertion at the end reports every failed check (and an exception, if any). */
async function checked(t: T, body: (ck: Checks) => Promise<void>): Promise<void> {
  const ck = new Checks(t);
  try {
    await body(ck);
  } catch (e) {
    ck.fail(`the test stopped: ${(e as Error)?.stack ?? String(e)}`);
  }
  t.deepEqual(ck.failures, [], `${ck.failures.length} check(s) failed: ${ck.failures.join(' | ')}`);
}

export function registerFaultTests(k: SystemKit): void {
  const { name, oneSided, d } = k;
  if (!core.actorStats) {
    k.r.skip(`${d}faults: all tests`, "core does not export actorStats(handle) (needed for actors' pids and counts)");
    return;
  }
  const stats = core.actorStats.bind(core);
  const recipe = (shape: number[]): TensorRecipe => k.recipe('float32', shape);
  const typed = (e: unknown): boolean =>
    e instanceof core.TransferError || e instanceof core.ObjectLostError || e instanceof core.ActorDiedError;
  const describe = (s: Settled<unknown>): string =>
    s.status === 'rejected' ? `${s.error.name}: ${s.error.message.split('\n')[0]}` : s.status;
  /** Large enough that a transfer takes a while (the "during" tests). */
  const largeElems = Math.min(k.options.largeBytes, 16 * MiB) / 4;

  /** `s` is a typed rejection (or, when `mayComplete`, a success with `expected`). */
  const expectTypedFailure = (t: Checks, s: Settled<unknown>, what: string, expected?: unknown, mayComplete = false): void => {
    t.not(s.status, 'hung', `${what}: no result within the deadline (hang)`);
    if (s.status === 'rejected') {
      t.true(typed(s.error), `${what}: expected TransferError, ObjectLostError or ActorDiedError, got ${describe(s)}`);
      t.true(s.error instanceof core.TensorwireError, `${what}: ${s.error.name} is a TensorwireError`);
      t.log(`${what}: ${describe(s)} (after ${s.ms} ms)`);
    } else if (s.status === 'fulfilled') {
      if (mayComplete) {
        t.deepEqual(s.value, expected, `${what}: completed, with the right bytes`);
        t.log(`${what}: completed before the fault took effect`);
      } else {
        t.fail(`${what}: succeeded, expected a typed error`);
      }
    }
  };

  /** Wait until the driver has seen `h` die (its stats fail with ActorDiedError). */
  const deathSeen = async (t: Checks, h: object): Promise<void> => {
    const seen = await deathNoticed(h, SETTLE_MS);
    t.true(seen, `the driver noticed that ${nameOf(h)} died`);
  };

  /**
   * The call just submitted to `h` has reached it and its inputs' receive/read is posted: `h`
   * takes messages in order and starts an input transfer when the call arrives.
   */
  const posted = async (h: unknown): Promise<void> => {
    await new Promise((r) => setImmediate(r)); // the driver dispatches the call
    await stats(h);
  };

  /** Poll until `h` holds nothing (after frees); asserts with the counts it ended with. */
  const holdsNothing = async (t: Checks, h: object, role: string): Promise<void> => {
    let last = '';
    const ok = await eventually(async () => {
      await collectRefs(1);
      const s = await stats(h);
      last = countsOf(s);
      return s.gpuObjects === 0 && s.tensors === 0 && s.receivedCopies === 0 && s.pendingTransfers === 0;
    }, SETTLE_MS);
    t.true(ok, `the ${role} (${nameOf(h)}) still holds ${last} ${SETTLE_MS} ms after the frees`);
  };

  /** A group of this backend over `actors`, once none of them is in an active one any more. */
  const regroup = async (t: Checks, set: ActorSet, actors: unknown[]): Promise<void> => {
    if (oneSided) return;
    if ((await core.getCollectiveGroups(actors, name)).length > 0) return; // their group survived
    const free = await eventually(async () => (await core.getCollectiveGroups(actors.slice(0, 1), name)).length === 0 &&
      (await core.getCollectiveGroups(actors.slice(1), name)).length === 0, SETTLE_MS);
    t.true(free, 'the broken group was destroyed');
    await set.group(actors, name);
  };

  /** A fresh transfer producer -> consumer works and leaves nothing held after free. */
  const transferWorks = async (t: Checks, producer: object, consumer: object, what: string): Promise<void> => {
    const rec = recipe([MiB / 4]);
    const ref = k.produce(producer, 'make', rec);
    const res = (consumer as any).fp.remote(ref);
    const s = await settleWithin(core.get(res), k.deadline);
    if (s.status === 'fulfilled') t.deepEqual(s.value, fingerprint(makeTensor(rec)), `${what}: right bytes`);
    else t.fail(`${what}: ${describe(s)}`);
    await core.free([ref, res]);
    await holdsNothing(t, producer, 'producer of the new transfer');
    await holdsNothing(t, consumer, 'consumer of the new transfer');
  };

  /** The driver before a test, once its endpoints are warm (a one-sided transport's driver endpoint opens on first get). */
  let warmGeneration = -1;
  const baseline = async (t: T): Promise<DriverResources> => {
    if (warmGeneration !== runtimeGeneration()) {
      const set = new ActorSet(t, `conf-${name}-warm`);
      const p = await set.spawn(k.ConformanceActor, 'producer');
      const ref = k.produce(p, 'make', recipe([1024]));
      await core.get(ref);
      await core.free(ref);
      await set.killAll();
      warmGeneration = runtimeGeneration();
    }
    await collectRefs();
    return driverResources();
  };

  /** All actors of the test gone: nothing more open in the driver, no child left, no new /dev/shm file. */
  const noLeaks = async (t: Checks, set: ActorSet, before: DriverResources): Promise<void> => {
    await set.killAll();
    const t0 = Date.now();
    const problems = await settleProblems(async () => {
      await collectRefs(1);
      return driverResources();
    }, (now) => resourceGrowth(before, now, FD_SLACK), SETTLE_MS);
    if (problems.length === 0) t.log(`driver: no descriptor, process or /dev/shm file gained (settled in ${Date.now() - t0} ms)`);
    t.deepEqual(problems, [], `after the test's actors are gone: ${problems.join('; ')}`);
  };

  /**
   * Once its peers are dead, `h` is back to the descriptors it had before the test's transfers
   * (a long-lived actor meets many peers: what it keeps per dead peer adds up).
   */
  const survivorClosesUp = async (t: Checks, h: object, pid: number, before: number | undefined): Promise<void> => {
    if (before === undefined) return;
    let now: number | undefined;
    const t0 = Date.now();
    const ok = await eventually(async () => {
      now = fdCount(pid);
      return now === undefined || now <= before + FD_SLACK;
    }, SETTLE_MS);
    if (ok) t.log(`the surviving ${nameOf(h)}: ${now} open file descriptors (${before} before) after ${Date.now() - t0} ms`);
    t.true(ok, `the surviving ${nameOf(h)} has ${now} open file descriptors once its peers died, ${before} before the test's transfers (slack ${FD_SLACK}); by kind now: ${JSON.stringify(fdKinds(pid))}`);
  };

  /** SIGSTOP / SIGCONT one of our actor processes (never a pid that is no longer our child). */
  const stop = (pid: number, signal: 'SIGSTOP' | 'SIGCONT') => {
    const ours = childPids();
    if (ours && !ours.includes(pid)) return;
    try {
      process.kill(pid, signal);
    } catch {
      /* already dead */
    }
  };

  const matrix = async (real: T, t: Checks, victim: Victim, via: Via, when: When): Promise<void> => {
    const before = await baseline(real);
    const { set, p, c } = await k.setup(real);
    const pPid = await pidOf(p);
    const victimH = victim === 'producer' ? p : c;
    const survivor = victim === 'producer' ? c : p;
    const victimPid = await pidOf(victimH);
    const kill = async (): Promise<void> => {
      if (via === 'SIGKILL') process.kill(victimPid, 'SIGKILL');
      else await core.kill(victimH);
    };
    real.teardown(() => stop(pPid, 'SIGCONT'));
    const survivorPid = await pidOf(survivor);
    // Both make a GPU object first, so that their endpoints exist (opened lazily) before the baseline.
    const warm = [k.produce(p, 'make', recipe([256])), k.produce(c, 'make', recipe([256]))];
    await core.wait(warm, { numReturns: 2, timeoutMs: k.deadline });
    await core.free(warm);
    const survivorFds = fdCount(survivorPid);

    const rec = recipe(when === 'during' ? [largeElems] : [MiB / 4]);
    const expected = fingerprint(makeTensor(rec));
    const ref = k.produce(p, 'make', rec);
    await core.wait([ref], { timeoutMs: k.deadline });

    if (when === 'before') {
      await kill();
      await deathSeen(t, victimH);
      const s = await settleWithin(core.get(c.fp.remote(ref)), k.deadline);
      expectTypedFailure(t, s, `the consumer's call after the ${victim} died`);
    } else if (when === 'during') {
      stop(pPid, 'SIGSTOP');
      let pending: Promise<unknown>;
      let fetching: Promise<unknown> | undefined;
      let reading: Promise<unknown> | undefined;
      try {
        pending = core.get(c.fp.remote(ref));
        pending.catch(() => undefined);
        if (victim === 'producer') {
          // The driver's own copy through the object store is in flight too (the stopped producer cannot answer),
          // and with a one-sided transport the driver's read as well.
          fetching = core.get(ref, { tensorTransport: 'object-store' });
          fetching.catch(() => undefined);
          if (oneSided) {
            reading = core.get(ref).then(k.fpGet);
            reading.catch(() => undefined);
          }
        }
        await posted(c);
        await kill();
      } finally {
        if (victim === 'consumer') stop(pPid, 'SIGCONT');
      }
      const s = await settleWithin(pending, k.deadline);
      // Stopped, a two-sided producer cannot send: the transfer was in flight when the victim died.
      expectTypedFailure(t, s, `the consumer's call with the ${victim} killed during the transfer`, expected, oneSided);
      if (fetching) {
        expectTypedFailure(t, await settleWithin(fetching, k.deadline), "get(ref, { tensorTransport: 'object-store' }) in flight when the producer died");
      }
      if (reading) {
        expectTypedFailure(t, await settleWithin(reading, k.deadline), `get(ref) over ${name} in flight when the producer died`, k.fpGet(makeTensor(rec)), true);
      }
      await deathSeen(t, victimH);
    } else {
      t.deepEqual(await k.call(c, 'fp', ref), expected, 'the transfer before the kill');
      await kill();
      await deathSeen(t, victimH);
      const s = await settleWithin(core.get(c.fp.remote(ref)), k.deadline);
      expectTypedFailure(t, s, `the consumer's call after the ${victim} died`);
    }

    // The victim's later calls fail with ActorDiedError naming it.
    const late = await settleWithin(core.get(victimH.pid.remote()), k.deadline);
    t.true(late.status === 'rejected' && late.error instanceof core.ActorDiedError, `a call on the dead ${victim}: ${describe(late)}`);
    if (late.status === 'rejected') t.true(late.error.message.includes(nameOf(victimH)), `ActorDiedError names ${nameOf(victimH)}: ${late.error.message}`);

    if (victim === 'producer') {
      const g = await settleWithin(core.get(ref), k.deadline);
      expectTypedFailure(t, g, 'get of an object whose producer died');
    } else {
      // The object outlives its consumer: the producer still serves it.
      const g = await settleWithin(core.get(ref), k.deadline);
      t.is(g.status, 'fulfilled', `get of the object after its consumer died: ${describe(g)}`);
      if (g.status === 'fulfilled') t.deepEqual(k.fpGet(g.value), k.fpGet(makeTensor(rec)), 'get: right bytes');
    }
    t.is(typeof (await k.call(survivor, 'pid')), 'number', `the surviving ${victim === 'producer' ? 'consumer' : 'producer'} still answers`);
    await core.free(ref);
    await holdsNothing(t, survivor, `surviving ${victim === 'producer' ? 'consumer' : 'producer'}`);

    // New transfers between the survivor and a new actor.
    const fresh = await set.spawn(k.ConformanceActor, `new-${victim}`);
    const [np, nc] = victim === 'producer' ? [fresh, survivor] : [survivor, fresh];
    await regroup(t, set, [np, nc]);
    await transferWorks(t, np, nc, `a transfer ${victim === 'producer' ? 'new producer -> surviving consumer' : 'surviving producer -> new consumer'}`);
    // Its peers gone, the survivor closes what it had open for them (connections, registrations).
    await core.kill(fresh);
    await survivorClosesUp(t, survivor, survivorPid, survivorFds);
    await noLeaks(t, set, before);
  };

  for (const victim of ['producer', 'consumer'] as const) {
    for (const when of ['before', 'during', 'after'] as const) {
      for (const via of ['SIGKILL', 'kill()'] as const) {
        const how = via === 'SIGKILL' ? 'SIGKILL' : 'kill(handle)';
        k.test(
          `faults: ${victim} killed (${how}) ${when} a transfer: typed error, the survivor holds nothing, new transfers work, no fd/process/shm leak`,
          (t) => checked(t, (ck) => matrix(t, ck, victim, via, when)),
        );
      }
    }
  }

  const freezeMs = 1500;
  k.test(
    `faults: producer frozen (SIGSTOP) past the transfer deadline (transferTimeoutMs ${freezeMs}): typed error, nothing held after SIGCONT, new transfers work, no leak`,
    (real) => checked(real, async (t) => {
      const before = await baseline(real);
      const { set, p, c } = await k.setup(real);
      const pPid = await pidOf(p);
      real.teardown(() => stop(pPid, 'SIGCONT'));
      const rec = recipe([MiB / 4]);
      const expected = fingerprint(makeTensor(rec));
      const ref = k.produce(p, 'make', rec);
      await core.wait([ref], { timeoutMs: k.deadline });
      stop(pPid, 'SIGSTOP');
      // Every waiter must give up while the producer is still stopped: one that only finishes
      // after SIGCONT had no deadline. Ten times the deadline is the bound for "gave up".
      const bound = Math.max(15_000, freezeMs * 10);
      let s: Settled<unknown>;
      let viaStore: Settled<unknown>;
      let direct: Settled<unknown> | undefined;
      try {
        [s, viaStore, direct] = await Promise.all([
          settleWithin(core.get(c.fp.remote(ref)), bound),
          settleWithin(core.get(ref, { tensorTransport: 'object-store' }).then(k.fpGet), bound),
          oneSided ? settleWithin(core.get(ref).then(k.fpGet), bound) : undefined,
        ]);
      } finally {
        stop(pPid, 'SIGCONT');
      }
      // A true one-sided read needs no producer CPU, so it may complete from a stopped producer.
      expectTypedFailure(t, s, `the consumer's call with its producer stopped for longer than the ${freezeMs} ms deadline`, expected, oneSided);
      if (s.status === 'rejected') t.true(s.error instanceof core.TransferError, `a missed deadline is a TransferError: ${describe(s)}`);
      // The driver's copy through the object store needs the producer to send it: it cannot succeed.
      expectTypedFailure(t, viaStore, `get(ref, { tensorTransport: 'object-store' }) with the producer stopped past the deadline`);
      if (direct) expectTypedFailure(t, direct, `get(ref) over ${name} with the producer stopped past the deadline`, k.fpGet(makeTensor(rec)), true);

      t.is(typeof (await k.call(p, 'pid')), 'number', 'the producer answers after SIGCONT');
      t.is(typeof (await k.call(c, 'pid')), 'number', 'the consumer answers');
      await core.free(ref);
      await holdsNothing(t, p, 'producer');
      await holdsNothing(t, c, 'consumer');
      // A failed transfer may break the group (Gloo poisons it): then both join a new one.
      await regroup(t, set, [p, c]);
      await transferWorks(t, p, c, 'a transfer between the same actors after the freeze');
      await noLeaks(t, set, before);
    }),
    { transferTimeoutMs: freezeMs },
  );
}
