/** The NCCL {@link CollectiveGroup}: CUDA tensors in, addon calls out. */
import type { CollectiveGroup, DeviceBuffer, TransportTensor } from '@tensorwire/core';
import type { Stream } from '@tensorwire/cuda';
import { holdBuffer } from '@tensorwire/cuda/internal';
import { resolveReduce, type NcclReduceOp } from './dtypes';
import { NcclError, ncclCall, toNcclError } from './errors';
import type { NativeGroup } from './native';

/** What a group needs of its tensors: where they are, their sizes, and holds on their memory. */
interface DeviceArgs {
  readonly ptrs: bigint[];
  readonly sizes: number[];
  /** Lets the caching allocator reuse the blocks again (after the operation settled). */
  readonly release: () => void;
}

/** A connected NCCL group on one CUDA device. Created by `NcclEndpoint.createGroup`. */
export class NcclCollectiveGroup implements CollectiveGroup {
  private destroying: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly rank: number,
    readonly worldSize: number,
    /** The CUDA device index (in this process) of the communicator. */
    readonly deviceIndex: number,
    private readonly native: NativeGroup,
    private readonly stream: Stream,
    private readonly versionCode: number,
    private readonly onDestroyed: (g: NcclCollectiveGroup) => void = () => {},
  ) {}

  /** true once an operation failed or timed out, a peer was lost, or the group was aborted or destroyed. */
  get broken(): boolean {
    return this.native.broken;
  }

  /** Why the group is broken (the first failure's message), if it is. */
  get brokenReason(): string | undefined {
    return this.native.brokenReason;
  }

  /** Code of the first failure (e.g. 'NCCL_TIMEOUT', 'NCCL_PEER_LOST', 'NCCL_ABORTED'), if broken. */
  get brokenCode(): string | undefined {
    return this.native.brokenCode;
  }

  /** Operations not settled yet. */
  get pending(): number {
    return this.native.pending;
  }

  /** The device this group's tensors must live on, e.g. 'cuda:0'. */
  get device(): string {
    return `cuda:${this.deviceIndex}`;
  }

  send(tensors: readonly TransportTensor[], dstRank: number, tag: number): Promise<void> {
    return this.withTensors(tensors, 'send', (a) => this.native.send(a.ptrs, a.sizes, dstRank, tag));
  }

  recv(into: readonly TransportTensor[], srcRank: number, tag: number): Promise<void> {
    return this.withTensors(into, 'recv', (a) => this.native.recv(a.ptrs, a.sizes, srcRank, tag));
  }

  barrier(): Promise<void> {
    return ncclCall(() => this.native.barrier());
  }

  /** In-place reduction over every rank; `dtype` any of NCCL's types (see NCCL_ALLREDUCE_DTYPES). */
  allreduce(tensor: TransportTensor, dtype: string, op: NcclReduceOp = 'sum'): Promise<void> {
    return this.withTensors([tensor], 'allreduce', (a) => {
      const r = resolveReduce(dtype, op, this.versionCode);
      if (a.sizes[0] % r.elementSize !== 0) {
        throw new NcclError('NCCL_INVALID_ARGUMENT', `allreduce: ${a.sizes[0]} bytes are not a whole number of ${dtype} elements (${r.elementSize} bytes each)`);
      }
      return this.native.allreduce(a.ptrs[0], a.sizes[0] / r.elementSize, r.ncclType, r.ncclOp, a.sizes[0]);
    });
  }

  /** In-place broadcast of `root`'s tensor to every rank. */
  broadcast(tensor: TransportTensor, root: number): Promise<void> {
    return this.withTensors([tensor], 'broadcast', (a) => this.native.broadcast(a.ptrs[0], a.sizes[0], root));
  }

  abort(reason: string): void {
    try {
      this.native.abort(String(reason));
    } catch {
      // abort never throws
    }
  }

  destroy(): Promise<void> {
    this.destroying ??= ncclCall(() => this.native.destroy()).finally(() => {
      try {
        this.stream.destroy();
      } catch {
        // the driver is going away
      }
      this.onDestroyed(this);
    });
    return this.destroying;
  }

  /** Runs `op` on the tensors' device addresses, holding their memory until it settles. */
  private async withTensors(tensors: readonly TransportTensor[], what: string, op: (a: DeviceArgs) => Promise<void>): Promise<void> {
    let args: DeviceArgs | undefined;
    try {
      args = this.deviceArgs(tensors, what);
      await op(args);
    } catch (err) {
      throw toNcclError(err);
    } finally {
      args?.release();
    }
  }

  private deviceArgs(tensors: readonly TransportTensor[], what: string): DeviceArgs {
    if (!Array.isArray(tensors)) throw new NcclError('NCCL_INVALID_ARGUMENT', `${what}: expected an array of tensors`);
    const ptrs: bigint[] = [];
    const sizes: number[] = [];
    const holds: (() => void)[] = [];
    const release = () => holds.splice(0).forEach((h) => h());
    try {
      tensors.forEach((t, i) => {
        const at = tensors.length > 1 || what === 'send' || what === 'recv' ? `${what} tensors[${i}]` : what;
        if (!t || typeof t.device !== 'string' || typeof t.nbytes !== 'number') {
          throw new NcclError('NCCL_INVALID_ARGUMENT', `${at}: expected a tensor, got ${typeof t}`);
        }
        if (!t.device.startsWith('cuda')) {
          throw new NcclError(
            'NCCL_CPU_TENSOR',
            `${at}: the nccl transport moves CUDA tensors only, got a tensor on '${t.device}'. ` +
              `Move it to the GPU first (await tensor.toAsync('${this.device}')), or use the gloo transport for CPU tensors`,
          );
        }
        const index = t.device === 'cuda' ? 0 : Number(t.device.slice('cuda:'.length));
        if (index !== this.deviceIndex) {
          throw new NcclError(
            'NCCL_DEVICE_MISMATCH',
            `${at}: the tensor is on '${t.device}' but nccl group '${this.name}' runs on '${this.device}' ` +
              `(transportOptions.nccl.device); move it there first (await tensor.toAsync('${this.device}'))`,
          );
        }
        if (t.nbytes > 0 && typeof t.devicePtr !== 'bigint') {
          throw new NcclError('NCCL_INVALID_ARGUMENT', `${at}: the tensor on '${t.device}' has no device address`);
        }
        const buffer = (t as { deviceBuffer?: DeviceBuffer }).deviceBuffer;
        if (buffer) holds.push(holdBuffer(buffer));
        ptrs.push(t.devicePtr ?? 0n);
        sizes.push(t.nbytes);
      });
    } catch (err) {
      release();
      throw err;
    }
    return { ptrs, sizes, release };
  }
}
