/** Messages between a test (parent) and a forked test peer (child). */

export interface BufferSpec {
  readonly dtype: import('./test-tensor').TestDtype;
  /** Number of elements. */
  readonly length: number;
}

export interface CommandMessage {
  readonly kind: 'tw-cmd';
  readonly id: number;
  readonly name: string;
  readonly args: Record<string, unknown>;
}

export interface CommandReply {
  readonly kind: 'tw-cmd-reply';
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
}

/** Outcome of an operation started with 'start' and collected with 'await'. */
export interface OpOutcome {
  readonly ok: boolean;
  readonly code?: string;
  readonly message?: string;
}
