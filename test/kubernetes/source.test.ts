// KubernetesKeySource against the fake API server: first snapshot, live changes, 410 → re-list, broken watch
// and server restart → resume from the last resourceVersion, bookmarks, TLS client certs, 401 and 403.
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKubernetesSource, type KubernetesKeySource } from '../../src/datastore/kubernetes/kubernetes-source.js';
import { FakeApiServer, FakeStore } from './fake-apiserver.js';
import { bgpConfig, bgpPeer, node, Recorder, tmpDir, writeKubeconfig, nodeAddress, V3, resource } from './helpers.js';
import { makePki } from './pki.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();

const HOST = NET.host(1);
const TOKEN = 'rr-token';
const RBAC = { rr: ['list nodes', 'watch nodes', 'list bgppeers', 'watch bgppeers', 'list bgpconfigurations', 'watch bgpconfigurations'] };
const PKI = makePki(HOST);
const cleanups: Array<() => Promise<void>> = [];
test.after.always(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function startSource(server: FakeApiServer, extra: { token?: string; pageSize?: number } = {}): Promise<{ src: KubernetesKeySource; rec: Recorder }> {
  const kc = writeKubeconfig(tmpDir('kc-'), { server: server.url, caData: PKI.caCert, token: extra.token ?? TOKEN });
  const src = createKubernetesSource({
    kubeconfigPath: kc,
    register: false,
    ip: '10.0.0.10',
    initialBackoffMs: 50,
    maxBackoffMs: 300,
    pageSize: extra.pageSize,
  });
  const rec = new Recorder();
  cleanups.push(() => src.stop());
  await src.start(rec);
  return { src, rec };
}

async function startServer(store = new FakeStore(), port = 0, extra: Partial<Parameters<typeof FakeApiServer.start>[0]> = {}): Promise<FakeApiServer> {
  const s = await FakeApiServer.start(
    {
      host: HOST,
      port,
      tls: { key: PKI.serverKey, cert: PKI.serverCert, ca: PKI.caCert },
      tokens: { [TOKEN]: 'rr', weak: 'nobody' },
      rbac: RBAC,
      bookmarkIntervalMs: 100,
      ...extra,
    },
    store,
  );
  cleanups.push(() => s.stop());
  return s;
}

test('first snapshot holds the translated cluster, then live changes arrive as key changes', async (t) => {
  const store = new FakeStore();
  store.create('nodes', node('n1', '10.0.1.1/24'));
  store.create('nodes', node('n2', '10.0.1.2/24', 'fd00::2/64'));
  store.create('bgppeers', bgpPeer('rr-global', '10.0.0.10', 64512));
  store.create('bgpconfigurations', bgpConfig(64512));
  const server = await startServer(store);
  const { src, rec } = await startSource(server);
  await rec.until('snapshot', (r) => r.snapshots === 1);
  t.is(src.name, `kubernetes:${server.url}`);
  t.is(nodeAddress(rec.keys, `n1`, 4), '10.0.1.1');
  t.is(nodeAddress(rec.keys, `n2`, 6), 'fd00::2');
  t.deepEqual(resource(rec.keys, 'bgppeers', 'rr-global')?.spec, { peerIP: '10.0.0.10', asNumber: 64512 });
  t.is(resource(rec.keys, 'bgpconfigurations', 'default')?.spec.asNumber, 64512);

  // node added
  store.create('nodes', node('n3', '10.0.1.3/24'));
  await rec.until('n3 added', (r) => nodeAddress(r.keys, `n3`, 4) === '10.0.1.3');
  // address changed
  store.apply('nodes', node('n1', '10.0.2.1/24'));
  await rec.until('n1 moved', (r) => nodeAddress(r.keys, `n1`, 4) === '10.0.2.1');
  t.deepEqual(rec.changes.filter(([k]) => k === `${V3}/nodes/n1`).map(([, v]) => (JSON.parse(v!) as { spec: { bgp: { ipv4Address?: unknown } } }).spec.bgp.ipv4Address), ['10.0.2.1/24']);
  // node removed: all its keys go
  store.delete('nodes', undefined, 'n2');
  await rec.until('n2 removed', (r) => ![...r.keys.keys()].some((k) => k === `${V3}/nodes/n2`));
  // node-specific BGPPeer, then turned global
  store.create('bgppeers', bgpPeer('rr-n3', '10.0.0.11', 65000, 'n3'));
  await rec.until('node peer', (r) => resource(r.keys, 'bgppeers', 'rr-n3')?.spec.node === 'n3');
  store.apply('bgppeers', bgpPeer('rr-n3', '10.0.0.11', 65000));
  await rec.until('peer now global', (r) => resource(r.keys, 'bgppeers', 'rr-n3') !== undefined && resource(r.keys, 'bgppeers', 'rr-n3')?.spec.node === undefined);
  store.delete('bgppeers', undefined, 'rr-global');
  await rec.until('global peer gone', (r) => resource(r.keys, 'bgppeers', 'rr-global') === undefined);
  // BGPConfiguration AS
  store.apply('bgpconfigurations', bgpConfig(65100));
  await rec.until('AS changed', (r) => resource(r.keys, 'bgpconfigurations', 'default')?.spec.asNumber === 65100);
  store.delete('bgpconfigurations', undefined, 'default');
  await rec.until('AS unset', (r) => resource(r.keys, 'bgpconfigurations', 'default') === undefined);
  t.is(rec.snapshots, 1, 'no resync was needed');
  t.is(server.count('list', 'nodes'), 1);
  t.is(rec.problems.length, 0, rec.problems.join('\n'));
});

for (const goneAs of ['event', 'status'] as const) {
  test(`a resourceVersion that expired (410 as ${goneAs === 'event' ? 'an ERROR event' : 'HTTP status'}) → re-list and a new snapshot`, async (t) => {
    const store = new FakeStore();
    store.create('nodes', node('n1', '10.0.1.1/24'));
    store.create('nodes', node('n2', '10.0.1.2/24'));
    const server = await startServer(store, 0, { goneAs });
    const { rec } = await startSource(server);
    await rec.until('snapshot', (r) => r.snapshots === 1);
    // While the watches are down, things change and the history is compacted: the watch cannot resume.
    await server.stop();
    store.delete('nodes', undefined, 'n1');
    store.create('nodes', node('n9', '10.0.1.9/24'));
    store.compact();
    const again = await startServer(store, server.port, { goneAs });
    await rec.until('resync', (r) => r.snapshots >= 2 && r.keys.has(`${V3}/nodes/n9`));
    t.false(rec.keys.has(`${V3}/nodes/n1`), 'deletion missed by the watch is gone after the re-list');
    t.true(rec.problems.some((p) => /nodes: resourceVersion \d+ expired \(410 Gone\); listing again/.test(p)));
    t.true(again.count('list', 'nodes') >= 1);
  });
}

test('a watch that ends or breaks resumes from the last resourceVersion without losing an event', async (t) => {
  const store = new FakeStore();
  store.create('nodes', node('n1', '10.0.1.1/24'));
  const server = await startServer(store);
  const { rec } = await startSource(server);
  await rec.until('snapshot', (r) => r.snapshots === 1);
  const watchesBefore = server.count('watch', 'nodes');
  // Clean end (server-side timeout): events written in between must not be lost.
  server.endWatches();
  store.create('nodes', node('n2', '10.0.1.2/24'));
  await rec.until('n2 via resumed watch', (r) => r.keys.has(`${V3}/nodes/n2`));
  t.true(server.count('watch', 'nodes') > watchesBefore);
  const resumed = server.requests.filter((r) => r.verb === 'watch' && r.resource === 'nodes').at(-1)!;
  t.not(resumed.query.resourceVersion, '0');
  t.is(resumed.query.allowWatchBookmarks, 'true');

  // Server restart (connections cut, port closed for a while): back off, then resume on the same store.
  await server.stop();
  store.create('nodes', node('n3', '10.0.1.3/24'));
  store.delete('nodes', undefined, 'n1');
  await new Promise((r) => setTimeout(r, 400));
  const again = await startServer(store, server.port);
  await rec.until('events from the downtime', (r) => r.keys.has(`${V3}/nodes/n3`) && !r.keys.has(`${V3}/nodes/n1`));
  t.is(again.count('list', 'nodes'), 0, 'resumed by watch, no re-list');
  t.is(rec.snapshots, 1);
  t.true(rec.problems.some((p) => /watch nodes: .*(ECONNREFUSED|ECONNRESET|socket hang up|aborted|stream broke)/.test(p)), rec.problems.join('\n'));
});

test('bookmarks move the resourceVersion forward, so a compacted history does not force a re-list', async (t) => {
  const store = new FakeStore();
  store.create('nodes', node('n1', '10.0.1.1/24'));
  const server = await startServer(store);
  const { src, rec } = await startSource(server);
  await rec.until('snapshot', (r) => r.snapshots === 1);
  // Writes elsewhere move the global resourceVersion; only bookmarks tell the node watch about it.
  for (let i = 0; i < 5; i++) store.create('bgppeers', bgpPeer(`p${i}`, `10.0.9.${i + 1}`, 64512));
  const target = store.rv;
  await rec.until('bookmark caught up', () => src.stats.nodes!.bookmarks > 0 && server.requests.length > 0 && Number(lastRv(src)) >= target, 5000);
  store.compact();
  server.endWatches();
  store.create('nodes', node('n2', '10.0.1.2/24'));
  await rec.until('n2', (r) => r.keys.has(`${V3}/nodes/n2`));
  t.is(server.count('list', 'nodes'), 1, 'no re-list for nodes');
  t.is(rec.snapshots, 1);
});

function lastRv(src: KubernetesKeySource): string {
  return (src as unknown as { reflectors: Map<string, { stats: { lastResourceVersion?: string } }> }).reflectors.get('nodes')!.stats.lastResourceVersion ?? '0';
}

test('HTTPS with a CA from the kubeconfig and client-certificate authentication (files and inline data)', async (t) => {
  const pki = makePki(NET.host(2));
  const store = new FakeStore();
  store.create('nodes', node('tls-node', '10.0.3.1/24'));
  const server = await FakeApiServer.start(
    { host: NET.host(2), tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert }, rbac: { 'system:rr': ['*'] } },
    store,
  );
  cleanups.push(() => server.stop());
  const client = pki.client('system:rr');
  const dir = tmpDir('kc-');
  const variants = [
    writeKubeconfig(dir, { server: server.url, caPath: pki.caCertPath, certPath: client.certPath, keyPath: client.keyPath }, 'files'),
    writeKubeconfig(dir, { server: server.url, caData: pki.caCert, certData: client.cert, keyData: client.key }, 'inline'),
  ];
  for (const kc of variants) {
    const src = createKubernetesSource({ kubeconfigPath: kc, register: false, ip: '10.0.0.10', initialBackoffMs: 50, maxBackoffMs: 300 });
    cleanups.push(() => src.stop());
    const rec = new Recorder();
    await src.start(rec);
    await rec.until(`snapshot over TLS (${kc})`, (r) => r.snapshots === 1);
    t.is(nodeAddress(rec.keys, `tls-node`, 4), '10.0.3.1');
    await src.stop();
  }
  t.true(server.requests.every((r) => r.user === 'system:rr'));

  // Without the CA the server certificate is not trusted: a problem, and no snapshot.
  const untrusted = createKubernetesSource({
    kubeconfigPath: writeKubeconfig(dir, { server: server.url, certPath: client.certPath, keyPath: client.keyPath }, 'noca'),
    register: false,
    ip: '10.0.0.10',
    initialBackoffMs: 50,
    maxBackoffMs: 300,
  });
  cleanups.push(() => untrusted.stop());
  const rec = new Recorder();
  await untrusted.start(rec);
  await rec.until('TLS problem', (r) => r.problems.some((p) => /self[- ]signed|unable to verify|certificate/i.test(p)));
  t.is(rec.snapshots, 0);
});

test('401 for an unknown token and 403 naming the missing permission', async (t) => {
  const server = await startServer(new FakeStore(), 0, { rbac: { ...RBAC, nobody: ['list nodes', 'watch nodes'] } });
  const bad = await startSource(server, { token: 'wrong' });
  await bad.rec.until('401', (r) => r.problems.some((p) => /401 Unauthorized/.test(p)));
  t.is(bad.rec.snapshots, 0);
  const weak = await startSource(server, { token: 'weak' });
  await weak.rec.until('403', (r) => r.problems.some((p) => /403 Forbidden/.test(p)));
  const msg = weak.rec.problems.find((p) => /403/.test(p))!;
  t.regex(msg, /missing RBAC permission: verb "list" on resource "bgp(peers|configurations)" in API group "crd.projectcalico.org" at the cluster scope/);
  t.regex(msg, /User "nobody" cannot list resource/);
  t.is(weak.rec.snapshots, 0, 'no partial snapshot while a collection is unreadable');
});

test('a cluster without Calico CRDs: BGPPeers/BGPConfigurations count as empty, nodes still arrive', async (t) => {
  const store = new FakeStore();
  store.create('nodes', node('n1', '10.0.1.1/24'));
  const unserved = ['bgppeers', 'bgpconfigurations'];
  const server = await startServer(store, 0, { unserved });
  const { rec } = await startSource(server);
  await rec.until('snapshot', (r) => r.snapshots === 1);
  t.is(nodeAddress(rec.keys, `n1`, 4), '10.0.1.1');
  t.false([...rec.keys.keys()].some((k) => k.includes('/bgppeers/') || k.includes('/bgpconfigurations/')));
  t.true(rec.problems.some((p) => /bgppeers.crd.projectcalico.org is not served \(CustomResourceDefinition not installed\?\)/.test(p)));
  store.create('nodes', node('n2', '10.0.1.2/24'));
  await rec.until('live node', (r) => r.keys.has(`${V3}/nodes/n2`));
  await new Promise((r) => setTimeout(r, 800)); // several re-checks (maxBackoffMs 300)
  t.is(rec.snapshots, 1, 'the re-checks neither resend the snapshot nor repeat the problem');
  t.is(rec.problems.filter((p) => /bgppeers.* is not served/.test(p)).length, 1);
  // The CRD gets installed: its objects arrive.
  store.create('bgppeers', bgpPeer('late', '10.0.0.10', 64512));
  unserved.splice(0);
  await rec.until('peer after CRD install', (r) => resource(r.keys, 'bgppeers', 'late') !== undefined, 3000);
});

test('plain http: credentials stay home (as kubectl does), anonymous access works where the server allows it', async (t) => {
  const store = new FakeStore();
  store.create('nodes', node('n1', '10.0.1.1/24'));
  const open = await startServer(store, 0, { tls: undefined, anonymous: true, rbac: { 'system:anonymous': ['list *', 'watch *'] } });
  const { rec } = await startSource(open);
  await rec.until('snapshot over http', (r) => r.snapshots === 1);
  t.is(nodeAddress(rec.keys, `n1`, 4), '10.0.1.1');
  t.true((rec.problems[0] ?? '').includes(`credentials are not sent to the plain-http server http://${NET.host(1)}:`), rec.problems[0]);
  t.regex(rec.problems[0] ?? '', /plain-http server http:\/\/[\d.]+:\d+ \(as kubectl does\); use https/);
  t.true(open.requests.every((r) => r.user === 'system:anonymous'), 'no token went over http');
  const closed = await startServer(store, 0, { tls: undefined });
  const denied = await startSource(closed);
  await denied.rec.until('401 over http', (r) => r.problems.some((p) => /401 Unauthorized/.test(p)));
});

test('in-cluster service account (no KUBECONFIG): token file, ca.crt and the pod namespace for Leases', async (t) => {
  const store = new FakeStore();
  store.create('nodes', node('n1', '10.0.1.1/24'));
  const server = await startServer(store);
  const sa = tmpDir('sa-');
  writeFileSync(join(sa, 'token'), `${TOKEN}\n`);
  writeFileSync(join(sa, 'ca.crt'), PKI.caCert);
  writeFileSync(join(sa, 'namespace'), 'calico-rr\n');
  const src = createKubernetesSource({
    register: false,
    ip: '10.0.0.10',
    env: { KUBERNETES_SERVICE_HOST: HOST, KUBERNETES_SERVICE_PORT: String(server.port) },
    serviceAccountDir: sa,
  });
  cleanups.push(() => src.stop());
  t.is(src.leaseNamespace, 'calico-rr');
  const rec = new Recorder();
  await src.start(rec);
  await rec.until('snapshot in-cluster', (r) => r.snapshots === 1);
  t.is(nodeAddress(rec.keys, `n1`, 4), '10.0.1.1');
  t.true(server.requests.every((r) => r.user === 'rr'));
});

test('scale: 3000 nodes, status churn and 300 address changes are handled per node, not per cluster', async (t) => {
  const store = new FakeStore();
  const N = 3000;
  const addr = (i: number, net: number): string => `10.${net}.${i >> 8}.${i & 255}/16`;
  for (let i = 0; i < N; i++) store.create('nodes', node(`n${i}`, addr(i, 1)));
  const server = await startServer(store);
  const { rec } = await startSource(server);
  await rec.until('snapshot of 3000 nodes', (r) => r.snapshots === 1, 20_000);
  t.is(rec.keys.size, N, 'one v3 Node key per node');
  const t0 = Date.now();
  for (let i = 0; i < 1000; i++) {
    const n = node(`n${i}`, addr(i, 1));
    n.status = { conditions: [{ type: 'Ready', lastHeartbeatTime: new Date().toISOString() }] };
    store.apply('nodes', n);
  }
  for (let i = 0; i < 300; i++) store.apply('nodes', node(`n${i}`, addr(i, 2)));
  await rec.until('300 address changes', (r) => nodeAddress(r.keys, `n299`, 4) === '10.2.1.43', 60_000);
  const elapsed = Date.now() - t0;
  t.is(rec.changes.filter(([k]) => k.startsWith(`${V3}/nodes/`)).length, 300, 'heartbeats produce no key changes');
  t.log(`1,300 node updates handled in ${elapsed} ms`); // a figure, not a bound: per node vs per cluster shows in snapshots
  t.is(rec.snapshots, 1);
});

test('Nodes are listed in pages and listed/watched as metadata only (PartialObjectMetadata)', async (t) => {
  const store = new FakeStore();
  for (let i = 0; i < 7; i++) {
    const n = node(`n${i}`, `10.0.1.${i + 1}/24`);
    n.status = { images: [{ names: ['a-big-image-list'] }] };
    store.create('nodes', n);
  }
  const server = await startServer(store);
  const { rec } = await startSource(server, { pageSize: 3 });
  await rec.until('snapshot', (r) => r.snapshots === 1);
  t.is([...rec.keys.keys()].filter((k) => k.startsWith(`${V3}/nodes/`)).length, 7);
  const lists = server.requests.filter((r) => r.verb === 'list' && r.resource === 'nodes');
  t.deepEqual(lists.map((r) => r.query.limit), ['3', '3', '3']);
  t.deepEqual(lists.map((r) => r.query.continue !== undefined), [false, true, true]);
  await rec.until('node watch started', () => server.count('watch', 'nodes') > 0);
  const watch = server.requests.find((r) => r.verb === 'watch' && r.resource === 'nodes')!;
  t.regex(lists[0]!.accept ?? '', /^application\/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application\/json$/);
  t.regex(watch.accept ?? '', /^application\/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,/);
  // The page token carries the first page's resourceVersion; the watch starts from it.
  t.is(watch.query.resourceVersion, String(store.rv));
  store.apply('nodes', node('n3', '10.0.9.9/24'));
  await rec.until('watched change', (r) => nodeAddress(r.keys, `n3`, 4) === '10.0.9.9');
});
