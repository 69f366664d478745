/**
 * The rendezvous store the parent serves to its peers, in the role core plays in the runtime:
 * keys are write-once per group; `get`/`wait` block until keys exist or the timeout passes.
 */
export class RendezvousHub {
  private readonly values = new Map<string, Uint8Array>();
  private readonly waiters = new Map<string, Array<() => void>>();

  private static key(group: string, key: string): string {
    return `${group}\u0000${key}`;
  }

  set(group: string, key: string, value: Uint8Array): void {
    const k = RendezvousHub.key(group, key);
    if (this.values.has(k)) throw new Error(`rendezvous key '${key}' of group '${group}' is already set (keys are write-once)`);
    this.values.set(k, value);
    const w = this.waiters.get(k);
    this.waiters.delete(k);
    w?.forEach((f) => f());
  }

  async get(group: string, key: string, timeoutMs: number): Promise<Uint8Array> {
    await this.wait(group, [key], timeoutMs);
    return this.values.get(RendezvousHub.key(group, key))!;
  }

  async wait(group: string, keys: readonly string[], timeoutMs: number): Promise<void> {
    await Promise.all(keys.map((key) => this.waitOne(group, key, timeoutMs)));
  }

  private waitOne(group: string, key: string, timeoutMs: number): Promise<void> {
    const k = RendezvousHub.key(group, key);
    if (this.values.has(k)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const list = this.waiters.get(k) ?? [];
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const l = this.waiters.get(k);
        if (l) l.splice(l.indexOf(done), 1);
        reject(new Error(`rendezvous: key '${key}' of group '${group}' not set within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      list.push(done);
      this.waiters.set(k, list);
    });
  }
}
