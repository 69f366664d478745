/**
 * The producer side of GPU objects inside an actor process: keeps a result's tensors in the
 * tensor store, registers them with one-sided transports, and describes them for the driver.
 */
import { InvalidArgumentError } from '../errors/errors';
import { asOneSided, transferMode } from './transfer-mode';
import type { Serializer, SerializerHooks } from '../objects/serializer';
import { tensorMetas, type GpuResult } from './gpu-object';
import type { Tensor } from '../tensor/tensor';
import { TensorStore } from './tensor-store';
import { Registrations } from './registrations';
import { markKept } from './borrowed-args';
import { getTransport } from '../transport/registry';
import type { EndpointCache } from '../transport/endpoints';
import type { Logger } from '../log/logger';

export class GpuResults {
  readonly tensors: TensorStore;

  constructor(
    private readonly serializer: Serializer,
    private readonly endpoints: EndpointCache,
    private readonly logger: Logger,
    /** How refs and actor handles inside a skeleton are encoded (ids met go into `refIds`). */
    private readonly encodeHooks: (refIds?: Set<string>) => SerializerHooks,
  ) {
    this.tensors = new TensorStore((objectId) => {
      // The object's registrations that no other live object uses are released now.
      for (const { transport, descriptor } of this.registrations.drop(objectId)) {
        this.endpoints
          .get(transport)
          .then((ep) => asOneSided(ep, transport).release(descriptor))
          .catch((err: Error) => this.logger.warn(`releasing a registration of ${objectId} failed: ${err.message}`));
      }
    });
  }

  /** Registrations with one-sided transports, shared by the objects holding the same tensors. */
  readonly registrations = new Registrations();

  /** Keep `tensors` under `objectId`; register them first for one-sided transports. */
  async store(
    objectId: string, skeleton: unknown, tensors: Tensor[], transport: string, inlineLimit = 0, refIds?: Set<string>,
  ): Promise<GpuResult> {
    const { plugin } = getTransport(transport);
    let descriptor: unknown;
    if (transferMode(transport) === 'one-sided') {
      const ep = asOneSided(await this.endpoints.get(transport), transport);
      descriptor = await this.registrations.register(objectId, transport, ep, tensors);
    } else {
      for (const t of tensors) {
        const kind = t.device.split(':')[0] as 'cpu' | 'cuda';
        if (!plugin.supports.devices.includes(kind)) {
          throw new InvalidArgumentError(
            `transport ${transport} does not move ${t.device} tensors (it supports ${plugin.supports.devices.join(', ')} tensors). ` +
              `Fix: return CPU tensors from the method (tensor.cpu(), or await tensor.cpuAsync()), or use a transport whose ` +
              `supports.devices includes '${kind}'`,
          );
        }
      }
    }
    // Tensors a call received and now returns (or puts) as a GPU object stay with the object.
    markKept(tensors);
    this.tensors.add(objectId, tensors, transport, descriptor);
    let bytes = 0;
    for (const t of tensors) bytes += t.nbytes;
    const small = bytes <= inlineLimit && tensors.every((t) => t.device === 'cpu');
    return {
      skeleton: this.serializer.encode(skeleton, this.encodeHooks(refIds)),
      metas: tensorMetas(tensors),
      transport,
      descriptor,
      inline: small ? this.serializer.encode(tensors) : undefined,
    };
  }
}
