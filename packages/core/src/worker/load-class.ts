/**
 * Loads an actor class in an actor process: imports its module (ESM or CommonJS) and takes
 * the class that `@actor()` registered while the module evaluated. A module still awaiting
 * top-level code is fine: the class is taken as soon as its decorator has run.
 */
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError } from '../errors/errors';
import { onActorClass } from '../actor/class-registry';

// tsc would turn a literal import() into require() in CommonJS output; keep a real import().
const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<unknown>;

export function loadActorClass(module: string, className: string): Promise<Function> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const stop = onActorClass(module, className, (cls) => {
      settled = true;
      resolve(cls);
    });
    if (settled) return;
    dynamicImport(pathToFileURL(module).href).then(
      () => {
        if (settled) return;
        stop();
        reject(
          new InvalidArgumentError(
            `class ${className} was not found when loading ${module}: define it at the top level of that module ` +
              `with @actor() (and export it), not inside a function`,
          ),
        );
      },
      (err: Error) => {
        if (settled) return;
        stop();
        const e = new InvalidArgumentError(`actor process could not load ${module}: ${err.message}`);
        e.stack += `\nCaused by: ${err.stack}`;
        reject(e);
      },
    );
  });
}
