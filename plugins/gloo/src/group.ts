/** The Gloo {@link CollectiveGroup}: tensors in, addon calls out. */
import type { CollectiveGroup, TransportTensor } from '@tensorwire/core';
import { GlooError, glooCall } from './errors';
import type { NativeGroup } from './native';

/** Reduction operations of `allreduce`. */
export type GlooReduceOp = 'sum' | 'min' | 'max' | 'prod';

/** Element types `allreduce` accepts (torch-style aliases too: float, double, half, int, long, byte). */
export const GLOO_ALLREDUCE_DTYPES = [
  'float32', 'float64', 'float16', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
] as const;

/** The bytes of a CPU tensor; a device tensor is refused with a clear error. */
export function cpuBytes(t: TransportTensor, what: string): Uint8Array {
  if (!t || typeof t.bytes !== 'function') {
    throw new GlooError('GLOO_UNSUPPORTED', `${what}: expected a TransportTensor (with bytes()), got ${typeof t}`);
  }
  if (t.device !== 'cpu') {
    throw new GlooError(
      'GLOO_DEVICE_TENSOR',
      `${what}: the gloo transport moves CPU tensors only, got a tensor on '${t.device}'. ` +
        `Move the tensor to the CPU first (tensor.cpu()), or use a transport that declares 'cuda' in supports.devices.`,
    );
  }
  return t.bytes();
}

/** A connected Gloo group. Created by `GlooEndpoint.createGroup`. */
export class GlooCollectiveGroup implements CollectiveGroup {
  private destroying: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly rank: number,
    readonly worldSize: number,
    private readonly native: NativeGroup,
    private readonly onDestroyed: (g: GlooCollectiveGroup) => void = () => {},
  ) {}

  /** true once an operation failed, timed out, or the group was aborted/destroyed. */
  get broken(): boolean {
    return this.native.broken;
  }

  /** Why the group is broken (the first failure's message), if it is. */
  get brokenReason(): string | undefined {
    return this.native.brokenReason;
  }

  /** Code of the first failure (e.g. 'GLOO_TIMEOUT', 'GLOO_IO', 'GLOO_ABORTED'), if broken. */
  get brokenCode(): string | undefined {
    return this.native.brokenCode;
  }

  send(tensors: readonly TransportTensor[], dstRank: number, tag: number): Promise<void> {
    return glooCall(() => this.native.send(tensors.map((t, i) => cpuBytes(t, `send tensors[${i}]`)), dstRank, tag));
  }

  recv(into: readonly TransportTensor[], srcRank: number, tag: number): Promise<void> {
    return glooCall(() => this.native.recv(into.map((t, i) => cpuBytes(t, `recv into[${i}]`)), srcRank, tag));
  }

  /** Send raw byte buffers (no TransportTensor wrapper). */
  sendBytes(buffers: readonly Uint8Array[], dstRank: number, tag: number): Promise<void> {
    return glooCall(() => this.native.send([...buffers], dstRank, tag));
  }

  /** Receive into raw byte buffers (no TransportTensor wrapper). */
  recvBytes(buffers: readonly Uint8Array[], srcRank: number, tag: number): Promise<void> {
    return glooCall(() => this.native.recv([...buffers], srcRank, tag));
  }

  barrier(): Promise<void> {
    return glooCall(() => this.native.barrier());
  }

  allreduce(tensor: TransportTensor, dtype: string, op: GlooReduceOp = 'sum'): Promise<void> {
    return glooCall(() => this.native.allreduce(cpuBytes(tensor, 'allreduce'), dtype, op));
  }

  broadcast(tensor: TransportTensor, root: number): Promise<void> {
    return glooCall(() => this.native.broadcast(cpuBytes(tensor, 'broadcast'), root));
  }

  abort(reason: string): void {
    try {
      this.native.abort(String(reason));
    } catch {
      // abort never throws
    }
  }

  destroy(): Promise<void> {
    this.destroying ??= glooCall(() => this.native.destroy()).finally(() => this.onDestroyed(this));
    return this.destroying;
  }
}

