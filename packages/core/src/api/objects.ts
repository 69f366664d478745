/** `get`, `put`, `wait`, `free`: the object API, the same in the driver and inside actors. */
import { InvalidArgumentError } from '../errors/errors';
import { ObjectRef } from '../objects/object-ref';
import { requireContext, type GetOptions, type PutOptions, type WaitOptions } from '../runtime/context';
import { checkDurationMs, checkGroupName, checkInteger } from '../runtime/validate';
import { intoTensors } from '../gpu/into';

/**
 * Refs given to an operation still in progress. Holding them here keeps them reachable until
 * it ends: otherwise a caller's temporary array (`await get([a.f.remote(), b.g.remote()])`) may
 * be garbage-collected while the results are pending, and each object would be freed as it
 * arrived.
 */
const inUse = new Set<unknown>();

async function holding<T>(refs: ObjectRef<unknown> | readonly unknown[], op: () => Promise<T>): Promise<T> {
  // A copy: the caller may empty or reuse its array while the operation runs.
  const token = Array.isArray(refs) ? refs.slice() : [refs];
  inUse.add(token);
  try {
    return await op();
  } finally {
    inUse.delete(token);
  }
}

function ids(refs: readonly unknown[], what: string): string[] {
  return refs.map((r, i) => {
    if (!(r instanceof ObjectRef)) throw new InvalidArgumentError(`${what}: element ${i} is not an ObjectRef (got ${typeof r})`);
    return r.id;
  });
}

/** Values of a tuple/array of refs. */
export type Values<T extends readonly ObjectRef<unknown>[]> = { [K in keyof T]: T[K] extends ObjectRef<infer V> ? V : never };

/**
 * Wait for and return the value of a ref (or of every ref in a list, in order). Tensors are
 * restored in place; GPU objects are fetched through the object store (two-sided transports)
 * or over the transport itself (one-sided ones, unless `tensorTransport: 'object-store'`).
 * With `into` (one ref), the object's tensors land in the given tensors instead of new ones:
 * see {@link GetOptions.into}.
 *
 * @example
 * ```ts
 * const t = await get(producer.randomTensor.remote());
 * const [a, b] = await get([r1, r2], { timeoutMs: 5000 });
 * await get(weightsRef, { into: this.params }); // inside an actor: receive into live tensors
 * ```
 */
export async function get<T>(ref: ObjectRef<T>, options?: GetOptions): Promise<T>;
export async function get<T extends readonly ObjectRef<unknown>[]>(refs: readonly [...T], options?: GetOptions): Promise<Values<T>>;
export async function get(refOrRefs: ObjectRef<unknown> | readonly ObjectRef<unknown>[], options: GetOptions = {}): Promise<unknown> {
  const ctx = requireContext('get');
  checkDurationMs('get: timeoutMs', options.timeoutMs, 0);
  checkGroupName(options.collectiveGroup, 'get');
  const many = Array.isArray(refOrRefs);
  if (options.into !== undefined) {
    if (many) throw new InvalidArgumentError('get: `into` takes one ref (get(ref, { into })), not a list; get each ref with its own into');
    if (intoTensors(options.into).length === 0) {
      throw new InvalidArgumentError('get: `into` holds no tensor; pass the tensors to receive into (a tensor, a list, or a value shaped like the object)');
    }
  }
  const list = ids(many ? refOrRefs : [refOrRefs], 'get');
  const values = await holding(refOrRefs, () => ctx.get(list, options));
  return many ? values : values[0];
}

/**
 * Store a value and get a ref to it. Inside an actor, `{ tensorTransport }` keeps the tensors
 * in the actor as a GPU object: readers read it directly over a one-sided transport ('nixl');
 * over a two-sided one ('gloo') it is sent to a consumer over the group they share
 * (`collectiveGroup` names one when they share several), and `get` in the driver copies it
 * through the object store. Freed like a method's result.
 *
 * @example
 * ```ts
 * // inside an actor in a gloo group with the consumer:
 * const ref = put({ w: this.w, step }, { tensorTransport: 'gloo' });
 * ```
 */
export function put<T>(value: T, options: PutOptions = {}): ObjectRef<T> {
  return requireContext('put').put(value, options) as ObjectRef<T>;
}

/** Wait until `numReturns` (default 1) of `refs` are ready, or the timeout passes. */
export async function wait<T>(refs: readonly ObjectRef<T>[], options: WaitOptions = {}): Promise<{ ready: ObjectRef<T>[]; pending: ObjectRef<T>[] }> {
  const all = ids(refs, 'wait');
  const numReturns = checkInteger('wait: numReturns', options.numReturns ?? 1, 0, refs.length)!;
  checkDurationMs('wait: timeoutMs', options.timeoutMs, 0);
  const ctx = requireContext('wait');
  const readyIds = new Set(await holding(refs, () => ctx.wait(all, numReturns, options.timeoutMs)));
  return { ready: refs.filter((r) => readyIds.has(r.id)), pending: refs.filter((r) => !readyIds.has(r.id)) };
}

/** Free objects now (their values, and GPU objects' tensors once no transfer needs them). */
export async function free(refs: ObjectRef<unknown> | readonly ObjectRef<unknown>[]): Promise<void> {
  const list = Array.isArray(refs) ? refs : [refs];
  const ctx = requireContext('free');
  await holding(refs, () => ctx.free(ids(list as ObjectRef<unknown>[], 'free')));
}
