/**
 * Imported by the actor modules of the system tests: in the CUDA variants (the suite sets
 * TENSORWIRE_CONFORMANCE_CUDA for every process it starts), every actor may receive CUDA tensors,
 * which arrive on its cuda:0 and need the 'cuda' device backend registered in it, as a user's
 * actor module would import @tensorwire/cuda. A transport that loads the backend itself
 * (cuda-ipc) does not need this; one for which CUDA is optional (nixl) does.
 */
import { CUDA_MODULE_ENV, cudaCore } from '../testing/cuda-tensors';

if (process.env[CUDA_MODULE_ENV]) cudaCore();
