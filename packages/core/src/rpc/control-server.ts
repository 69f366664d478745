/**
 * The driver's control server: actor processes connect here (a Unix socket by default, or
 * TCP for actors on other hosts) and authenticate with the runtime's token.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Connection } from './connection';
import type { Serializer } from '../objects/serializer';

export interface ControlServerOptions {
  /** 'unix' (default) or a TCP host to bind, e.g. '127.0.0.1' or '0.0.0.0'. */
  host?: string;
  port?: number;
}

export class ControlServer {
  readonly token = crypto.randomBytes(16).toString('hex');
  private server: net.Server | null = null;
  private socketPath: string | null = null;
  private readonly conns = new Set<Connection>();
  address = '';

  constructor(
    private readonly serializer: Serializer,
    private readonly onConnection: (conn: Connection) => void,
  ) {}

  async start(options: ControlServerOptions = {}): Promise<void> {
    const server = net.createServer((socket) => {
      // Liveness is governed by pending work, not by connections.
      const conn = new Connection(socket, this.serializer, true);
      this.conns.add(conn);
      conn.on('close', () => this.conns.delete(conn));
      this.onConnection(conn);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (!options.host || options.host === 'unix') {
        this.socketPath = path.join(os.tmpdir(), `tensorwire-${process.pid}-${crypto.randomBytes(4).toString('hex')}.sock`);
        server.listen(this.socketPath, () => resolve());
        this.address = this.socketPath;
      } else {
        server.listen(options.port ?? 0, options.host, () => {
          const a = server.address() as net.AddressInfo;
          this.address = `${options.host}:${a.port}`;
          resolve();
        });
      }
    });
    server.unref();
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.destroy('runtime shut down');
    this.conns.clear();
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    if (this.socketPath) fs.rmSync(this.socketPath, { force: true });
  }
}
