/**
 * Endpoint-level tests of a one-sided transport (register / read / release): the consumer reads
 * the producer's registered memory with a descriptor that travelled through the parent (as it
 * travels with an object's metadata in the runtime), and the producer runs no task for it.
 */
import type { ExecutionContext } from 'ava';
import { MiB } from '../options';
import type { Registrar } from '../registrar';
import { expectRejectWithin, settleWithin, specsOn, testPeers, type EndpointSuiteContext } from './env';
import type { Peer, TensorSpec } from '../testing';

type T = ExecutionContext<unknown>;
const SLACK_MS = 10_000;

interface Registration {
  handle: number;
  desc: unknown;
}
interface ReadResult {
  ms: number;
  problems: string[];
}

export function registerOneSidedTests(r: Registrar, ctx: EndpointSuiteContext): void {
  const { options, target } = ctx;
  const timeoutMs = options.timeoutMs;
  const large = options.largeBytes;
  const d = `endpoint/${ctx.device} one-sided: `;
  const spec = specsOn(ctx.device);

  const start = async (t: T, n = 2) => {
    const peers = testPeers(t, ctx);
    const ps = await peers.start(n);
    return { peers, producer: ps[0], consumer: ps[1], others: ps.slice(2) };
  };
  const register = (p: Peer, specs: TensorSpec[], pool = false) => p.call<Registration>('register', { specs, pool });
  const read = async (t: T, c: Peer, reg: Registration, specs: TensorSpec[], times = 1) => {
    const res = await c.call<ReadResult>('read', { desc: reg.desc, specs, times, timeoutMs });
    t.deepEqual(res.problems, [], 'read bytes differ from the registered bytes');
    return res;
  };

  r.test(`${d}register, read, release, close`, async (t) => {
    const { producer, consumer } = await start(t);
    const specs = [spec(MiB / 4, 4)];
    const reg = await register(producer, specs);
    await read(t, consumer, reg, specs);
    await producer.call('release', { handle: reg.handle });
    await Promise.all([producer.call('close'), consumer.call('close')]);
  });

  r.test(`${d}every element size (1, 2, 4, 8 bytes), odd counts and views at an offset`, async (t) => {
    const { producer, consumer } = await start(t);
    for (const es of [1, 2, 4, 8] as const) {
      const specs = [1, 3, 1023, 65_537].flatMap((n) => [spec(n, es), spec(n, es, 3)]);
      const reg = await register(producer, specs);
      await read(t, consumer, reg, specs);
      await producer.call('release', { handle: reg.handle });
    }
  });

  r.test(`${d}several regions: one registration of many tensors and several registrations read at once`, async (t) => {
    const { producer, consumer } = await start(t);
    const many = [spec(1000, 4), spec(0, 8), spec(1, 1), spec(MiB / 2, 2), spec(17, 8), spec(3, 2, 1)];
    const regMany = await register(producer, many);
    const singles = [spec(4096, 8), spec(1, 4), spec(300_001, 1)];
    const regs = await Promise.all(singles.map((s) => register(producer, [s])));
    await Promise.all([read(t, consumer, regMany, many), ...regs.map((reg, i) => read(t, consumer, reg, [singles[i]]))]);
  });

  r.test(`${d}0-byte tensors and a scalar`, async (t) => {
    const { producer, consumer } = await start(t);
    const empty = [spec(0, 4)];
    await read(t, consumer, await register(producer, empty), empty);
    const mixed = [spec(0, 1), spec(1, 8), spec(0, 2)];
    await read(t, consumer, await register(producer, mixed), mixed);
  });

  r.test(`${d}one ${large / MiB} MiB tensor`, async (t) => {
    const { producer, consumer } = await start(t);
    const specs = [spec(large / 8, 8)];
    const reg = await register(producer, specs);
    const res = await read(t, consumer, reg, specs);
    t.log(`${large / MiB} MiB read in ${res.ms.toFixed(0)} ms (${(large / 1e6 / res.ms).toFixed(2)} GB/s)`);
  });

  r.test(`${d}many concurrent reads of one registration from two consumers`, async (t) => {
    const { producer, consumer, others } = await start(t, 3);
    const specs = [spec((4 * MiB) / 4, 4), spec(12_345, 2)];
    const reg = await register(producer, specs);
    await Promise.all([read(t, consumer, reg, specs, 24), read(t, others[0], reg, specs, 8)]);
  });

  r.test(`${d}a registration is read again and again; after release() reads fail, others still work`, async (t) => {
    const { producer, consumer } = await start(t);
    const specs = [spec(MiB / 8, 8)];
    const other = [spec(1000, 4)];
    const reg = await register(producer, specs);
    const keep = await register(producer, other);
    for (let i = 0; i < 3; i++) await read(t, consumer, reg, specs);
    await producer.call('release', { handle: reg.handle });
    await expectRejectWithin(
      t,
      consumer.call('read', { desc: reg.desc, specs, timeoutMs }),
      timeoutMs + SLACK_MS,
      'read after release',
    );
    await read(t, consumer, keep, other);
  });

  r.test(`${d}a read with the wrong count or sizes fails`, async (t) => {
    const { producer, consumer } = await start(t);
    const specs = [spec(1000, 4), spec(10, 8)];
    const reg = await register(producer, specs);
    const wrong: Array<[string, TensorSpec[]]> = [
      ['fewer tensors', [specs[0]]],
      ['a larger tensor', [{ ...specs[0], numel: 2000 }, specs[1]]],
      ['a smaller tensor', [specs[0], { ...specs[1], numel: 5 }]],
    ];
    for (const [what, into] of wrong) {
      await expectRejectWithin(t, consumer.call('read', { desc: reg.desc, specs: into, timeoutMs }), timeoutMs + SLACK_MS, what, ['INVALID']);
    }
    await read(t, consumer, reg, specs);
  });

  if (ctx.device !== 'cpu') {
    r.skip(`${d}registered pool memory`, 'a registered pool is host memory; the CPU variant tests it');
  } else if (target.plugin.kind === 'one-sided' && target.plugin.supports.registeredPool) {
    r.test(`${d}registered pool memory: allocate(), register tensors in it, read`, async (t) => {
      const { producer, consumer } = await start(t);
      const info = await producer.call<{ byteLength: number; allSeven: boolean }>('allocate', { nbytes: 3 * MiB });
      t.is(info.byteLength, 3 * MiB, 'allocate(n) must return n bytes');
      t.true(info.allSeven, 'allocated memory must be writable');
      const specs = [spec(MiB / 4, 4), spec(1, 8), spec(MiB, 1)];
      const reg = await register(producer, specs, true);
      await read(t, consumer, reg, specs);
      await producer.call('release', { handle: reg.handle });
    });
  } else {
    r.skip(`${d}registered pool memory`, 'supports.registeredPool is not set');
  }

  r.test(`${d}producer killed (SIGKILL) before a read: the read fails fast; a new producer works`, async (t) => {
    const { peers, producer, consumer } = await start(t);
    const specs = [spec(MiB / 4, 4)];
    const reg = await register(producer, specs);
    await producer.kill();
    await expectRejectWithin(t, consumer.call('read', { desc: reg.desc, specs, timeoutMs }), timeoutMs + SLACK_MS, 'read from a dead producer', ['PEER_LOST', 'TIMEOUT']);
    const fresh = await peers.startOne();
    const reg2 = await register(fresh, specs);
    await read(t, consumer, reg2, specs);
  });

  r.test(`${d}producer killed (SIGKILL) during a read: the read fails or has every byte; a new producer works`, async (t) => {
    const { peers, producer, consumer } = await start(t);
    const specs = [spec(large / 4, 4)];
    const reg = await register(producer, specs);
    const pending = consumer.start<ReadResult>('read', { desc: reg.desc, specs, timeoutMs });
    await pending.posted;
    await producer.kill();
    const s = await settleWithin(pending.result, timeoutMs + SLACK_MS);
    if (s.status === 'fulfilled') {
      t.deepEqual(s.value.problems, [], 'the read resolved with wrong bytes after the producer died');
      t.log('the read completed before the kill landed');
    } else {
      t.is(s.status, 'rejected', 'the read is still pending after the producer died (hang)');
      if (s.status === 'rejected') t.log(`read failed after ${s.ms} ms: ${s.error.message.split('\n')[0]}`);
    }
    const fresh = await peers.startOne();
    const small = [spec(MiB / 4, 4)];
    await read(t, consumer, await register(fresh, small), small);
  });

  r.test(`${d}producer frozen (SIGSTOP): a read completes or fails by its timeoutMs, no hang`, async (t) => {
    const { producer, consumer } = await start(t);
    const specs = [spec(MiB / 4, 4)];
    const reg = await register(producer, specs);
    process.kill(producer.pid, 'SIGSTOP');
    try {
      const readTimeout = 2000;
      const s = await settleWithin(
        consumer.call<ReadResult>('read', { desc: reg.desc, specs, timeoutMs: readTimeout }),
        readTimeout + SLACK_MS,
      );
      t.not(s.status, 'hung', `read still pending ${readTimeout + SLACK_MS} ms after its timeoutMs of ${readTimeout}`);
      if (s.status === 'fulfilled') t.deepEqual(s.value.problems, []);
      t.log(`read ${s.status} after ${s.ms} ms`);
    } finally {
      process.kill(producer.pid, 'SIGCONT');
    }
  });
}
