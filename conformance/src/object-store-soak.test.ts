/**
 * The bounded soak over the object-store path (results without a tensor transport go through
 * the driver's object store), the transport-independent sibling of the suite's per-transport
 * soak: afterwards nothing is held by the actors, the store and object table are back to their
 * baseline, and no fd or child process leaked.
 */
import test from 'ava';
import { Registrar } from './registrar';
import { shutdownRuntime } from './system/runtime-env';
import { registerObjectStoreSoak } from './system/soak.tests';

const r = new Registrar(test, '[object-store] ');
registerObjectStoreSoak(r, Number(process.env.TENSORWIRE_SOAK_TRANSFERS ?? 8000));
r.after(shutdownRuntime);
