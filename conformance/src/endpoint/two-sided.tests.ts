/**
 * Endpoint-level tests of a two-sided transport (createGroup + send/recv), run between real
 * processes through the SPI alone: exact bytes for every element size and shape, many transfers
 * in flight, group life cycle, and the faults users hit (bad rank or size, dead peer, timeout).
 */
import type { ExecutionContext } from 'ava';
import { MiB } from '../options';
import type { Registrar } from '../registrar';
import {
  createGroup,
  CUDA_TEST_DEVICE,
  expectRejectWithin,
  testPeers,
  settleWithin,
  specsOn,
  transfer,
  type EndpointSuiteContext,
} from './env';
import type { Peer, PeerSet, TransferSpec } from '../testing';

type T = ExecutionContext<unknown>;

/** Slack on top of a transport deadline before "it hangs". */
const SLACK_MS = 10_000;

export function registerTwoSidedTests(r: Registrar, ctx: EndpointSuiteContext): void {
  const { options, target } = ctx;
  const timeoutMs = options.timeoutMs;
  const d = `endpoint/${ctx.device}: `;
  const large = options.largeBytes;
  const spec = specsOn(ctx.device);
  const device = ctx.device === 'cuda' ? CUDA_TEST_DEVICE : undefined;

  const pair = async (t: T, groupTimeoutMs = timeoutMs) => {
    const peers = testPeers(t, ctx);
    const [a, b] = await peers.start(2);
    const group = await createGroup([a, b], groupTimeoutMs);
    return { peers, a, b, group, from: { peer: a, rank: 0 }, to: { peer: b, rank: 1 } };
  };

  r.test(`${d}create a group of 2, send/recv one tensor, destroy, close`, async (t) => {
    const { a, b, group, from, to } = await pair(t);
    await transfer(t, group, from, to, [{ tag: 1, tensors: [spec(1000, 4)] }]);
    // and the other direction
    await transfer(t, group, to, from, [{ tag: 2, tensors: [spec(1000, 4)] }]);
    await Promise.all([a.call('barrier', { group }), b.call('barrier', { group })]);
    await Promise.all([a.call('destroyGroup', { group }), b.call('destroyGroup', { group })]);
    await Promise.all([a.call('close'), b.call('close')]);
  });

  r.test(`${d}every element size (1, 2, 4, 8 bytes), odd counts and views at an offset arrive byte-exact`, async (t) => {
    const { group, from, to } = await pair(t);
    let tag = 10;
    for (const es of [1, 2, 4, 8] as const) {
      const tensors = [1, 3, 1023, 65_537].flatMap((n) => [spec(n, es), spec(n, es, 3)]);
      await transfer(t, group, from, to, [{ tag: tag++, tensors }]);
    }
  });

  r.test(`${d}shapes: 0 elements, a scalar, 1 KiB, 1 MiB, 64 MiB`, async (t) => {
    const { group, from, to } = await pair(t);
    const shapes = [spec(0, 4), spec(1, 4), spec(1, 8), spec(256, 4), spec(MiB / 4, 4), spec((64 * MiB) / 8, 8)];
    let tag = 20;
    for (const s of shapes) {
      const got = await transfer(t, group, from, to, [{ tag: tag++, tensors: [s] }]);
      t.log(`${s.numel * s.elementSize} bytes: send took ${(got.sendMs ?? got.ms).toFixed(1)} ms`);
    }
  });

  r.test(`${d}one ${large / MiB} MiB tensor`, async (t) => {
    const { group, from, to } = await pair(t);
    const got = await transfer(t, group, from, to, [{ tag: 30, tensors: [spec(large / 4, 4)] }]);
    const ms = got.sendMs ?? got.ms;
    t.log(`${large / MiB} MiB: send took ${ms.toFixed(0)} ms (${(large / 1e6 / ms).toFixed(2)} GB/s on a busy machine)`);
  });

  r.test(`${d}several tensors in one transfer (mixed sizes, an empty one among them)`, async (t) => {
    const { group, from, to } = await pair(t);
    await transfer(t, group, from, to, [
      { tag: 40, tensors: [spec(1000, 4), spec(0, 8), spec(1, 1), spec(MiB / 2, 2), spec(17, 8), spec(3, 2, 1)] },
    ]);
  });

  r.test(`${d}32 transfers in flight with distinct tags, received in reverse order`, async (t) => {
    const { group, from, to } = await pair(t);
    const transfers: TransferSpec[] = Array.from({ length: 32 }, (_, i) => ({
      tag: 1000 + i,
      tensors: [spec(1 + i * 4099, ([1, 2, 4, 8] as const)[i % 4]), spec(7 * i, 4)],
    }));
    await transfer(t, group, from, to, transfers, [...transfers].reverse());
  });

  r.test(`${d}both ranks send to each other at the same time`, async (t) => {
    const { a, b, group } = await pair(t);
    const ab: TransferSpec[] = [{ tag: 50, tensors: [spec((8 * MiB) / 4, 4)] }];
    const ba: TransferSpec[] = [{ tag: 50, tensors: [spec((8 * MiB) / 4, 4)] }];
    const results = await Promise.all([
      a.call('send', { group, dst: 1, transfers: ab }),
      b.call('send', { group, dst: 0, transfers: ba }),
      a.call<{ problems: string[] }>('recv', { group, src: 1, transfers: ba }),
      b.call<{ problems: string[] }>('recv', { group, src: 0, transfers: ab }),
    ]);
    t.deepEqual([...results[2].problems, ...results[3].problems], []);
  });

  r.test(`${d}group destroy and re-create on the same endpoints, transfers work on the new group`, async (t) => {
    const { a, b, group, from, to } = await pair(t);
    await transfer(t, group, from, to, [{ tag: 1, tensors: [spec(100, 4)] }]);
    await Promise.all([a.call('destroyGroup', { group }), b.call('destroyGroup', { group })]);
    for (let round = 0; round < 2; round++) {
      // Ranks swapped on the new group, as core may assign them differently.
      const g2 = await createGroup([b, a], timeoutMs, `recreate${round}`);
      await transfer(t, g2, { peer: b, rank: 0 }, { peer: a, rank: 1 }, [{ tag: 1, tensors: [spec(1000, 8)] }]);
      await transfer(t, g2, { peer: a, rank: 1 }, { peer: b, rank: 0 }, [{ tag: 2, tensors: [spec(1000, 2)] }]);
      await Promise.all([a.call('destroyGroup', { group: g2 }), b.call('destroyGroup', { group: g2 })]);
    }
  });

  r.test(`${d}send to or recv from a rank outside the group fails at once`, async (t) => {
    const { a, group } = await pair(t);
    const one = [{ tag: 60, tensors: [spec(10, 4)] }];
    await expectRejectWithin(t, a.call('send', { group, dst: 2, transfers: one }), SLACK_MS, 'send to rank 2 of 2', ['INVALID']);
    await expectRejectWithin(t, a.call('send', { group, dst: -1, transfers: one }), SLACK_MS, 'send to rank -1', ['INVALID']);
    await expectRejectWithin(t, a.call('recv', { group, src: 5, transfers: one }), SLACK_MS, 'recv from rank 5 of 2', ['INVALID']);
  });

  const mismatch = (what: string, sent: TransferSpec[], expected: TransferSpec[]) =>
    r.test(`${d}${what}: the receiver fails (no hang, no silent truncation)`, async (t) => {
      const { a, b, group } = await pair(t, Math.min(timeoutMs, 5000));
      const send = a.call('send', { group, dst: 1, transfers: sent });
      const recv = b.call<{ problems: string[] }>('recv', { group, src: 0, transfers: expected });
      await expectRejectWithin(t, recv, timeoutMs + SLACK_MS, 'recv', 'any');
      const s = await settleWithin(send, timeoutMs + SLACK_MS);
      t.not(s.status, 'hung', 'the sender of a mismatched transfer hangs');
      t.log(`sender: ${s.status}`);
    });
  mismatch('size mismatch (sent 1000 bytes, receiver expects 2000)', [{ tag: 70, tensors: [spec(250, 4)] }], [
    { tag: 70, tensors: [spec(500, 4)] },
  ]);
  mismatch('size mismatch (sent 2000 bytes, receiver expects 1000)', [{ tag: 71, tensors: [spec(500, 4)] }], [
    { tag: 71, tensors: [spec(250, 4)] },
  ]);

  r.test(`${d}timeout: a recv with no matching send fails after the group's timeoutMs`, async (t) => {
    const groupTimeout = 2000;
    const { b, group } = await pair(t, groupTimeout);
    const recv = b.call('recv', { group, src: 0, transfers: [{ tag: 80, tensors: [spec(100, 4)] }] });
    await expectRejectWithin(t, recv, groupTimeout + SLACK_MS, `recv (timeoutMs ${groupTimeout})`, ['TIMEOUT']);
  });

  /** After a peer died, the survivor cleans up and works with a new peer. */
  const survivorStillWorks = async (t: T, peers: PeerSet, survivor: Peer, deadGroup: string) => {
    const destroyed = await settleWithin(survivor.call('destroyGroup', { group: deadGroup }), SLACK_MS);
    t.not(destroyed.status, 'hung', 'destroy() of a group whose peer died hangs');
    const fresh = await peers.startOne();
    const g = await createGroup([survivor, fresh], timeoutMs, 'after-death');
    await transfer(t, g, { peer: fresh, rank: 1 }, { peer: survivor, rank: 0 }, [{ tag: 1, tensors: [spec(MiB, 4)] }]);
    await transfer(t, g, { peer: survivor, rank: 0 }, { peer: fresh, rank: 1 }, [{ tag: 2, tensors: [spec(MiB, 4)] }]);
  };

  r.test(`${d}sender killed (SIGKILL) before sending: the pending recv fails, no hang`, async (t) => {
    const { peers, a, b, group } = await pair(t);
    const recv = b.start('recv', { group, src: 0, transfers: [{ tag: 90, tensors: [spec((64 * MiB) / 4, 4)] }] });
    await recv.posted;
    await a.kill();
    await expectRejectWithin(t, recv.result, timeoutMs + SLACK_MS, 'recv from the killed sender', ['PEER_LOST', 'TIMEOUT']);
    await survivorStillWorks(t, peers, b, group);
  });

  r.test(`${d}sender killed (SIGKILL) during the send: the recv fails or has every byte, no hang`, async (t) => {
    const { peers, a, b, group } = await pair(t);
    const transfers = [{ tag: 91, tensors: [spec(large / 4, 4)] }];
    const recv = b.start<{ problems: string[] }>('recv', { group, src: 0, transfers });
    await recv.posted;
    const send = a.start('send', { group, dst: 1, transfers });
    void send.result.catch(() => undefined);
    await send.posted;
    await a.kill();
    const s = await settleWithin(recv.result, timeoutMs + SLACK_MS);
    if (s.status === 'fulfilled') {
      t.deepEqual(s.value.problems, [], 'recv resolved with wrong bytes after the sender died');
      t.log('the transfer completed before the kill landed');
    } else {
      t.is(s.status, 'rejected', `recv still pending ${s.ms} ms after the sender died (hang)`);
      if (s.status === 'rejected') t.log(`recv failed after ${s.ms} ms: ${s.error.message.split('\n')[0]}`);
    }
    await survivorStillWorks(t, peers, b, group);
  });

  r.test(`${d}receiver killed (SIGKILL) while a send to it is pending: the send fails, no hang`, async (t) => {
    const { peers, a, b, group } = await pair(t);
    // The receiver never posts a recv; 64 MiB cannot all sit in socket buffers.
    const send = a.start('send', { group, dst: 1, transfers: [{ tag: 92, tensors: [spec((64 * MiB) / 4, 4)] }] });
    await send.posted;
    let settledBeforeKill = false;
    void send.result.then(
      () => (settledBeforeKill = true),
      () => undefined,
    );
    await new Promise((res) => setTimeout(res, 50));
    if (settledBeforeKill) t.log('send resolved before the receiver was killed (the transport buffered it)');
    await b.kill();
    if (!settledBeforeKill) await expectRejectWithin(t, send.result, timeoutMs + SLACK_MS, 'send to the killed receiver', ['PEER_LOST', 'TIMEOUT']);
    await survivorStillWorks(t, peers, a, group);
  });

  r.test(`${d}receiver killed (SIGKILL) during the recv: the send fails or completes, no hang`, async (t) => {
    const { peers, a, b, group } = await pair(t);
    const transfers = [{ tag: 93, tensors: [spec(large / 4, 4)] }];
    const recv = b.start('recv', { group, src: 0, transfers });
    void recv.result.catch(() => undefined);
    await recv.posted;
    const send = a.start('send', { group, dst: 1, transfers });
    await send.posted;
    await b.kill();
    const s = await settleWithin(send.result, timeoutMs + SLACK_MS);
    t.not(s.status, 'hung', 'send still pending after the receiver died (hang)');
    t.log(`send ${s.status} after ${s.ms} ms`);
    await survivorStillWorks(t, peers, a, group);
  });

  {
    r.test(`${d}abort() fails a pending recv at once, without blocking`, async (t) => {
      const { b, group } = await pair(t);
      const recv = b.start('recv', { group, src: 0, transfers: [{ tag: 95, tensors: [spec(100, 4)] }] });
      await recv.posted;
      await b.call('abortGroup', { group, reason: 'conformance abort' });
      await expectRejectWithin(t, recv.result, SLACK_MS, 'recv after abort', ['ABORTED']);
    });
  }

  const collectives = (target.plugin.kind === 'two-sided' ? target.plugin.supports.collectives : undefined) ?? [];
  if (collectives.includes('allreduce')) {
    r.test(`${d}allreduce (sum) over float32`, async (t) => {
      const { a, b, group } = await pair(t);
      const [ra, rb] = await Promise.all([
        a.call<number[]>('allreduce', { group, values: [1, 2, 3, 4.5], device }),
        b.call<number[]>('allreduce', { group, values: [10, 20, 30, 40], device }),
      ]);
      t.deepEqual(ra, [11, 22, 33, 44.5]);
      t.deepEqual(rb, [11, 22, 33, 44.5]);
    });
  }
  if (collectives.includes('broadcast')) {
    r.test(`${d}broadcast from rank 1`, async (t) => {
      const { a, b, group } = await pair(t);
      const s = spec(4096, 4);
      const [ra] = await Promise.all([
        a.call<{ problems: string[] }>('broadcast', { group, root: 1, spec: s }),
        b.call<{ problems: string[] }>('broadcast', { group, root: 1, spec: s }),
      ]);
      t.deepEqual(ra.problems, []);
    });
  }
}
