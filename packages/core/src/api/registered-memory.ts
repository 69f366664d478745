/**
 * Tensors in a transport's registered memory (Ray's `register_nixl_memory_pool` idea): a
 * one-sided transport reads them with a true one-sided copy, no work by the producer.
 */
import { workerServices } from '../worker/worker-services';
import { InvalidArgumentError, RuntimeStateError } from '../errors/errors';
import { Tensor } from '../tensor/tensor';
import { dtypeSize, type DType } from '../tensor/dtypes';
import { getTransport, listTransports } from '../transport/registry';
import type { TensorTransportName } from '../transport/transport-names';
import { isInitialized, driverRuntime } from './lifecycle';

/** The one registered transport with a registered memory pool; otherwise the caller must name one. */
function onlyPoolTransport(): string {
  const pools = listTransports()
    .map((t) => t.plugin)
    .filter((p) => p.kind === 'one-sided' && p.supports.registeredPool)
    .map((p) => p.name);
  if (pools.length === 1) return pools[0]!;
  throw new InvalidArgumentError(
    pools.length === 0
      ? 'emptyRegistered: no registered transport has a registered memory pool; import one that has (e.g. a one-sided transport package) first'
      : `emptyRegistered: several transports have a registered memory pool (${pools.join(', ')}); say which with { transport: '...' }`,
  );
}

/**
 * An uninitialized CPU tensor allocated from `transport`'s registered memory pool, in an actor
 * or in the driver. Return it from a method with that tensor transport (or `put` it) and
 * consumers read it straight from this process's memory.
 *
 * @example
 * ```ts
 * @method({ tensorTransport: 'nixl' })
 * async weights(): Promise<Tensor> {
 *   const w = await emptyRegistered([1024, 1024], { dtype: 'float32' });
 *   w.data.set(this.source);
 *   return w;
 * }
 * ```
 */
export async function emptyRegistered(
  shape: readonly number[],
  options: { dtype?: DType; /** Default: the one registered transport with a pool. */ transport?: TensorTransportName } = {},
): Promise<Tensor> {
  const dtype = options.dtype ?? 'float32';
  const transport = options.transport ?? onlyPoolTransport();
  const { plugin } = getTransport(transport);
  if (plugin.kind !== 'one-sided' || !plugin.supports.registeredPool) {
    throw new InvalidArgumentError(`transport '${transport}' has no registered memory pool (it is not one-sided with supports.registeredPool)`);
  }
  const services = workerServices();
  const endpoint = services
    ? await services.endpoint(transport)
    : isInitialized()
      ? await driverRuntime('emptyRegistered').endpoints.get(transport)
      : undefined;
  if (!endpoint) throw new RuntimeStateError('emptyRegistered needs `await init()` first (or runs inside an actor)');
  const numel = shape.reduce((a, b) => a * b, 1);
  if (!Number.isInteger(numel) || numel < 0) throw new InvalidArgumentError(`emptyRegistered: invalid shape [${shape}]`);
  const nbytes = numel * dtypeSize(dtype);
  if (nbytes === 0) return Tensor.empty(shape, dtype);
  const pool = endpoint.kind === 'one-sided' ? endpoint.allocate?.bind(endpoint) : undefined;
  if (!pool) throw new InvalidArgumentError(`transport '${transport}' declares a registered pool but its endpoint has no allocate()`);
  return Tensor.fromBytes(pool(nbytes), dtype, shape);
}
