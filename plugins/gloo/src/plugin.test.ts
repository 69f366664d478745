import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { getTransport, registeredTransports } from '@tensorwire/core';
import { cpuTensor, fakeDeviceTensor, RendezvousHub } from '@tensorwire/conformance/testing';
import { glooPlugin, GLOO_SUPPORTS, GlooError, resolveHost } from './index';

/** A rendezvous store in this process (a group of one, or one whose other members never come). */
const memoryStore = (group: string) => new RendezvousHub().storeFor(group);

const ctx = { processName: 'test', options: {}, log: () => {} };

test('importing the package registers the gloo transport with its dist/index.js as module', (t) => {
  t.true(registeredTransports().includes('gloo'));
  const reg = getTransport('gloo');
  t.is(reg.plugin, glooPlugin);
  t.true(path.isAbsolute(reg.module));
  t.is(path.basename(reg.module), 'index.js');
  t.is(require(reg.module).glooPlugin, glooPlugin);
});

test('supports is static and describes a two-sided CPU transport', (t) => {
  t.deepEqual(JSON.parse(JSON.stringify(glooPlugin.supports)), {
    devices: ['cpu'],
    collectives: ['barrier', 'allreduce', 'broadcast'],
  });
  t.is(glooPlugin.supports, GLOO_SUPPORTS);
  t.is(glooPlugin.name, 'gloo');
  t.is(glooPlugin.kind, 'two-sided');
});

test('probe reports libgloo and the TCP host', async (t) => {
  const a = await glooPlugin.probe();
  t.true(a.available, a.detail);
  t.regex(a.detail, /^libgloo \d+\.\d+\.\d+, TCP on 127\.0\.0\.1$/);
});

test('probe never throws and says how to fix a missing addon', (t) => {
  const script = `require(${JSON.stringify(path.join(__dirname, 'index.js'))}).glooPlugin.probe().then(a => console.log(JSON.stringify(a)))`;
  const out = execFileSync(process.execPath, ['-e', script], {
    env: { ...process.env, TENSORWIRE_GLOO_ADDON: '/nonexistent/tensorwire_gloo.node' },
    encoding: 'utf8',
  });
  const a = JSON.parse(out);
  t.false(a.available);
  t.regex(a.detail, /not built/);
  t.regex(a.fix, /apt-get install libgloo-dev, then npm run build -w @tensorwire\/gloo/);
});

test('probe reports an unusable host as unavailable, with a fix', (t) => {
  const script = `require(${JSON.stringify(path.join(__dirname, 'index.js'))}).glooPlugin.probe().then(a => console.log(JSON.stringify(a)))`;
  const out = execFileSync(process.execPath, ['-e', script], {
    env: { ...process.env, TENSORWIRE_GLOO_HOST: '203.0.113.7' }, // TEST-NET-3: not a local address
    encoding: 'utf8',
  });
  const a = JSON.parse(out);
  t.false(a.available);
  t.regex(a.detail, /203\.0\.113\.7/);
  t.regex(a.fix, /TENSORWIRE_GLOO_HOST/);
});

test('createEndpoint fails with the actionable error when the addon is missing', (t) => {
  const script =
    `require(${JSON.stringify(path.join(__dirname, 'index.js'))}).glooPlugin.createEndpoint({processName:'x',options:{},log(){}})` +
    `.then(() => console.log('created'), e => console.log(e.code + ': ' + e.message))`;
  const out = execFileSync(process.execPath, ['-e', script], {
    env: { ...process.env, TENSORWIRE_GLOO_ADDON: '/nonexistent/tensorwire_gloo.node' },
    encoding: 'utf8',
  });
  t.regex(out, /^GLOO_UNAVAILABLE: .*apt-get install libgloo-dev, then npm run build -w @tensorwire\/gloo/);
});

test('host comes from options, then TENSORWIRE_GLOO_HOST, then 127.0.0.1', (t) => {
  const saved = process.env.TENSORWIRE_GLOO_HOST;
  try {
    delete process.env.TENSORWIRE_GLOO_HOST;
    t.is(resolveHost({}), '127.0.0.1');
    process.env.TENSORWIRE_GLOO_HOST = '10.1.2.3';
    t.is(resolveHost({}), '10.1.2.3');
    t.is(resolveHost({ host: '192.168.0.9' }), '192.168.0.9');
    t.throws(() => resolveHost({ host: 5 }), { instanceOf: TypeError });
  } finally {
    if (saved === undefined) delete process.env.TENSORWIRE_GLOO_HOST;
    else process.env.TENSORWIRE_GLOO_HOST = saved;
  }
});

test('a one-rank group: collectives are identities, bad ranks and device tensors are refused', async (t) => {
  const endpoint = await glooPlugin.createEndpoint(ctx);
  const g = await endpoint.createGlooGroup({ name: 'solo', rank: 0, worldSize: 1, rendezvous: memoryStore('solo'), timeoutMs: 5000 });
  await g.barrier();
  const f = new Float32Array([1.5, -2, 3]);
  await g.allreduce(cpuTensor(f), 'float32', 'sum');
  t.deepEqual(Array.from(f), [1.5, -2, 3]);
  await g.broadcast(cpuTensor(f), 0);

  const self = await t.throwsAsync<GlooError>(g.send([cpuTensor(new Uint8Array(4))], 0, 1));
  t.is(self?.code, 'GLOO_INVALID_RANK');
  t.regex(self!.message, /own rank/);
  const far = await t.throwsAsync<GlooError>(g.recv([cpuTensor(new Uint8Array(4))], 3, 1));
  t.is(far?.code, 'GLOO_INVALID_RANK');
  t.true(far instanceof GlooError);
  const cuda = await t.throwsAsync<GlooError>(g.send([fakeDeviceTensor('cuda:0', 4)], 0, 1));
  t.is(cuda?.code, 'GLOO_DEVICE_TENSOR');
  t.regex(cuda!.message, /CPU tensors only.*cuda:0/);
  const dtype = await t.throwsAsync<GlooError>(g.allreduce(cpuTensor(new Uint8Array(4)), 'complex64'));
  t.is(dtype?.code, 'GLOO_UNSUPPORTED');
  const odd = await t.throwsAsync<GlooError>(g.allreduce(cpuTensor(new Uint8Array(6)), 'float32'));
  t.is(odd?.code, 'ERR_OUT_OF_RANGE');
  t.false(g.broken, 'argument errors do not break the group');

  await g.destroy();
  await g.destroy();
  t.true(g.broken);
  t.is(g.brokenCode, 'GLOO_DESTROYED');
  const after = await t.throwsAsync<GlooError>(g.barrier());
  t.is(after?.code, 'GLOO_DESTROYED');
  await endpoint.close();
});

test('createGroup refuses a rank outside the world', async (t) => {
  const endpoint = await glooPlugin.createEndpoint(ctx);
  const err = await t.throwsAsync<GlooError>(endpoint.createGroup({ name: 'x', rank: 2, worldSize: 2, rendezvous: memoryStore('x'), timeoutMs: 1000 }));
  t.is(err?.code, 'GLOO_INVALID_RANK');
  t.regex(err!.message, /rank 2 is out of range for worldSize 2/);
  await endpoint.close();
});

test('a rendezvous that never completes ends in a GLOO_TIMEOUT connect error', async (t) => {
  const endpoint = await glooPlugin.createEndpoint(ctx);
  // Rank 0 of 2 alone: nobody ever writes rank 1's address.
  const err = await t.throwsAsync<GlooError>(endpoint.createGroup({ name: 'lonely', rank: 0, worldSize: 2, rendezvous: memoryStore('lonely'), timeoutMs: 800 }));
  t.is(err?.code, 'GLOO_TIMEOUT');
  t.regex(err!.message, /connect failed/);
  await endpoint.close();
});
