/**
 * The one place that decides how a GPU object's tensors move: one-sided (the consumer reads
 * the producer's registered memory) or two-sided (the producer sends, the consumer receives,
 * in a collective group). Everything else asks here, and gets the endpoint typed accordingly.
 */
import { InvalidArgumentError } from '../errors/errors';
import { getTransport } from '../transport/registry';
import type { OneSidedEndpoint, TransportEndpoint, TwoSidedEndpoint } from '../transport/spi';

export type TransferMode = 'one-sided' | 'two-sided';

/** How the named (registered) transport moves tensors. */
export function transferMode(transport: string): TransferMode {
  return getTransport(transport).plugin.kind;
}

/** The endpoint as a one-sided one; InvalidArgumentError when the plugin broke its own `kind`. */
export function asOneSided(ep: TransportEndpoint, transport: string): OneSidedEndpoint {
  if (ep.kind !== 'one-sided') throw new InvalidArgumentError(`transport '${transport}' is not one-sided (its endpoint's kind is '${String(ep.kind)}')`);
  return ep;
}

/** The endpoint as a two-sided one; InvalidArgumentError when the plugin broke its own `kind`. */
export function asTwoSided(ep: TransportEndpoint, transport: string): TwoSidedEndpoint {
  if (ep.kind !== 'two-sided') throw new InvalidArgumentError(`transport '${transport}' has no collective groups (it is ${String(ep.kind)})`);
  return ep;
}
