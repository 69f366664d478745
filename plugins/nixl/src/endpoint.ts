/**
 * The per-process nixl endpoint: one agent that registers this process's tensors for peers and
 * reads peers' tensors with one-sided UCX gets.
 */
import * as os from 'node:os';
import type { RemoteDescriptor, TransportEndpoint, TransportTensor } from '@tensorwire/core';
import { loadAddon, type NativeAgent, type NativeAgentStats, type NativeReadRegion } from './addon';
import { asDescriptor, type NixlDescriptor, type NixlRegionDescriptor } from './descriptor';
import { NixlError } from './errors';

/** Deadline used when `read` gets no usable timeout (non-finite or <= 0). */
const NO_DEADLINE_MS = 2 ** 31 - 1;

function cpuBytes(t: TransportTensor, what: string): Uint8Array {
  if (t.device !== 'cpu') {
    throw new NixlError(
      'NIXL_UNSUPPORTED_DEVICE',
      `nixl: ${what} is on device '${t.device}'; this version moves CPU tensors only (CUDA support comes later)`,
    );
  }
  return t.bytes();
}

const EMPTY_REGION: NixlRegionDescriptor = { addr: '0', size: '0', rkey: '', reg: 0, genAddr: '0', token: '0', pool: false };

/** A nixl endpoint (implements the one-sided part of `TransportEndpoint`). */
export class NixlEndpoint implements TransportEndpoint {
  private readonly agent: NativeAgent;
  private readonly host = os.hostname();
  private readonly workerAddress: string;
  private readonly genRkey: string;
  /** Registered buffers, kept alive here until their last release (peers read them). */
  private readonly buffers = new Map<number, Uint8Array>();
  /** Live descriptors by id -> registration ids they hold. */
  private readonly live = new Map<string, number[]>();
  private nextDescriptor = 1;
  private closed = false;

  constructor(readonly name: string) {
    const { Agent } = loadAddon();
    this.agent = new Agent(name);
    this.workerAddress = this.agent.workerAddress.toString('base64');
    this.genRkey = this.agent.genRkey.toString('base64');
  }

  /** Register the tensors' memory; same buffer again reuses its registration (reference count). */
  async register(tensors: readonly TransportTensor[]): Promise<NixlDescriptor> {
    this.checkOpen();
    const views = tensors.map((t, i) => cpuBytes(t, `tensor ${i}`));
    const regions: NixlRegionDescriptor[] = [];
    const regs: number[] = [];
    try {
      for (const bytes of views) {
        if (bytes.byteLength === 0) {
          regions.push(EMPTY_REGION);
          continue;
        }
        const r = this.agent.register(bytes);
        regs.push(r.id);
        if (!this.buffers.has(r.id)) this.buffers.set(r.id, bytes);
        regions.push({
          addr: r.addr.toString(),
          size: String(r.size),
          rkey: r.rkey.toString('base64'),
          reg: r.id,
          genAddr: r.genAddr.toString(),
          token: r.token.toString(),
          pool: r.pool,
        });
      }
    } catch (e) {
      for (const id of regs) this.releaseRegistration(id); // all or nothing
      throw e;
    }
    const id = `${this.name}:${process.pid}:${this.nextDescriptor++}`;
    this.live.set(id, regs);
    return {
      transport: 'nixl',
      version: 1,
      id,
      agent: this.name,
      host: this.host,
      pid: process.pid,
      workerAddress: this.workerAddress,
      genRkey: this.genRkey,
      regions,
    };
  }

  /**
   * Read the remote tensors into `into` (same count and sizes). Rejects with code
   * NIXL_TIMEOUT after `timeoutMs`, UCX_ENDPOINT_FAILED when the producer died,
   * NIXL_REGISTRATION_RELEASED when the producer released the registration.
   */
  async read(desc: RemoteDescriptor, into: readonly TransportTensor[], timeoutMs: number): Promise<void> {
    this.checkOpen();
    const d = asDescriptor(desc);
    if (into.length !== d.regions.length) {
      throw new NixlError('NIXL_SIZE_MISMATCH', `nixl read: descriptor has ${d.regions.length} region(s), got ${into.length} destination(s)`);
    }
    const regions: NativeReadRegion[] = d.regions.map((r, i) => {
      const dst = cpuBytes(into[i], `destination ${i}`);
      if (String(dst.byteLength) !== r.size) {
        throw new NixlError('NIXL_SIZE_MISMATCH', `nixl read: region ${i} has ${r.size} bytes, destination ${i} has ${dst.byteLength}`);
      }
      return {
        addr: BigInt(r.addr),
        rkey: Buffer.from(r.rkey, 'base64'),
        dst,
        genAddr: BigInt(r.genAddr),
        token: BigInt(r.token),
      };
    });
    const peer = {
      address: Buffer.from(d.workerAddress, 'base64'),
      name: d.agent,
      // Same host: the progress thread also watches the producer's pid to fail fast when it dies.
      pid: d.host === this.host ? d.pid : 0,
      genRkey: Buffer.from(d.genRkey, 'base64'),
    };
    const t = Number.isFinite(timeoutMs) && timeoutMs > 0 ? Math.min(timeoutMs, NO_DEADLINE_MS) : NO_DEADLINE_MS;
    await this.agent.read(peer, regions, t);
  }

  /** Drop the registrations made by `register(...)` that returned `desc`. Idempotent. */
  async release(desc: RemoteDescriptor): Promise<void> {
    const d = asDescriptor(desc);
    const regs = this.live.get(d.id);
    if (!regs) return;
    this.live.delete(d.id);
    for (const id of regs) this.releaseRegistration(id);
  }

  /** Allocate `nbytes` of UCX-allocated registered memory; peers read it with a one-sided copy. */
  allocate(nbytes: number): Uint8Array {
    this.checkOpen();
    return this.agent.allocate(nbytes);
  }

  /** Diagnostics: live registrations, pool chunks, cached endpoints and rkeys, pending reads. */
  stats(): NativeAgentStats {
    return this.agent.stats();
  }

  /** Fail pending reads, close endpoints, drop registrations, destroy the worker. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.agent.close();
    this.live.clear();
    this.buffers.clear();
  }

  private releaseRegistration(id: number): void {
    if (this.agent.release(id) <= 0) this.buffers.delete(id);
  }

  private checkOpen(): void {
    if (this.closed) throw new NixlError('NIXL_CLOSED', `the nixl endpoint '${this.name}' is closed`);
  }
}
