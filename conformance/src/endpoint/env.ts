/** Shared helpers of the endpoint-level tests: peers with teardown, groups, seeds, deadlines. */
import type { ExecutionContext } from 'ava';
import type { ElementSize, TensorSpec } from '../data/tensor-spec';
import type { EffectiveOptions } from '../options';
import type { ResolvedTarget } from '../target';
import { Peer } from './peer-client';
import type { TransferSpec } from './protocol';
import { RendezvousHub } from './rendezvous-hub';

export interface EndpointSuiteContext {
  readonly target: ResolvedTarget;
  readonly options: EffectiveOptions;
  readonly device: 'cpu' | 'cuda';
}

let seedCounter = 1;
/** A fresh seed: every tensor of a test run gets its own bytes. */
export function nextSeed(): number {
  return (Math.imul(seedCounter++, 0x9e3779b1) ^ 0x5bd1e995) >>> 0;
}

/** A tensor spec with a fresh seed. */
export function spec(numel: number, elementSize: ElementSize, offsetElements = 0): TensorSpec {
  return { numel, elementSize, seed: nextSeed(), offsetElements };
}

let groupCounter = 0;
export function groupName(what: string): string {
  return `conformance-${process.pid}-${++groupCounter}-${what}`;
}

/** Peers of one test; they are killed when the test ends, whatever happened. */
export class PeerSet {
  readonly hub = new RendezvousHub();
  private readonly peers: Peer[] = [];
  private count = 0;

  constructor(
    private readonly t: ExecutionContext<unknown>,
    private readonly ctx: EndpointSuiteContext,
  ) {
    t.teardown(async () => {
      await Promise.all(this.peers.map((p) => p.kill()));
    });
  }

  async start(n: number): Promise<Peer[]> {
    return Promise.all(Array.from({ length: n }, () => this.startOne()));
  }

  async startOne(): Promise<Peer> {
    const name = `peer-${++this.count}`;
    const { peer, availability } = await Peer.start(name, {
      module: this.ctx.target.module,
      name: this.ctx.target.name,
      endpointOptions: this.ctx.options.endpointOptions,
    }, this.hub);
    this.peers.push(peer);
    if (!availability.available) {
      throw new Error(`${name}: transport unavailable in the peer: ${availability.detail}`);
    }
    return peer;
  }
}

/** Create one group over `peers` (rank = index) and return its name. */
export async function createGroup(peers: readonly Peer[], timeoutMs: number, what = 'g'): Promise<string> {
  const group = groupName(what);
  await Promise.all(
    peers.map((p, rank) => p.call('createGroup', { group, rank, worldSize: peers.length, timeoutMs }, timeoutMs + 30_000)),
  );
  return group;
}

export interface RecvResult {
  /** From posting the recv to its completion (includes the sender's time to fill its tensors). */
  ms: number;
  problems: string[];
  /** From posting the send to its completion, on the sender. */
  sendMs?: number;
}

/** Move `transfers` from `from` (rank src) to `to` (rank dst) and assert every byte arrived. */
export async function transfer(
  t: ExecutionContext<unknown>,
  group: string,
  from: { peer: Peer; rank: number },
  to: { peer: Peer; rank: number },
  transfers: TransferSpec[],
  recvOrder?: TransferSpec[],
): Promise<RecvResult> {
  const [sent, received] = await Promise.all([
    from.peer.call<{ ms: number }>('send', { group, dst: to.rank, transfers }),
    to.peer.call<RecvResult>('recv', { group, src: from.rank, transfers: recvOrder ?? transfers }),
  ]);
  t.deepEqual(received.problems, [], 'received bytes differ from the bytes sent');
  return { ...received, sendMs: sent.ms };
}

export type Settled<T> =
  | { status: 'fulfilled'; value: T; ms: number }
  | { status: 'rejected'; error: Error; ms: number }
  | { status: 'hung'; ms: number };

/** Wait for `p` at most `ms`; says how it settled and when. */
export async function settleWithin<T>(p: Promise<T>, ms: number): Promise<Settled<T>> {
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), ms)));
  try {
    const r = await Promise.race([p.then((value) => ({ value })), hung]);
    if (r === 'hung') return { status: 'hung', ms: Date.now() - t0 };
    return { status: 'fulfilled', value: r.value, ms: Date.now() - t0 };
  } catch (error) {
    return { status: 'rejected', error: error as Error, ms: Date.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

/** Assert that `p` rejects within `ms` (a transport error, not a hang); returns the error. */
export async function expectRejectWithin(
  t: ExecutionContext<unknown>,
  p: Promise<unknown>,
  ms: number,
  what: string,
): Promise<Error | undefined> {
  const s = await settleWithin(p, ms);
  if (s.status === 'rejected') {
    t.log(`${what}: failed as expected after ${s.ms} ms: ${s.error.message.split('\n')[0]}`);
    t.pass();
    return s.error;
  }
  t.fail(s.status === 'hung' ? `${what}: still pending after ${ms} ms (hang)` : `${what}: succeeded, expected an error`);
  return undefined;
}
