/** The Slurm launcher's pure parts: the step's srun line, reading srun's output, the allocation. */
import test from 'ava';
import { InvalidArgumentError, RuntimeStateError } from '@tensorwire/core';
import { LineSplitter, classifyLine, deathReason } from '../slurm-output';
import { stepArgs } from '../srun-args';
import { SlurmLauncher } from '../slurm-launcher';

test('a step is one task on one node with only what it asks for; numGpus and node become --gpus and --nodelist', (t) => {
  const args = stepArgs({ jobId: '42', name: 'trainer', placement: { numGpus: 2, node: 'gpu-07' }, srunArgs: ['--mem=4G'], command: ['node', 'w.js'] });
  t.deepEqual(args.slice(0, 7), ['--jobid=42', '--job-name=tw-trainer', '--nodes=1', '--ntasks=1', '--exact', '--export=ALL', '--kill-on-bad-exit=1']);
  t.true(args.includes('--gpus=2'));
  t.true(args.includes('--nodelist=gpu-07'));
  t.deepEqual(args.slice(-3), ['--mem=4G', 'node', 'w.js']);
  t.false(stepArgs({ jobId: '42', name: 'x', command: ['node'] }).some((a) => a.startsWith('--gpus') || a.startsWith('--nodelist')));
  t.true(stepArgs({ jobId: '42', name: 'x', node: 'n2', command: ['node'] }).includes('--nodelist=n2'), "the launcher's spread choice");
  t.throws(() => stepArgs({ jobId: '42', name: 'x', placement: { numGpus: 0.5 }, command: [] }), { instanceOf: InvalidArgumentError, message: /whole GPUs; ask for 1/ });
});

test("srun's lines: the step and node, Slurm's reasons, and the actor's own output", (t) => {
  t.deepEqual(classifyLine('srun: launching StepId=4.0 on host tw-node2, 1 tasks: 0'), { kind: 'launched', stepId: '4.0', node: 'tw-node2' });
  t.deepEqual(classifyLine('srun: error: Invalid generic resource (gres) specification'), { kind: 'reason', text: 'srun: error: Invalid generic resource (gres) specification' });
  t.is(classifyLine('slurmstepd: error: *** STEP 4.1 ON tw-node2 CANCELLED AT 2026-12-01T08:00:00 ***').kind, 'reason');
  t.is(classifyLine('srun: jobid 4: nodes(2):`tw-node[1-2]\', cpu counts: 4(x2)').kind, 'slurm');
  t.is(classifyLine('loss 0.25 error bars').kind, 'actor');
  t.is(deathReason([]), undefined);
  t.is(deathReason(['a', 'b', 'c', 'd']), 'Slurm: b; c; d');
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  s.push('one\ntw');
  s.push('o\nthree');
  s.end();
  t.deepEqual(lines, ['one', 'two', 'three']);
});

test('outside an allocation the launcher says how to get one', (t) => {
  t.throws(() => new SlurmLauncher({ env: {} }), { instanceOf: RuntimeStateError, message: /not inside a Slurm allocation .*sbatch/ });
  t.throws(() => new SlurmLauncher({ jobId: '1', env: {}, distribution: 'wide' as 'spread' }), { instanceOf: RuntimeStateError, message: /distribution/ });
});
