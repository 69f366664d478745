/**
 * What a peer command sees. The generic commands (commands.ts) use only the SPI; a transport's
 * own tests add commands for what only that transport has (e.g. a group's broken state) in a
 * small module that exports `peerCommands`, named in `PeerOptions.commands`:
 *
 * ```ts
 * // src/testing/peer-commands.ts of a transport package
 * import type { PeerCommands } from '@tensorwire/conformance/testing';
 * export const peerCommands: PeerCommands = {
 *   async status(a: { group: string }, ctx) {
 *     return { broken: (ctx.group(a.group) as MyGroup).broken };
 *   },
 * };
 * ```
 */
import type { CollectiveGroup, TransportEndpoint, TransportPlugin } from '@tensorwire/core';

export interface PeerContext {
  /** This peer's name (EndpointContext.processName). */
  readonly processName: string;
  /** The plugin under test (throws before `init`). */
  readonly plugin: TransportPlugin;
  /** This peer's endpoint (throws before `init`, after `close`, or when the transport was unavailable). */
  readonly endpoint: TransportEndpoint;
  /** A group this peer created with `createGroup` (throws when there is none of that name). */
  group(name: string): CollectiveGroup;
  /** Tell the test process that the command's transport operation is under way (see `Peer.start`). */
  posted(): void;
}

/** One command: its arguments come from the test process; its result goes back (v8-serialized). */
export type PeerCommand = (args: any, ctx: PeerContext) => Promise<unknown> | unknown;

/** Commands by name, as a commands module exports them (`export const peerCommands`). */
export type PeerCommands = Readonly<Record<string, PeerCommand>>;
