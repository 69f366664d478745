/**
 * Most control messages are small plain data, for which `v8.serialize` (about 15 us each way)
 * dominates a call's round trip while JSON takes about 1 us. A skeleton that JSON carries
 * exactly (no undefined, NaN, -0, bigint, shared or cyclic references, sparse arrays or
 * class instances) goes as JSON; anything else as v8. v8's format always begins with 0xFF,
 * which JSON text never does, so the decoder tells them apart by the first byte.
 */
const V8_FIRST_BYTE = 0xff;
/** Larger skeletons go straight to v8: checking them is not worth it. */
const MAX_NODES = 4096;

/**
 * true when JSON.parse(JSON.stringify(v)) reproduces `v` exactly (within a node budget), or
 * exactly but for dropped undefined-valued properties when `dropUndefinedProperties`.
 */
export function isJsonExact(root: unknown, dropUndefinedProperties = false): boolean {
  const seen = new Set<object>();
  let budget = MAX_NODES;
  const ok = (v: unknown): boolean => {
    if (--budget < 0) return false;
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return true;
      case 'number':
        return Number.isFinite(v) && !Object.is(v, -0);
      case 'object': {
        if (v === null) return true;
        if (seen.has(v)) return false;
        seen.add(v);
        if (Array.isArray(v)) {
          for (let i = 0; i < v.length; i++) if (!(i in v) || !ok(v[i])) return false;
          return true;
        }
        if (Object.getPrototypeOf(v) !== Object.prototype) return false;
        for (const k in v) {
          const x = (v as Record<string, unknown>)[k];
          if (x === undefined && dropUndefinedProperties) continue;
          if (k === '__proto__' || !ok(x)) return false;
        }
        return true;
      }
      default:
        return false;
    }
  };
  return ok(root);
}

export function isV8Encoded(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes[0] === V8_FIRST_BYTE;
}
