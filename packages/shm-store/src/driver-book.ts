/**
 * The driver's book of placed values: how many of each producer's values the object store
 * holds, which producers died, and which files to remove. A producer's arena outlives it while
 * any of its values is held (as Ray's plasma objects outlive their worker) and is removed when
 * the last one goes; everything of a runtime is removed at its shutdown.
 */
import * as path from 'node:path';
import { driverPidOf, filePrefix, filesWithPrefix, PREFIX, storeDir } from './names';
import type { Mappings } from './mappings';
import type { ShmBinding } from './native';

export class DriverBook {
  private readonly held = new Map<string, number>();
  private readonly dead = new Set<string>();

  constructor(
    private readonly native: ShmBinding,
    private readonly mappings: Mappings,
  ) {}

  stored(producer: string): void {
    this.held.set(producer, (this.held.get(producer) ?? 0) + 1);
  }

  released(producer: string): void {
    const n = (this.held.get(producer) ?? 1) - 1;
    if (n > 0) {
      this.held.set(producer, n);
      return;
    }
    this.held.delete(producer);
    if (this.dead.has(producer)) this.removeProducer(producer);
  }

  producerDied(producer: string): void {
    this.dead.add(producer);
    if (!this.held.has(producer)) this.removeProducer(producer);
  }

  /** Values of `producer` the store holds. */
  heldBy(producer: string): number {
    return this.held.get(producer) ?? 0;
  }

  /** Remove every file of a runtime (this driver's pid), and unmap them here. */
  shutdown(runtimeId: string): void {
    this.removeFiles(filePrefix(process.pid, runtimeId));
    this.held.clear();
    this.dead.clear();
  }

  /**
   * Remove arena files that a driver which no longer runs left behind (killed before its
   * shutdown): their names carry its pid.
   */
  static removeOrphans(native: ShmBinding, dir: string = storeDir()): number {
    let n = 0;
    for (const f of filesWithPrefix(dir, PREFIX)) {
      const pid = driverPidOf(f);
      if (pid === undefined || pid === process.pid || isRunning(pid)) continue;
      if (native.unlink(f)) n++;
    }
    return n;
  }

  private removeProducer(producer: string): void {
    const at = producer.indexOf('@');
    if (at < 0) return;
    this.dead.delete(producer);
    this.removeFiles(filePrefix(process.pid, producer.slice(at + 1), producer));
  }

  private removeFiles(prefix: string): void {
    for (const f of this.mappings.files()) if (f.startsWith(path.join(storeDir(), prefix))) this.mappings.close(f);
    for (const f of filesWithPrefix(storeDir(), prefix)) this.native.unlink(f);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
