/**
 * Imported first by this package's tests: the libraries they run against. By default the mock
 * CUDA driver and the mock NCCL (machines without a GPU, npm test; peers and actors started by
 * the tests inherit them). With TENSORWIRE_NCCL_TEST_LIBRARY=real they use the machine's CUDA
 * driver and NCCL (libnccl.so.2, TENSORWIRE_LIBNCCL or a Python environment's: the GPU check);
 * the tests that need the mocks' injected failures are then skipped.
 */
import test from 'ava';
import { useMockNccl } from '../testing';

/** True when the tests run against the mocks. */
export const usingMocks = process.env.TENSORWIRE_NCCL_TEST_LIBRARY !== 'real';

if (usingMocks) useMockNccl();

/** `test.serial`, or a skipped test when the tests run on a real GPU and NCCL. */
export const mockOnly: typeof test.serial = usingMocks ? test.serial : (test.serial.skip as unknown as typeof test.serial);
