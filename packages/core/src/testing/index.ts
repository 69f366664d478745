/**
 * `@tensorwire/core/testing`: what tests of tensorwire itself and of third-party packages use
 * to run the runtime without native code. Not part of the runtime API: nothing here is loaded
 * by `@tensorwire/core`, and nothing here registers a transport by being imported.
 *
 * ```ts
 * // fake-transport.ts, the module actors load (registerTransport's `module`)
 * import { registerTransport } from '@tensorwire/core';
 * import { createFakeTcpPlugin } from '@tensorwire/core/testing';
 * registerTransport(createFakeTcpPlugin(), { module: __filename });
 * ```
 */
export { createFakeTcpPlugin, FakeTcpError, FAKE_TCP_NAME } from './fake-two-sided';
export { FrameParser, writeFrame, type FrameHeader } from './framing';
