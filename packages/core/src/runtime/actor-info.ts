/** What any process needs to know to call an actor (travels inside serialized handles). */
export interface ActorInfo {
  readonly actorId: string;
  readonly name: string;
  readonly className: string;
  readonly methods: readonly string[];
}
