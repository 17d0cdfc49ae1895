// The per-peer ADD-PATH override in the Kubernetes datastore (issue 20): a BGPPeer applied with the real kubectl
// carries the rr.calico-ts.io/add-paths annotation (next to kubectl's own last-applied-configuration), `kubectl
// annotate` changes it; the source publishes it and the mapping puts it into the PeerSpec. Oracle: the value
// given to kubectl. The API server is the suite's fake (no real one exists here), the client the real kubectl.
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKubernetesSource } from '../../src/datastore/kubernetes/kubernetes-source.js';
import { desiredSessions } from '../../src/datastore/calico-sessions.js';
import { FakeApiServer, FakeStore } from './fake-apiserver.js';
import { kubectl, node, Recorder, tmpDir, writeKubeconfig, V3 } from './helpers.js';
import { makePki } from './pki.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();
const HOST = NET.host(1);
const ANN = 'rr.calico-ts.io/add-paths';
const cleanups: Array<() => Promise<void>> = [];
test.after.always(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

test('kubectl apply / annotate a BGPPeer with rr.calico-ts.io/add-paths: the session\'s PeerSpec follows the annotation', async (t) => {
  const pki = makePki(HOST);
  const store = new FakeStore();
  store.create('nodes', node('n1', '10.0.1.1/24'));
  store.create('nodes', node('n2', '10.0.1.2/24'));
  const server = await FakeApiServer.start(
    { host: HOST, tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert }, tokens: { admin: 'admin', rr: 'rr' }, rbac: { admin: ['*'], rr: ['list *', 'watch *'] } },
    store,
  );
  cleanups.push(() => server.stop());
  const dir = tmpDir('kubectl-addpaths-');
  const admin = writeKubeconfig(dir, { server: server.url, caData: pki.caCert, token: 'admin' }, 'admin');
  const src = createKubernetesSource({
    kubeconfigPath: writeKubeconfig(dir, { server: server.url, caData: pki.caCert, token: 'rr' }, 'rr'),
    env: {},
    register: false,
    ip: '10.0.0.10',
  });
  cleanups.push(() => src.stop());
  const rec = new Recorder();
  await src.start(rec);
  await rec.until('snapshot', (r) => r.snapshots === 1);
  const view = (): ReturnType<typeof desiredSessions> => desiredSessions(rec.keys, { ip: '10.0.0.10', port: 179, clusterId: '1.0.0.1' });
  const addPaths = (): string => JSON.stringify(view().peers.map((p) => [p.name, p.addPaths ?? 'default']));

  writeFileSync(
    join(dir, 'peer.yaml'),
    ['apiVersion: crd.projectcalico.org/v1', 'kind: BGPPeer', 'metadata:', '  name: to-rr', '  annotations:', `    ${ANN}: "4"`, 'spec:', '  peerIP: 10.0.0.10', '  asNumber: 64512', ''].join('\n'),
  );
  // --validate=false: the fake publishes no OpenAPI schemas (client-side schema checks are not what we test).
  const applied = await kubectl(admin, dir, ['apply', '--validate=false', '-f', join(dir, 'peer.yaml')]);
  t.true(applied.ok, applied.out);
  await rec.until('BGPPeer published', (r) => r.keys.has(`${V3}/bgppeers/to-rr`));
  t.is(addPaths(), JSON.stringify([['Node_10_0_1_1', 4], ['Node_10_0_1_2', 4]]));
  // kubectl's last-applied-configuration annotation is on the object, but only ours is published
  const stored = await kubectl(admin, dir, ['get', 'bgppeer', 'to-rr', '-o', 'jsonpath={.metadata.annotations}']);
  t.regex(stored.out, /last-applied-configuration/);
  const published = JSON.parse(rec.keys.get(`${V3}/bgppeers/to-rr`) ?? '{}') as { metadata?: { annotations?: unknown } };
  t.deepEqual(published.metadata?.annotations, { [ANN]: '4' });

  const annotated = await kubectl(admin, dir, ['annotate', '--overwrite', 'bgppeer', 'to-rr', `${ANN}=all`]);
  t.true(annotated.ok, annotated.out);
  await rec.until('annotation all', () => addPaths() === JSON.stringify([['Node_10_0_1_1', 'all'], ['Node_10_0_1_2', 'all']]));

  const bad = await kubectl(admin, dir, ['annotate', '--overwrite', 'bgppeer', 'to-rr', `${ANN}=128`]);
  t.true(bad.ok, bad.out);
  await rec.until('bad annotation ignored', () => addPaths() === JSON.stringify([['Node_10_0_1_1', 'default'], ['Node_10_0_1_2', 'default']]));
  t.deepEqual(view().problems.filter((p) => p.key === 'BGPPeer to-rr'), [
    { key: 'BGPPeer to-rr', reason: `annotation ${ANN} "128" is not off, all or 1..64; ignored (the ADD_PATHS default applies)`, kind: 'warning' },
  ]);

  const removed = await kubectl(admin, dir, ['annotate', 'bgppeer', 'to-rr', `${ANN}-`]);
  t.true(removed.ok, removed.out);
  await rec.until('annotation removed', (r) => !(r.keys.get(`${V3}/bgppeers/to-rr`) ?? '').includes(ANN));
  t.is(addPaths(), JSON.stringify([['Node_10_0_1_1', 'default'], ['Node_10_0_1_2', 'default']]));
  t.false(view().problems.some((p) => p.key === 'BGPPeer to-rr'));
});
