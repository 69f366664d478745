/**
 * Actor classes registered by `@actor()` in this process, keyed by (module file, class name).
 * Actor processes import the class's module and pick the class from here, which also works
 * for classes that are not exported and for ESM modules still awaiting top-level code.
 */
import * as fs from 'node:fs';
import { EventEmitter } from 'node:events';

const classes = new Map<string, Function>();
const events = new EventEmitter();

function realpath(f: string): string {
  try {
    return fs.realpathSync(f);
  } catch {
    return f;
  }
}

export function classKey(module: string, className: string): string {
  return `${realpath(module)}#${className}`;
}

/** Register `cls`, defined in `module` under `className` (called by the @actor() decorator). */
export function registerActorClass(module: string | undefined, className: string, cls: Function): void {
  if (!module) return;
  const key = classKey(module, className);
  classes.set(key, cls);
  events.emit('registered', key);
}

export function findActorClass(module: string, className: string): Function | undefined {
  return classes.get(classKey(module, className));
}

/** Resolves when the class is registered (or at once if it already is). */
export function onActorClass(module: string, className: string, cb: (cls: Function) => void): () => void {
  const key = classKey(module, className);
  const existing = classes.get(key);
  if (existing) {
    cb(existing);
    return () => {};
  }
  const listener = (k: string): void => {
    if (k === key) {
      events.off('registered', listener);
      cb(classes.get(key)!);
    }
  };
  events.on('registered', listener);
  return () => events.off('registered', listener);
}
