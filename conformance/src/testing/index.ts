/**
 * `@tensorwire/conformance/testing`: the multi-process test harness behind the suite, for a
 * transport package's own tests.
 *
 * - {@link Peer} / {@link PeerSet} / {@link withPeers}: peer processes, each with one endpoint
 *   of the transport under test, that run commands sent from the test process (the generic SPI
 *   operations, plus the package's own in a `peerCommands` module);
 * - {@link RendezvousHub}: the rendezvous store the test process serves to its peers (and, with
 *   `storeFor`, to endpoints in the test process);
 * - seeded tensor patterns: never-zero bytes derived from a seed, built and checked on each side
 *   so that tensor bytes never cross IPC ({@link TensorSpec}, {@link makeTensor},
 *   {@link checkTensors}, {@link fillPattern}...), on the CPU or, with `device: 'cuda:0'`, in
 *   CUDA memory ({@link CudaTestTensor}, through `@tensorwire/cuda`);
 * - {@link createFakeTcpPlugin}: the fake two-sided transport of `@tensorwire/core/testing`.
 *
 * ```ts
 * import test from 'ava';
 * import { withPeers, tensorSpec } from '@tensorwire/conformance/testing';
 * const target = { module: require.resolve('./index'), name: 'rdma' };
 * test('one transfer', (t) => withPeers(2, target, async ([a, b]) => {
 *   const group = 'g';
 *   await Promise.all([a, b].map((p, rank) => p.call('createGroup', { group, rank, worldSize: 2, timeoutMs: 5000 })));
 *   const transfers = [{ tag: 1, tensors: [tensorSpec(1000, 4)] }];
 *   const [, got] = await Promise.all([
 *     a.call('send', { group, dst: 1, transfers }),
 *     b.call<{ problems: string[] }>('recv', { group, src: 0, transfers }),
 *   ]);
 *   t.deepEqual(got.problems, []);
 * }));
 * ```
 */
export { Peer, DEFAULT_CALL_TIMEOUT_MS, type PeerTarget, type PeerOptions, type PeerExit, type PendingCall } from './peer/peer-client';
export { PeerSet, withPeers } from './peer/peer-set';
export type { PeerCommand, PeerCommands, PeerContext } from './peer/command-api';
export { PeerError, type TransferSpec, type SerializedError } from './peer/protocol';
export { RendezvousHub } from './rendezvous-hub';
export { fillPattern, findPatternMismatch, patternByte, countZeros } from './pattern';
export {
  allocateTensor,
  checkTensors,
  cpuTensor,
  CpuTestTensor,
  fakeDeviceTensor,
  makeTensor,
  nextSeed,
  specBytes,
  tensorSpec,
  type CheckResult,
  type ElementSize,
  type TensorSpec,
  type TestTensor,
} from './tensor-spec';
export { CudaTestTensor, CUDA_MODULE_ENV, cudaCore } from './cuda-tensors';
export { TEST_DTYPES, typedArrayOf, valuesOf, type TestDtype, type DtypeValue } from './dtypes';
export { createFakeTcpPlugin, FAKE_TCP_NAME } from '@tensorwire/core/testing';
