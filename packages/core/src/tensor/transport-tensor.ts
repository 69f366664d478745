import type { DeviceBuffer } from './device';

/**
 * The view of a tensor that a transport needs: where its bytes are and how many. `Tensor`
 * implements it; transports see nothing else of a tensor.
 */
export interface TransportTensor {
  /** 'cpu' or 'cuda:N'. */
  readonly device: string;
  /** Size of the tensor's storage in bytes (may be 0). */
  readonly nbytes: number;
  /** The tensor's bytes as a view (no copy). CPU tensors only; throws for device tensors. */
  bytes(): Uint8Array;
  /** Device address of the first byte, for device tensors (e.g. CUDA); undefined for CPU. */
  readonly devicePtr?: bigint;
  /**
   * The device buffer holding the tensor's memory, when it has one (a `Tensor` on a device does):
   * what a device transport passes to its device package, e.g. to keep the memory from reuse
   * while another process reads it. Optional: a transport must also take device tensors without it.
   */
  readonly deviceBuffer?: DeviceBuffer;
}
