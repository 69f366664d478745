/**
 * The peers of this package's tests: the shared harness of `@tensorwire/conformance/testing` on
 * this package, with NCCL's own commands (peer-commands.ts) in every peer. Each peer inherits the
 * test process's environment (the mocks, see mocks.ts) plus its own (injected failures).
 */
import * as path from 'node:path';
import { PeerSet, type Peer, type PeerTarget } from '@tensorwire/conformance/testing';

/** This package's built module: importing it registers 'nccl' (dist/test -> dist/index.js). */
export const NCCL_TARGET: PeerTarget = { module: path.join(__dirname, '..', 'index.js'), name: 'nccl' };

const COMMANDS = [require.resolve('./peer-commands')];

/**
 * Run `fn` with one fresh nccl peer per entry of `envs` (each its own extra environment,
 * e.g. a mock failure) sharing one rendezvous hub; they are killed afterwards.
 */
export async function withNcclPeers<T>(envs: readonly Record<string, string | undefined>[], fn: (peers: Peer[]) => Promise<T>, endpointOptions?: Record<string, unknown>): Promise<T> {
  const set = new PeerSet({ ...NCCL_TARGET, endpointOptions }, { commands: COMMANDS });
  try {
    const peers = await Promise.all(envs.map((env, i) => set.startOne(`peer-${i + 1}`, { env })));
    return await fn(peers);
  } finally {
    await set.killAll();
  }
}

/** `n` peers with no extra environment. */
export function withPeers<T>(n: number, fn: (peers: Peer[]) => Promise<T>): Promise<T> {
  return withNcclPeers(Array.from({ length: n }, () => ({})), fn);
}

/** Create group `group` of all peers (rank = index). */
export async function createGroup(peers: readonly Peer[], group: string, timeoutMs = 20000): Promise<void> {
  await Promise.all(peers.map((p, rank) => p.call('createGroup', { group, rank, worldSize: peers.length, timeoutMs })));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
