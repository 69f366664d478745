/**
 * What the system-level test groups share: the transport under test, how to set up actors and
 * make GPU objects with it, and the suite's test registration (serial, with a deadline, after
 * the runtime is up with the right options).
 */
import type { ExecutionContext } from 'ava';
import type { TransportPlugin } from '@tensorwire/core';
import type { EffectiveOptions } from '../options';
import type { Registrar } from '../registrar';
import type { GroupLike } from './core-api';
import type { ActorSet } from './runtime-env';
import type { TensorRecipe } from './values';

export type T = ExecutionContext<unknown>;

export interface SystemKit {
  readonly r: Registrar;
  /** Title prefix of system-level tests ('system: '). */
  readonly d: string;
  /** The transport's name. */
  readonly name: string;
  readonly supports: TransportPlugin['supports'];
  /** The transport is one-sided (reads, no groups); else two-sided (groups, send/recv). */
  readonly oneSided: boolean;
  readonly options: EffectiveOptions;
  /** Generous bound of one operation (ms). */
  readonly deadline: number;
  readonly ConformanceActor: new (...a: any[]) => unknown;
  /**
   * Register a system test; the runtime runs with the suite's init options plus `initOverrides`
   * (restarted when a test before ran with other ones).
   */
  test(title: string, fn: (t: T) => Promise<void>, initOverrides?: Record<string, unknown>): void;
  /** A producer and consumer(s), in a group of this backend when the transport needs one. */
  setup(t: T, consumers?: number): Promise<{ set: ActorSet; p: any; c: any; cs: any[]; group?: GroupLike }>;
  /** A producer-side call whose result stays in the producer (a GPU object of this transport). */
  produce(h: any, method: string, ...args: unknown[]): any;
  /** `get` of a plain call. */
  call(h: any, method: string, ...args: unknown[]): Promise<any>;
  /** The device the variant's tensors are made on in every actor: undefined (the CPU) or 'cuda:0'. */
  readonly device: string | undefined;
  /** A recipe of a fresh seed on the variant's device. */
  recipe(dtype: string, shape: number[]): TensorRecipe;
  /** Fingerprint of what `get` gives (without devices in the CUDA variant: `get` may give CPU copies). */
  fpGet(value: unknown): unknown;
}
