/**
 * The conformance suite on @tensorwire/cuda-ipc (one-sided CUDA IPC, CUDA tensors only), on
 * @tensorwire/cuda's mock driver; with TENSORWIRE_CUDA_TEST_DRIVER=real (scripts/gpu-check.sh on a
 * GPU machine) on the machine's driver.
 */
import test from 'ava';
import { registerConformanceSuite } from './suite';

const real = process.env.TENSORWIRE_CUDA_TEST_DRIVER === 'real';
registerConformanceSuite(test, '@tensorwire/cuda-ipc', { cwd: __dirname, cudaDriver: real ? 'real' : 'mock' });
