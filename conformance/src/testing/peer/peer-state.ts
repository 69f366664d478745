/** What one peer process holds: the plugin, its endpoint and the groups it created. */
import type { CollectiveGroup, OneSidedEndpoint, TransportEndpoint, TransportPlugin, TwoSidedEndpoint } from '@tensorwire/core';
import type { PeerContext } from './command-api';

export class PeerState {
  processName = 'peer';
  pluginValue: TransportPlugin | undefined;
  endpointValue: TransportEndpoint | undefined;
  readonly groups = new Map<string, CollectiveGroup>();

  private need<T>(v: T | undefined, what: string): T {
    if (v === undefined) throw new Error(`${this.processName}: ${what}`);
    return v;
  }

  get plugin(): TransportPlugin {
    return this.need(this.pluginValue, 'no transport loaded (init first)');
  }

  get endpoint(): TransportEndpoint {
    return this.need(this.endpointValue, 'no endpoint (init first; or closed, or the transport is unavailable)');
  }

  group(name: string): CollectiveGroup {
    return this.need(this.groups.get(name), `no group '${name}'`);
  }

  /** The endpoint as the kind its plugin declares (the SPI's discriminant), or an error saying it is not. */
  twoSided(): TwoSidedEndpoint {
    const e = this.endpoint;
    if (e.kind !== 'two-sided') throw new Error(`the endpoint's kind is '${String(e.kind)}', not 'two-sided'`);
    return e;
  }

  oneSided(): OneSidedEndpoint {
    const e = this.endpoint;
    if (e.kind !== 'one-sided') throw new Error(`the endpoint's kind is '${String(e.kind)}', not 'one-sided'`);
    return e;
  }

  /** Registered memory from a one-sided endpoint's optional allocate(). */
  allocate(nbytes: number): Uint8Array {
    const e = this.oneSided();
    if (typeof e.allocate !== 'function') throw new Error('the endpoint has no allocate()');
    return e.allocate(nbytes);
  }

  /** The view a command gets; `posted` reports that call's operation as under way. */
  context(posted: () => void): PeerContext {
    const state = this;
    return {
      get processName() {
        return state.processName;
      },
      get plugin() {
        return state.plugin;
      },
      get endpoint() {
        return state.endpoint;
      },
      group: (name) => state.group(name),
      posted,
    };
  }
}
