/**
 * The tensor transport SPI: what a transport package (`@tensorwire/gloo`, a third party's, ...)
 * implements. Core never imports a transport; it talks to them only through these types.
 * Transport authors import them from `@tensorwire/core/spi`.
 *
 * A transport is one of two kinds, told apart by `kind` (the compiler checks the rest):
 * - `'two-sided'` ({@link TwoSidedTransportPlugin}): processes join a {@link CollectiveGroup};
 *   the producer `send`s, the consumer `recv`s, matched by rank and tag (Gloo, NCCL);
 * - `'one-sided'` ({@link OneSidedTransportPlugin}): the producer `register`s its tensors and
 *   hands out a descriptor; the consumer `read`s the producer's memory with no task on the
 *   producer (NIXL, RDMA, shared memory).
 *
 * Rules every transport keeps (the conformance suite, `@tensorwire/conformance`, checks them):
 * - **Reads see the tensors as they are at read time.** GPU objects are mutable: the producer
 *   may change a tensor after returning it, and a consumer that reads later must see the change.
 *   `register` must not take a snapshot; `read` and `send` move the bytes as they are then.
 * - **Blocking work never runs on the JavaScript thread.** Connect, send, recv, read and waits
 *   return Promises; the event loop keeps serving other calls meanwhile.
 * - **Every failure is a {@link TransportError}** with the right `kind` (see
 *   {@link TransportErrorKind}): TIMEOUT when `timeoutMs` passed, PEER_LOST when the other
 *   process died, ABORTED after `abort()`, CLOSED after `close()`/`destroy()`, INVALID for
 *   arguments the transport cannot take, UNAVAILABLE when the library is missing. Core turns
 *   them into the user's `TransferError` / `TransportUnavailableError` and keeps `code`.
 * - **Nothing hangs.** Every operation ends: with its result, its `timeoutMs`, the peer's death
 *   (PEER_LOST, within the timeout at most) or `abort`/`close`.
 * - **`close()` is called on orderly ends only**: `shutdown()` in the driver, and an actor's
 *   orderly exit. A killed or crashed process never runs it: the peers see PEER_LOST, and the
 *   OS must reclaim everything (no files left under /dev/shm, no orphan processes).
 * - Capabilities are static (`supports`), so the conformance suite picks tests synchronously;
 *   new members arrive as optional capabilities, never as new required methods.
 */
export { TransportError, isTransportError, transportErrorKind, type TransportErrorKind } from './transport-error';
import type { TransportTensor } from '../tensor/transport-tensor';
export type { TransportTensor } from '../tensor/transport-tensor';

/** Static capabilities of a transport. */
export interface TransportSupports {
  /** Devices whose tensors the transport moves, e.g. ['cpu'] or ['cuda']. */
  readonly devices: readonly ('cpu' | 'cuda')[];
}

/** Capabilities of a two-sided transport. */
export interface TwoSidedSupports extends TransportSupports {
  /** Collective operations offered on groups besides send/recv (and `barrier`). */
  readonly collectives?: readonly ('barrier' | 'allreduce' | 'broadcast')[];
}

/** Capabilities of a one-sided transport. */
export interface OneSidedSupports extends TransportSupports {
  /** The endpoint has `allocate()`: registered memory (a pool) for zero-copy reads. */
  readonly registeredPool?: boolean;
  /**
   * The endpoint has `select()`: core then registers each tensor's memory once, however many
   * GPU objects share it (objects sharing some tensors read the shared ones through a selection).
   */
  readonly selectRegions?: boolean;
}

/** Result of `probe()`: can this transport run on this machine, and if not, what fixes it. */
export interface Availability {
  readonly available: boolean;
  /** What was found or missing, e.g. 'libgloo 0.5.0, TCP device'. */
  readonly detail: string;
  /** How to fix it when not available, e.g. 'apt-get install libgloo-dev && npm rebuild @tensorwire/gloo'. */
  readonly fix?: string;
}

/**
 * A small key-value store served by core over its control plane, shared by the members of a group.
 * Keys are write-once per group; `get` waits until the key exists or the timeout passes.
 */
export interface RendezvousStore {
  set(key: string, value: Uint8Array): Promise<void>;
  /** Resolves with the value once some member has set it; rejects after `timeoutMs`. */
  get(key: string, timeoutMs: number): Promise<Uint8Array>;
  /** Resolves when every key exists; rejects after `timeoutMs`. */
  wait(keys: readonly string[], timeoutMs: number): Promise<void>;
}

/** What core hands a transport when it creates the per-process endpoint. */
export interface EndpointContext {
  /** Stable name of this process: 'driver' or the actor id, e.g. 'actor-3'. */
  readonly processName: string;
  /** Options the user gave for this transport in `init({ transportOptions: { gloo: {...} } })`. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Logger for diagnostics. */
  readonly log: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

export interface CreateGroupOptions {
  /** Unique group name (also the rendezvous namespace). */
  readonly name: string;
  readonly rank: number;
  readonly worldSize: number;
  /** Namespaced to this group by core. */
  readonly rendezvous: RendezvousStore;
  /** Deadline for connect and for each operation, in milliseconds. */
  readonly timeoutMs: number;
}

/** A connected group of processes of a two-sided transport. */
export interface CollectiveGroup {
  readonly name: string;
  readonly rank: number;
  readonly worldSize: number;
  /** Send the tensors (in order) to `dstRank`; matched by the receiver's `recv` with the same tag. */
  send(tensors: readonly TransportTensor[], dstRank: number, tag: number): Promise<void>;
  /** Receive into the preallocated tensors (same count, order and sizes as the sender's). */
  recv(into: readonly TransportTensor[], srcRank: number, tag: number): Promise<void>;
  barrier(): Promise<void>;
  /** In-place sum (or other op) over all ranks. Optional: see `supports.collectives`. */
  allreduce?(tensor: TransportTensor, dtype: string, op?: 'sum' | 'min' | 'max' | 'prod'): Promise<void>;
  /** In-place broadcast from `root`. Optional: see `supports.collectives`. */
  broadcast?(tensor: TransportTensor, root: number): Promise<void>;
  /** Fail every pending and later operation with an ABORTED TransportError; never blocks. */
  abort(reason: string): void;
  /** Release the group's resources; pending operations fail (CLOSED). */
  destroy(): Promise<void>;
}

/**
 * Serializable description of registered tensors, handed to readers (one-sided transports).
 * It travels inside the object's metadata through the driver to every consumer, so it must be
 * plain data that `structuredClone` keeps (numbers, strings, bigints, arrays, plain objects,
 * Uint8Array), small (addresses and keys, never the bytes), and safe to show to any actor of
 * the runtime. `read` must validate it (a descriptor of another transport or a forged one is an
 * INVALID TransportError, never a crash).
 */
export type RemoteDescriptor = unknown;

/** What every endpoint has. */
interface EndpointBase {
  /**
   * Release everything the endpoint holds; pending operations fail with a CLOSED
   * TransportError. Called on orderly ends only (see the rules at the top of this file).
   */
  close(): Promise<void>;
}

/** The per-process endpoint of a two-sided transport. */
export interface TwoSidedEndpoint extends EndpointBase {
  readonly kind: 'two-sided';
  /** Join a group: connect to the other `worldSize - 1` members (found through `rendezvous`). */
  createGroup(options: CreateGroupOptions): Promise<CollectiveGroup>;
}

/** The per-process endpoint of a one-sided transport. */
export interface OneSidedEndpoint extends EndpointBase {
  readonly kind: 'one-sided';
  /**
   * Register the tensors' memory for remote reads; the descriptor travels with the object's
   * metadata. Must not copy the bytes: reads see the tensors as they are at read time.
   */
  register(tensors: readonly TransportTensor[]): Promise<RemoteDescriptor>;
  /**
   * Read the remote tensors described by `desc` into `into` (same count and sizes). Rejects
   * with a TIMEOUT TransportError after `timeoutMs`, PEER_LOST when the producer is gone.
   */
  read(desc: RemoteDescriptor, into: readonly TransportTensor[], timeoutMs: number): Promise<void>;
  /** Drop a registration made by `register` (reads after it fail; reads in flight may finish). */
  release(desc: RemoteDescriptor): Promise<void>;
  /** With `supports.registeredPool`: `nbytes` of registered memory, for zero-copy reads into it. */
  allocate?(nbytes: number): Uint8Array;
  /**
   * With `supports.selectRegions`: a descriptor of some of a registration's tensors, `indices`
   * into the tensors given to `register` (in the order wanted; one may repeat), read with `read`
   * like any descriptor. Plain data, synchronous, no registration of its own: core never
   * releases a selection (releasing the original ends it, and reads of it fail then).
   */
  select?(desc: RemoteDescriptor, indices: readonly number[]): RemoteDescriptor;
}

/** The per-process endpoint of a transport: one of the two kinds. */
export type TransportEndpoint = TwoSidedEndpoint | OneSidedEndpoint;

/** What every transport plugin has. */
interface PluginBase {
  /** The name users write in `tensorTransport`, e.g. 'gloo'. */
  readonly name: string;
  /** Check the native library and devices; never throws, never crashes the caller. */
  probe(): Promise<Availability>;
}

/** A two-sided transport (Gloo, NCCL): groups with send/recv. */
export interface TwoSidedTransportPlugin extends PluginBase {
  readonly kind: 'two-sided';
  readonly supports: TwoSidedSupports;
  createEndpoint(ctx: EndpointContext): Promise<TwoSidedEndpoint>;
}

/** A one-sided transport (NIXL, shared memory): register, then read. */
export interface OneSidedTransportPlugin extends PluginBase {
  readonly kind: 'one-sided';
  readonly supports: OneSidedSupports;
  createEndpoint(ctx: EndpointContext): Promise<OneSidedEndpoint>;
}

/**
 * What a transport package exports (and registers with `registerTransport`).
 *
 * @example
 * ```ts
 * import { registerTransport, type OneSidedTransportPlugin } from '@tensorwire/core/spi';
 * export const shmPlugin: OneSidedTransportPlugin = {
 *   name: 'shm', kind: 'one-sided', supports: { devices: ['cpu'] },
 *   probe: async () => ({ available: true, detail: 'POSIX shared memory' }),
 *   createEndpoint: async (ctx) => new ShmEndpoint(ctx),
 * };
 * registerTransport(shmPlugin, { module: __filename });
 * ```
 */
export type TransportPlugin = TwoSidedTransportPlugin | OneSidedTransportPlugin;
