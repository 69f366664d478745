import 'reflect-metadata';
import type { InjectionToken } from 'tsyringe';

/** A DI override: `{ token: TOKENS.ObjectStore, useValue: myStore }` or `useClass`. */
export type Provider =
  | { token: InjectionToken<unknown>; useValue: unknown }
  | { token: InjectionToken<unknown>; useClass: new (...args: any[]) => unknown }
  | { token: InjectionToken<unknown>; useFactory: (c: import('tsyringe').DependencyContainer) => unknown };

/** Options of `init()`. */
export interface RuntimeOptions {
  /** Override services: ObjectStore, Launcher, Serializer, Logger, Clock (see TOKENS). */
  providers?: Provider[];
  /**
   * Transport modules to load in the driver and every actor (besides those already imported),
   * e.g. ['@tensorwire/gloo'] or absolute paths.
   */
  transports?: string[];
  /** Per-transport options handed to endpoints, e.g. `{ gloo: { host: '127.0.0.1' } }`. */
  transportOptions?: Record<string, Record<string, unknown>>;
  /** Deadline of each tensor transfer (default 60 000 ms). */
  transferTimeoutMs?: number;
  /**
   * GPU objects whose tensors total at most this many bytes (default 65 536) also send the
   * driver a copy when made, so passing them on costs no transfer round trip (like Ray's
   * inlined small objects). The producer still keeps the tensors themselves; once a ref went
   * back to its producer (which may have changed the tensors), consumers get them over the
   * transport again. 0 turns this off.
   */
  inlineGpuObjectBytes?: number;
  /** How long an actor may take to start and construct (default 60 000 ms). */
  actorStartTimeoutMs?: number;
  /** Control plane: 'unix' (default) or a TCP host to bind for actors on other hosts. */
  host?: string;
  port?: number;
}

export interface ResolvedOptions extends Required<Omit<RuntimeOptions, 'providers' | 'port'>> {
  port?: number;
}

export function resolveOptions(o: RuntimeOptions = {}): ResolvedOptions {
  return {
    transports: o.transports ?? [],
    transportOptions: o.transportOptions ?? {},
    transferTimeoutMs: o.transferTimeoutMs ?? 60_000,
    actorStartTimeoutMs: o.actorStartTimeoutMs ?? 60_000,
    inlineGpuObjectBytes: o.inlineGpuObjectBytes ?? 64 * 1024,
    host: o.host ?? 'unix',
    port: o.port,
  };
}
