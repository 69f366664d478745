/**
 * Actors on two hosts under a real Slurm: a cluster of network namespaces on this machine
 * (testing/slurm-cluster.sh), each node its own host with its own address. Skipped, with the
 * reason, where such a cluster cannot be started (not root, no namespaces).
 */
import test from 'ava';
import { spawn as spawnProcess, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import {
  ActorDiedError, TensorwireError, createCollectiveGroup, get, init, shutdown, spawn, type ActorHandle,
} from '@tensorwire/core';
import { SlurmLauncher } from '../index';
import { clusterUnavailable, startCluster, type TestCluster } from '../testing';
import { HostActor } from './fixtures/host-actors';

const unavailable = clusterUnavailable();
const serial = unavailable ? test.skip : test.serial;
const why = unavailable ? ` (skipped: no Slurm cluster here: ${unavailable})` : '';
const REPO = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(path.dirname(require.resolve('@tensorwire/core/package.json')), 'dist', 'cli', 'main.js');

/** core's test peer (frames as the control plane speaks them). */
const TEST_PEER = path.join(path.dirname(CLI), '..', 'test', 'fixtures', 'test-peer.js');

let cluster: TestCluster;
let jobId: string;

if (!unavailable) {
  test.before(() => {
    cluster = startCluster(2);
    process.env.SLURM_CONF = cluster.env.SLURM_CONF; // for this process's srun
    jobId = cluster.allocate(2);
  });
  test.after.always(() => {
    void shutdown({ graceMs: 0 }).catch(() => {});
    cluster?.down();
  });
}

async function initSlurm(): Promise<SlurmLauncher> {
  const launcher = new SlurmLauncher({ jobId, env: cluster.env });
  await init({ launcher, actorStartTimeoutMs: 30_000 });
  return launcher;
}

/** Listening TCP sockets in a node's namespace (or this one's): [local address, process]. */
async function listeners(node?: string): Promise<Array<[string, string]>> {
  const r = node ? await cluster.inNode(node, 'ss', ['-Hltnp']) : spawnSync('ss', ['-Hltnp'], { encoding: 'utf8' });
  return String(r.stdout).split('\n').filter(Boolean).map((l) => {
    const cols = l.trim().split(/\s+/);
    return [cols[3]!, cols.slice(5).join(' ')];
  });
}

serial(`the spec's gloo walkthrough runs unchanged across two hosts, Slurm chosen by importing the package${why}`, async (t) => {
  const main = path.join(REPO, 'examples', 'dist', 'gloo-walkthrough', 'main.js');
  const env = { ...cluster.env, SLURM_JOB_ID: jobId, TENSORWIRE_SLURM_DISTRIBUTION: 'spread' };
  const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
    const p = spawnProcess(process.execPath, ['-r', '@tensorwire/slurm', main], { env, cwd: REPO });
    let text = '';
    p.stdout.on('data', (b) => (text += b));
    p.stderr.on('data', (b) => (text += b));
    p.on('close', (code) => resolve({ code, text }));
  });
  t.log(out.text.split('\n').filter((l) => /^\[|@tw-node|sum|done/.test(l)).join('\n'));
  t.is(out.code, 0, out.text);
  t.regex(out.text, /\(MyActor sender@tw-node1\)/);
  t.regex(out.text, /\(MyActor receiver@tw-node2\)/);
  t.regex(out.text, /\ndone\n/);
});

serial(`gloo and nixl move tensors between actors on two hosts, over the nodes' own addresses${why}`, async (t) => {
  await initSlurm();
  t.teardown(() => shutdown({ graceMs: 0 }));
  const [n1, n2] = cluster.nodes as [string, string];
  const a = await spawn(HostActor, { name: 'a', node: n1 });
  const b = await spawn(HostActor, { name: 'b', node: n2 });
  const [wa, wb] = await get([a.where.remote(), b.where.remote()]);
  t.like(wa, { hostname: n1, slurmNode: n1, glooHost: cluster.addresses[0], nixlHost: cluster.addresses[0] });
  t.like(wb, { hostname: n2, slurmNode: n2, glooHost: cluster.addresses[1], nixlHost: cluster.addresses[1] });
  await createCollectiveGroup([a, b], { backend: 'gloo' });
  const N = 1 << 20;
  t.is(await get(b.sum.remote(a.glooTensor.remote(N, 2))), 2 * N, 'gloo a@node1 -> b@node2');
  t.is(await get(a.sum.remote(b.nixlTensor.remote(N, 3))), 3 * N, 'nixl b@node2 -> a@node1');
  const copy = await get(b.nixlTensor.remote(1000, 4));
  t.is(copy.sum(), 4000, "get() in the driver reads from node2's nixl agent");
  // No port binds an address it was not asked to: every listener of the actors is on its
  // node's address, the driver's on the bridge address, none on a wildcard.
  for (const [i, node] of [n1, n2].entries()) {
    const mine = (await listeners(node)).filter(([, p]) => /"node"/.test(p));
    t.true(mine.length > 0, `the actor on ${node} listens (gloo, UCX)`);
    for (const [addr, p] of mine) t.true(addr.startsWith(`${cluster.addresses[i]}:`), `${node}: ${addr} ${p}`);
  }
  const driver = (await listeners()).filter(([, p]) => p.includes(`pid=${process.pid},`));
  t.true(driver.length > 0);
  for (const [addr] of driver) t.true(addr.startsWith(`${cluster.hostAddress}:`) || addr.startsWith('127.0.0.1:'), `driver: ${addr}`);
});

serial(`the control plane refuses a joiner from another host without the token, or pinning another certificate${why}`, async (t) => {
  await initSlurm();
  t.teardown(() => shutdown({ graceMs: 0 }));
  const a = await spawn(HostActor, { name: 'a', node: cluster.nodes[0] });
  const address = await driverAddress();
  // 1. A hello without the token, over TLS, from node2: closed with no reply.
  const probe = `const tls=require('tls');const {frameOf}=require(process.env.PEER);const [h,p]=process.env.DRIVER.split(':');` +
    `const s=tls.connect({host:h,port:+p,rejectUnauthorized:false},()=>s.write(frameOf({t:'hello',i:1,b:{actorId:'a1',pid:1}})));` +
    `let n=0;s.on('data',d=>n+=d.length);s.on('error',()=>{});s.on('close',()=>console.log('closed after',n,'bytes'));`;
  const r1 = await cluster.inNode(cluster.nodes[1]!, process.execPath, ['-e', probe], { DRIVER: address, PEER: TEST_PEER });
  t.regex(String(r1.stdout), /closed after 0 bytes/, String(r1.stderr));
  // 2. `tensorwire worker` on node2 handed a wrong fingerprint: refuses before sending the token.
  const r2 = await cluster.inNode(cluster.nodes[1]!, process.execPath, [CLI, 'worker', '--driver', address, '--actor', 'a9', '--cert-sha256', 'AB'.repeat(32)], { TENSORWIRE_TOKEN: 'x'.repeat(32) });
  t.is(r2.status, 1);
  t.regex(String(r2.stderr), /refusing to join/);
  t.is(await get(a.pid.remote()) > 0, true, 'the actor is unaffected');
});

/** The driver's control address (host:port) from its environment handed to actors. */
async function driverAddress(): Promise<string> {
  const l = (await listeners()).find(([addr, p]) => p.includes(`pid=${process.pid},`) && addr.startsWith(`${cluster.hostAddress}:`));
  return l![0];
}

serial(`a step Slurm cannot start ends the actor with Slurm's reason${why}`, async (t) => {
  await initSlurm();
  t.teardown(() => shutdown({ graceMs: 0 }));
  const err = await t.throwsAsync(spawn(HostActor, { numGpus: 1 }), { instanceOf: ActorDiedError });
  t.regex(err!.message, /Slurm: srun: error: .*gres/i);
  const err2 = await t.throwsAsync(spawn(HostActor, { node: 'tw-node9' }), { instanceOf: ActorDiedError });
  t.regex(err2!.message, /Slurm: .*(node|Invalid)/i);
  t.log(err!.message, '\n', err2!.message);
});

serial(`a node that dies mid-transfer: typed errors, and the other host's actor lives on${why}`, async (t) => {
  await initSlurm();
  t.teardown(() => shutdown({ graceMs: 0 }));
  const [n1, n2] = cluster.nodes as [string, string];
  const a: ActorHandle<HostActor> = await spawn(HostActor, { name: 'a', node: n1 });
  const b: ActorHandle<HostActor> = await spawn(HostActor, { name: 'b', node: n2 });
  await createCollectiveGroup([a, b], { backend: 'gloo' });
  const N = 16 << 20; // 64 MiB a transfer
  const calls = Array.from({ length: 12 }, (_, i) => (i % 2 ? a.sum.remote(b.glooTensor.remote(N, 1)) : a.sum.remote(b.nixlTensor.remote(N, 1))));
  await get(calls[0]!);
  cluster.killNode(n2);
  const results = await Promise.allSettled(calls.map((c) => get(c, { timeoutMs: 60_000 })));
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
  t.true(failures.length > 0, 'calls after the node died fail');
  for (const e of failures) t.true(e instanceof TensorwireError, `${e.name}: ${e.message}`);
  t.log([...new Set(failures.map((e) => `${e.name}: ${e.message.slice(0, 160)}`))].join('\n'));
  const dead = await t.throwsAsync(get(b.pid.remote()), { instanceOf: ActorDiedError });
  t.regex(dead!.message, /actor b died/);
  t.true((await get(a.pid.remote())) > 0, 'the actor on the other host lives on');
});
