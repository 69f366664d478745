/**
 * The conformance suite on @tensorwire/nixl (one-sided reads of registered memory): CPU tensors,
 * and CUDA tensors (staged through pinned memory on Debian's UCX) on @tensorwire/cuda's mock
 * driver; with TENSORWIRE_CUDA_TEST_DRIVER=real (scripts/gpu-check.sh on a GPU machine) on the
 * machine's driver.
 */
import test from 'ava';
import { registerConformanceSuite } from './suite';

const real = process.env.TENSORWIRE_CUDA_TEST_DRIVER === 'real';
registerConformanceSuite(test, '@tensorwire/nixl', { cwd: __dirname, cudaDriver: real ? 'real' : 'mock' });
