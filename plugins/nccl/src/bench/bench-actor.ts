/** The actors of the NCCL benchmark (each actor process imports this module, and so the nccl transport). */
import { actor, method, Tensor } from '@tensorwire/core';
import '../index';

@actor()
export class NcclBenchActor {
  private tensor: Tensor | undefined;

  /** Makes the tensor `give` returns (beforehand: the benchmark times the move, not the making). */
  keep(bytes: number): number {
    this.tensor?.release();
    this.tensor = Tensor.empty([bytes], 'uint8', { device: 'cuda:0' });
    return bytes;
  }

  /** A GPU object: the kept tensor, moved to the consumer over NCCL. */
  @method({ tensorTransport: 'nccl' })
  give(): Tensor {
    return this.tensor!;
  }

  /** Receives the tensor (before the call runs) and answers its size. */
  consume(t: Tensor): number {
    const n = t.nbytes;
    t.release();
    return n;
  }

  drop(): void {
    this.tensor?.release();
    this.tensor = undefined;
  }
}
