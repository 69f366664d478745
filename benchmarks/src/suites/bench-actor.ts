/** The actor the benchmarks move data between. */
import { actor, emptyRegistered, Tensor, type TensorTransportName } from '@tensorwire/core';

@actor()
export class BenchActor {
  private held: Tensor | null = null;
  private heldRegistered: Tensor | null = null;

  /** Prepare a tensor of `nbytes` random bytes (allocated once, outside the timed part). */
  prepare(nbytes: number): number {
    const data = new Uint8Array(nbytes);
    for (let i = 0; i < nbytes; i += 4096) data[i] = (i * 2654435761) & 0xff;
    this.held = new Tensor(data, [nbytes], { dtype: 'uint8' });
    return nbytes;
  }

  /** Like prepare, with the tensor in `transport`'s registered memory pool (one-sided reads). */
  async prepareRegistered(nbytes: number, transport: TensorTransportName): Promise<number> {
    const t = await emptyRegistered([nbytes], { dtype: 'uint8', transport });
    for (let i = 0; i < nbytes; i += 4096) t.data[i] = (i * 2654435761) & 0xff;
    this.heldRegistered = t;
    return nbytes;
  }

  /** Return the prepared tensor (as an ordinary result or, via options, a GPU object). */
  give(): Tensor {
    if (!this.held) throw new Error('call prepare(nbytes) first');
    return this.held;
  }

  /** Return the tensor prepared by prepareRegistered. */
  giveRegistered(): Tensor {
    if (!this.heldRegistered) throw new Error('call prepareRegistered(nbytes, transport) first');
    return this.heldRegistered;
  }

  /** Consume a tensor: touch it and report its size. */
  consume(t: Tensor): number {
    return t.nbytes;
  }

  noop(): void {}

  /** A small result, as Ray's microbenchmark actor's `small_value` (returns b"ok"). */
  smallValue(): string {
    return 'ok';
  }

  /**
   * A fresh tensor of `nbytes` ones per call (Ray RDT's benchmark: `torch.ones(size, int8)` per
   * send), every byte written as torch.ones writes them.
   */
  make(nbytes: number): Tensor {
    return new Tensor(new Uint8Array(nbytes).fill(1), [nbytes], { dtype: 'uint8' });
  }

  /** Receive a tensor and read its first element (Ray RDT's `recv`: `tensor[0].item()`). */
  recv(t: Tensor): number {
    return Number(t.data[0]);
  }
}
