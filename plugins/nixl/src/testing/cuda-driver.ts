/**
 * Imported first by nixl's CUDA tests: the driver they run on (@tensorwire/cuda/testing's
 * useTestDriver). The mock by default (it proves the code paths, not the GPU); with
 * TENSORWIRE_CUDA_TEST_DRIVER=real, the machine's driver (scripts/gpu-check.sh), and the tests
 * that need the mock's controls are skipped. Peers started afterwards inherit the choice through
 * the environment.
 */
import { deviceCount } from '@tensorwire/cuda';
import { useTestDriver } from '@tensorwire/cuda/testing';

/** True when the tests run against the mock driver. */
export const usingMock = useTestDriver({ devices: 2 });

/** A second CUDA device when the machine has one ('cuda:1'), else 'cuda:0' (one GPU). */
export function secondDevice(): string {
  return deviceCount() > 1 ? 'cuda:1' : 'cuda:0';
}
