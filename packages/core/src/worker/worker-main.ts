/**
 * Entry point of an actor process (started by the Launcher). Connects back to the driver,
 * then hands over to WorkerRuntime. Exits when the driver goes away, so no actor outlives it.
 */
import 'reflect-metadata';
import * as net from 'node:net';
import { Connection, ConnectionClosedError } from '../rpc/connection';
import { OutOfBandSerializer } from '../objects/serializer';
import { ConsoleLogger, type Logger } from '../log/logger';
import { WorkerRuntime } from './worker-runtime';

/**
 * Delays before connecting again when the driver accepted our connection but closed it before
 * answering the hello: it holds only so many unauthenticated connections (a burst of actors
 * starting at once, or strangers waiting out their hello deadline), and a later try gets in.
 * About 10 s in all; a driver that is gone (connection refused) is not retried.
 */
const RETRY_DELAYS_MS = [100, 200, 400, 800, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000];

function main(): void {
  const address = process.env.TENSORWIRE_DRIVER_ADDRESS;
  const actorId = process.env.TENSORWIRE_ACTOR_ID;
  const token = process.env.TENSORWIRE_TOKEN ?? '';
  if (!address || !actorId) {
    process.stderr.write('tensorwire actor process: started without a driver (TENSORWIRE_DRIVER_ADDRESS unset); exiting\n');
    process.exit(2);
  }
  connect(address, actorId, token, new ConsoleLogger(), 0);
}

function connect(address: string, actorId: string, token: string, logger: Logger, retries: number): void {
  // A Unix socket path, or host:port when the driver listens on TCP (actors on other hosts).
  const tcp = /^(.*):(\d+)$/.exec(address);
  const socket = tcp && !address.startsWith('/') ? net.createConnection(Number(tcp[2]), tcp[1]) : net.createConnection(address);
  const conn = new Connection(socket, new OutOfBandSerializer());
  let connected = false;
  const runtime = new WorkerRuntime(conn, new OutOfBandSerializer(), logger);
  conn.on('close', () => {
    const delay = RETRY_DELAYS_MS[retries];
    if (connected && !runtime.welcomed && delay !== undefined) {
      setTimeout(() => connect(address, actorId, token, logger, retries + 1), delay);
      return;
    }
    process.exit(0);
  });
  conn.on('protocolError', (err: Error) => logger.error(`the driver broke the control protocol; exiting: ${err.message}`));
  conn.on('handlerError', (err: Error, type: string) => logger.error(`handling '${type}': ${err.stack ?? err.message}`));
  conn.handle('shutdown', async () => {
    await runtime.stop().catch(() => {});
    setImmediate(() => process.exit(0));
  });
  socket.once('connect', () => {
    connected = true;
    runtime.start(actorId, token).catch((err: Error) => {
      if (!runtime.welcomed && err instanceof ConnectionClosedError) return; // the 'close' handler decides
      logger.error(`actor start-up failed: ${err.stack ?? err.message}`);
      process.exit(1);
    });
  });
}

main();
