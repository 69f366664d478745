/**
 * The producer side of GPU objects inside an actor process: keeps a result's tensors in the
 * tensor store, registers them with one-sided transports, and describes them for the driver.
 */
import { InvalidArgumentError, RuntimeStateError } from '../errors/errors';
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
    this.tensors = new TensorStore((objectId) => this.releaseDropped(objectId));
  }

  /** The dropped object's registrations that no other live object uses are released now. */
  private releaseDropped(objectId: string): void {
    for (const { transport, descriptor } of this.registrations.drop(objectId)) {
      this.endpoints
        .get(transport)
        .then((ep) => asOneSided(ep, transport).release(descriptor))
        .catch((err: Error) => this.logger.warn(`releasing a registration of ${objectId} failed: ${err.message}`));
    }
  }

  /** Registrations with one-sided transports, shared by the objects holding the same tensors. */
  readonly registrations = new Registrations();

  /** Keep `tensors` under `objectId`; register them first for one-sided transports. */
  async store(
    objectId: string, skeleton: unknown, tensors: Tensor[], transport: string, inlineLimit = 0, refIds?: Set<string>,
  ): Promise<GpuResult> {
    const { plugin } = getTransport(transport);
    let bytes = 0;
    for (const t of tensors) bytes += t.nbytes;
    const small = bytes <= inlineLimit && tensors.every((t) => t.device === 'cpu');
    let descriptor: unknown;
    if (transferMode(transport) === 'one-sided') {
      // A small object travels inline: consumers read it over the transport only after it went
      // back to its producer (the inline copy no longer speaks for the tensors then), so it is
      // registered then, when the driver asks (`registerStored`), not for every small result.
      if (!small) descriptor = await this.register(objectId, transport, tensors);
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
    return {
      skeleton: this.serializer.encode(skeleton, this.encodeHooks(refIds)),
      metas: tensorMetas(tensors),
      transport,
      descriptor,
      inline: small ? this.serializer.encode(tensors) : undefined,
    };
  }

  /**
   * The registration of held object `objectId` with its one-sided transport, made now if it was
   * stored without one (a small inlined object); concurrent asks share it. Fails when the
   * object is no longer held (freed).
   */
  registerStored(objectId: string): Promise<unknown> {
    const o = this.tensors.held(objectId);
    if (!o) return Promise.reject(new RuntimeStateError(`object ${objectId} is not held by this actor (freed)`));
    if (o.descriptor !== undefined) return Promise.resolve(o.descriptor);
    let registering = this.registering.get(objectId);
    if (!registering) {
      registering = this.registerLate(objectId, o.transport, o.tensors).finally(() => this.registering.delete(objectId));
      this.registering.set(objectId, registering);
    }
    return registering;
  }

  private readonly registering = new Map<string, Promise<unknown>>();

  private async registerLate(objectId: string, transport: string, tensors: Tensor[]): Promise<unknown> {
    const descriptor = await this.register(objectId, transport, tensors);
    if (!this.tensors.has(objectId)) {
      // Freed while registering: its drop found nothing to release, so release it here.
      this.releaseDropped(objectId);
      throw new RuntimeStateError(`object ${objectId} was freed while it was being registered with ${transport}`);
    }
    this.tensors.setDescriptor(objectId, descriptor);
    return descriptor;
  }

  private async register(objectId: string, transport: string, tensors: readonly Tensor[]): Promise<unknown> {
    const ep = asOneSided(await this.endpoints.get(transport), transport);
    return this.registrations.register(objectId, transport, ep, tensors);
  }
}
