/**
 * The peers of nixl's tests (and of the pool benchmark): the shared harness of
 * `@tensorwire/conformance/testing` on this package, with nixl's own commands
 * (peer-commands.ts) loaded into every peer.
 */
import * as path from 'node:path';
import { PeerSet, tensorSpec, type PeerTarget, type TensorSpec } from '@tensorwire/conformance/testing';

/** This package's built module: importing it registers 'nixl' (dist/testing -> dist/index.js). */
export const NIXL_TARGET: PeerTarget = { module: path.join(__dirname, '..', 'index.js'), name: 'nixl' };

/** Peers of nixl with its own commands; `endpointOptions` become transportOptions.nixl. */
export function nixlPeers(endpointOptions?: Readonly<Record<string, unknown>>): PeerSet {
  return new PeerSet({ ...NIXL_TARGET, endpointOptions }, { commands: [require.resolve('./peer-commands')] });
}

/**
 * Peers with nixl's CUDA commands too (cuda-peer-commands.ts); they use the CUDA driver their
 * environment names (the tests set TENSORWIRE_LIBCUDA to the mock before starting them).
 */
export function nixlCudaPeers(endpointOptions?: Readonly<Record<string, unknown>>): PeerSet {
  return new PeerSet(
    { ...NIXL_TARGET, endpointOptions },
    { commands: [require.resolve('./peer-commands'), require.resolve('./cuda-peer-commands')] },
  );
}

/** One byte-sized (elementSize 1) seeded tensor per size: the regions of one registration. */
export function regions(sizes: readonly number[]): TensorSpec[] {
  return sizes.map((n) => tensorSpec(n, 1));
}
