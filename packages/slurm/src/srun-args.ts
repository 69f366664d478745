/** The srun command line of one actor's job step. */
import { InvalidArgumentError, type Placement } from '@tensorwire/core/spi';

export interface StepArgsInput {
  readonly jobId: string;
  /** The actor's name (the step's name: `tw-<name>` in squeue). */
  readonly name: string;
  readonly placement?: Placement;
  /** The node chosen by the launcher when spawn named none (distribution 'spread'). */
  readonly node?: string;
  /** Extra srun options given to the launcher. */
  readonly srunArgs?: readonly string[];
  /** The command the step runs. */
  readonly command: readonly string[];
}

/**
 * `srun --jobid=J -N1 -n1 --exact ...`: one task on one node, with only the resources it asks
 * for (so steps share the allocation's nodes), GPUs through `--gpus` (Slurm's gres binding
 * sets the step's CUDA_VISIBLE_DEVICES), the environment of the driver (`--export=ALL`, which
 * carries the join settings), `-v` for the step id and node, `--kill-on-bad-exit`.
 *
 * @throws InvalidArgumentError for a fraction of a GPU (Slurm gives steps whole GPUs).
 */
export function stepArgs(input: StepArgsInput): string[] {
  const numGpus = input.placement?.numGpus ?? 0;
  if (!Number.isInteger(numGpus)) {
    throw new InvalidArgumentError(
      `spawn(${input.name}): numGpus ${numGpus}: a Slurm job step gets whole GPUs; ask for ${Math.ceil(numGpus)}, ` +
        'or share GPUs through Slurm (gres shards, MPS) and pass the option in srunArgs',
    );
  }
  const node = input.placement?.node ?? input.node;
  return [
    `--jobid=${input.jobId}`,
    `--job-name=tw-${input.name}`,
    '--nodes=1',
    '--ntasks=1',
    '--exact',
    '--export=ALL',
    '--kill-on-bad-exit=1',
    '--verbose',
    ...(numGpus > 0 ? [`--gpus=${numGpus}`] : []),
    ...(node !== undefined ? [`--nodelist=${node}`] : []),
    ...(input.srunArgs ?? []),
    ...input.command,
  ];
}
