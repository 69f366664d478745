/**
 * Entry point of an actor process (started by the Launcher). Connects back to the driver,
 * then hands over to WorkerRuntime. Exits when the driver goes away, so no actor outlives it.
 */
import 'reflect-metadata';
import * as net from 'node:net';
import { Connection } from '../rpc/connection';
import { OutOfBandSerializer } from '../objects/serializer';
import { ConsoleLogger } from '../runtime/logger';
import { WorkerRuntime } from './worker-runtime';

function main(): void {
  const address = process.env.TENSORWIRE_DRIVER_ADDRESS;
  const actorId = process.env.TENSORWIRE_ACTOR_ID;
  const token = process.env.TENSORWIRE_TOKEN ?? '';
  if (!address || !actorId) {
    process.stderr.write('tensorwire actor process: started without a driver (TENSORWIRE_DRIVER_ADDRESS unset); exiting\n');
    process.exit(2);
  }
  const logger = new ConsoleLogger();
  // A Unix socket path, or host:port when the driver listens on TCP (actors on other hosts).
  const tcp = /^(.*):(\d+)$/.exec(address);
  const socket = tcp && !address.startsWith('/') ? net.createConnection(Number(tcp[2]), tcp[1]) : net.createConnection(address);
  const conn = new Connection(socket, new OutOfBandSerializer());
  const runtime = new WorkerRuntime(conn, new OutOfBandSerializer(), logger);
  conn.on('close', () => process.exit(0));
  conn.on('handlerError', (err: Error, type: string) => logger.error(`handling '${type}': ${err.stack ?? err.message}`));
  conn.handle('shutdown', async () => {
    await runtime.stop().catch(() => {});
    setImmediate(() => process.exit(0));
  });
  socket.once('connect', () => {
    runtime.start(actorId, token).catch((err: Error) => {
      logger.error(`actor start-up failed: ${err.stack ?? err.message}`);
      process.exit(1);
    });
  });
}

main();
