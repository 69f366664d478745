/** The per-process NCCL endpoint: creates groups (one communicator and one CUDA stream each). */
import type { CollectiveGroup, CreateGroupOptions, EndpointContext, TwoSidedEndpoint } from '@tensorwire/core';
import { Stream } from '@tensorwire/cuda';
import { NcclError, toNcclError } from './errors';
import { NcclCollectiveGroup } from './group';
import type { NcclRuntime } from './library';
import type { NativeGroup } from './native';
import type { ResolvedOptions } from './options';
import { claimGeneration, decodeRoot, encodeRoot, GroupKeys } from './rendezvous';
import { gpuIdentity, planSharedGpu, processWideSettings } from './shared-gpu';

export class NcclEndpoint implements TwoSidedEndpoint {
  readonly kind = 'two-sided' as const;
  private readonly groups = new Set<NcclCollectiveGroup>();
  private closed = false;

  constructor(
    private readonly nccl: NcclRuntime,
    readonly options: ResolvedOptions,
    private readonly ctx?: EndpointContext,
  ) {}

  /** NCCL's version, e.g. '2.30.7', and whether it is the mock. */
  get ncclVersion(): string {
    return this.nccl.version;
  }

  async createGroup(options: CreateGroupOptions): Promise<CollectiveGroup> {
    return this.createNcclGroup(options);
  }

  /** Like createGroup, typed as the concrete group (broken state, device). */
  async createNcclGroup(options: CreateGroupOptions): Promise<NcclCollectiveGroup> {
    if (this.closed) throw new NcclError('NCCL_CLOSED', 'the nccl endpoint was closed');
    const { name, rank, worldSize, rendezvous, timeoutMs } = options;
    if (!Number.isInteger(worldSize) || worldSize < 1) {
      throw new NcclError('NCCL_INVALID_RANK', `nccl group '${name}': worldSize must be an integer >= 1, got ${worldSize}`);
    }
    if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) {
      throw new NcclError('NCCL_INVALID_RANK', `nccl group '${name}': rank ${rank} is out of range for worldSize ${worldSize} (ranks 0..${worldSize - 1})`);
    }
    let keys: GroupKeys;
    try {
      keys = new GroupKeys(rendezvous, `nccl/${await claimGeneration(rendezvous, rank)}/`);
    } catch (err) {
      throw new NcclError('NCCL_CONNECT', `nccl group '${name}' rank ${rank}: the rendezvous failed: ${(err as Error)?.message ?? err}`, { cause: err });
    }
    const { binding } = this.nccl;
    const device = this.options.device;
    const fail = (err: unknown, what: string): NcclError => {
      const e = toNcclError(err);
      return new NcclError(e.code, `nccl group '${name}' rank ${rank}: ${what}: ${e.message}`, { cause: err });
    };

    // Which GPU every rank uses: ranks that share one need NCCL told (shared-gpu.ts).
    let pci: string;
    try {
      pci = binding.pciBusId(device);
    } catch (err) {
      throw fail(err, `cannot use cuda:${device} (transportOptions.nccl.device)`);
    }
    try {
      await keys.set(keys.gpu(rank), gpuIdentity(pci));
      const all = Array.from({ length: worldSize }, (_, r) => keys.gpu(r));
      await keys.wait(all, timeoutMs);
      const identities = await Promise.all(all.map((k) => keys.getText(k, timeoutMs)));
      if (this.options.sharedGpu === 'auto') {
        const settings = { ...processWideSettings(this.nccl.versionCode, process.env) };
        const plan = planSharedGpu({
          rank, identities, versionCode: this.nccl.versionCode, communicatorsCreated: binding.communicatorsCreated(), env: process.env, group: name,
        });
        Object.assign(settings, plan.set);
        for (const [k, v] of Object.entries(settings)) {
          process.env[k] = v;
          binding.setEnv(k, v);
        }
        if (plan.sharing.length) this.ctx?.log('debug', `nccl group '${name}' rank ${rank} shares its GPU with rank(s) ${plan.sharing.join(', ')}`);
      }
    } catch (err) {
      if (err instanceof NcclError && err.code === 'NCCL_SHARED_GPU') throw err;
      throw fail(err, 'the rendezvous failed');
    }

    const stream = new Stream(device);
    let native: NativeGroup;
    try {
      native = new binding.NcclGroup({ name, rank, size: worldSize, device, stream: stream.handle, host: this.options.host, timeoutMs });
    } catch (err) {
      stream.destroy();
      throw fail(err, 'cannot create the group');
    }
    const group = new NcclCollectiveGroup(name, rank, worldSize, device, native, stream, this.nccl.versionCode, (g) => this.groups.delete(g));
    this.groups.add(group);
    this.ctx?.log('debug', `nccl: connecting group '${name}' rank ${rank}/${worldSize} on cuda:${device} (NCCL ${this.nccl.version})`);
    try {
      let root;
      if (rank === 0) {
        root = { uniqueId: new Uint8Array(binding.uniqueId()), host: this.options.host, port: native.controlPort, token: native.token };
        await keys.set(keys.root, encodeRoot(root));
      } else {
        root = decodeRoot(await keys.get(keys.root, timeoutMs), name);
      }
      await native.connect({ uniqueId: root.uniqueId, rootHost: root.host, rootPort: root.port, token: root.token });
    } catch (err) {
      await group.destroy().catch(() => {});
      throw fail(err, 'connect failed');
    }
    return group;
  }

  /** Destroy every group this endpoint created. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.groups].map((g) => g.destroy()));
  }
}
