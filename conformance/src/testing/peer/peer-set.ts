/** Several peers of one transport that share a rendezvous hub and are killed together. */
import { RendezvousHub } from '../rendezvous-hub';
import { Peer, type PeerOptions, type PeerTarget } from './peer-client';

export class PeerSet {
  /** The rendezvous store the peers' groups meet in. */
  readonly hub = new RendezvousHub();
  private readonly peers: Peer[] = [];
  /** Starts under way: killAll waits for them, so that no peer outlives the set. */
  private readonly starting = new Set<Promise<unknown>>();
  private count = 0;

  /** @param options how every peer of the set starts (a peer's own options add to them). */
  constructor(
    readonly target: PeerTarget,
    private readonly options: PeerOptions = {},
  ) {}

  /** Start `n` peers at once, named `peer-1`, `peer-2`... */
  start(n: number): Promise<Peer[]> {
    return Promise.all(Array.from({ length: n }, () => this.startOne()));
  }

  /**
   * Start one peer; throws when the transport is unavailable in it (probe() said so). `options.env`
   * and `options.commands` add to the set's.
   */
  async startOne(name = `peer-${++this.count}`, options: PeerOptions = {}): Promise<Peer> {
    const merged: PeerOptions = {
      env: { ...this.options.env, ...options.env },
      commands: [...(this.options.commands ?? []), ...(options.commands ?? [])],
    };
    const started = Peer.start(name, this.target, this.hub, merged).then((r) => {
      this.peers.push(r.peer);
      return r;
    });
    this.starting.add(started);
    const { peer, availability } = await started.finally(() => this.starting.delete(started));
    if (!availability.available) {
      throw new Error(`${name}: transport unavailable in the peer: ${availability.detail}`);
    }
    return peer;
  }

  /** SIGKILL every peer started so far and wait until they are gone. */
  async killAll(): Promise<void> {
    await Promise.allSettled([...this.starting]);
    await Promise.all(this.peers.splice(0).map((p) => p.kill()));
  }
}

/** Run `fn` with `n` fresh peers of `target` sharing one hub; they are killed afterwards, whatever happened. */
export async function withPeers<R>(
  n: number,
  target: PeerTarget,
  fn: (peers: Peer[], set: PeerSet) => Promise<R>,
  options?: PeerOptions,
): Promise<R> {
  const set = new PeerSet(target, options);
  try {
    return await fn(await set.start(n), set);
  } finally {
    await set.killAll();
  }
}
