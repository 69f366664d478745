import type { ActorDiedError } from '../errors/errors';
import type { Connection } from '../rpc/connection';
import type { ActorSpec } from '../runtime/protocol';
import type { ActorInfo } from '../runtime/actor-info';
import type { LaunchedProcess } from './launcher';

/** A call sent to an actor whose result has not arrived yet. */
export interface InflightCall {
  objectId: string;
  /** refs the call holds until its result arrives */
  refIds: string[];
}

/** The driver's record of one actor process. */
export interface ActorRecord {
  readonly info: ActorInfo;
  readonly spec: ActorSpec;
  readonly proc: LaunchedProcess;
  conn?: Connection;
  state: 'starting' | 'alive' | 'dead';
  death?: ActorDiedError;
  killedByUser?: boolean;
  /** serializes dispatch so calls reach the actor in submission order */
  chain: Promise<void>;
  readonly inflight: Map<string, InflightCall>;
  /** refs borrowed by the actor's own code (released if it dies) */
  readonly borrowed: Map<string, number>;
  /** new ids of its own that a ref announced before their submit/put arrived (failed if it dies) */
  readonly declared: Set<string>;
  started: { resolve: () => void; reject: (e: Error) => void; promise: Promise<void> };
}
