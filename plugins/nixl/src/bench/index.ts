/**
 * `@tensorwire/nixl/bench`: the bare UCX ceiling that tensorwire's numbers are compared with,
 * two plain Node processes that use only the addon (see README, "Bare UCX ceiling"). Not part
 * of the transport's API, and not loaded by `@tensorwire/nixl`.
 */
export { runBareUcxRead, type BareReadOptions, type BareReadResult, type BareReadRow } from './bare-read';
export {
  runCudaStagingRead, formatCudaStaging, type CudaStagingOptions, type CudaStagingResult, type CudaStagingRow,
} from './cuda-staging';
