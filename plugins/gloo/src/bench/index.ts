/**
 * `@tensorwire/gloo/bench`: the bare Gloo ceiling that tensorwire's numbers are compared with,
 * two plain Node processes that load only the addon and bounce a buffer (see README, "Benchmark
 * helper"). Not part of the transport's API, and not loaded by `@tensorwire/gloo`.
 */
export { runBareGlooPingPong } from './pingpong';
export type { BarePingPongOptions, BarePingPongResult, BarePingPongReport } from './pingpong';
