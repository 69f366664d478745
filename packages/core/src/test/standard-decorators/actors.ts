/**
 * Actor classes in the standard decorator style, importing core as users do. The 'tcp-test'
 * transport (core's test transport) is registered by the test before init().
 */
import { actor, method, Tensor, type TensorTransportName } from '@tensorwire/core';

declare module '@tensorwire/core' {
  interface TensorTransports {
    'tcp-test': true;
  }
}

@actor
export class StdActor {
  constructor(private readonly greeting = 'hello') {}

  hello(who: string): string {
    return `${this.greeting} ${who}`;
  }

  @method({ tensorTransport: 'tcp-test' })
  make(n: number): Tensor {
    return Tensor.full([n], 3);
  }

  // No NCCL transport here: the class loads, and calling this fails when called.
  @method({ tensorTransport: 'nccl' as TensorTransportName })
  onGpu(): Tensor {
    return Tensor.ones([1]);
  }

  sum(t: Tensor): number {
    return t.sum();
  }
}

@actor({ maxConcurrency: 2 })
export class StdDerived extends StdActor {
  override hello(who: string): string {
    return `hi ${who}`;
  }
}
