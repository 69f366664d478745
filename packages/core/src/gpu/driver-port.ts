/**
 * What the GPU-object manager needs of the driver, and no more: the manager depends on this
 * narrow interface, which the driver (driver/runtime.ts) implements, not on the driver class.
 */
import type { EncodedValue } from '../objects/encoded-value';
import type { Logger } from '../log/logger';
import type { Connection } from '../rpc/connection';
import type { GpuEntry } from './gpu-entry';

/** Where a two-sided transfer goes: the group both actors are in, and their ranks. */
export interface TransferRoute {
  readonly group: string;
  readonly srcRank: number;
  readonly dstRank: number;
}

/** A group named by a call, a method or a producer (`collectiveGroup`), and which one named it. */
export interface GroupChoice {
  readonly group: string;
  /** For messages, e.g. "sampler.load.options({ collectiveGroup })". */
  readonly by: string;
}

export interface GpuDriverPort {
  readonly logger: Logger;
  /** Deadline of every transfer (RuntimeOptions.transferTimeoutMs). */
  readonly transferTimeoutMs: number;
  /** The entry of an object, if the driver still has one. */
  entry(id: string): GpuEntry | undefined;
  /** Every entry (the manager settles reads when an actor dies). */
  entries(): Iterable<GpuEntry>;
  /** Drop the entry of an object nobody refers to any more. */
  forget(id: string): void;
  /** The stored value of an ordinary (not GPU) object. */
  storedValue(id: string): EncodedValue | undefined;
  /** The error `get` throws for a failed object. */
  errorOf(id: string): Error;
  /** The readable name of an actor (its id when unknown). */
  actorName(actorId: string): string;
  /** The connection to an actor that is alive; undefined once it died. */
  aliveConn(actorId: string): Connection | undefined;
  /**
   * The group and ranks for a two-sided transfer; `named` picks among several shared groups.
   * Throws CollectiveGroupError when they share none (or not the named one), and
   * AmbiguousCollectiveGroupError when they share several and none is named.
   */
  route(transport: string, producerId: string, consumerId: string, named?: GroupChoice): TransferRoute;
  /** Whether a collective group is still active. */
  groupActive(group: string): boolean;
  /** Destroy a collective group on every member (a failed transfer poisons it). */
  destroyGroup(group: string, reason: string): void;
}
