/** Options of the Gloo transport (`init({ transportOptions: { gloo: {...} } })`). */

/** What `transportOptions.gloo` may hold. */
export interface GlooTransportOptions {
  /**
   * IPv4 address the TCP device binds and advertises to peers. Default: env
   * `TENSORWIRE_GLOO_HOST`, else '127.0.0.1' (single machine). Use this machine's address on a
   * network for multi-host groups.
   */
  readonly host?: string;
}

export const DEFAULT_HOST = '127.0.0.1';

/** Host to bind: option, then env TENSORWIRE_GLOO_HOST, then 127.0.0.1. */
export function resolveHost(options: Readonly<Record<string, unknown>> | undefined): string {
  const fromOptions = options?.host;
  if (typeof fromOptions === 'string' && fromOptions.trim()) return fromOptions.trim();
  if (fromOptions !== undefined && typeof fromOptions !== 'string') {
    throw new TypeError(`gloo transport option 'host' must be a string (an IPv4 address), got ${typeof fromOptions}`);
  }
  const fromEnv = process.env.TENSORWIRE_GLOO_HOST;
  if (fromEnv && fromEnv.trim()) return fromEnv.trim();
  return DEFAULT_HOST;
}
