/**
 * The actor class of the system-level tests. Its methods take the transport per call
 * (`.options({ tensorTransport }).remote()`), since the transport under test is a run-time
 * parameter. Loaded by the driver and by every actor process.
 */
import { core, type TensorLike } from './core-api';
import './cuda-backend';
import { fingerprint, makeInts, makeMixed, makeNested, makeTensor, type TensorRecipe } from './values';

const noDecorator = (): ClassDecorator => () => undefined;
const actor = typeof core.actor === 'function' ? core.actor : noDecorator;

@actor()
export class ConformanceActor {
  /** The last tensor (or value) this actor returned, to check identity on intra-actor use. */
  private last: unknown;
  private freed = 0;

  pid(): number {
    return process.pid;
  }

  make(r: TensorRecipe): TensorLike {
    const t = makeTensor(r);
    this.last = t;
    return t;
  }

  makeMany(rs: TensorRecipe[]): TensorLike[] {
    const ts = rs.map(makeTensor);
    this.last = ts;
    return ts;
  }

  makeInts(n: number, device?: string): TensorLike {
    const t = makeInts(n, device);
    this.last = t;
    return t;
  }

  makeNested(rs: TensorRecipe[]): unknown {
    return (this.last = makeNested(rs));
  }

  makeMixed(rs: TensorRecipe[]): unknown {
    return (this.last = makeMixed(rs));
  }

  /** A tensor whose release the actor watches with waitTensorFreed. */
  makeWatched(n: number, device?: string): TensorLike {
    const t = makeInts(n, device);
    void core.waitTensorFreed(t, { timeoutMs: 120_000 }).then(() => this.freed++, () => undefined);
    return t;
  }

  /** How many tensors from makeWatched were freed so far. */
  freedCount(): number {
    return this.freed;
  }

  noTensor(): { n: number; s: string; list: number[] } {
    return { n: 42, s: 'no tensor here', list: [1, 2, 3] };
  }

  fail(message: string): TensorLike {
    throw new RangeError(message);
  }

  async sleep(ms: number): Promise<string> {
    await new Promise((r) => setTimeout(r, ms));
    return 'slept';
  }

  sum(t: TensorLike): number {
    return t.sum();
  }

  fp(value: unknown): unknown {
    return fingerprint(value);
  }

  /** Fingerprints of two arguments and whether they are the very same object. */
  fpTwo(a: unknown, b: unknown): { a: unknown; b: unknown; identical: boolean } {
    return { a: fingerprint(a), b: fingerprint(b), identical: a === b };
  }

  /** Is `t` the very object this actor returned last (or its first tensor)? */
  isLast(t: unknown): boolean {
    return t === this.last;
  }

  /** In-place +1 on an int tensor this actor produced (a device tensor: through the host, no math on the device). */
  mutate(t: TensorLike): number {
    if (t.device === 'cpu') t.add_(1);
    else {
      const host = t.cpu();
      host.add_(1);
      core.getDeviceBackend!('cuda')!.copyFromHost(t.deviceBuffer, host.bytes());
    }
    return t.sum();
  }

  /** put() inside an actor; the ref travels back nested in an object. */
  putTensor(r: TensorRecipe, tensorTransport: string): { ref: unknown } {
    const t = makeTensor(r);
    return { ref: core.put(t, { tensorTransport }) };
  }
}
