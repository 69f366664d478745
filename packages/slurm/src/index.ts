/**
 * `@tensorwire/slurm`: actors as Slurm job steps. Importing it registers the 'slurm' launcher
 * (`init({ launcher: 'slurm' })`) and, inside a Slurm allocation (SLURM_JOB_ID set), makes it
 * the default, so a driver script started by sbatch needs nothing else.
 * TENSORWIRE_SLURM=0 keeps the default launcher (local child processes) even there.
 *
 * @example
 * ```ts
 * import '@tensorwire/slurm';
 * import { init, spawn } from '@tensorwire/core';
 * await init();                                  // inside sbatch: actors are job steps
 * const a = await spawn(Trainer, { numGpus: 1 });
 * ```
 */
import { registerLauncher } from '@tensorwire/core/spi';
import { currentJobId } from './allocation';
import { SlurmLauncher } from './slurm-launcher';

export { SlurmLauncher, type SlurmLauncherOptions } from './slurm-launcher';
export { allocationNodes, currentJobId, type SlurmNode } from './allocation';

registerLauncher('slurm', {
  create: () => new SlurmLauncher(),
  isDefault: () => currentJobId() !== undefined && process.env.TENSORWIRE_SLURM !== '0',
});
