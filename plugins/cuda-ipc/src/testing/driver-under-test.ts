/**
 * Imported first by this package's tests: the CUDA driver they run against, as in
 * @tensorwire/cuda's own tests. By default the mock with two devices (peers started by the tests
 * inherit it); with TENSORWIRE_CUDA_TEST_DRIVER=real the machine's driver, and the tests that
 * need the mock's controls (delays, peer access, two devices) are skipped.
 */
import test from 'ava';
import { useTestDriver } from '@tensorwire/cuda/testing';

/** True when the tests run against the mock driver. */
export const usingMock = useTestDriver({ devices: 2 });

/** `test.serial`, or a skipped test when the tests run against a real driver. */
export const mockOnly: typeof test.serial = usingMock ? test.serial : (test.serial.skip as unknown as typeof test.serial);
