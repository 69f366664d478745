/** Collective groups: create, destroy, list (driver), and collective operations (inside actors). */
import { makeHandle, type ActorHandle } from '../actor/handle';
import { workerServices } from '../worker/worker-services';
import type { GroupRecord } from '../collective/collective-manager';
import { CollectiveGroupError, InvalidArgumentError, RuntimeStateError } from '../errors/errors';
import type { Runtime } from '../driver/runtime';
import type { Tensor } from '../tensor/tensor';
import type { CollectiveGroup } from '../transport/spi';
import type { CollectiveBackendName } from '../transport/transport-names';
import { actorIdOf } from './actors';
import { driverRuntime } from './lifecycle';
import { checkDurationMs } from '../runtime/validate';

/** A collective group as the driver sees it. */
export interface CollectiveGroupHandle {
  readonly name: string;
  readonly backend: string;
  /** Members, in rank order. */
  readonly actors: ActorHandle<unknown>[];
  /** 'active', or 'destroyed' (see `reason`). */
  readonly state: 'active' | 'destroyed';
  /** Why the group was destroyed (explicitly, a member died, a transfer failed...). */
  readonly reason: string | undefined;
  /** Rank of `actor` in the group, -1 when it is not a member. */
  rankOf(actor: ActorHandle<unknown>): number;
}

function toHandle(rt: Runtime, rec: GroupRecord): CollectiveGroupHandle {
  return {
    name: rec.name,
    backend: rec.backend,
    actors: rec.actorIds.map((id) => makeHandle(rt.actors.get(id)!.info)),
    get state() {
      return rec.state;
    },
    get reason() {
      return rec.reason;
    },
    rankOf: (actor) => rec.actorIds.indexOf(actorIdOf(actor, 'rankOf')),
  };
}

export interface CreateCollectiveGroupOptions {
  /** The two-sided transport, e.g. 'gloo' (must match the methods' tensorTransport). */
  backend: CollectiveBackendName;
  /** Group name (default: generated). */
  name?: string;
  /** Deadline for connecting the group (default: the runtime's transfer timeout). */
  timeoutMs?: number;
}

/**
 * Connect actors into a collective group of a two-sided transport; ranks follow list order.
 * GPU objects of that transport then move directly between members. An actor may be in any
 * number of groups; when two actors share several of one backend, a transfer between them
 * names one (`.options({ collectiveGroup })`, `@method({ collectiveGroup })`).
 *
 * @example
 * ```ts
 * const group = await createCollectiveGroup([sender, receiver], { backend: 'gloo' });
 * group.rankOf(receiver); // 1
 * ```
 */
export async function createCollectiveGroup(
  actors: ActorHandle<unknown>[],
  options: CreateCollectiveGroupOptions,
): Promise<CollectiveGroupHandle> {
  const rt = driverRuntime('createCollectiveGroup');
  if (!Array.isArray(actors)) throw new InvalidArgumentError('createCollectiveGroup: the first argument is a list of actor handles');
  if (!options || typeof options.backend !== 'string') {
    throw new InvalidArgumentError("createCollectiveGroup: options.backend is required, e.g. { backend: 'gloo' }");
  }
  const ids = actors.map((a) => actorIdOf(a, 'createCollectiveGroup'));
  checkDurationMs('createCollectiveGroup: timeoutMs', options.timeoutMs);
  rt.hold();
  try {
    const rec = await rt.collectives.create(ids, options.backend, options.name, options.timeoutMs ?? rt.options.transferTimeoutMs);
    return toHandle(rt, rec);
  } finally {
    rt.release();
  }
}

/** Destroy a group on every member; the actors stay usable and may join new groups. */
export async function destroyCollectiveGroup(group: CollectiveGroupHandle | string): Promise<void> {
  const rt = driverRuntime('destroyCollectiveGroup');
  const name = typeof group === 'string' ? group : group?.name;
  const rec = name ? rt.collectives.get(name) : undefined;
  if (!rec) throw new CollectiveGroupError(`no collective group named '${String(name)}'`);
  rt.hold();
  try {
    await rt.collectives.destroy(rec.name);
  } finally {
    rt.release();
  }
}

/** Destroy every active group. */
export async function destroyAllCollectiveGroups(): Promise<void> {
  const rt = driverRuntime('destroyAllCollectiveGroups');
  rt.hold();
  try {
    await rt.collectives.destroyAll();
  } finally {
    rt.release();
  }
}

/** The active groups holding every one of `actors` (of `backend` when given). */
export function getCollectiveGroups(actors: ActorHandle<unknown>[], backend?: CollectiveBackendName): CollectiveGroupHandle[] {
  const rt = driverRuntime('getCollectiveGroups');
  return rt.collectives.list(actors.map((a) => actorIdOf(a, 'getCollectiveGroups')), backend).map((g) => toHandle(rt, g));
}

// ---- inside actors --------------------------------------------------------------------

function localGroup(name: string | undefined, op: string): CollectiveGroup {
  const s = workerServices();
  if (!s) throw new RuntimeStateError(`${op} runs inside an actor that is a member of a collective group`);
  const names = s.groupNames();
  const groupName = name ?? (names.length === 1 ? names[0] : undefined);
  if (!groupName) {
    throw new CollectiveGroupError(
      names.length ? `${op}: this actor is in several groups (${names.join(', ')}); name one` : `${op}: this actor is in no collective group`,
    );
  }
  const g = s.group(groupName);
  if (!g) throw new CollectiveGroupError(`${op}: this actor is not in collective group '${groupName}'`);
  return g;
}

/** Inside an actor: in-place reduction of `tensor` over every member of the group. */
export async function allreduce(tensor: Tensor, options: { group?: string; op?: 'sum' | 'min' | 'max' | 'prod' } = {}): Promise<Tensor> {
  const g = localGroup(options.group, 'allreduce');
  if (!g.allreduce) throw new CollectiveGroupError('allreduce: this transport offers no allreduce');
  await g.allreduce(tensor, tensor.dtype, options.op ?? 'sum');
  return tensor;
}

/** Inside an actor: in-place broadcast of `tensor` from rank `root`. */
export async function broadcast(tensor: Tensor, root: number, options: { group?: string } = {}): Promise<Tensor> {
  const g = localGroup(options.group, 'broadcast');
  if (!g.broadcast) throw new CollectiveGroupError('broadcast: this transport offers no broadcast');
  await g.broadcast(tensor, root);
  return tensor;
}

/** Inside an actor: wait until every member of the group reaches the barrier. */
export async function barrier(options: { group?: string } = {}): Promise<void> {
  await localGroup(options.group, 'barrier').barrier();
}

/**
 * Inside an actor: resolves when no live GPU object holds `tensor` any more (all refs to the
 * objects that returned it were freed and their transfers finished), so it may be reused.
 */
export async function waitTensorFreed(tensor: Tensor, options: { timeoutMs?: number } = {}): Promise<void> {
  const s = workerServices();
  if (!s) throw new RuntimeStateError('waitTensorFreed runs inside an actor (the tensors of GPU objects live in their producer)');
  checkDurationMs('waitTensorFreed: timeoutMs', options.timeoutMs, 0);
  await s.tensorStore.waitFreed(tensor, options.timeoutMs);
}
