/**
 * This process's mappings of arena files, made once per file and kept: a fresh mapping costs
 * a page fault per 4 KiB page on first touch (tmpfs has no huge pages here), far more than the
 * copies, so readers map a producer's chunk the first time they meet it and reuse it after.
 */
import * as fs from 'node:fs';
import type { ShmBinding } from './native';

export class Mappings {
  private readonly handles = new Map<string, number>();
  /** Files this process mapped but did not create (another producer's chunks). */
  private readonly foreign = new Set<string>();

  constructor(private readonly native: ShmBinding) {}

  /** Create `file` with `bytes` and map it (throws with the errno `code`, e.g. ENOSPC). */
  create(file: string, bytes: number): number {
    const h = this.native.open(file, bytes, true);
    this.handles.set(file, h);
    return h;
  }

  /** The mapping of an existing `file` (mapped now if this process never did). */
  open(file: string): number {
    let h = this.handles.get(file);
    if (h === undefined) {
      this.pruneRemoved();
      h = this.native.open(file, 0, false);
      this.handles.set(file, h);
      this.foreign.add(file);
    }
    return h;
  }

  has(file: string): boolean {
    return this.handles.has(file);
  }

  /** Unmap `file` here (copies in flight finish first: the addon holds the mapping for them). */
  close(file: string): void {
    const h = this.handles.get(file);
    if (h === undefined) return;
    this.handles.delete(file);
    this.foreign.delete(file);
    this.native.close(h);
  }

  /**
   * Unmap other producers' chunks whose files were removed (the driver does so once their
   * objects are all freed): without this a long-lived reader would keep their memory mapped.
   */
  pruneRemoved(): void {
    for (const f of this.foreign) if (!fs.existsSync(f)) this.close(f);
  }

  files(): string[] {
    return [...this.handles.keys()];
  }
}
