/**
 * The tensor transport SPI: what a transport package (`@tensorwire/gloo`, a third party's, ...)
 * implements. Core never imports a transport; it talks to them only through these types.
 *
 * Rules that keep third-party transports working across releases:
 * - capabilities are static (`supports`), so the conformance suite can pick tests synchronously;
 * - new members arrive as optional capabilities, never as new required methods;
 * - every blocking operation returns a Promise and runs off the JavaScript thread.
 */

/** The view of a tensor that a transport needs: where its bytes are and how many. */
export interface TransportTensor {
  /** 'cpu' or 'cuda:N'. */
  readonly device: string;
  /** Size of the tensor's storage in bytes (may be 0). */
  readonly nbytes: number;
  /** The tensor's bytes as a view (no copy). CPU tensors only; throws for device tensors. */
  bytes(): Uint8Array;
  /** Device address of the first byte, for device tensors (e.g. CUDA); undefined for CPU. */
  readonly devicePtr?: bigint;
}

/** Static capabilities of a transport. */
export interface TransportSupports {
  /** Devices whose tensors the transport moves, e.g. ['cpu'] or ['cuda']. */
  readonly devices: readonly ('cpu' | 'cuda')[];
  /** true: the consumer reads from the producer's registered memory (no group, no producer task). */
  readonly oneSided: boolean;
  /** true: actors must be in a collective group of this backend before transfers. */
  readonly needsGroup: boolean;
  /** true: a pending operation can be aborted (group.abort / endpoint abort) without hanging. */
  readonly canAbort: boolean;
  /** Collective operations offered on groups besides send/recv. */
  readonly collectives?: readonly ('barrier' | 'allreduce' | 'broadcast')[];
  /** One-sided: the endpoint can allocate registered memory (a pool) for zero-copy reads. */
  readonly registeredPool?: boolean;
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
  /** Fail every pending and later operation with `reason`; never blocks. */
  abort(reason: string): void;
  /** Release the group's resources; pending operations fail. */
  destroy(): Promise<void>;
}

/** Serializable description of registered tensors, handed to readers (one-sided transports). */
export type RemoteDescriptor = unknown;

/** The per-process endpoint of a transport. */
export interface TransportEndpoint {
  /** Two-sided transports: join a group. */
  createGroup?(options: CreateGroupOptions): Promise<CollectiveGroup>;
  /** One-sided: register the tensors' memory; the descriptor travels with the object's metadata. */
  register?(tensors: readonly TransportTensor[]): Promise<RemoteDescriptor>;
  /** One-sided: read the remote tensors described by `desc` into `into` (same count and sizes). */
  read?(desc: RemoteDescriptor, into: readonly TransportTensor[], timeoutMs: number): Promise<void>;
  /** One-sided: drop a registration made by `register`. */
  release?(desc: RemoteDescriptor): Promise<void>;
  /** One-sided with `registeredPool`: allocate `nbytes` of registered memory (zero-copy reads). */
  allocate?(nbytes: number): Uint8Array;
  /** Close the endpoint; pending operations fail. */
  close(): Promise<void>;
}

/** What a transport package exports (and registers with `registerTransport`). */
export interface TransportPlugin {
  /** The name users write in `tensorTransport`, e.g. 'gloo'. */
  readonly name: string;
  readonly supports: TransportSupports;
  /** Check the native library and devices; never throws, never crashes the caller. */
  probe(): Promise<Availability>;
  createEndpoint(ctx: EndpointContext): Promise<TransportEndpoint>;
}
