/**
 * A producer's registrations with one-sided transports, shared between GPU objects: each
 * tensor's memory is registered once, however many live objects hold it, and released when the
 * last of them is freed. Objects made of exactly the tensors of one registration (the same
 * weights published every step) reuse it; objects that share some but not all tensors with
 * others register only their new tensors and read the shared ones through a selection of the
 * registration that holds them (`OneSidedEndpoint.select`). Ray's NIXL transport refuses such
 * objects. A transport without `select` gets the whole object registered again (its own
 * reference counting, if any, keeps that cheap).
 */
import type { Tensor } from '../tensor/tensor';
import type { OneSidedEndpoint, RemoteDescriptor } from '../transport/spi';

/** One `register` call: its tensors, their descriptor, and how many live objects use it. */
interface Registration {
  readonly transport: string;
  readonly tensors: readonly Tensor[];
  readonly descriptor: RemoteDescriptor;
  users: number;
}

/**
 * An object's descriptor when its tensors come from several registrations: each part is read
 * with the transport's own descriptor into the object's tensors at positions `at`.
 */
export interface PartsDescriptor {
  readonly tensorwireParts: ReadonlyArray<{ readonly desc: RemoteDescriptor; readonly at: readonly number[] }>;
}

export function isPartsDescriptor(d: unknown): d is PartsDescriptor {
  return typeof d === 'object' && d !== null && Array.isArray((d as PartsDescriptor).tensorwireParts);
}

/** Read an object's tensors into `into`: one read, or one per part (in parallel). */
export async function readObject(ep: OneSidedEndpoint, desc: unknown, into: readonly Tensor[], timeoutMs: number): Promise<void> {
  if (!isPartsDescriptor(desc)) return ep.read(desc, into, timeoutMs);
  await Promise.all(desc.tensorwireParts.map((p) => ep.read(p.desc, p.at.map((i) => into[i]!), timeoutMs)));
}

export class Registrations {
  /** The registration each registered tensor is in (per transport), and its index there. */
  private readonly byTensor = new Map<string, Map<Tensor, { reg: Registration; index: number }>>();
  /** The registrations each object uses. */
  private readonly byObject = new Map<string, Registration[]>();

  /** Register what `tensors` of object `objectId` need; returns the object's descriptor. */
  async register(objectId: string, transport: string, ep: OneSidedEndpoint, tensors: readonly Tensor[]): Promise<unknown> {
    const known = this.tensorsOf(transport);
    const held = tensors.map((t) => known.get(t));
    // Registrations this object will read from are claimed now: an object freed while this one
    // registers its new tensors must not release them under it.
    const claimed = [...new Set(held.flatMap((h) => (h ? [h.reg] : [])))];
    for (const r of claimed) r.users++;
    const fresh = [...new Set(tensors.filter((_, i) => !held[i]))];
    const whole = claimed.length === 1 ? claimed[0]! : undefined;
    let used: Registration[];
    let descriptor: unknown;
    try {
      if (claimed.length === 0) {
        const reg = await this.add(transport, ep, tensors);
        used = [reg];
        descriptor = reg.descriptor;
      } else if (whole && whole.tensors.length === tensors.length && held.every((h, i) => h?.index === i)) {
        used = [];
        descriptor = whole.descriptor;
      } else if (ep.select) {
        const added = fresh.length ? await this.add(transport, ep, fresh) : undefined;
        const byReg = new Map<Registration, { indices: number[]; at: number[] }>();
        tensors.forEach((t, at) => {
          const h = held[at] ?? { reg: added!, index: added!.tensors.indexOf(t) };
          const part = byReg.get(h.reg) ?? { indices: [], at: [] };
          part.indices.push(h.index);
          part.at.push(at);
          byReg.set(h.reg, part);
        });
        used = added ? [added] : [];
        const parts = [...byReg].map(([reg, p]) => ({
          desc: p.indices.length === reg.tensors.length && p.indices.every((x, i) => x === i) ? reg.descriptor : ep.select!(reg.descriptor, p.indices),
          at: p.at,
        }));
        descriptor = { tensorwireParts: parts } satisfies PartsDescriptor;
      } else {
        const reg = await this.add(transport, ep, tensors);
        this.unclaim(claimed, ep);
        claimed.length = 0;
        used = [reg];
        descriptor = reg.descriptor;
      }
    } catch (err) {
      this.unclaim(claimed, ep);
      throw err;
    }
    for (const r of used) r.users++;
    this.byObject.set(objectId, [...claimed, ...used]);
    return descriptor;
  }

  /** Give back claims; a registration nobody uses any more is released. */
  private unclaim(regs: readonly Registration[], ep: OneSidedEndpoint): void {
    for (const reg of regs) {
      if (--reg.users > 0) continue;
      this.forget(reg);
      void ep.release(reg.descriptor).catch(() => undefined);
    }
  }

  private forget(reg: Registration): void {
    const known = this.tensorsOf(reg.transport);
    for (const t of reg.tensors) if (known.get(t)?.reg === reg) known.delete(t);
  }

  /** Object `objectId` was dropped: returns the registrations nobody uses any more (to release). */
  drop(objectId: string): { transport: string; descriptor: RemoteDescriptor }[] {
    const used = this.byObject.get(objectId) ?? [];
    this.byObject.delete(objectId);
    const done: { transport: string; descriptor: RemoteDescriptor }[] = [];
    for (const reg of used) {
      if (--reg.users > 0) continue;
      this.forget(reg);
      done.push({ transport: reg.transport, descriptor: reg.descriptor });
    }
    return done;
  }

  /** Live registrations, and the tensors registered in them (diagnostics, ActorStats). */
  stats(): { registrations: number; registeredTensors: number } {
    const regs = new Set<Registration>();
    for (const used of this.byObject.values()) used.forEach((r) => regs.add(r));
    let tensors = 0;
    for (const r of regs) tensors += r.tensors.length;
    return { registrations: regs.size, registeredTensors: tensors };
  }

  private tensorsOf(transport: string): Map<Tensor, { reg: Registration; index: number }> {
    let m = this.byTensor.get(transport);
    if (!m) this.byTensor.set(transport, (m = new Map()));
    return m;
  }

  private async add(transport: string, ep: OneSidedEndpoint, tensors: readonly Tensor[]): Promise<Registration> {
    const reg: Registration = { transport, tensors: [...tensors], descriptor: await ep.register(tensors), users: 0 };
    const known = this.tensorsOf(transport);
    // A tensor registered elsewhere already keeps that registration (the fallback path).
    tensors.forEach((t, index) => {
      if (!known.has(t)) known.set(t, { reg, index });
    });
    return reg;
  }
}
