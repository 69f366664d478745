/** Options of {@link registerConformanceSuite}. All are optional. */
export interface ConformanceOptions {
  /**
   * When the transport's probe() says it cannot run here: register skipped tests instead of one
   * failing test. Default false (a transport that cannot run fails its conformance run).
   */
  readonly skipUnavailable?: boolean;
  /**
   * Devices to test, default every device in `supports.devices`. The CUDA variants build their
   * tensors on 'cuda:0' of every process with `@tensorwire/cuda` (skipped, saying so, when it is
   * not installed).
   */
  readonly devices?: readonly ('cpu' | 'cuda')[];
  /**
   * The CUDA driver of the CUDA variants (set for the test process and every process it starts,
   * through TENSORWIRE_LIBCUDA): 'real' (default) the machine's driver; 'mock'
   * `@tensorwire/cuda`'s mock driver (the CUDA code paths without a GPU); 'auto' the machine's
   * when it sees a GPU, else the mock. TENSORWIRE_LIBCUDA, when set, is used as it is.
   */
  readonly cudaDriver?: 'real' | 'mock' | 'auto';
  /** Which levels to register. Default both. 'system' needs the tensorwire runtime from '@tensorwire/core'. */
  readonly levels?: readonly ('endpoint' | 'system')[];
  /** Size of the "large" tensor tests in bytes. Default 256 MiB. */
  readonly largeBytes?: number;
  /** Deadline given to transport operations (CreateGroupOptions.timeoutMs, read timeoutMs). Default 15000. */
  readonly timeoutMs?: number;
  /** `EndpointContext.options` for the transport's endpoints (endpoint-level tests). */
  readonly endpointOptions?: Readonly<Record<string, unknown>>;
  /** `init()` options merged into the runtime's init for system-level tests (besides `transports`). */
  readonly initOptions?: Readonly<Record<string, unknown>>;
  /**
   * Transfers of the system-level soak (producer -> consumer through the runtime, then every
   * count must return to zero and no descriptor or process may leak). Default 8000; 0 skips it.
   */
  readonly soakTransfers?: number;
  /** Prefix of every test title. Default `[<transport name>] `. */
  readonly titlePrefix?: string;
  /** Directory the target is resolved from. Default process.cwd(). */
  readonly cwd?: string;
}

export const MiB = 1024 * 1024;

export interface EffectiveOptions {
  readonly skipUnavailable: boolean;
  readonly devices?: readonly ('cpu' | 'cuda')[];
  readonly cudaDriver: 'real' | 'mock' | 'auto';
  readonly levels: readonly ('endpoint' | 'system')[];
  readonly largeBytes: number;
  readonly timeoutMs: number;
  readonly endpointOptions: Readonly<Record<string, unknown>>;
  readonly initOptions: Readonly<Record<string, unknown>>;
  readonly soakTransfers: number;
  readonly cwd: string;
}

export function effectiveOptions(o: ConformanceOptions = {}): EffectiveOptions {
  return {
    skipUnavailable: o.skipUnavailable ?? false,
    devices: o.devices,
    cudaDriver: o.cudaDriver ?? 'real',
    levels: o.levels ?? ['endpoint', 'system'],
    largeBytes: o.largeBytes ?? 256 * MiB,
    timeoutMs: o.timeoutMs ?? 15_000,
    endpointOptions: o.endpointOptions ?? {},
    initOptions: o.initOptions ?? {},
    soakTransfers: o.soakTransfers ?? 8000,
    cwd: o.cwd ?? process.cwd(),
  };
}
