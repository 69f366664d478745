/**
 * Messages between a test process (parent) and a peer process (child), over Node's IPC channel with
 * `serialization: 'advanced'` so Uint8Array, bigint and Map values in transport descriptors
 * travel as they are. Tensor bytes never cross IPC: both sides derive them from seeds.
 */
import { isTransportError } from '@tensorwire/core';
import type { TensorSpec } from '../tensor-spec';

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
  /** The TransportError kind (the SPI's error contract), when the error is one. */
  readonly kind?: string;
}

/** parent -> child */
export type ParentMessage =
  | { kind: 'call'; id: number; cmd: string; args: unknown }
  | { kind: 'rdv-reply'; rid: number; ok: true; value?: Uint8Array }
  | { kind: 'rdv-reply'; rid: number; ok: false; error: SerializedError };

/** child -> parent */
export type ChildMessage =
  | { kind: 'reply'; id: number; ok: true; value: unknown }
  | { kind: 'reply'; id: number; ok: false; error: SerializedError }
  /** The SPI operation of call `id` has been started (its Promise exists); used to kill "during". */
  | { kind: 'posted'; id: number }
  | { kind: 'rdv'; rid: number; op: 'set'; group: string; key: string; value: Uint8Array }
  | { kind: 'rdv'; rid: number; op: 'get'; group: string; key: string; timeoutMs: number }
  | { kind: 'rdv'; rid: number; op: 'wait'; group: string; keys: string[]; timeoutMs: number }
  | { kind: 'log'; level: string; message: string };

/** One transfer of several tensors with one tag. */
export interface TransferSpec {
  readonly tag: number;
  readonly tensors: readonly TensorSpec[];
}

/** The first command a peer gets: what to load and how to create its endpoint. */
export interface InitArgs {
  /** Absolute path of the module that registers the transport. */
  readonly module: string;
  /** The transport's registered name. */
  readonly name: string;
  /** EndpointContext.processName. */
  readonly processName: string;
  /** EndpointContext.options. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Absolute paths of modules whose `peerCommands` add to the generic commands. */
  readonly commands: readonly string[];
}

/** An error as it crosses IPC (name, message, code and stack survive). */
export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) {
    return {
      name: e.name,
      message: e.message,
      code: (e as { code?: string }).code,
      stack: e.stack,
      kind: isTransportError(e) ? e.kind : undefined,
    };
  }
  return { name: 'NonError', message: String(e) };
}

/** An error that happened in a peer (or in talking to it), with the peer's own name/code/message. */
export class PeerError extends Error {
  readonly code?: string;
  readonly remoteName: string;
  /** The TransportError kind of the peer's error; undefined when it was not a TransportError. */
  readonly transportKind?: string;
  constructor(
    readonly peer: string,
    readonly cmd: string,
    remote: SerializedError,
  ) {
    super(`${peer}: ${cmd} failed: ${remote.name}${remote.code ? ` [${remote.code}]` : ''}: ${remote.message}`);
    this.name = 'PeerError';
    this.code = remote.code;
    this.remoteName = remote.name;
    this.transportKind = remote.kind;
  }
}
