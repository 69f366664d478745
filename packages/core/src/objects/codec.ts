/**
 * The value codec: a v8-serialized skeleton plus out-of-band attachments, and the GPU-object
 * tensor extraction. Both run on the one walker in ./walk.
 *
 * Encoding takes every Tensor, TypedArray, Buffer, DataView and ArrayBuffer found anywhere in
 * the value out as an attachment: a view onto the same memory, never a copy. The skeleton keeps
 * a small marker object in its place. Markers are plain objects with the own key {@link MARK};
 * user objects whose keys start with MARK get one more MARK prefix, so no user value can be
 * mistaken for a marker.
 */
import * as v8 from 'v8';
import { isJsonExact, isV8Encoded } from './json-fast-path';
import { InvalidArgumentError } from '../errors/errors';
import { Tensor } from '../tensor/tensor';
import { assertDType, type DType } from '../tensor/dtypes';
import { walkValue, type Walker } from './walk';

/** Key that marks codec markers and tensor placeholders in skeletons. */
export const MARK = '\u0000tw';

/**
 * Deepest nesting of arrays, objects, Maps and Sets a value may have. The walker recurses
 * once per level and Node's stack runs out near 2 000 levels, as a raw RangeError part way
 * through; a fixed limit with room to spare fails the same way wherever the caller's stack is.
 */
export const MAX_DEPTH = 1000;

/**
 * A visitor's way into containers that counts levels: `descend(v, w)` in place of returning
 * DESCEND. One per walk (an exception ends the walk, so the count needs no unwinding).
 */
function depthLimited(rootName: string): (v: object, w: Walker) => unknown {
  let depth = 0;
  return (v, w) => {
    if (++depth > MAX_DEPTH) throw tooDeep(rootName, w);
    const out = w.descend(v);
    depth--;
    return out;
  };
}

const FLATTEN = 'flatten it (e.g. a list or a Map of ids instead of a chain of nested objects)';

function tooDeep(rootName: string, w: Walker): InvalidArgumentError {
  const p = w.pathString();
  return new InvalidArgumentError(
    `${rootName} is nested more than ${MAX_DEPTH} levels deep (at ${p.length > 80 ? `${p.slice(0, 80)}...` : p}), ` +
      `the most tensorwire handles; ${FLATTEN}`,
  );
}

/** Run a walk; a stack overflow (a deep value met a deep caller stack) becomes the typed error. */
function guardStack<T>(rootName: string, walk: () => T): T {
  try {
    return walk();
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new InvalidArgumentError(
        `${rootName} is nested too deeply for the stack left here (at most ${MAX_DEPTH} levels, fewer when called ` +
          `from deep recursion); ${FLATTEN}`,
      );
    }
    throw e;
  }
}

/** Hooks that let the runtime replace its own objects (ObjectRef, ActorHandle) by tagged data. */
export interface CodecHooks {
  /**
   * Called on every object and function before default handling. Return `{ tag, data }` to
   * send `data` (walked and encoded like any value) in its place, or undefined.
   */
  replace?(value: unknown): { tag: string; data: unknown } | undefined;
  /** Called on decode for each replaced object with its tag and decoded data. */
  revive?(tag: string, data: unknown): unknown;
  /** Name of the root in error paths ('value' when omitted), e.g. 'args'. */
  rootName?: string;
  /**
   * Properties whose value is undefined may be dropped (as JSON does) instead of kept, which
   * lets more values take the fast JSON path. For the runtime's own messages, where a missing
   * and an undefined property mean the same; never for user values.
   */
  dropUndefinedProperties?: boolean;
}

/** A value encoded by {@link encodeValue}. */
export interface Encoded {
  /** v8.serialize output of the value with markers in place of binary data. */
  readonly skeleton: Buffer;
  /** Views onto the original binary data, in marker index order. */
  readonly attachments: Uint8Array[];
}

type Marker =
  | { [MARK]: 'tensor'; i: number; dtype: DType; shape: number[]; device: string }
  | { [MARK]: 'typed'; i: number; type: string }
  | { [MARK]: 'buffer'; i: number }
  | { [MARK]: 'dataview'; i: number }
  | { [MARK]: 'arraybuffer'; i: number }
  | { [MARK]: 'hook'; tag: string; data: unknown }
  | { [MARK]: 'tensorRef'; i: number };

type TypedArrayCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): ArrayBufferView;
  new (length: number): ArrayBufferView;
  readonly BYTES_PER_ELEMENT: number;
};

const TYPED_ARRAYS: Readonly<Record<string, TypedArrayCtor>> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

const escapeKey = (k: string): string => (k.charCodeAt(0) === 0 && k.startsWith(MARK) ? MARK + k : k);
const unescapeKey = (k: string): string => (k.charCodeAt(0) === 0 && k.startsWith(MARK) ? k.slice(MARK.length) : k);

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function markerOf(v: object): Marker | undefined {
  return isPlainObject(v) && Object.prototype.hasOwnProperty.call(v, MARK) ? (v as unknown as Marker) : undefined;
}

/** Builtins that v8.serialize handles by itself and that hold no binary data we take out. */
function isV8Leaf(v: object): boolean {
  return (
    v instanceof Date ||
    v instanceof RegExp ||
    v instanceof Error ||
    v instanceof Boolean ||
    v instanceof Number ||
    v instanceof String ||
    (typeof BigInt !== 'undefined' && Object.prototype.toString.call(v) === '[object BigInt]')
  );
}

/** A reason why `v` cannot be sent, or undefined when it can. */
function unsendable(v: object | symbol): string | undefined {
  if (typeof v === 'symbol') return 'a symbol';
  if (typeof v === 'function') return 'a function';
  if (v instanceof Promise) return 'a Promise (await it first)';
  if (v instanceof WeakMap) return 'a WeakMap';
  if (v instanceof WeakSet) return 'a WeakSet';
  if (typeof WeakRef !== 'undefined' && v instanceof WeakRef) return 'a WeakRef';
  if (typeof FinalizationRegistry !== 'undefined' && v instanceof FinalizationRegistry) return 'a FinalizationRegistry';
  return undefined;
}

/** Attachments of one encode, deduplicated by (buffer, byteOffset, byteLength). */
class AttachmentList {
  readonly list: Uint8Array[] = [];
  private readonly seen = new Map<ArrayBufferLike, Map<string, number>>();

  add(view: Uint8Array): number {
    let ranges = this.seen.get(view.buffer);
    if (!ranges) {
      ranges = new Map();
      this.seen.set(view.buffer, ranges);
    }
    const key = `${view.byteOffset}:${view.byteLength}`;
    const known = ranges.get(key);
    if (known !== undefined) return known;
    const i = this.list.push(view) - 1;
    ranges.set(key, i);
    return i;
  }
}

/**
 * Encode `value` into a v8 skeleton and zero-copy attachments.
 *
 * @throws InvalidArgumentError naming the path of a function, symbol, Promise, WeakMap... in the value.
 */
export function encodeValue(value: unknown, hooks: CodecHooks = {}): Encoded {
  const rootName = hooks.rootName ?? 'value';
  const atts = new AttachmentList();
  const descend = depthLimited(rootName);
  const skeleton = guardStack(rootName, () => walkValue(value, {
    rootName,
    instances: 'plain',
    renameKey: escapeKey,
    visit(v: object | symbol, w: Walker): unknown {
      if (typeof v !== 'symbol' && hooks.replace) {
        const r = hooks.replace(v);
        if (r !== undefined) {
          const marker: Marker = { [MARK]: 'hook', tag: r.tag, data: undefined };
          marker.data = w.walk(r.data, { text: `<${r.tag} data>` });
          return marker;
        }
      }
      if (Array.isArray(v) || (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)) return descend(v, w); // the common case, fast
      const bad = unsendable(v);
      if (bad !== undefined) {
        throw new InvalidArgumentError(
          `cannot serialize ${bad} at ${w.pathString()}; pass plain data, Tensors or TypedArrays`,
        );
      }
      const o = v as object;
      if (Tensor.isTensor(o)) {
        const host = o.device === 'cpu' ? o : o.cpu();
        return {
          [MARK]: 'tensor',
          i: atts.add(host.bytes()),
          dtype: o.dtype,
          shape: [...o.shape],
          device: o.device,
        } satisfies Marker;
      }
      if (ArrayBuffer.isView(o)) {
        const bytes = new Uint8Array(o.buffer, o.byteOffset, o.byteLength);
        const i = atts.add(bytes);
        if (Buffer.isBuffer(o)) return { [MARK]: 'buffer', i } satisfies Marker;
        if (o instanceof DataView) return { [MARK]: 'dataview', i } satisfies Marker;
        const type = (o as unknown as { [Symbol.toStringTag]: string })[Symbol.toStringTag];
        if (!(type in TYPED_ARRAYS)) {
          throw new InvalidArgumentError(`cannot serialize a ${type} at ${w.pathString()}; use a standard TypedArray`);
        }
        return { [MARK]: 'typed', i, type } satisfies Marker;
      }
      if (o instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && o instanceof SharedArrayBuffer)) {
        return { [MARK]: 'arraybuffer', i: atts.add(new Uint8Array(o)) } satisfies Marker;
      }
      if (isV8Leaf(o)) return o;
      return descend(o, w);
    },
  }));
  let bytes: Buffer;
  try {
    bytes = isJsonExact(skeleton, hooks.dropUndefinedProperties === true) ? Buffer.from(JSON.stringify(skeleton), 'utf8') : v8.serialize(skeleton);
  } catch (e) {
    throw new InvalidArgumentError(
      `cannot serialize ${rootName}: ${(e as Error).message}; pass plain data, Tensors or TypedArrays`,
    );
  }
  return { skeleton: bytes, attachments: atts.list };
}

/** A view of type `ctor` on `att`: zero-copy when the offset is aligned, else one copy. */
function viewOf(ctor: TypedArrayCtor, att: Uint8Array): ArrayBufferView {
  const size = ctor.BYTES_PER_ELEMENT;
  if (att.byteLength % size !== 0) {
    throw new InvalidArgumentError(`corrupt encoded value: ${att.byteLength} bytes is not a whole number of ${size}-byte elements`);
  }
  const n = att.byteLength / size;
  if (att.byteOffset % size === 0) return new ctor(att.buffer, att.byteOffset, n);
  const out = new ctor(n);
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(att);
  return out;
}

/**
 * Rebuild a value from {@link encodeValue}'s output. Binary data comes back as views onto
 * `attachments` (zero-copy when aligned for the element type, else one copy): Tensors as
 * Tensors (moved back to their device), Buffers as Buffers, each TypedArray as its own class.
 */
export function decodeValue(skeleton: Uint8Array, attachments: readonly Uint8Array[], hooks: CodecHooks = {}): unknown {
  const root = isV8Encoded(skeleton)
    ? v8.deserialize(skeleton)
    : JSON.parse(Buffer.from(skeleton.buffer, skeleton.byteOffset, skeleton.byteLength).toString('utf8'));
  const attachment = (i: number): Uint8Array => {
    const a = attachments[i];
    if (a === undefined) {
      throw new InvalidArgumentError(`corrupt encoded value: attachment ${i} missing (have ${attachments.length})`);
    }
    return a;
  };
  const rootName = hooks.rootName ?? 'value';
  const descend = depthLimited(rootName);
  return guardStack(rootName, () => walkValue(root, {
    rootName,
    inPlace: true,
    instances: 'leave',
    renameKey: unescapeKey,
    visit(v: object | symbol, w: Walker): unknown {
      const m = markerOf(v as object);
      if (m === undefined) return descend(v as object, w);
      switch (m[MARK]) {
        case 'tensor': {
          assertDType(m.dtype);
          const t = Tensor.fromBytes(attachment(m.i), m.dtype, m.shape);
          return m.device === 'cpu' ? t : t.to(m.device);
        }
        case 'typed': {
          const ctor = TYPED_ARRAYS[m.type];
          if (ctor === undefined) throw new InvalidArgumentError(`corrupt encoded value: unknown array type ${m.type}`);
          return viewOf(ctor, attachment(m.i));
        }
        case 'buffer': {
          const a = attachment(m.i);
          return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
        }
        case 'dataview': {
          const a = attachment(m.i);
          return new DataView(a.buffer, a.byteOffset, a.byteLength);
        }
        case 'arraybuffer': {
          const a = attachment(m.i);
          const whole = a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer;
          return whole ? a.buffer : a.slice().buffer;
        }
        case 'hook': {
          if (!hooks.revive) {
            throw new InvalidArgumentError(`value holds a '${m.tag}' object at ${w.pathString()} but no revive hook was given`);
          }
          return hooks.revive(m.tag, w.walk(m.data, { text: `<${m.tag} data>` }));
        }
        case 'tensorRef':
          return v; // a GPU-object placeholder: restoreTensors resolves it
        default:
          throw new InvalidArgumentError(`corrupt encoded value: unknown marker at ${w.pathString()}`);
      }
    },
  }));
}

/** Result of {@link extractTensors}. */
export interface ExtractedTensors {
  /** The value with a placeholder in place of each Tensor; not serialized. */
  readonly skeleton: unknown;
  /** The tensors, each once, in first-seen order. */
  readonly tensors: Tensor[];
}

/**
 * Replace every Tensor in `value` (anywhere, shared ones once) by a placeholder, without
 * serializing anything: the tensors stay with the producer while the skeleton travels. The
 * input is not modified; class instances are copied only when they hold a tensor.
 */
export function extractTensors(value: unknown): ExtractedTensors {
  const tensors: Tensor[] = [];
  const descend = depthLimited('value');
  const skeleton = guardStack('value', () => walkValue(value, {
    rootName: 'value',
    instances: 'copy-on-change',
    renameKey: escapeKey,
    visit(v: object | symbol, w: Walker): unknown {
      if (typeof v === 'symbol' || typeof v === 'function') return v;
      if (Tensor.isTensor(v)) return { [MARK]: 'tensorRef', i: tensors.push(v) - 1 } satisfies Marker;
      if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || isV8Leaf(v) || unsendable(v) !== undefined) return v;
      return descend(v, w);
    },
  }));
  return { skeleton, tensors };
}

/** Inverse of {@link extractTensors}: put `tensors` (the very objects) back at their placeholders. */
export function restoreTensors(skeleton: unknown, tensors: readonly Tensor[]): unknown {
  const descend = depthLimited('value');
  return guardStack('value', () => walkValue(skeleton, {
    rootName: 'value',
    instances: 'copy-on-change',
    renameKey: unescapeKey,
    visit(v: object | symbol, w: Walker): unknown {
      if (typeof v === 'symbol' || typeof v === 'function') return v;
      const m = markerOf(v);
      if (m !== undefined && m[MARK] === 'tensorRef') {
        const t = tensors[m.i];
        if (t === undefined) {
          throw new InvalidArgumentError(`tensor #${m.i} at ${w.pathString()} is missing (have ${tensors.length} tensors)`);
        }
        return t;
      }
      if (Tensor.isTensor(v) || ArrayBuffer.isView(v) || v instanceof ArrayBuffer || isV8Leaf(v) || unsendable(v) !== undefined) return v;
      return descend(v, w);
    },
  }));
}
