/**
 * Which GPUs each actor gets, as Ray's `num_gpus`: every GPU of the machine has a capacity of 1;
 * `spawn(Cls, { numGpus })` reserves a fraction of one GPU (0 < numGpus < 1, several actors may
 * share a GPU) or whole GPUs (a whole number), and the actor process sees exactly those through
 * CUDA_VISIBLE_DEVICES. A request the machine can never satisfy is an InvalidArgumentError; one
 * that only the current reservations block is a RuntimeStateError naming the holders. The
 * reservation ends when the actor dies.
 */
import { InvalidArgumentError, RuntimeStateError } from '../errors/errors';

/** Fractions are counted in 1/10 000 of a GPU, so that 0.1 + 0.2 + 0.7 fills a GPU exactly. */
const UNITS = 10_000;

/** What an actor was given. */
export interface GpuGrant {
  /** Indices of the GPUs, as the driver process numbers them. */
  readonly indices: readonly number[];
  /** The actor's CUDA_VISIBLE_DEVICES value. */
  readonly cudaVisibleDevices: string;
}

/** How many GPUs the machine has, and why none when 0. */
export type GpuCount = () => { count: number; reason?: string };

interface Holder {
  readonly name: string;
  readonly indices: readonly number[];
  readonly units: number;
}

export class GpuPlacement {
  private freeUnits: number[] | undefined;
  private countReason: string | undefined;
  private readonly holders = new Map<string, Holder>();

  /**
   * @param count asked once, at the first request: the `numGpus` init option, or the registered
   *   device backend's count in the driver
   * @param driverVisible the driver's own CUDA_VISIBLE_DEVICES: an actor's indices are mapped
   *   through it, so actors see the GPUs the driver was given
   */
  constructor(private readonly count: GpuCount, private readonly driverVisible: string | undefined) {}

  /** Checks `numGpus` the way spawn takes it: a non-negative number, whole when above 1. */
  static check(numGpus: unknown, where: string): number {
    if (typeof numGpus !== 'number' || !Number.isFinite(numGpus) || numGpus < 0) {
      throw new InvalidArgumentError(`${where}: numGpus must be a non-negative number (e.g. 1, 2 or 0.5), got ${JSON.stringify(numGpus)}`);
    }
    if (numGpus > 1 && !Number.isInteger(numGpus)) {
      throw new InvalidArgumentError(`${where}: numGpus above 1 must be a whole number (a fraction shares one GPU), got ${numGpus}`);
    }
    if (numGpus > 0 && numGpus < 1 / UNITS) {
      throw new InvalidArgumentError(`${where}: numGpus must be at least ${1 / UNITS} (or 0), got ${numGpus}`);
    }
    return numGpus;
  }

  /** The GPUs this machine has, asked once. */
  total(): number {
    if (this.freeUnits === undefined) {
      const { count, reason } = this.count();
      this.freeUnits = new Array<number>(Math.max(0, Math.floor(count))).fill(UNITS);
      this.countReason = reason;
    }
    return this.freeUnits.length;
  }

  /** Reserves `numGpus` (> 0) for actor `actorId`; throws when they cannot be had. */
  reserve(actorId: string, actorName: string, numGpus: number, where: string): GpuGrant {
    const total = this.total();
    const free = this.freeUnits as number[];
    if (total === 0) {
      throw new InvalidArgumentError(
        `${where}: numGpus: ${numGpus} needs a GPU, and this machine has none that tensorwire can use` +
          `${this.countReason ? ` (${this.countReason})` : ''}. Fix: run on a machine with an NVIDIA GPU and its driver, with the ` +
          "package that provides the 'cuda' device backend imported in the driver (npx tensorwire doctor shows what is missing), " +
          'or declare the GPUs with init({ numGpus }); or leave numGpus out',
      );
    }
    if (numGpus > total) {
      throw new InvalidArgumentError(`${where}: numGpus: ${numGpus} asks for more GPUs than this machine has (${total}); ask for at most ${total}`);
    }
    let indices: number[];
    let units: number;
    if (numGpus < 1) {
      units = Math.round(numGpus * UNITS);
      // Best fit: the most used GPU that still has room, so whole GPUs stay free for whole requests.
      let best = -1;
      for (let i = 0; i < total; i++) {
        if ((free[i] as number) >= units && (best < 0 || (free[i] as number) < (free[best] as number))) best = i;
      }
      if (best < 0) throw this.busy(where, numGpus);
      indices = [best];
    } else {
      units = UNITS;
      indices = [];
      for (let i = 0; i < total && indices.length < numGpus; i++) if (free[i] === UNITS) indices.push(i);
      if (indices.length < numGpus) throw this.busy(where, numGpus);
    }
    for (const i of indices) free[i] = (free[i] as number) - units;
    this.holders.set(actorId, { name: actorName, indices, units });
    return { indices, cudaVisibleDevices: indices.map((i) => this.physicalId(i)).join(',') };
  }

  /** Ends the reservation of `actorId` (it died or never started); no-op when it had none. */
  release(actorId: string): void {
    const h = this.holders.get(actorId);
    if (!h || !this.freeUnits) return;
    this.holders.delete(actorId);
    for (const i of h.indices) this.freeUnits[i] = (this.freeUnits[i] as number) + h.units;
  }

  /** The id to put in an actor's CUDA_VISIBLE_DEVICES for the driver's GPU `index`. */
  private physicalId(index: number): string {
    const list = this.driverVisible?.split(',').map((s) => s.trim()).filter((s) => s !== '');
    return list && index < list.length ? (list[index] as string) : String(index);
  }

  private busy(where: string, numGpus: number): RuntimeStateError {
    const free = this.freeUnits as number[];
    const use = free.map((f, i) => {
      const names = [...this.holders.values()].filter((h) => h.indices.includes(i)).map((h) => `${h.name} (${h.units / UNITS})`);
      return `GPU ${i}: ${(f / UNITS).toFixed(4).replace(/\.?0+$/, '')} free${names.length ? `, held by ${names.join(', ')}` : ''}`;
    });
    return new RuntimeStateError(
      `${where}: numGpus: ${numGpus} cannot be placed now: ${use.join('; ')}. ` +
        'Fix: kill() an actor that holds GPUs, or ask for less (a fraction such as 0.5 shares a GPU)',
    );
  }
}
