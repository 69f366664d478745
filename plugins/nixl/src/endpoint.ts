/**
 * The per-process nixl endpoint: one agent that registers this process's tensors for peers and
 * reads peers' tensors with one-sided UCX gets.
 */
import * as os from 'node:os';
import type { RemoteDescriptor, OneSidedEndpoint, TransportTensor } from '@tensorwire/core';
import { cudaIndexOf, holdDeviceMemory, requireCuda } from './cuda-link';
import { asDescriptor, type NixlDescriptor, type NixlRegionDescriptor } from './descriptor';
import { NixlError, nixlCall, toNixlError } from './errors';
import {
  loadNative, type NativeAgent, type NativeAgentStats, type NativePeer, type NativeReadDestination, type NativeReadRegion,
  type NativeReadSource,
} from './native';
import { resolveNetDevices } from './network';
import { poolCacheBytesFrom, type NixlTransportOptions } from './options';

/** Deadline used when `read` gets no usable timeout (non-finite or <= 0). */
const NO_DEADLINE_MS = 2 ** 31 - 1;

/** A descriptor decoded for the addon (base64 and decimal strings parsed once per descriptor object). */
interface DecodedDescriptor {
  readonly peer: NativePeer;
  readonly regions: readonly (NativeReadSource & { genAddr: bigint; token: bigint })[];
}

/** What the endpoint keeps for a registration until its last release: the memory peers read. */
interface Kept {
  /** A CPU tensor's bytes (kept reachable). */
  readonly view?: Uint8Array;
  /** A CUDA tensor, and the hold that keeps its block from the caching allocator. */
  readonly tensor?: TransportTensor;
  readonly unhold?: () => void;
}

const EMPTY_REGION: NixlRegionDescriptor = { addr: '0', size: '0', rkey: '', reg: 0, genAddr: '0', token: '0', pool: false };

/** A nixl endpoint: the one-sided endpoint of the SPI (register, read, release, allocate). */
export class NixlEndpoint implements OneSidedEndpoint {
  readonly kind = 'one-sided' as const;
  private readonly agent: NativeAgent;
  private readonly host = os.hostname();
  private readonly workerAddress: string;
  private readonly genRkey: string;
  /** Registered memory, kept alive here until its last release (peers read it). */
  private readonly kept = new Map<number, Kept>();
  /** Live descriptors by id -> registration ids they hold. */
  private readonly live = new Map<string, number[]>();
  private nextDescriptor = 1;
  private closed = false;
  /** Decoded descriptors, so that repeated reads of one descriptor object skip the parsing. */
  private readonly decoded = new WeakMap<object, DecodedDescriptor>();

  constructor(readonly name: string, options: NixlTransportOptions = {}) {
    const { Agent } = loadNative();
    const { devices } = resolveNetDevices(options as Readonly<Record<string, unknown>>);
    this.agent = new Agent(name, { poolCacheBytes: poolCacheBytesFrom(options), netDevices: devices });
    this.workerAddress = this.agent.workerAddress.toString('base64');
    this.genRkey = this.agent.genRkey.toString('base64');
  }

  /**
   * Register the tensors' memory; the same memory again reuses its registration (reference count).
   * CUDA tensors are registered as device memory when this UCX can, else for staging: a reader
   * then asks this agent to copy them to pinned memory at read time (see README, "CUDA tensors").
   */
  async register(tensors: readonly TransportTensor[]): Promise<NixlDescriptor> {
    this.checkOpen();
    const devices = tensors.map((t, i) => cudaIndexOf(t, `tensor ${i}`));
    const first = devices.findIndex((d) => d !== undefined);
    const cuda = first >= 0 ? requireCuda(`tensor ${first}`) : undefined;
    const views = tensors.map((t, i) => (devices[i] === undefined ? t.bytes() : undefined));
    const regions: NixlRegionDescriptor[] = [];
    const regs: number[] = [];
    try {
      tensors.forEach((t, i) => {
        const device = devices[i];
        const view = views[i];
        if (t.nbytes === 0 || (view && view.byteLength === 0)) {
          regions.push(EMPTY_REGION);
          return;
        }
        if (device !== undefined && cuda) {
          const r = this.agent.registerDevice(device, t.devicePtr as bigint, t.nbytes);
          regs.push(r.id);
          if (!this.kept.has(r.id)) this.kept.set(r.id, { tensor: t, unhold: holdDeviceMemory(cuda, t) });
          regions.push({
            addr: r.addr.toString(), size: String(r.size), rkey: r.rkey.toString('base64'), reg: r.id,
            genAddr: r.genAddr.toString(), token: r.token.toString(), pool: false, mode: r.mode, device: t.device,
          });
          return;
        }
        const bytes = view as Uint8Array;
        const r = this.agent.register(bytes);
        regs.push(r.id);
        if (!this.kept.has(r.id)) this.kept.set(r.id, { view: bytes });
        regions.push({
          addr: r.addr.toString(),
          size: String(r.size),
          rkey: r.rkey.toString('base64'),
          reg: r.id,
          genAddr: r.genAddr.toString(),
          token: r.token.toString(),
          pool: r.pool,
        });
      });
    } catch (e) {
      await Promise.all(regs.map((id) => this.releaseRegistration(id))); // all or nothing
      throw toNixlError(e);
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
    const decoded = this.decode(d);
    const devices = into.map((t, i) => cudaIndexOf(t, `destination ${i}`));
    const first = devices.findIndex((dev, i) => dev !== undefined && into[i].nbytes > 0);
    const cuda = first >= 0 ? requireCuda(`destination ${first}`) : undefined;
    const regions: NativeReadRegion[] = decoded.regions.map((r, i) => {
      const t = into[i];
      const device = devices[i];
      const dst: NativeReadDestination =
        device === undefined || t.nbytes === 0 ? { dst: device === undefined ? t.bytes() : new Uint8Array(0) } : { dstDevice: device, dstPtr: t.devicePtr as bigint, size: t.nbytes };
      const size = 'dst' in dst ? dst.dst.byteLength : dst.size;
      if (String(size) !== d.regions[i].size) {
        throw new NixlError('NIXL_SIZE_MISMATCH', `nixl read: region ${i} has ${d.regions[i].size} bytes, destination ${i} has ${size}`);
      }
      return { ...r, ...dst };
    });
    const t = Number.isFinite(timeoutMs) && timeoutMs > 0 ? Math.min(timeoutMs, NO_DEADLINE_MS) : NO_DEADLINE_MS;
    // CUDA destinations stay out of the caching allocator until nothing writes them any more.
    const holds = cuda ? into.filter((x, i) => devices[i] !== undefined && x.nbytes > 0).map((x) => holdDeviceMemory(cuda, x)) : [];
    const released = holds.length ? () => holds.forEach((unhold) => unhold()) : undefined;
    let started = false;
    try {
      await nixlCall(() => {
        const reading = this.agent.read(decoded.peer, regions, t, released);
        started = true;
        return reading;
      });
    } catch (err) {
      if (!started) released?.(); // refused before it started: the addon never calls it
      throw err;
    }
  }

  /**
   * Drop the registrations made by `register(...)` that returned `desc`. Idempotent. Reads that
   * start afterwards fail (NIXL_REGISTRATION_RELEASED). A CUDA tensor's memory goes back to its
   * allocator once no staging copy for a peer reads it any more (the Promise resolves then).
   */
  async release(desc: RemoteDescriptor): Promise<void> {
    const d = asDescriptor(desc);
    const regs = this.live.get(d.id);
    if (!regs) return;
    this.live.delete(d.id);
    await Promise.all(regs.map((id) => this.releaseRegistration(id)));
  }

  /**
   * A descriptor of some of the regions of `desc` (`indices` into its tensors, in that order):
   * core reads tensors shared by several GPU objects through it, registered once. Same agent,
   * keys and generation tokens, so reads fail once the original is released; releasing the
   * selection itself does nothing (its id is not a live registration).
   */
  select(desc: RemoteDescriptor, indices: readonly number[]): NixlDescriptor {
    const d = asDescriptor(desc);
    const bad = indices.find((i) => !Number.isInteger(i) || i < 0 || i >= d.regions.length);
    if (bad !== undefined) {
      throw new NixlError('NIXL_BAD_DESCRIPTOR', `nixl select: index ${bad} is not a region of descriptor ${d.id} (it has ${d.regions.length})`);
    }
    return { ...d, id: `${d.id}/select`, regions: indices.map((i) => d.regions[i]) };
  }

  /**
   * Allocate `nbytes` of UCX-allocated registered memory; peers read it with a one-sided copy.
   * Served from the pool cache when a chunk of the same size class is free (its contents are
   * then undefined, like `Buffer.allocUnsafe`); a dropped buffer's chunk returns to the cache
   * when V8 collects it.
   */
  allocate(nbytes: number): Uint8Array {
    this.checkOpen();
    try {
      return this.agent.allocate(nbytes);
    } catch (err) {
      throw toNixlError(err);
    }
  }

  /** The UCX_NET_DEVICES list this endpoint's agent uses ('lo': loopback only). */
  get netDevices(): string {
    return this.agent.netDevices;
  }

  /** Diagnostics: live registrations, pool chunks in use and cached, endpoints, rkeys, pending reads. */
  stats(): NativeAgentStats {
    return this.agent.stats();
  }

  /** Fail pending reads, close endpoints, drop registrations, unmap cached pool chunks. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.agent.close();
    this.live.clear();
    for (const k of this.kept.values()) k.unhold?.(); // no copy runs after close
    this.kept.clear();
  }

  private decode(d: NixlDescriptor): DecodedDescriptor {
    const hit = this.decoded.get(d);
    if (hit) return hit;
    const decoded: DecodedDescriptor = {
      peer: {
        address: Buffer.from(d.workerAddress, 'base64'),
        name: d.agent,
        // Same host: the progress thread also watches the producer's pid to fail fast when it dies.
        pid: d.host === this.host ? d.pid : 0,
        genRkey: Buffer.from(d.genRkey, 'base64'),
      },
      regions: d.regions.map((r) => {
        // CUDA memory is read directly when both UCXs can; otherwise its producer stages it.
        const staged = r.mode === 'staged' || (r.mode === 'cuda' && !this.agent.cudaMemory);
        const source: NativeReadSource = staged ? { staged: true, reg: r.reg } : { addr: BigInt(r.addr), rkey: Buffer.from(r.rkey, 'base64') };
        return { ...source, genAddr: BigInt(r.genAddr), token: BigInt(r.token) };
      }),
    };
    this.decoded.set(d, decoded);
    return decoded;
  }

  private async releaseRegistration(id: number): Promise<void> {
    if (this.agent.release(id) > 0) return;
    const kept = this.kept.get(id);
    this.kept.delete(id);
    if (kept?.unhold) {
      await this.agent.whenIdle(id); // a peer's staging copy may still read the device memory
      kept.unhold();
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new NixlError('NIXL_CLOSED', `the nixl endpoint '${this.name}' is closed`);
  }
}
