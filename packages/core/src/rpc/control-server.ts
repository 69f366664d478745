/**
 * The driver's control server: actor processes connect here (a Unix socket by default, or
 * TCP for actors on other hosts) and authenticate with the runtime's token in a 'hello'.
 * On TCP the runtime gives it a TLS identity (./self-signed-cert): every byte is then
 * encrypted, and an actor pins the certificate's fingerprint before it sends its token.
 *
 * Until its hello is accepted a peer is a stranger (see ./limits): it may send one small
 * frame, within a deadline, and only MAX_PENDING_CONNECTIONS strangers may wait at once. A
 * stranger that breaks a rule is closed with no reply (no error text, stack or path), and
 * the rejection is logged, rate-limited.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import type { TlsIdentity } from './self-signed-cert';
import { Connection } from './connection';
import {
  DEFAULT_MAX_FRAME_BYTES, MAX_PENDING_CONNECTIONS, PREAUTH_MAX_FRAME_BYTES, REJECT_LOG_INTERVAL_MS, helloTimeoutMs,
} from './limits';
import { listenError, socketDirError } from './listen-errors';
import { RateLimitedLog } from './rate-limited-log';
import { SOCKET_NAME, removeStaleSockets, socketDirPrefix } from './stale-sockets';
import type { Serializer } from '../objects/serializer';
import { systemClock, type Clock, type Logger } from '../log/logger';

export interface ControlServerOptions {
  /** 'unix' (default) or a TCP host to bind, e.g. '127.0.0.1' or '10.0.0.5'. */
  host?: string;
  port?: number;
  /** TCP only: serve TLS (1.3) with this key and certificate instead of plain TCP. */
  tls?: TlsIdentity;
}

/** Limits of the control plane (defaults in ./limits; tests shorten them). */
export interface ControlServerLimits {
  /** Largest frame an authenticated peer may send or be sent. */
  maxFrameBytes?: number;
  helloTimeoutMs?: number;
  maxPending?: number;
  clock?: Clock;
}

/** A hello whose token matched. */
export interface Hello {
  actorId: string;
  pid?: number;
}

/**
 * Accept an authenticated hello by returning the reply (the actor's spec), or refuse it by
 * returning undefined (unknown actor, or one already connected).
 */
export type HelloHandler = (hello: Hello, conn: Connection) => unknown;

/** What the control plane holds now (tests and diagnostics). */
export interface ControlServerStats {
  /** Connections that have not authenticated yet. */
  pending: number;
  /** Authenticated connections. */
  authenticated: number;
  /** Connections closed without authenticating, since start. */
  rejected: number;
}

export class ControlServer {
  readonly token = crypto.randomBytes(16).toString('hex');
  private readonly tokenDigest = sha256(this.token);
  private server: net.Server | null = null;
  private socketDir: string | null = null;
  private readonly pending = new Set<Connection>();
  private readonly conns = new Set<Connection>();
  private rejected = 0;
  private readonly rejections: RateLimitedLog;
  private readonly maxFrameBytes: number;
  private readonly helloTimeoutMs: number;
  private readonly maxPending: number;
  address = '';

  constructor(
    private readonly serializer: Serializer,
    private readonly logger: Logger,
    private readonly onHello: HelloHandler,
    limits: ControlServerLimits = {},
  ) {
    this.maxFrameBytes = limits.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.helloTimeoutMs = limits.helloTimeoutMs ?? helloTimeoutMs();
    this.maxPending = limits.maxPending ?? MAX_PENDING_CONNECTIONS;
    this.rejections = new RateLimitedLog(logger, REJECT_LOG_INTERVAL_MS, limits.clock ?? systemClock);
  }

  /**
   * @throws InvalidArgumentError (host that does not resolve or is not this machine's) or
   *   RuntimeStateError (address in use, permission denied, no writable temp directory),
   *   each naming the address and the fix.
   */
  async start(options: ControlServerOptions = {}): Promise<void> {
    const tcp = !!options.host && options.host !== 'unix';
    const server: net.Server = tcp && options.tls ? this.tlsServer(options.tls) : net.createServer((socket) => this.accept(socket));
    this.server = server;
    try {
      if (!options.host || options.host === 'unix') await this.listenUnix(server);
      else await this.listenTcp(server, options.host, options.port ?? 0);
    } catch (err) {
      this.server = null;
      server.close();
      this.removeSocketDir();
      throw err;
    }
    // Accept errors (e.g. out of file descriptors) must not crash the driver.
    server.on('error', (err) => this.logger.error(`control plane (${this.address}): ${err.message}`));
    server.unref();
  }

  /**
   * A TLS 1.3 server: its handshake must end within the hello deadline, and a peer that fails
   * it (plain TCP, another protocol) counts as a rejected stranger.
   */
  private tlsServer(id: TlsIdentity): tls.Server {
    const server = tls.createServer({ key: id.key, cert: id.cert, minVersion: 'TLSv1.3', handshakeTimeout: this.helloTimeoutMs }, (socket) => this.accept(socket));
    server.on('tlsClientError', (err, socket) => {
      const peer = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'a peer';
      socket.destroy();
      // OpenSSL's code (e.g. ERR_SSL_WRONG_VERSION_NUMBER: a plain-TCP peer), not its long text.
      this.reject(peer, `TLS handshake failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
    });
    return server;
  }

  stats(): ControlServerStats {
    return { pending: this.pending.size, authenticated: this.conns.size - this.pending.size, rejected: this.rejected };
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.destroy('runtime shut down');
    this.conns.clear();
    this.pending.clear();
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    this.removeSocketDir();
    this.rejections.flush('control plane: connections were rejected before shutdown');
  }

  // ---- listening -------------------------------------------------------------------------

  private async listenUnix(server: net.Server): Promise<void> {
    const tmp = os.tmpdir();
    await removeStaleSockets(tmp);
    try {
      // mkdtemp makes the directory 0700 whatever the umask: only this user can reach the socket.
      this.socketDir = fs.mkdtempSync(path.join(tmp, socketDirPrefix(process.pid)));
      process.on('exit', this.removeSocketDir);
      fs.chmodSync(this.socketDir, 0o700);
    } catch (err) {
      throw socketDirError(err as NodeJS.ErrnoException, tmp);
    }
    const socketPath = path.join(this.socketDir, SOCKET_NAME);
    await listen(server, socketPath, (err) => listenError(err, socketPath));
    fs.chmodSync(socketPath, 0o600);
    this.address = socketPath;
  }

  private async listenTcp(server: net.Server, host: string, port: number): Promise<void> {
    await listen(server, { host, port }, (err) => listenError(err, `${host}:${port}`, host));
    const a = server.address() as net.AddressInfo;
    this.address = `${host}:${a.port}`;
  }

  /** Also run at process exit: an idle driver exits without shutdown(), by design. */
  private readonly removeSocketDir = (): void => {
    process.off('exit', this.removeSocketDir);
    if (this.socketDir) fs.rmSync(this.socketDir, { recursive: true, force: true });
    this.socketDir = null;
  };

  // ---- strangers and authentication ----------------------------------------------------

  private accept(socket: net.Socket): void {
    const peer = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'a local process';
    if (this.pending.size >= this.maxPending) {
      socket.destroy();
      this.reject(peer, `more than ${this.maxPending} connections are waiting to authenticate`);
      return;
    }
    // Liveness is governed by pending work, not by connections (refWhileWaiting).
    const conn = new Connection(socket, this.serializer, { refWhileWaiting: true, untrusted: true, maxFrameBytes: PREAUTH_MAX_FRAME_BYTES });
    this.conns.add(conn);
    this.pending.add(conn);
    let actor: string | null = null; // set once authenticated
    const deadline = setTimeout(() => {
      // One more turn of the loop first: a hello that arrived while the driver was busy is
      // read (poll phase) before this check runs (check phase).
      setImmediate(() => {
        if (actor !== null || conn.closed) return;
        conn.destroy('no hello in time');
        this.reject(peer, `no hello within ${this.helloTimeoutMs} ms`);
      });
    }, this.helloTimeoutMs);
    deadline.unref();
    conn.on('close', () => {
      clearTimeout(deadline);
      this.conns.delete(conn);
      this.pending.delete(conn);
    });
    conn.on('protocolError', (err: Error) => {
      if (actor === null) this.reject(peer, err.message);
      else this.logger.error(`control plane: closed the connection of actor ${actor}: ${err.message}`);
    });
    conn.handle('hello', (body: unknown) => {
      if (actor !== null) {
        conn.destroy('second hello');
        this.logger.error(`control plane: actor ${actor} said hello twice; connection closed`);
        return undefined;
      }
      const hello = parseHello(body);
      if (!hello || !this.tokenMatches(hello.token)) {
        conn.destroy('bad hello');
        this.reject(peer, hello ? 'wrong token' : 'malformed hello');
        return undefined;
      }
      const reply = this.onHello({ actorId: hello.actorId, pid: hello.pid }, conn);
      if (reply === undefined) {
        conn.destroy('hello refused');
        this.reject(peer, `hello of unknown or already connected actor ${JSON.stringify(hello.actorId.slice(0, 64))}`);
        return undefined;
      }
      actor = hello.actorId;
      clearTimeout(deadline);
      this.pending.delete(conn);
      conn.trust(this.maxFrameBytes); // before the reply (the spec) is written
      return reply;
    });
  }

  private reject(peer: string, why: string): void {
    this.rejected++;
    this.rejections.warn(`control plane: rejected a connection from ${peer}: ${why}`);
  }

  /**
   * Constant-time: both sides are hashed to digests of one length first, so neither a length
   * mismatch nor the position of the first differing byte shows in the time taken.
   */
  private tokenMatches(token: string): boolean {
    return crypto.timingSafeEqual(sha256(token), this.tokenDigest);
  }
}

function sha256(s: string): Buffer {
  return crypto.createHash('sha256').update(s, 'utf8').digest();
}

/** The hello's fields, or null when it is not a well-formed hello. */
function parseHello(b: unknown): (Hello & { token: string }) | null {
  if (b === null || typeof b !== 'object') return null;
  const { actorId, token, pid } = b as Record<string, unknown>;
  if (typeof actorId !== 'string' || typeof token !== 'string' || (pid !== undefined && typeof pid !== 'number')) return null;
  return { actorId, token, pid };
}

/** server.listen as a promise; a listen error is mapped to a typed error by `wrap`. */
function listen(server: net.Server, where: string | net.ListenOptions, wrap: (err: NodeJS.ErrnoException) => Error): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(wrap(err));
    server.once('error', onError);
    const done = (): void => {
      server.off('error', onError);
      resolve();
    };
    // server.listen throws synchronously on some bad arguments (e.g. ERR_SOCKET_BAD_PORT).
    try {
      if (typeof where === 'string') server.listen(where, done);
      else server.listen(where, done);
    } catch (err) {
      server.off('error', onError);
      reject(wrap(err as NodeJS.ErrnoException));
    }
  });
}
