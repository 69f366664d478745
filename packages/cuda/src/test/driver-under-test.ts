/**
 * Imported first by this package's tests: the CUDA driver they run against. By default the mock
 * (machines without a GPU, npm test; actors started by the tests inherit it). With
 * TENSORWIRE_CUDA_TEST_DRIVER=real they use the machine's driver (scripts/gpu-check.sh on a GPU
 * machine); the tests that need the mock's controls (delays, injected failures, its two devices)
 * are then skipped.
 */
import test from 'ava';
import { useTestDriver } from '../testing';

/** True when the tests run against the mock driver. */
export const usingMock = useTestDriver();

/** `test.serial`, or a skipped test when the tests run against a real driver. */
export const mockOnly: typeof test.serial = usingMock ? test.serial : (test.serial.skip as unknown as typeof test.serial);
