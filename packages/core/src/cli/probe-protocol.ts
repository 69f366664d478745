/** What the probe child (probe-child.ts) sends its parent (probe-in-child.ts) over IPC. */
import type { DeviceInfo } from '../tensor/device';

/** One transport's probe outcome, as doctor reports it. */
export interface ProbeOutcome {
  readonly transport: string;
  readonly available: boolean;
  readonly detail: string;
  readonly fix?: string;
}

/** One device backend's probe outcome, as doctor reports it. */
export interface DeviceProbeOutcome {
  /** The device kind, e.g. 'cuda'. */
  readonly device: string;
  readonly available: boolean;
  readonly detail: string;
  readonly fix?: string;
  /** The devices the backend sees (empty when not available). */
  readonly devices: readonly DeviceInfo[];
}

export type ProbeChildMessage =
  | { readonly kind: 'probed'; readonly outcomes: readonly ProbeOutcome[]; readonly devices?: readonly DeviceProbeOutcome[] }
  | { readonly kind: 'load-failed'; readonly message: string; readonly code?: string };
