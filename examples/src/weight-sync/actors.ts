import { actor, get, Tensor, type ObjectRef } from '@tensorwire/core';
import '@tensorwire/gloo'; // registers the two-sided 'gloo' transport
import '@tensorwire/nixl'; // registers the one-sided 'nixl' transport

/** The model's parameters: one tensor per shape, all float32. */
export function makeParams(shapes: readonly number[][]): Tensor[] {
  return shapes.map((s) => Tensor.zeros(s));
}

/** The value every parameter holds after training step `step` (what inference checks). */
export const valueAt = (step: number): number => step * 0.5;

/**
 * The trainer: each step updates its parameters in place and publishes them. The call's
 * `tensorTransport` makes the result a GPU object: the tensors stay here until a consumer
 * receives them (the very same tensors every step, so nixl reuses one registration).
 */
@actor()
export class Trainer {
  private readonly params: Tensor[];

  constructor(shapes: number[][]) {
    this.params = makeParams(shapes);
  }

  /** A training step (here: every weight becomes valueAt(step)); returns the live parameters. */
  step(step: number): Tensor[] {
    for (const p of this.params) (p.data as Float32Array).fill(valueAt(step));
    return this.params;
  }
}

/**
 * An inference actor: serves with its parameters and refreshes them from the trainer's
 * published weights, received straight into the tensors it already holds (no allocation).
 */
@actor()
export class Inference {
  private readonly params: Tensor[];

  constructor(shapes: number[][]) {
    this.params = makeParams(shapes);
  }

  /**
   * Receive the weights `ref` (passed with keepRef, so this actor decides when and where to
   * get it) into the live parameters; `objectStore` takes the object-store path instead (a
   * CPU copy through the driver, copied in). Returns the milliseconds it took.
   */
  async sync(weights: ObjectRef<Tensor[]>, objectStore: boolean): Promise<number> {
    const t0 = performance.now();
    const live = await get(weights, { into: this.params, ...(objectStore ? { tensorTransport: 'object-store' as const } : {}) });
    if (live[0] !== this.params[0]) throw new Error('get(ref, { into }) returned other tensors than the live ones');
    return performance.now() - t0;
  }

  /** Whether every parameter holds `value` (what a forward pass would use). */
  holds(value: number): boolean {
    return this.params.every((p) => (p.data as Float32Array).every((x) => x === value));
  }
}
