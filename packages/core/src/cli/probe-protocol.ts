/** What the probe child (probe-child.ts) sends its parent (probe-in-child.ts) over IPC. */

/** One transport's probe outcome, as doctor reports it. */
export interface ProbeOutcome {
  readonly transport: string;
  readonly available: boolean;
  readonly detail: string;
  readonly fix?: string;
}

export type ProbeChildMessage =
  | { readonly kind: 'probed'; readonly outcomes: readonly ProbeOutcome[] }
  | { readonly kind: 'load-failed'; readonly message: string; readonly code?: string };
