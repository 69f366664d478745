/** The per-process Gloo endpoint: creates groups. */
import type { CollectiveGroup, CreateGroupOptions, EndpointContext, TwoSidedEndpoint } from '@tensorwire/core';
import { GlooError, toGlooError } from './errors';
import { GlooCollectiveGroup } from './group';
import type { NativeBinding } from './native';
import { nativeStoreFor } from './store-bridge';

export class GlooEndpoint implements TwoSidedEndpoint {
  readonly kind = 'two-sided' as const;
  private readonly groups = new Set<GlooCollectiveGroup>();
  /** How many groups of each name this process created: the rendezvous key prefix (see store-bridge). */
  private readonly generations = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly binding: NativeBinding,
    /** IPv4 address groups bind and advertise. */
    readonly host: string,
    private readonly ctx?: EndpointContext,
  ) {}

  async createGroup(options: CreateGroupOptions): Promise<CollectiveGroup> {
    return this.createGlooGroup(options);
  }

  /** Like createGroup, typed as the concrete group (broken state, raw-byte send/recv). */
  async createGlooGroup(options: CreateGroupOptions): Promise<GlooCollectiveGroup> {
    if (this.closed) throw new GlooError('GLOO_CLOSED', 'the gloo endpoint was closed');
    const { name, rank, worldSize, rendezvous, timeoutMs } = options;
    if (!Number.isInteger(worldSize) || worldSize < 1) {
      throw new GlooError('GLOO_INVALID_RANK', `gloo group '${name}': worldSize must be an integer >= 1, got ${worldSize}`);
    }
    if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) {
      throw new GlooError(
        'GLOO_INVALID_RANK',
        `gloo group '${name}': rank ${rank} is out of range for worldSize ${worldSize} (ranks 0..${worldSize - 1})`,
      );
    }
    const generation = this.generations.get(name) ?? 0;
    this.generations.set(name, generation + 1);
    let native;
    try {
      native = new this.binding.GlooGroup({ name, rank, size: worldSize, hostname: this.host, timeoutMs });
    } catch (err) {
      throw toGlooError(err);
    }
    const group = new GlooCollectiveGroup(name, rank, worldSize, native, (g) => this.groups.delete(g));
    this.groups.add(group);
    this.ctx?.log('debug', `gloo: connecting group '${name}' rank ${rank}/${worldSize} on ${this.host}`);
    try {
      await native.connect(nativeStoreFor(rendezvous, `gloo/${generation}/`));
    } catch (err) {
      await group.destroy().catch(() => {});
      const e = toGlooError(err);
      throw new GlooError(e.code, `gloo group '${name}' rank ${rank}: connect failed: ${e.message}`, { cause: err });
    }
    return group;
  }

  /** Destroy every group this endpoint created. */
  async close(): Promise<void> {
    this.closed = true;
    const groups = [...this.groups];
    await Promise.allSettled(groups.map((g) => g.destroy()));
  }
}
