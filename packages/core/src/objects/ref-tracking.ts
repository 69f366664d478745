/**
 * Who counts ObjectRefs in this process: the driver's runtime, or the actor's link to the
 * driver. Set by runtime/context.ts together with the API context; kept here so that
 * ObjectRef (a value type of this folder) needs nothing from the runtime above it.
 */
export interface RefTracker {
  /** An ObjectRef for `id` came to life in this process. */
  refAdded(id: string): void;
  /** An ObjectRef for `id` was garbage-collected in this process. */
  refCollected(id: string): void;
}

let current: RefTracker | null = null;

export function setRefTracker(tracker: RefTracker | null): void {
  current = tracker;
}

export function currentRefTracker(): RefTracker | null {
  return current;
}
