/** What any process needs to know to call an actor (travels inside serialized handles). */
export interface ActorInfo {
  readonly actorId: string;
  readonly name: string;
  readonly className: string;
  readonly methods: readonly string[];
  /** Tensor transports of the methods that declare one (`@method({ tensorTransport })`), checked when called. */
  readonly methodTransports?: Readonly<Record<string, string>>;
  /** Collective groups the methods name (`@method({ collectiveGroup })`). */
  readonly methodGroups?: Readonly<Record<string, string>>;
}
