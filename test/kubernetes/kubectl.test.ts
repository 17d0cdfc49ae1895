// The fake API server checked against the real client: kubectl get/apply/delete through HTTPS with a token,
// while a KubernetesKeySource watches; kubectl's own 403 for a token without rights.
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadKubeConnection } from '../../src/datastore/kubernetes/kubeconfig.js';
import { createKubernetesSource } from '../../src/datastore/kubernetes/kubernetes-source.js';
import { FakeApiServer, FakeStore } from './fake-apiserver.js';
import { kubectl, node, Recorder, tmpDir, writeKubeconfig, nodeAddress, V3, resource } from './helpers.js';
import { makePki } from './pki.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();

const HOST = NET.host(1);
const cleanups: Array<() => Promise<void>> = [];
test.after.always(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

test('kubectl get/apply/delete through the fake API server; the source follows every change', async (t) => {
  const pki = makePki(HOST);
  const store = new FakeStore();
  store.create('nodes', node('n1', '10.0.1.1/24'));
  const server = await FakeApiServer.start(
    {
      host: HOST,
      tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert },
      tokens: { admin: 'admin', rr: 'rr', viewer: 'viewer' },
      rbac: { admin: ['*'], rr: ['list *', 'watch *'], viewer: ['get nodes', 'list nodes'] },
    },
    store,
  );
  cleanups.push(() => server.stop());
  const dir = tmpDir('kubectl-');
  const admin = writeKubeconfig(dir, { server: server.url, caData: pki.caCert, token: 'admin' }, 'admin');
  const viewer = writeKubeconfig(dir, { server: server.url, caPath: pki.caCertPath, token: 'viewer' }, 'viewer');

  const src = createKubernetesSource({
    kubeconfigPath: writeKubeconfig(dir, { server: server.url, caData: pki.caCert, token: 'rr' }, 'rr'),
    register: false,
    ip: '10.0.0.10',
  });
  cleanups.push(() => src.stop());
  const rec = new Recorder();
  await src.start(rec);
  await rec.until('snapshot', (r) => r.snapshots === 1);

  const got = await kubectl(admin, dir, ['get', 'nodes']);
  t.true(got.ok, got.out);
  t.regex(got.out, /^NAME\s+AGE\s*\nn1\s+/m);

  writeFileSync(
    join(dir, 'objects.yaml'),
    [
      'apiVersion: crd.projectcalico.org/v1',
      'kind: BGPPeer',
      'metadata:',
      '  name: rr-global',
      'spec:',
      '  peerIP: 10.0.0.10',
      '  asNumber: 64512',
      '---',
      'apiVersion: crd.projectcalico.org/v1',
      'kind: BGPConfiguration',
      'metadata:',
      '  name: default',
      'spec:',
      '  asNumber: 64513',
      '---',
      'apiVersion: v1',
      'kind: Node',
      'metadata:',
      '  name: n2',
      '  annotations:',
      '    projectcalico.org/IPv4Address: 10.0.1.2/24',
      '',
    ].join('\n'),
  );
  // --validate=false: the fake publishes no OpenAPI schemas (client-side schema checks are not what we test).
  const applied = await kubectl(admin, dir, ['apply', '--validate=false', '-f', join(dir, 'objects.yaml')]);
  t.true(applied.ok, applied.out);
  t.regex(applied.out, /bgppeer.crd.projectcalico.org\/rr-global created/);
  t.regex(applied.out, /node\/n2 created/);
  await rec.until('applied objects', (r) =>
    resource(r.keys, 'bgppeers', 'rr-global')?.spec.asNumber === 64512 &&
    resource(r.keys, 'bgpconfigurations', 'default')?.spec.asNumber === 64513 &&
    nodeAddress(r.keys, `n2`, 4) === '10.0.1.2');

  // A second apply is a PATCH (three-way merge) of the changed field.
  writeFileSync(join(dir, 'peer.yaml'), 'apiVersion: crd.projectcalico.org/v1\nkind: BGPPeer\nmetadata:\n  name: rr-global\nspec:\n  peerIP: 10.0.0.10\n  asNumber: 65000\n  node: n2\n');
  const patched = await kubectl(admin, dir, ['apply', '--validate=false', '-f', join(dir, 'peer.yaml')]);
  t.true(patched.ok, patched.out);
  t.regex(patched.out, /configured/);
  t.true(server.requests.some((r) => r.verb === 'patch' && r.resource === 'bgppeers'));
  await rec.until('peer moved to node n2', (r) =>
    resource(r.keys, 'bgppeers', 'rr-global')?.spec.asNumber === 65000 && resource(r.keys, 'bgppeers', 'rr-global')?.spec.node === 'n2');

  const json = await kubectl(admin, dir, ['get', 'bgppeer', 'rr-global', '-o', 'jsonpath={.spec.asNumber}/{.spec.node}']);
  t.is(json.out.trim(), '65000/n2');

  const deleted = await kubectl(admin, dir, ['delete', 'node', 'n2']);
  t.true(deleted.ok, deleted.out);
  await rec.until('n2 gone', (r) => !r.keys.has(`${V3}/nodes/n2`));

  const forbidden = await kubectl(viewer, dir, ['get', 'bgppeers']);
  t.false(forbidden.ok);
  t.regex(forbidden.out, /Error from server \(Forbidden\): bgppeers.crd.projectcalico.org is forbidden: User "viewer" cannot list resource "bgppeers" in API group "crd.projectcalico.org" at the cluster scope/);
  const unauthorized = await kubectl(writeKubeconfig(dir, { server: server.url, caData: pki.caCert, token: 'nope' }, 'nope'), dir, ['get', 'nodes']);
  t.false(unauthorized.ok);
  t.regex(unauthorized.out, /Unauthorized|must be logged in/);
  t.is(rec.snapshots, 1);
});

test('kubeconfig files written by kubectl itself load (embedded CA and client certificate, token)', async (t) => {
  const pki = makePki(NET.host(2));
  const client = pki.client('system:node:rr');
  const dir = tmpDir('kubectl-cfg-');
  const kc = join(dir, 'written-by-kubectl');
  const steps = [
    ['config', 'set-cluster', 'prod', `--server=https://${NET.host(2)}:6443`, `--certificate-authority=${pki.caCertPath}`, '--embed-certs=true'],
    // `config set-credentials` crashes in Debian's kubectl 1.20 build; `config set` writes the same fields.
    ['config', 'set', 'users.rr-cert.client-certificate-data', Buffer.from(client.cert).toString('base64')],
    ['config', 'set', 'users.rr-cert.client-key-data', Buffer.from(client.key).toString('base64')],
    ['config', 'set', 'users.rr-token.token', 's3cr3t.t0ken'],
    ['config', 'set-context', 'with-cert', '--cluster=prod', '--user=rr-cert', '--namespace=kube-system'],
    ['config', 'set-context', 'with-token', '--cluster=prod', '--user=rr-token'],
    ['config', 'use-context', 'with-cert'],
  ];
  for (const args of steps) {
    const r = await kubectl(kc, dir, args);
    t.true(r.ok, r.out);
  }
  const certConn = loadKubeConnection(kc, {});
  t.is(certConn.server, `https://${NET.host(2)}:6443`);
  t.is(certConn.ca?.toString(), pki.caCert);
  t.is(certConn.cert?.toString(), client.cert);
  t.is(certConn.key?.toString(), client.key);
  t.is(certConn.namespace, 'kube-system');
  t.true((await kubectl(kc, dir, ['config', 'use-context', 'with-token'])).ok);
  const tokenConn = loadKubeConnection(kc, {});
  t.is(tokenConn.token, 's3cr3t.t0ken');
  t.is(tokenConn.cert, undefined);
  t.is(tokenConn.namespace, undefined);
});
