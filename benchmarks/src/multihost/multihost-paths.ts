/**
 * The actor-to-actor paths across two hosts: a Slurm cluster of network namespaces on this
 * machine (@tensorwire/slurm/testing), sender on one node and receiver on the other, each path
 * labelled "2 hosts: ..." beside the same paths on one host that run-all measures before.
 * Optional at run time: where no cluster can be started (not root, no namespaces) it returns
 * nothing and says why. The two "hosts" share this machine's CPUs and memory: the figures show
 * what the network stack (veth, bridge, TLS control plane) costs, not a real network's speed.
 */
import { init, shutdown, spawn } from '@tensorwire/core';
import { SlurmLauncher } from '@tensorwire/slurm';
import { clusterUnavailable, startCluster } from '@tensorwire/slurm/testing';
import type { Measurement } from '../harness/stats';
import { BenchActor } from '../suites/bench-actor';
import { sectionPaths, type Section } from '../suites/transports';

export async function multihostPaths(
  sections: readonly Section[],
  sizes: readonly number[],
  say: (line: string) => void,
): Promise<Measurement[]> {
  const why = clusterUnavailable();
  if (why) {
    say(`  skipped: no Slurm cluster can be started here: ${why}`);
    return [];
  }
  const cluster = startCluster(2);
  const conf = process.env.SLURM_CONF;
  process.env.SLURM_CONF = cluster.env.SLURM_CONF;
  try {
    const jobId = cluster.allocate(2);
    await init({ launcher: new SlurmLauncher({ jobId, env: cluster.env }) });
    try {
      const a = await spawn(BenchActor, { name: 'bench-sender', node: cluster.nodes[0] });
      const b = await spawn(BenchActor, { name: 'bench-receiver', node: cluster.nodes[1] });
      const out = await sectionPaths(a, b, sections, sizes, say);
      return out.map((m) => ({ ...m, path: `2 hosts: ${m.path}` }));
    } finally {
      await shutdown({ graceMs: 0 });
    }
  } finally {
    if (conf === undefined) delete process.env.SLURM_CONF;
    else process.env.SLURM_CONF = conf;
    cluster.down();
  }
}
