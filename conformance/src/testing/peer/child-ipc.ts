/** The peer process's side of the IPC channel: messages to the test process that forked it. */
import type { ChildMessage } from './protocol';

/** Sends `m` to the parent; dropped when the channel is gone (the parent died or disconnected). */
export function sendToParent(m: ChildMessage): void {
  if (process.connected) process.send?.(m);
}
