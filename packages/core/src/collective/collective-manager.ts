/**
 * Collective groups in the driver: creation (ranks in list order, rendezvous through core's
 * KV), lookup of the group two actors share, and destruction on every member when asked or
 * when a member dies or a transfer breaks the group.
 */
import { AmbiguousCollectiveGroupError, CollectiveGroupError, InvalidArgumentError } from '../errors/errors';
import type { Logger } from '../log/logger';
import { getTransport } from '../transport/registry';
import type { Connection } from '../rpc/connection';
import { RendezvousKv } from './rendezvous-kv';

export interface GroupRecord {
  readonly name: string;
  readonly backend: string;
  readonly actorIds: readonly string[];
  state: 'active' | 'destroyed';
  reason?: string;
}

/** What the manager needs to know about actors. */
export interface GroupMemberAccess {
  connOf(actorId: string): Connection | undefined;
  nameOf(actorId: string): string;
}

export class CollectiveManager {
  readonly kv = new RendezvousKv();
  private readonly groups = new Map<string, GroupRecord>();
  private seq = 0;

  constructor(
    private readonly members: GroupMemberAccess,
    private readonly logger: Logger,
  ) {}

  async create(actorIds: string[], backend: string, name: string | undefined, timeoutMs: number): Promise<GroupRecord> {
    const { plugin } = getTransport(backend);
    if (plugin.kind !== 'two-sided') {
      throw new CollectiveGroupError(`transport '${backend}' needs no collective group (it is one-sided): pass refs between actors directly`);
    }
    if (actorIds.length === 0) throw new InvalidArgumentError('createCollectiveGroup needs at least one actor');
    const dup = actorIds.find((id, i) => actorIds.indexOf(id) !== i);
    if (dup) throw new CollectiveGroupError(`actor ${this.members.nameOf(dup)} appears twice in the group; list each actor once`);
    const groupName = name ?? `${backend}-group-${++this.seq}`;
    if (this.groups.get(groupName)?.state === 'active') {
      throw new CollectiveGroupError(`a collective group named '${groupName}' already exists; destroy it first or pick another name`);
    }
    // An actor may be in any number of groups, of one backend or several (as torch.distributed's
    // process groups): a transfer between two actors picks the group they share (see route).
    for (const id of actorIds) {
      if (!this.members.connOf(id)) throw new CollectiveGroupError(`actor ${this.members.nameOf(id)} is not running`);
    }
    const rec: GroupRecord = { name: groupName, backend, actorIds: [...actorIds], state: 'active' };
    this.groups.set(groupName, rec);
    const results = await Promise.allSettled(
      actorIds.map((id, rank) =>
        this.members.connOf(id)!.request('group.create', { name: groupName, backend, rank, worldSize: actorIds.length, timeoutMs }),
      ),
    );
    const failed = results.findIndex((r) => r.status === 'rejected');
    if (failed >= 0) {
      const cause = (results[failed] as PromiseRejectedResult).reason as Error;
      await this.destroy(groupName, `creation failed: ${cause.message}`);
      this.groups.delete(groupName);
      if ((cause as { code?: string }).code === 'TRANSPORT_UNAVAILABLE') throw cause;
      throw new CollectiveGroupError(
        `creating ${backend} group '${groupName}' failed on actor ${this.members.nameOf(actorIds[failed]!)}: ${cause.message}`,
        { cause },
      );
    }
    return rec;
  }

  /** Destroy on every member (best effort, never throws); the record stays with its reason. */
  async destroy(name: string, reason = 'destroyed by destroyCollectiveGroup()'): Promise<void> {
    const rec = this.groups.get(name);
    if (!rec || rec.state === 'destroyed') return;
    rec.state = 'destroyed';
    rec.reason = reason;
    await Promise.allSettled(
      rec.actorIds.map((id) => this.members.connOf(id)?.request('group.destroy', { name, reason })),
    );
    this.kv.deletePrefix(`${name}/`);
  }

  async destroyAll(reason = 'destroyed by destroyAllCollectiveGroups()'): Promise<void> {
    await Promise.all([...this.groups.values()].filter((g) => g.state === 'active').map((g) => this.destroy(g.name, reason)));
  }

  get(name: string): GroupRecord | undefined {
    return this.groups.get(name);
  }

  /** The active groups of `backend` that `actorId` is in. */
  groupsOf(actorId: string, backend: string): GroupRecord[] {
    return [...this.groups.values()].filter((g) => g.state === 'active' && g.backend === backend && g.actorIds.includes(actorId));
  }

  /** Active groups holding every one of `actorIds` (of `backend` when given). */
  list(actorIds: readonly string[], backend?: string): GroupRecord[] {
    return [...this.groups.values()].filter(
      (g) => g.state === 'active' && (!backend || g.backend === backend) && actorIds.every((id) => g.actorIds.includes(id)),
    );
  }

  /**
   * The group of `backend` holding both actors, with their ranks. When several do, `named` (a
   * call's or method's `collectiveGroup`, with where it came from) picks one; without it the
   * error lists the qualifying groups. Throws CollectiveGroupError when they share none or the
   * named group does not hold both.
   */
  route(
    backend: string, srcId: string, dstId: string, named?: { group: string; by: string },
  ): { group: GroupRecord; srcRank: number; dstRank: number } {
    const a = this.members.nameOf(srcId);
    const b = this.members.nameOf(dstId);
    const shared = this.groupsOf(srcId, backend).filter((g) => g.actorIds.includes(dstId));
    const list = (gs: readonly GroupRecord[]): string => gs.map((g) => `'${g.name}'`).join(', ');
    let g: GroupRecord | undefined;
    if (named) {
      g = shared.find((x) => x.name === named.group);
      if (!g) {
        const rec = this.groups.get(named.group);
        const why = !rec
          ? 'no such group exists'
          : rec.state !== 'active'
            ? `it was destroyed (${rec.reason ?? 'no reason given'})`
            : rec.backend !== backend
              ? `it is a ${rec.backend} group, and the object moves over ${backend}`
              : `it does not hold both (its members: ${rec.actorIds.map((id) => this.members.nameOf(id)).join(', ')})`;
        throw new CollectiveGroupError(
          `${named.by} names collective group '${named.group}' for moving a ${backend} GPU object from ${a} to ${b}, but ${why}; ` +
            (shared.length ? `groups that hold both: ${list(shared)}` : `they share no active ${backend} group: call createCollectiveGroup([${a}, ${b}], { backend: '${backend}' })`),
        );
      }
    } else if (shared.length > 1) {
      throw new AmbiguousCollectiveGroupError(
        `actors ${a} and ${b} share several ${backend} collective groups (${list(shared)}), so the runtime cannot tell which one moves ` +
          `this GPU object from ${a} to ${b}: name one on the consuming call, .options({ collectiveGroup: '${shared[0]!.name}' }), ` +
          `or with @method({ collectiveGroup }) on the producing or consuming method`,
        shared.map((x) => x.name),
      );
    } else {
      g = shared[0];
    }
    if (!g) {
      const groupsOfA = this.groupsOf(srcId, backend);
      throw new CollectiveGroupError(
        `actors ${a} and ${b} share no active ${backend} collective group, so a ${backend} GPU object cannot move between them: ` +
          `call createCollectiveGroup([${a}, ${b}], { backend: '${backend}' }) first` +
          (groupsOfA.length ? ` (${a} is in ${list(groupsOfA)}, which ${b} is not in)` : ''),
      );
    }
    return { group: g, srcRank: g.actorIds.indexOf(srcId), dstRank: g.actorIds.indexOf(dstId) };
  }

  /** A member died: destroy its groups on the others. */
  async onActorDied(actorId: string, reason: string): Promise<void> {
    const affected = [...this.groups.values()].filter((g) => g.state === 'active' && g.actorIds.includes(actorId));
    await Promise.all(affected.map((g) => this.destroy(g.name, reason)));
    if (affected.length) this.logger.warn(`collective group(s) ${affected.map((g) => g.name).join(', ')} destroyed: ${reason}`);
  }
}
