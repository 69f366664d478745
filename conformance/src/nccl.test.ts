/**
 * The conformance suite on @tensorwire/nccl (two-sided, CUDA tensors, over collective groups).
 * By default on the mock CUDA driver and the mock NCCL (machines without a GPU; every process
 * the suite starts inherits them); with TENSORWIRE_NCCL_TEST_LIBRARY=real on the machine's
 * driver and NCCL (scripts/gpu-check.sh).
 */
import test from 'ava';
import { registerConformanceSuite } from './suite';

if (process.env.TENSORWIRE_NCCL_TEST_LIBRARY !== 'real') {
  // Looked up at run time, as the suite finds every transport it tests: @tensorwire/nccl's own
  // tests depend on this package, so this one takes no build-time dependency on it.
  const testing = '@tensorwire/nccl/testing';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require(testing) as { useMockNccl(): void }).useMockNccl();
}

registerConformanceSuite(test, '@tensorwire/nccl', { cwd: __dirname });
