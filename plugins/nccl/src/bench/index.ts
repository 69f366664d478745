/**
 * `@tensorwire/nccl/bench`: the NCCL benchmark (bare NCCL between two plain processes, the nccl
 * GPU object actor to actor, torch.distributed NCCL when Python with torch is here). Not part of
 * the transport's API, and not loaded by `@tensorwire/nccl`.
 */
export { runNcclBench } from './run';
export type { NcclBenchOptions } from './run';
export { formatReport, judge } from './report';
export type { NcclBenchReport } from './report';
export { runBareNccl } from './bare';
export { runActorNccl } from './actors';
export { runTorchNccl, torchUnavailable } from './torch';
export { DEFAULT_SIZES, defaultReps, sizeName, summarize } from './results';
export type { PathReport, SizeResult } from './results';
