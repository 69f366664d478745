/** Shared helpers of the endpoint-level tests: peers with teardown, groups, seeds, deadlines. */
import type { ExecutionContext } from 'ava';
import type { EffectiveOptions } from '../options';
import type { ResolvedTarget } from '../target';
import { PeerSet, tensorSpec, type ElementSize, type Peer, type TensorSpec, type TransferSpec } from '../testing';
import type { TransportErrorKind } from '@tensorwire/core';

export { nextSeed } from '../testing';

/** The device the CUDA variant of the endpoint tests builds its tensors on, in every peer. */
export const CUDA_TEST_DEVICE = 'cuda:0';

/** Specs on the variant's device: CPU tensors, or CUDA tensors on {@link CUDA_TEST_DEVICE}. */
export function specsOn(device: 'cpu' | 'cuda'): (numel: number, elementSize: ElementSize, offsetElements?: number) => TensorSpec {
  const on = device === 'cuda' ? CUDA_TEST_DEVICE : undefined;
  return (numel, elementSize, offsetElements = 0) => tensorSpec(numel, elementSize, offsetElements, on);
}

export interface EndpointSuiteContext {
  readonly target: ResolvedTarget;
  readonly options: EffectiveOptions;
  readonly device: 'cpu' | 'cuda';
}

let groupCounter = 0;
export function groupName(what: string): string {
  return `conformance-${process.pid}-${++groupCounter}-${what}`;
}

/** Peers of one test of the transport under test; they are killed when the test ends, whatever happened. */
export function testPeers(t: ExecutionContext<unknown>, ctx: EndpointSuiteContext): PeerSet {
  const peers = new PeerSet({ module: ctx.target.module, name: ctx.target.name, endpointOptions: ctx.options.endpointOptions });
  t.teardown(() => peers.killAll());
  return peers;
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
  /**
   * The TransportError kinds the failure may have (the SPI's error contract); 'any' accepts
   * every kind but still requires a TransportError; undefined checks nothing about the error.
   */
  kinds?: readonly TransportErrorKind[] | 'any',
): Promise<Error | undefined> {
  const s = await settleWithin(p, ms);
  if (s.status === 'rejected') {
    t.log(`${what}: failed as expected after ${s.ms} ms: ${s.error.message.split('\n')[0]}`);
    if (kinds !== undefined) {
      const kind = (s.error as { transportKind?: string }).transportKind;
      if (kind === undefined) {
        t.fail(`${what}: the transport threw ${s.error.message.split('\n')[0]}, not a TransportError (see @tensorwire/core/spi)`);
      } else if (kinds !== 'any' && !kinds.includes(kind as TransportErrorKind)) {
        t.fail(`${what}: TransportError of kind ${kind}, expected ${kinds.join(' or ')}`);
      }
    }
    t.pass();
    return s.error;
  }
  t.fail(s.status === 'hung' ? `${what}: still pending after ${ms} ms (hang)` : `${what}: succeeded, expected an error`);
  return undefined;
}
