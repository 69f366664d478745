/**
 * Serializer hooks for user values: ObjectRefs and actor handles become tagged markers on the
 * wire. Args use `collectRefs` to learn which refs a call depends on.
 */
import { handleInfo, makeHandle } from './handle';
import type { ActorInfo } from '../runtime/actor-info';
import { ObjectRef } from '../objects/object-ref';
import { KeptRef } from '../objects/kept-ref';
import type { SerializerHooks } from '../objects/serializer';

export const REF_TAG = 'tw.ref';
export const ACTOR_TAG = 'tw.actor';
/** A ref passed with keepRef: revived as the ObjectRef itself, never resolved. */
export const KEPT_REF_TAG = 'tw.kept';

/**
 * Encoding hooks; every ref id met is added to `refIds` (when given). Refs wrapped in
 * `keepRef` go to `keptIds` when given (call arguments: pinned, not resolved); elsewhere (a
 * result, a put) they are ordinary refs.
 */
export function encodeHooks(refIds?: Set<string>, keptIds?: Set<string>): SerializerHooks {
  return {
    replace(v) {
      if (v instanceof ObjectRef) {
        refIds?.add(v.id);
        return { tag: REF_TAG, data: v.id };
      }
      if (v instanceof KeptRef) {
        if (keptIds) {
          keptIds.add(v.ref.id);
          return { tag: KEPT_REF_TAG, data: v.ref.id };
        }
        refIds?.add(v.ref.id);
        return { tag: REF_TAG, data: v.ref.id };
      }
      const info = handleInfo(v);
      if (info) return { tag: ACTOR_TAG, data: { ...info, methods: [...info.methods] } };
      return undefined;
    },
  };
}

/** Decoding hooks: refs become `resolveRef(id)` (or ObjectRefs), markers become handles. */
export function decodeHooks(resolveRef?: (id: string) => unknown): SerializerHooks {
  return {
    revive(tag, data) {
      if (tag === REF_TAG) return resolveRef ? resolveRef(data as string) : new ObjectRef(data as string);
      if (tag === KEPT_REF_TAG) return new ObjectRef(data as string);
      if (tag === ACTOR_TAG) return makeHandle(data as ActorInfo);
      return undefined;
    },
  };
}
