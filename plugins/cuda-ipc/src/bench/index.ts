/**
 * `@tensorwire/cuda-ipc/bench`: the ceilings tensorwire's cuda-ipc numbers are compared with (see
 * README, "Benchmarks"): a bare cross-process device-to-device copy through CUDA IPC (two plain
 * Node processes, @tensorwire/cuda's internal API only: no runtime, no descriptor, no checks),
 * and a bare in-process cuMemcpyDtoD. Not part of the transport's API, and not loaded by
 * `@tensorwire/cuda-ipc`.
 */
export { runBareIpcCopy, runInProcessCopy, type BareCopyOptions, type BareCopyResult, type BareCopyRow } from './bare-copy';
