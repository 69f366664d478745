/**
 * The one traversal of user values. The codec (encode/decode) and the GPU-object tensor
 * extraction both run on it, so "where can a tensor hide" has a single answer: anywhere in
 * arrays, plain objects, Maps (keys and values), Sets and class instances, at any depth,
 * with shared and circular references preserved.
 *
 * The walker maps a value to a new value. A visitor sees every non-primitive (and every symbol)
 * first and either returns a replacement or {@link DESCEND} to let the walker handle it as a
 * container. Each object is visited once (a memo maps originals to results), so a value with N
 * nodes costs O(N), and the path of the current node (for error messages) is kept as a stack of
 * raw keys that is formatted only when asked for.
 */

/** Returned by a visitor to let the walker treat the value as a container. */
export const DESCEND: unique symbol = Symbol('tensorwire.walk.descend');

/** What the walker does with objects that are neither plain objects, arrays, Maps nor Sets. */
export type InstancePolicy =
  /** Copy own enumerable properties into a plain object (what v8.serialize does anyway). */
  | 'plain'
  /** Walk own enumerable properties; keep the very object unless a property changed, then copy it with the same prototype. */
  | 'copy-on-change'
  /** Leave them untouched and do not look inside. */
  | 'leave';

/** A path segment: an array index, an object key, or a pre-formatted text (Map keys, Set items, hooks). */
export type PathSegment = number | string | { readonly text: string };

export interface WalkOptions {
  /** Name of the root in paths, e.g. 'args' gives 'args[1].callback'. */
  readonly rootName: string;
  /** Mutate containers in place instead of copying them (for values the caller owns, e.g. freshly deserialized). */
  readonly inPlace?: boolean;
  readonly instances: InstancePolicy;
  /** Rename plain-object keys (the codec's escaping of its marker key). Return the key unchanged when nothing to do. */
  readonly renameKey?: (key: string) => string;
  /**
   * Called once per object, function or symbol, before containers are handled. Return a
   * replacement (used as is, not walked; call `walker.walk` on parts you want walked) or
   * DESCEND.
   */
  readonly visit: (value: object | symbol, walker: Walker) => unknown;
}

/** Stands for an `undefined` result in the memo, so one lookup tells hit from miss. */
const UNDEFINED = Symbol('undefined');

/** A single traversal. Create one per value; not reusable across values. */
export class Walker {
  private readonly memo = new Map<unknown, unknown>();
  private readonly path: PathSegment[] = [];

  constructor(private readonly options: WalkOptions) {}

  /** Map `value`; `segment` names it relative to the current position (omit for the root). */
  walk(value: unknown, segment?: PathSegment): unknown {
    const type = typeof value;
    if (value === null || (type !== 'object' && type !== 'function' && type !== 'symbol')) return value;
    if (type !== 'symbol') {
      const known = this.memo.get(value);
      if (known !== undefined) return known === UNDEFINED ? undefined : known;
    }
    // No try/finally: an exception ends the whole walk, and the path is read before it unwinds.
    if (segment !== undefined) this.path.push(segment);
    let result = this.options.visit(value as object | symbol, this);
    if (result === DESCEND) result = this.descend(value as object);
    else if (type !== 'symbol') this.memo.set(value, result === undefined ? UNDEFINED : result);
    if (segment !== undefined) this.path.pop();
    return result;
  }

  /** Handle `value` as a container (without the visitor); used for the visitor's own wrapping. */
  descend(value: object): unknown {
    if (Array.isArray(value)) return this.array(value);
    if (value instanceof Map) return this.map(value);
    if (value instanceof Set) return this.set(value);
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) return this.plain(value as Record<string, unknown>, proto);
    switch (this.options.instances) {
      case 'plain':
        return this.plain(value as Record<string, unknown>, Object.prototype);
      case 'leave':
        this.memo.set(value, value);
        return value;
      case 'copy-on-change':
        return this.instance(value as Record<string, unknown>, proto as object);
    }
  }

  /** The current position, e.g. `args[1].callback` or `value.get("k")[0]`. */
  pathString(): string {
    let s = this.options.rootName;
    for (const seg of this.path) {
      if (typeof seg === 'number') s += `[${seg}]`;
      else if (typeof seg === 'string') s += /^[A-Za-z_$][\w$]*$/.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`;
      else s += seg.text;
    }
    return s;
  }

  private array(a: unknown[]): unknown[] {
    if (this.options.inPlace) {
      this.memo.set(a, a);
      for (let i = 0; i < a.length; i++) a[i] = this.walk(a[i], i);
      return a;
    }
    // push, not `new Array(n)`: a large preallocated array starts in slow dictionary mode.
    const out: unknown[] = [];
    this.memo.set(a, out);
    for (let i = 0; i < a.length; i++) out.push(this.walk(a[i], i));
    return out;
  }

  private map(m: Map<unknown, unknown>): Map<unknown, unknown> {
    const out = this.options.inPlace ? m : new Map<unknown, unknown>();
    this.memo.set(m, out);
    const entries = [...m];
    if (this.options.inPlace) m.clear();
    let i = 0;
    for (const [k, v] of entries) {
      const key = this.walk(k, { text: `<map key #${i}>` });
      const text = typeof k === 'string' || typeof k === 'number' ? `.get(${JSON.stringify(k)})` : `<map value #${i}>`;
      out.set(key, this.walk(v, { text }));
      i++;
    }
    return out;
  }

  private set(s: Set<unknown>): Set<unknown> {
    const out = this.options.inPlace ? s : new Set<unknown>();
    this.memo.set(s, out);
    const items = [...s];
    if (this.options.inPlace) s.clear();
    for (let i = 0; i < items.length; i++) out.add(this.walk(items[i], { text: `<set item #${i}>` }));
    return out;
  }

  private plain(o: Record<string, unknown>, proto: object | null): Record<string, unknown> {
    const rename = this.options.renameKey;
    const keys = Object.keys(o);
    // Renaming keys in place could overwrite a key not read yet: build a new object instead.
    const inPlace =
      this.options.inPlace === true &&
      Object.getPrototypeOf(o) === proto &&
      (rename === undefined || keys.every((k) => rename(k) === k));
    const out: Record<string, unknown> = inPlace ? o : proto === null ? Object.create(null) : {};
    this.memo.set(o, out);
    for (const key of keys) {
      const value = this.walk(o[key], key);
      const outKey = rename ? rename(key) : key;
      // defineProperty: a '__proto__' key must stay a key, not set the prototype.
      if (outKey === '__proto__') Object.defineProperty(out, outKey, { value, enumerable: true, writable: true, configurable: true });
      else out[outKey] = value;
    }
    return out;
  }

  private instance(o: Record<string, unknown>, proto: object): unknown {
    // Provisional identity for cycles: the object itself (a cycle through a changed instance keeps
    // pointing at the original; acceptable for this rare case).
    this.memo.set(o, o);
    const keys = Object.keys(o);
    const values = new Array<unknown>(keys.length);
    let changed = false;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const before = o[key];
      const after = this.walk(before, key);
      values[i] = after;
      if (after !== before) changed = true;
    }
    if (!changed) return o;
    const out: Record<string, unknown> = Object.create(proto);
    for (let i = 0; i < keys.length; i++) {
      Object.defineProperty(out, keys[i] as string, { value: values[i], enumerable: true, writable: true, configurable: true });
    }
    this.memo.set(o, out);
    return out;
  }
}

/** Map `value` with a fresh {@link Walker}. */
export function walkValue(value: unknown, options: WalkOptions): unknown {
  return new Walker(options).walk(value);
}
