/**
 * The part of '@tensorwire/core's public API (API.md) that the system-level tests use, loaded at
 * run time. Typed here from API.md rather than imported, so that the suite compiles against any
 * core of the 0.x line and reports a missing function as a skipped test instead of a build error.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */

export interface TensorLike {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly device: string;
  readonly numel: number;
  readonly nbytes: number;
  readonly deviceBuffer?: unknown;
  bytes(): Uint8Array;
  sum(): number;
  add_(x: number): unknown;
  to(device: string): TensorLike;
  cpu(): TensorLike;
}

/** Core's own type: what `actorStats(handle)` reports. */
export type { ActorStats } from '@tensorwire/core';
import type { ActorStats } from '@tensorwire/core';

export interface GroupLike {
  readonly name: string;
  readonly backend: string;
  rankOf(actor: unknown): number;
}

export interface CoreApi {
  init(options?: Record<string, unknown>): Promise<unknown>;
  shutdown(): Promise<void>;
  actor(options?: Record<string, unknown>): ClassDecorator;
  spawn(cls: new (...a: any[]) => unknown, options?: Record<string, unknown>): Promise<any>;
  get(refOrRefs: unknown, options?: Record<string, unknown>): Promise<any>;
  put(value: unknown, options?: Record<string, unknown>): any;
  wait(refs: readonly unknown[], options?: Record<string, unknown>): Promise<{ ready: unknown[]; pending: unknown[] }>;
  free(refs: unknown): Promise<void>;
  kill(handle: unknown): Promise<void>;
  createCollectiveGroup(actors: readonly unknown[], options: { backend: string; name?: string }): Promise<GroupLike>;
  destroyCollectiveGroup(group: GroupLike | string): Promise<void>;
  /** The active groups holding every one of `actors` (of `backend` when given). */
  getCollectiveGroups(actors: readonly unknown[], backend?: string): GroupLike[] | Promise<GroupLike[]>;
  waitTensorFreed(tensor: TensorLike, options?: { timeoutMs?: number }): Promise<void>;
  actorStats?(handle: unknown): Promise<ActorStats>;
  objectStoreStats?(): { objects: number; bytes: number };
  getDeviceBackend?(kind: 'cuda'): { copyFromHost(dst: unknown, src: Uint8Array): void } | undefined;
  Tensor: {
    new (data: ArrayBufferView, shape?: readonly number[], options?: { dtype?: string; device?: string }): TensorLike;
    fromBytes(bytes: Uint8Array, dtype: string, shape: readonly number[]): TensorLike;
    isTensor(x: unknown): x is TensorLike;
  };
  ObjectRef?: new (...a: any[]) => unknown;
  TensorwireError: new (...a: any[]) => Error;
  TaskError: new (...a: any[]) => Error;
  TransferError: new (...a: any[]) => Error;
  ActorDiedError: new (...a: any[]) => Error;
  ObjectLostError: new (...a: any[]) => Error;
  CollectiveGroupError: new (...a: any[]) => Error;
}

/** Functions the system-level tests cannot run without. */
export const REQUIRED_API = [
  'init', 'shutdown', 'actor', 'spawn', 'get', 'put', 'wait', 'free', 'kill',
  'createCollectiveGroup', 'destroyCollectiveGroup', 'getCollectiveGroups', 'Tensor',
] as const;

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const core = require('@tensorwire/core') as CoreApi;

/** Names in {@link REQUIRED_API} that this core does not export. */
export function missingApi(): string[] {
  return REQUIRED_API.filter((k) => typeof (core as unknown as Record<string, unknown>)[k] !== 'function');
}
