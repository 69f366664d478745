/**
 * Limits of the control plane. Before a peer has proved it knows the runtime's token it is a
 * stranger: it may send one small hello, within a deadline, and only so many strangers may
 * wait at once, so an unauthenticated peer can cost the driver neither memory nor sockets.
 */

/** The frame format's own limit: the body length is a u32. */
export const FRAME_FORMAT_MAX_BYTES = 0xffff_ffff;

/**
 * Default of `RuntimeOptions.maxFrameBytes`: the format's limit, so every message that could be
 * sent before still can (authenticated peers are the runtime's own processes).
 */
export const DEFAULT_MAX_FRAME_BYTES = FRAME_FORMAT_MAX_BYTES;

/** Smallest `maxFrameBytes` accepted: the runtime's own control messages must always fit. */
export const MIN_MAX_FRAME_BYTES = 64 * 1024;

/** Largest frame a stranger may send. A real hello is about 120 bytes (a test checks it). */
export const PREAUTH_MAX_FRAME_BYTES = 16 * 1024;

/**
 * How long a stranger has to send its hello. An actor sends it as soon as it connects, so a
 * few seconds is generous even on a loaded machine. Tests shorten it with
 * TENSORWIRE_HELLO_TIMEOUT_MS (internal; not a public option).
 */
export function helloTimeoutMs(): number {
  const env = Number(process.env.TENSORWIRE_HELLO_TIMEOUT_MS);
  return Number.isInteger(env) && env > 0 ? env : 5_000;
}

/** Strangers that may wait for their hello at once; more are closed as they arrive. */
export const MAX_PENDING_CONNECTIONS = 64;

/** At most one warning about rejected connections per this many ms (the rest are counted). */
export const REJECT_LOG_INTERVAL_MS = 5_000;
