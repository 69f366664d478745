/**
 * An actor process joins its driver: connects (Unix socket, or TCP with TLS for a driver on
 * another host), authenticates with the runtime's token, then hands over to WorkerRuntime.
 * Exits when the driver goes away, so no actor outlives it.
 *
 * Over TCP the driver's certificate is self-signed: the actor trusts it only when its SHA-256
 * fingerprint is the one the launcher handed over (TENSORWIRE_DRIVER_CERT_SHA256), and sends
 * its token only after that check, so a host that impersonates the driver learns nothing.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Connection, ConnectionClosedError } from '../rpc/connection';
import { normalizeFingerprint } from '../rpc/self-signed-cert';
import { OutOfBandSerializer } from '../objects/serializer';
import { ConsoleLogger, type Logger } from '../log/logger';
import { adoptNetworkHost } from '../runtime/network-host';
import { WorkerRuntime } from './worker-runtime';

/** What an actor process needs to join its driver. */
export interface JoinParams {
  /** The driver's control plane: a Unix socket path, or host:port (TLS). */
  readonly address: string;
  readonly actorId: string;
  /** The runtime's token. */
  readonly token: string;
  /** SHA-256 fingerprint of the driver's certificate; required for a host:port address. */
  readonly certSha256?: string;
}

/** A JoinParams that cannot work: the message says which setting is missing or wrong. */
export class JoinConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JoinConfigError';
  }
}

/**
 * Delays before connecting again when the driver accepted our connection but closed it before
 * answering the hello: it holds only so many unauthenticated connections (a burst of actors
 * starting at once, or strangers waiting out their hello deadline), and a later try gets in.
 * About 10 s in all; a driver that is gone (connection refused) is not retried.
 */
const RETRY_DELAYS_MS = [100, 200, 400, 800, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000];

/**
 * The join settings from the environment a launcher sets: TENSORWIRE_DRIVER_ADDRESS,
 * TENSORWIRE_ACTOR_ID, TENSORWIRE_TOKEN (or TENSORWIRE_TOKEN_FILE, a file holding it) and,
 * for TCP, TENSORWIRE_DRIVER_CERT_SHA256. `overrides` (command-line values) win.
 *
 * @throws JoinConfigError naming what is missing.
 */
export function joinParams(env: NodeJS.ProcessEnv, overrides: Partial<JoinParams> & { tokenFile?: string } = {}): JoinParams {
  const address = overrides.address ?? env.TENSORWIRE_DRIVER_ADDRESS;
  const actorId = overrides.actorId ?? env.TENSORWIRE_ACTOR_ID;
  if (!address) throw new JoinConfigError('no driver address: set TENSORWIRE_DRIVER_ADDRESS or pass --driver HOST:PORT');
  if (!actorId) throw new JoinConfigError('no actor id: set TENSORWIRE_ACTOR_ID or pass --actor ID');
  const tokenFile = overrides.tokenFile ?? (overrides.token === undefined && env.TENSORWIRE_TOKEN === undefined ? env.TENSORWIRE_TOKEN_FILE : undefined);
  let token = overrides.token ?? env.TENSORWIRE_TOKEN;
  if (tokenFile !== undefined) {
    try {
      token = fs.readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      throw new JoinConfigError(`cannot read the token file ${tokenFile}: ${(err as Error).message}`);
    }
  }
  if (!token) throw new JoinConfigError('no token: set TENSORWIRE_TOKEN or TENSORWIRE_TOKEN_FILE, or pass --token-file PATH');
  const certSha256 = overrides.certSha256 ?? env.TENSORWIRE_DRIVER_CERT_SHA256;
  if (tcpAddress(address)) {
    if (!certSha256) {
      throw new JoinConfigError(
        `the driver at ${address} is on TCP, but no certificate fingerprint was given to check it: set TENSORWIRE_DRIVER_CERT_SHA256 or pass --cert-sha256 (the launcher hands it over)`,
      );
    }
    if (!normalizeFingerprint(certSha256)) {
      throw new JoinConfigError(`the certificate fingerprint '${certSha256}' is not a SHA-256 fingerprint (64 hex digits, ':' between pairs allowed)`);
    }
  }
  return { address, actorId, token, certSha256 };
}

/** host and port of a TCP address ('10.0.0.5:4000', '[fe80::1]:4000'), or null for a socket path. */
function tcpAddress(address: string): { host: string; port: number } | null {
  if (address.startsWith('/')) return null;
  const m = /^(.*):(\d+)$/.exec(address);
  return m ? { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) } : null;
}

/**
 * Join the driver and serve as the actor until the driver goes away (the process then exits).
 *
 * @example
 * ```ts
 * joinDriver(joinParams(process.env));
 * ```
 */
export function joinDriver(params: JoinParams, logger: Logger = new ConsoleLogger()): void {
  connect(params, logger, 0);
}

function connect(params: JoinParams, logger: Logger, retries: number): void {
  const tcp = tcpAddress(params.address);
  const socket: net.Socket = tcp
    ? tls.connect({ host: tcp.host, port: tcp.port, rejectUnauthorized: false, minVersion: 'TLSv1.3' })
    : net.createConnection(params.address);
  const conn = new Connection(socket, new OutOfBandSerializer());
  let connected = false;
  const runtime = new WorkerRuntime(conn, new OutOfBandSerializer(), logger);
  conn.on('close', (reason: Error) => {
    const delay = RETRY_DELAYS_MS[retries];
    if (connected && !runtime.welcomed && delay !== undefined) {
      setTimeout(() => connect(params, logger, retries + 1), delay);
      return;
    }
    if (!connected && tcp) logger.error(`cannot reach the driver at ${params.address}: ${reason.message}; exiting`);
    process.exit(0);
  });
  conn.on('protocolError', (err: Error) => logger.error(`the driver broke the control protocol; exiting: ${err.message}`));
  conn.on('handlerError', (err: Error, type: string) => logger.error(`handling '${type}': ${err.stack ?? err.message}`));
  conn.handle('shutdown', async () => {
    await runtime.stop().catch(() => {});
    setImmediate(() => process.exit(0));
  });
  const start = (): void => {
    connected = true;
    runtime.start(params.actorId, params.token).catch((err: Error) => {
      if (!runtime.welcomed && err instanceof ConnectionClosedError) return; // the 'close' handler decides
      logger.error(`actor start-up failed: ${err.stack ?? err.message}`);
      process.exit(1);
    });
  };
  if (!tcp) {
    socket.once('connect', start);
    return;
  }
  socket.once('secureConnect', () => {
    const presented = (socket as tls.TLSSocket).getPeerCertificate().fingerprint256 ?? '';
    if (normalizeFingerprint(presented) !== normalizeFingerprint(params.certSha256 ?? '')) {
      // Not the driver the launcher meant: the token must not go to it.
      logger.error(
        `the server at ${params.address} presented a certificate with SHA-256 fingerprint ${presented || '(none)'}, ` +
          `not the driver's ${params.certSha256}; refusing to join (is another process on that address?)`,
      );
      process.exit(1);
    }
    // Transports bind the interface that reaches the driver (and so the other hosts).
    if (socket.localAddress) adoptNetworkHost(socket.localAddress);
    start();
  });
}
