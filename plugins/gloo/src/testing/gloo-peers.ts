/**
 * The peers of gloo's tests: the shared harness of `@tensorwire/conformance/testing` on this
 * package, with gloo's own commands (peer-commands.ts) loaded into every peer.
 */
import * as path from 'node:path';
import { withPeers as withSharedPeers, type Peer, type PeerTarget } from '@tensorwire/conformance/testing';

/** This package's built module: importing it registers 'gloo' (dist/testing -> dist/index.js). */
export const GLOO_TARGET: PeerTarget = { module: path.join(__dirname, '..', 'index.js'), name: 'gloo' };

const COMMANDS = [require.resolve('./peer-commands')];

/** Run `fn` with `n` fresh gloo peers sharing one rendezvous hub; they are killed afterwards. */
export function withPeers<T>(n: number, fn: (peers: Peer[]) => Promise<T>): Promise<T> {
  return withSharedPeers(n, GLOO_TARGET, fn, { commands: COMMANDS });
}

/** Create group `group` of all peers (rank = index). */
export async function createGroup(peers: readonly Peer[], group: string, timeoutMs = 20000): Promise<void> {
  await Promise.all(peers.map((p, rank) => p.call('createGroup', { group, rank, worldSize: peers.length, timeoutMs })));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
