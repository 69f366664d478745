/**
 * The peer process (forked by {@link Peer.start}): it loads the transport module under test
 * (which registers its plugin), creates one endpoint through the SPI and runs the commands the
 * test process sends over IPC: the generic ones (commands.ts), and those of the modules named
 * in `init` (a transport's own test commands). The rendezvous store is served by the parent, as
 * core serves it in the runtime.
 */
import type { PeerCommand } from './command-api';
import { sendToParent } from './child-ipc';
import { genericCommands } from './commands';
import { PeerState } from './peer-state';
import { serializeError, type InitArgs, type ParentMessage } from './protocol';
import { onRendezvousReply } from './rendezvous-client';

const state = new PeerState();
const commands: Record<string, PeerCommand> = { ...genericCommands(state) };

/** The parent going away must not leave peers behind. */
const exitWithParent = (): never => process.exit(0);
process.on('disconnect', exitWithParent);

function addCommands(modulePath: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const added = (require(modulePath) as { peerCommands?: Record<string, PeerCommand> }).peerCommands;
  if (!added || typeof added !== 'object') throw new Error(`${modulePath} exports no peerCommands`);
  for (const [name, command] of Object.entries(added)) {
    if (name in commands) throw new Error(`${modulePath}: peer command '${name}' exists already`);
    commands[name] = command;
  }
}

/** Commands about the process itself rather than the transport. */
const lifecycle: Record<string, PeerCommand> = {
  /** Loads the transport, probes it and (when available) creates the endpoint: `{ pid, availability }`. */
  async init(a: InitArgs) {
    state.processName = a.processName;
    a.commands.forEach(addCommands);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const core = require('@tensorwire/core') as typeof import('@tensorwire/core');
    require(a.module);
    state.pluginValue = core.getTransport(a.name).plugin;
    const availability = await state.plugin.probe();
    if (!availability.available) return { pid: process.pid, availability };
    state.endpointValue = await state.plugin.createEndpoint({
      processName: a.processName,
      options: a.options,
      log: (level, message) => sendToParent({ kind: 'log', level, message }),
    });
    if (state.endpoint.kind !== state.plugin.kind) {
      throw new Error(`createEndpoint() returned an endpoint of kind '${String(state.endpoint.kind)}' for a plugin of kind '${state.plugin.kind}'`);
    }
    return { pid: process.pid, availability };
  },

  /**
   * Exits `delayMs` after replying, leaving endpoint, groups and pending operations as they are
   * (a transport must let a process exit with them alive). `natural`: no process.exit(); the
   * IPC channel is closed and the process ends when nothing else keeps its event loop alive.
   */
  exit(a: { natural?: boolean; delayMs?: number }) {
    setTimeout(() => {
      if (!a.natural) process.exit(0);
      process.off('disconnect', exitWithParent);
      process.disconnect();
    }, a.delayMs ?? 50);
    return true;
  },
};
Object.assign(commands, lifecycle);

process.on('message', (m: ParentMessage) => {
  if (m.kind === 'rdv-reply') return onRendezvousReply(m);
  if (m.kind !== 'call') return;
  const command = commands[m.cmd];
  const run = async () => {
    if (!command) throw new Error(`unknown peer command '${m.cmd}'`);
    return command(m.args, state.context(() => sendToParent({ kind: 'posted', id: m.id })));
  };
  run().then(
    (value) => sendToParent({ kind: 'reply', id: m.id, ok: true, value }),
    (e) => sendToParent({ kind: 'reply', id: m.id, ok: false, error: serializeError(e) }),
  );
});
