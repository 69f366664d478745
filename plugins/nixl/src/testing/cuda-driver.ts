/**
 * Imported first by nixl's CUDA tests: the driver they run on. The mock by default (it proves the
 * code paths, not the GPU); with TENSORWIRE_CUDA_TEST_DRIVER=real, the machine's driver
 * (scripts/gpu-check.sh), and the tests that need the mock's controls are skipped. Peers started
 * afterwards inherit the choice through the environment.
 */
import { useMockDriver } from '@tensorwire/cuda/testing';

/** True when the tests run against the mock driver. */
export const usingMock = process.env.TENSORWIRE_CUDA_TEST_DRIVER !== 'real';

if (usingMock) useMockDriver({ devices: 2 });
