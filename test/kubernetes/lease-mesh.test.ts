// Several reflectors through coordination.k8s.io Leases: each announces itself, all see rr_v4/rr_v6 entries
// for the live ones; a stopped reflector leaves at once, a SIGKILLed one when its Lease expires.
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/index.js';
import { desiredSessions } from '../../src/datastore/calico-sessions.js';
import {
  createKubernetesSource,
  type KubernetesKeySource,
} from '../../src/datastore/kubernetes/kubernetes-source.js';
import { kubernetesSourceFromConfig } from '../../src/app/kubernetes-key-source.js';
import { KubeApiError, KubeClient } from '../../src/datastore/kubernetes/client.js';
import { desiredLease, leaseName, leasesPath } from '../../src/datastore/kubernetes/lease.js';
import { loadKubeConnection } from '../../src/datastore/kubernetes/kubeconfig.js';
import { FakeApiServer, FakeStore, type Obj } from './fake-apiserver.js';
import { bgpPeer, K, node, Recorder, tmpDir, writeKubeconfig, V3, resource } from './helpers.js';
import { makePki } from './pki.js';
import { spawnChild } from '../helpers/child.js';
import { claimLoopbackNet } from '../helpers/net.js';

const HOST = (await claimLoopbackNet()).host(1);
const NS = 'calico-rr';
const READ = ['list nodes', 'watch nodes', 'list bgppeers', 'watch bgppeers', 'list bgpconfigurations', 'watch bgpconfigurations'];
const LEASES = ['list leases', 'watch leases', 'get leases', 'create leases', 'update leases', 'delete leases'];
const PKI = makePki(HOST);
const TLS = { key: PKI.serverKey, cert: PKI.serverCert, ca: PKI.caCert };
const cleanups: Array<() => Promise<void> | void> = [];
const children: ChildProcess[] = [];
test.after.always(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
});

async function setup(): Promise<{ server: FakeApiServer; store: FakeStore; kc: string }> {
  const store = new FakeStore();
  store.create('nodes', node('n1', '10.0.1.1/24'));
  store.create('bgppeers', bgpPeer('to-rr', '10.0.0.1', 64512));
  const server = await FakeApiServer.start(
    {
      host: HOST,
      tls: TLS,
      tokens: { t: 'rr', readonly: 'ro', nowrite: 'nw' },
      rbac: { rr: [...READ, ...LEASES], ro: READ, nw: [...READ, 'list leases', 'watch leases'] },
      bookmarkIntervalMs: 200,
    },
    store,
  );
  cleanups.push(() => server.stop());
  const kc = writeKubeconfig(tmpDir('kc-'), { server: server.url, caData: PKI.caCert, token: 't', namespace: NS });
  return { server, store, kc };
}

async function reflector(kc: string, ip: string, extra: { ip6?: string; clusterId?: string; token?: string } = {}): Promise<{ src: KubernetesKeySource; rec: Recorder }> {
  const path = extra.token === undefined ? kc : writeKubeconfig(tmpDir('kc-'), { server: loadKubeConnection(kc).server, caData: PKI.caCert, token: extra.token, namespace: NS });
  const src = createKubernetesSource({
    kubeconfigPath: path,
    register: true,
    ip,
    ip6: extra.ip6,
    clusterId: extra.clusterId,
    leaseDurationSeconds: 2,
    initialBackoffMs: 50,
    maxBackoffMs: 300,
  });
  const rec = new Recorder();
  cleanups.push(() => src.stop());
  await src.start(rec);
  return { src, rec };
}

const rr = (ip: string): string => `${K}/rr_v4/${ip}`;

test('two reflectors mesh through Leases; a deregistered one deletes its Lease and leaves at once', async (t) => {
  const { server, store, kc } = await setup();
  const a = await reflector(kc, '10.0.0.1', { ip6: 'fd00::1', clusterId: '1.0.0.1' });
  const b = await reflector(kc, '10.0.0.2');
  for (const [name, x] of [['A', a], ['B', b]] as const) {
    await x.rec.until(`${name} sees both`, (r) => r.keys.has(rr('10.0.0.1')) && r.keys.has(rr('10.0.0.2')));
  }
  t.is(a.rec.first?.get(rr('10.0.0.1')), '{"ip":"10.0.0.1","cluster_id":"1.0.0.1"}', 'own entry already in the first snapshot');
  t.is(b.rec.keys.get(rr('10.0.0.1')), '{"ip":"10.0.0.1","cluster_id":"1.0.0.1"}');
  t.is(b.rec.keys.get(`${K}/rr_v6/fd00::1`), '{"ip":"fd00::1","cluster_id":"1.0.0.1"}');
  t.is(b.rec.keys.get(rr('10.0.0.2')), '{"ip":"10.0.0.2"}');
  t.is(resource(a.rec.keys, 'bgppeers', 'to-rr')?.spec.peerIP, '10.0.0.1', 'the rest of the datastore is there too');
  const leaseA = store.get('leases', NS, leaseName('10.0.0.1'))!;
  t.is((leaseA.metadata.labels as Record<string, string>)['projectcalico.org/route-reflector'], 'true');
  t.deepEqual(leaseA.metadata.annotations, {
    'projectcalico.org/IPv4Address': '10.0.0.1',
    'projectcalico.org/IPv6Address': 'fd00::1',
    'projectcalico.org/RouteReflectorClusterID': '1.0.0.1',
  });
  t.is((leaseA.spec as { leaseDurationSeconds: number }).leaseDurationSeconds, 2);

  // Renewals keep it alive past its duration.
  const firstRenew = (leaseA.spec as { renewTime: string }).renewTime;
  await new Promise((r) => setTimeout(r, 2500));
  t.true(b.rec.keys.has(rr('10.0.0.1')), 'still live after more than one lease duration');
  t.not((store.get('leases', NS, leaseName('10.0.0.1'))!.spec as { renewTime: string }).renewTime, firstRenew);

  await b.src.deregister();
  t.is(store.get('leases', NS, leaseName('10.0.0.2')), undefined, 'own Lease deleted on deregister');
  await a.rec.until('B left', (r) => !r.keys.has(rr('10.0.0.2')), 5000);
  await b.src.stop();
  const deletes = server.requests.filter((r) => r.method === 'DELETE');
  t.is(deletes.length, 1, 'stop after deregister does not delete again');
  t.true(a.rec.keys.has(rr('10.0.0.1')));
});

test('a reflector killed with SIGKILL drops out of the mesh when its Lease expires', async (t) => {
  const { store, kc } = await setup();
  const a = await reflector(kc, '10.0.0.1');
  const child = spawnChild(process.execPath, ['--import=tsx', 'test/kubernetes/lease-holder.ts'], {
    env: { KUBECONFIG: kc, RR_IP: '10.0.0.3', LEASE_SECONDS: '2' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  await a.rec.until('child joined', (r) => r.keys.has(rr('10.0.0.3')), 40_000);
  child.kill('SIGKILL');
  await once(child, 'exit');
  const killedAt = Date.now();
  await a.rec.until('child expired', (r) => !r.keys.has(rr('10.0.0.3')), 30_000);
  const lease = store.get('leases', NS, leaseName('10.0.0.3'));
  t.not(lease, undefined, 'the Lease object is still there: the drop came from its expiry, not from an event');
  const spec = lease!.spec as { renewTime: string; leaseDurationSeconds: number };
  const expiry = Date.parse(spec.renewTime) + spec.leaseDurationSeconds * 1000;
  t.true(Date.now() >= expiry, 'not dropped before expiry');
  // One lease duration (2 s) after the kill; the bound only catches a drop that never comes (a hang).
  t.true(Date.now() - killedAt < 30_000, 'dropped after the kill, not never');
  t.true(a.rec.keys.has(rr('10.0.0.1')));
});

test('Lease writes use optimistic concurrency: stale resourceVersion → 409, the keeper re-reads and goes on', async (t) => {
  const { server, store, kc } = await setup();
  const client = new KubeClient(loadKubeConnection(kc));
  cleanups.push(() => client.close());
  const path = `${leasesPath(NS)}/x`;
  const created = await client.create(leasesPath(NS), { metadata: { name: 'x' }, spec: { leaseDurationSeconds: 5 } });
  const stale = structuredClone(created);
  await client.update(path, { ...created, spec: { leaseDurationSeconds: 6 } });
  const err = await t.throwsAsync(client.update(path, stale), { instanceOf: KubeApiError });
  t.is(err!.status, 409);
  t.regex(err!.message, /the object has been modified/);
  const dup = await t.throwsAsync(client.create(leasesPath(NS), { metadata: { name: 'x' } }), { instanceOf: KubeApiError });
  t.is(dup!.status, 409);

  const a = await reflector(kc, '10.0.0.1');
  await a.rec.until('own Lease written', () => store.get('leases', NS, leaseName('10.0.0.1')) !== undefined);
  // Someone else writes our Lease (the keeper's resourceVersion is now stale).
  const mine = store.get('leases', NS, leaseName('10.0.0.1'))!;
  const tampered: Obj = structuredClone(mine);
  (tampered.metadata.annotations as Record<string, string>)['projectcalico.org/IPv4Address'] = '10.9.9.9';
  store.apply('leases', tampered);
  const conflictsBefore = server.requests.filter((r) => r.verb === 'update' && r.status === 409).length;
  await a.rec.until('annotation restored by the next renewal', () => {
    const cur = store.get('leases', NS, leaseName('10.0.0.1'))!;
    return (cur.metadata.annotations as Record<string, string>)['projectcalico.org/IPv4Address'] === '10.0.0.1';
  }, 4000);
  t.true(server.requests.filter((r) => r.verb === 'update' && r.status === 409).length > conflictsBefore, 'a 409 happened');
  t.false(a.rec.problems.some((p) => /renew failed/.test(p)), a.rec.problems.join('\n'));
});

test('without rights on Leases the problem names the missing permission', async (t) => {
  const { kc } = await setup();
  // Cannot even list Leases: no snapshot (the mesh would be incomplete), a clear problem instead.
  const ro = await reflector(kc, '10.0.0.5', { token: 'readonly' });
  await ro.rec.until('403 on listing leases', (r) => r.problems.some((p) => /list leases/.test(p) && /403/.test(p)));
  t.regex(ro.rec.problems.join('\n'), /missing RBAC permission: verb "list" on resource "leases" in API group "coordination.k8s.io" at namespace calico-rr/);
  t.is(ro.rec.snapshots, 0);
  // May read Leases but not write its own: the mesh runs, and the failed write is named.
  const wo = await reflector(kc, '10.0.0.6', { token: 'nowrite' });
  await wo.rec.until('403 on writing the lease', (r) => r.problems.some((p) => /renew failed/.test(p) && /403/.test(p)));
  t.regex(wo.rec.problems.join('\n'), /missing RBAC permission on leases.coordination.k8s.io in namespace calico-rr: get, create, update, delete/);
  t.is(wo.rec.snapshots, 1);
});

test('from Config to PeerSpecs: the Calico mapping meshes two Kubernetes-registered reflectors', async (t) => {
  const { kc } = await setup();
  const env = { DATASTORE_TYPE: 'kubernetes', KUBECONFIG: kc, IP: '10.0.0.1', RR_CLUSTER_ID: '1.0.0.1', RR_REGISTER_TTL: '2' };
  const config = loadConfig(env, { cwd: tmpDir('cfg-') });
  const src = kubernetesSourceFromConfig(config, { initialBackoffMs: 50, maxBackoffMs: 300 });
  cleanups.push(() => src.stop());
  const rec = new Recorder();
  await src.start(rec);
  await reflector(kc, '10.0.0.2');
  await rec.until('both registered', (r) => r.keys.has(rr('10.0.0.1')) && r.keys.has(rr('10.0.0.2')));
  // The Lease mesh (v1 rr entries) and the BGPPeer naming us (a v3 reverse peering with node n1), merged.
  const { peers } = desiredSessions(rec.keys, { ip: config.identity.ip, port: 179, clusterId: config.datastore.register?.clusterId });
  const byName = new Map(peers.map((p) => [p.name, p]));
  t.deepEqual([...byName.keys()], ['Mesh_10_0_0_2', 'Node_10_0_1_1']);
  t.is(byName.get('Mesh_10_0_0_2')?.routeReflectorClient, false);
  t.is(byName.get('Node_10_0_1_1')?.clusterId, '1.0.0.1', 'registered: own cluster ID on client sessions');
  t.is(byName.get('Node_10_0_1_1')?.routeReflectorClient, true);
  t.is(byName.get('Node_10_0_1_1')?.peerAs, 64512);
  t.false(byName.has('Mesh_10_0_0_1'), 'no session to ourselves');
});

test('the RBAC manifest in deploy/kubernetes grants enough: a registered reflector meets no 403', async (t) => {
  const text = readFileSync('deploy/kubernetes/overlays/kubernetes/rbac-route-reflector.yaml', 'utf8');
  const rules: string[] = [];
  for (const doc of text.split(/^---$/m)) {
    const obj = parseYaml(doc) as { kind?: string; rules?: Array<{ resources: string[]; verbs: string[] }> };
    if (obj.kind !== 'ClusterRole' && obj.kind !== 'Role') continue;
    for (const r of obj.rules ?? []) for (const res of r.resources) for (const v of r.verbs) rules.push(`${v} ${res}`);
  }
  t.true(rules.includes('watch nodes'));
  const store = new FakeStore();
  store.create('nodes', node('n1', '10.0.1.1/24'));
  const sa = 'system:serviceaccount:kube-system:calico-bgp-reflector';
  const server = await FakeApiServer.start({ host: HOST, tls: TLS, tokens: { sa }, rbac: { [sa]: rules } }, store);
  cleanups.push(() => server.stop());
  const kc = writeKubeconfig(tmpDir('kc-'), { server: server.url, caData: PKI.caCert, token: 'sa', namespace: 'kube-system' });
  const a = await reflector(kc, '10.0.0.7');
  await a.rec.until('registered', (r) => r.keys.has(rr('10.0.0.7')) && r.keys.has(`${V3}/nodes/n1`));
  await a.src.stop();
  t.deepEqual(server.requests.filter((r) => r.status === 403), []);
  t.deepEqual(a.rec.problems, []);
  t.is(store.get('leases', 'kube-system', leaseName('10.0.0.7')), undefined, 'deleted on stop');
});

test('Lease expiry is judged on our own clock: skewed holders neither flap nor linger, dead ones stay out', async (t) => {
  const { store, kc } = await setup();
  const hour = 3_600_000;
  const lease = (ip: string, renewMs: number): Obj => desiredLease({ namespace: NS, ip, leaseDurationSeconds: 2 }, renewMs) as Obj;
  store.create('leases', lease('10.0.0.40', Date.now() - hour)); // dead for an hour (or a clock an hour behind)
  store.create('leases', lease('10.0.0.41', Date.now() + hour)); // a holder whose clock is an hour ahead
  const a = await reflector(kc, '10.0.0.1');
  await a.rec.until('snapshot', (r) => r.snapshots === 1);
  t.false(a.rec.keys.has(rr('10.0.0.40')), 'an old renewTime seen for the first time is expired');
  t.true(a.rec.keys.has(rr('10.0.0.41')), 'a future renewTime is live');
  // The "dead" one renews, with its clock still an hour behind: it counts from when we saw the renewal.
  store.apply('leases', lease('10.0.0.40', Date.now() - hour + 1000));
  await a.rec.until('behind-clock holder live after renewing', (r) => r.keys.has(rr('10.0.0.40')), 5000);
  // Neither renews again: both drop one duration (2 s) after we last saw them, not an hour later.
  const t0 = Date.now();
  await a.rec.until('both expired', (r) => !r.keys.has(rr('10.0.0.40')) && !r.keys.has(rr('10.0.0.41')), 8000);
  t.true(Date.now() - t0 >= 1000, 'not before their duration');
  t.true(a.rec.keys.has(rr('10.0.0.1')));
});
