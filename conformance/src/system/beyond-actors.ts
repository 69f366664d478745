/**
 * The actor of the system tests of what tensorwire does beyond the spec (beyond.tests.ts):
 * objects sharing some tensors, put() on every transport, get(ref, { into }). The transport is
 * a run-time parameter, passed per call. Loaded by the driver and by every actor process.
 */
import { core, type TensorLike } from './core-api';
import './cuda-backend';
import { fingerprint, makeTensor, type TensorRecipe } from './values';

const noDecorator = (): ClassDecorator => () => undefined;
const actor = typeof core.actor === 'function' ? core.actor : noDecorator;

/** `get` with the options this suite's core-api typing does not list (`into`, `collectiveGroup`). */
const getInto = core.get as (ref: unknown, options: { into: unknown; collectiveGroup?: string }) => Promise<unknown>;

@actor()
export class BeyondActor {
  /** Tensors shared between objects: A in both, B only in the first, C only in the second. */
  private shared: { a: TensorLike; b: TensorLike; c: TensorLike } | undefined;
  private aFreed = false;
  /** The tensors get(ref, { into }) receives into (this actor's "model"). */
  private live: TensorLike[] = [];

  /** Makes A, B, C from recipes; returns nothing (the objects come from first/second). */
  prepareShared(a: TensorRecipe, b: TensorRecipe, c: TensorRecipe): void {
    this.shared = { a: makeTensor(a), b: makeTensor(b), c: makeTensor(c) };
    this.aFreed = false;
  }

  /** Starts waitTensorFreed(A) (call it once objects hold A: it resolves at once otherwise). */
  watchShared(): void {
    void core.waitTensorFreed(this.shared!.a, { timeoutMs: 120_000 }).then(() => (this.aFreed = true), () => undefined);
  }

  /** [A, B]: returned with the transport under test, an object holding A and B. */
  first(): TensorLike[] {
    return [this.shared!.a, this.shared!.b];
  }

  /** { c: C, a: A }: a second object sharing A (in another position) but not B. */
  second(): { c: TensorLike; a: TensorLike } {
    return { c: this.shared!.c, a: this.shared!.a };
  }

  /** Whether waitTensorFreed(A) resolved: no live object holds A any more. */
  sharedAFreed(): boolean {
    return this.aFreed;
  }

  makeMany(rs: TensorRecipe[]): TensorLike[] {
    return rs.map(makeTensor);
  }

  /** put() of a fresh tensor with the transport under test; the ref travels back in an object. */
  putTensor(r: TensorRecipe, tensorTransport: string): { ref: unknown } {
    return { ref: core.put(makeTensor(r), { tensorTransport }) };
  }

  /** Makes the tensors this actor receives into (the recipes' dtypes, shapes and device; values to be overwritten). */
  allocateLive(rs: TensorRecipe[]): void {
    this.live = rs.map(makeTensor);
  }

  /** get(ref, { into: live }): fingerprints, and whether the value is made of the very live tensors. */
  async receiveInto(ref: unknown, collectiveGroup?: string): Promise<{ fp: unknown; same: boolean }> {
    const before = [...this.live];
    const value = (await getInto(ref, { into: this.live, collectiveGroup })) as TensorLike[];
    return { fp: fingerprint(this.live), same: value.length === before.length && value.every((t, i) => t === before[i]) };
  }

  fp(value: unknown): unknown {
    return fingerprint(value);
  }
}
