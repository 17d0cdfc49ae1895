// The seed's Kubernetes start line with the real process: two reflectors (DATASTORE_TYPE=kubernetes, KUBECONFIG,
// IP, RR_REGISTER) configure their mesh through Leases (seen with the real birdc); one SIGKILLed leaves it.
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { FakeApiServer, FakeStore } from './fake-apiserver.js';
import { bgpPeer, node, tmpDir, writeKubeconfig } from './helpers.js';
import { makePki } from './pki.js';
import { execChild, spawnChild } from '../helpers/child.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();
const API = NET.host(9);
const RR1 = NET.host(1);
const RR2 = NET.host(2);
const BGP_PORT = '17911';
const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
test.after.always(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

function startReflector(ip: string, kc: string): { proc: ChildProcess; sockets: string } {
  const sockets = tmpDir('rr-sock-');
  const proc = spawnChild(process.execPath, ['--import=tsx', 'src/main.ts'], {
    env: {
      DATASTORE_TYPE: 'kubernetes',
      KUBECONFIG: kc,
      IP: ip,
      RR_REGISTER: 'true',
      RR_REGISTER_TTL: '2',
      BGP_PORT,
      SOCKET_DIR: sockets,
      METRICS_LISTEN: 'off',
      LOG_FORMAT: 'json',
      LOG_LEVEL: process.env.RR_TEST_LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', process.env.RR_TEST_LOG_LEVEL !== undefined ? 'inherit' : 'ignore', 'inherit'],
  });
  children.push(proc);
  return { proc, sockets };
}

async function protocols(sockets: string): Promise<string> {
  try {
    const r = await execChild('birdc', ['-s', join(sockets, 'bird.ctl'), 'show', 'protocols'], { timeout: 5000 });
    return r.stdout;
  } catch (err) {
    return `birdc failed: ${(err as Error).message}`;
  }
}

async function until(what: string, sockets: string, pred: (out: string) => boolean, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let out = '';
  while (Date.now() < deadline) {
    out = await protocols(sockets);
    if (pred(out)) return out;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}; last output:\n${out}`);
}

test('two reflector processes mesh through Leases (Established); SIGKILL of one drops it after its Lease expires', async (t) => {
  const pki = makePki(API);
  const store = new FakeStore();
  store.create('nodes', node('worker-1', `${NET.host(20)}/24`));
  store.create('bgppeers', bgpPeer('to-rr1', RR1, 64512));
  const server = await FakeApiServer.start(
    { host: API, tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert }, tokens: { rr: 'rr' }, rbac: { rr: ['*'] } },
    store,
  );
  cleanups.push(() => server.stop());
  const kc = writeKubeconfig(tmpDir('kc-'), { server: server.url, caData: pki.caCert, token: 'rr', namespace: 'kube-system' });
  const a = startReflector(RR1, kc);
  const b = startReflector(RR2, kc);
  // Membership is what the Leases decide: each process configures a Mesh_ session to the other, and the two
  // sessions reach Established even though one side learned of the other first and refused it at that moment.
  const meshA = await until('RR1 Established with RR2', a.sockets, (o) => new RegExp(String.raw`Mesh_${NET.under(2)}\s+BGP\s+master\s+up\s+\S+\s+Established`).test(o), 60_000);
  // A global BGPPeer naming RR1 gives RR1, as calico-node would, a reverse Node_ session with every node.
  t.regex(meshA, new RegExp(String.raw`Node_${NET.under(20)}\s+BGP`), 'RR1 peers with the worker');
  const meshB = await until('RR2 Established with RR1', b.sockets, (o) => new RegExp(String.raw`Mesh_${NET.under(1)}\s+BGP\s+master\s+up\s+\S+\s+Established`).test(o), 30_000);
  t.notRegex(meshB, /Global_|Node_/, 'no BGPPeer names RR2');
  t.truthy(store.get('leases', 'kube-system', `calico-rr-${NET.host(1).replaceAll('.', '-')}`));

  b.proc.kill('SIGKILL');
  await once(b.proc, 'exit');
  const killedAt = Date.now();
  const after = await until('RR2 gone from RR1', a.sockets, (o) => !new RegExp(String.raw`Mesh_${NET.under(2)}`).test(o), 15_000);
  t.true(Date.now() - killedAt >= 500, 'not before the Lease expired');
  t.truthy(store.get('leases', 'kube-system', `calico-rr-${NET.host(2).replaceAll('.', '-')}`), 'the dead Lease is still there: expiry did it');
  t.regex(after, new RegExp(String.raw`Node_${NET.under(20)}`));

  a.proc.kill('SIGTERM');
  await once(a.proc, 'exit');
  t.is(store.get('leases', 'kube-system', `calico-rr-${NET.host(1).replaceAll('.', '-')}`), undefined, 'SIGTERM removed the Lease');
});
