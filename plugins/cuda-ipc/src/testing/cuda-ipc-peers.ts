/**
 * The peers of cuda-ipc's tests: the shared harness of `@tensorwire/conformance/testing` on this
 * package, with cuda-ipc's own commands (peer-commands.ts) loaded into every peer. Peers inherit
 * the test process's CUDA driver (TENSORWIRE_LIBCUDA, see driver-under-test.ts).
 */
import * as path from 'node:path';
import { PeerSet, type PeerTarget } from '@tensorwire/conformance/testing';

/** This package's built module: importing it registers 'cuda-ipc' (dist/testing -> dist/index.js). */
export const CUDA_IPC_TARGET: PeerTarget = { module: path.join(__dirname, '..', 'index.js'), name: 'cuda-ipc' };

/** Peers of cuda-ipc with its own commands; `endpointOptions` become transportOptions['cuda-ipc']. */
export function cudaIpcPeers(endpointOptions?: Readonly<Record<string, unknown>>): PeerSet {
  return new PeerSet({ ...CUDA_IPC_TARGET, endpointOptions }, { commands: [require.resolve('./peer-commands')] });
}
