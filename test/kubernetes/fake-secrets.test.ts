// The fake API server's Secrets against real clients: kubectl create/apply (stringData merged into base64 data,
// never stored)/get/delete in a namespace; bad base64, type changes and immutable Secrets refused as the API does.
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeApiError, KubeClient } from '../../src/datastore/kubernetes/client.js';
import { loadKubeConnection } from '../../src/datastore/kubernetes/kubeconfig.js';
import { FakeApiServer, FakeStore } from './fake-apiserver.js';
import { kubectl, tmpDir, writeKubeconfig } from './helpers.js';
import { makePki } from './pki.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();

const HOST = NET.host(1);
const cleanups: Array<() => Promise<void>> = [];
test.after.always(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

test('Secrets through kubectl and the API rules for data, stringData, type and immutable', async (t) => {
  const pki = makePki(HOST);
  const store = new FakeStore();
  const server = await FakeApiServer.start(
    { host: HOST, tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert }, tokens: { admin: 'admin' }, rbac: { admin: ['*'] } },
    store,
  );
  cleanups.push(() => server.stop());
  const dir = tmpDir('fake-secrets-');
  const kc = writeKubeconfig(dir, { server: server.url, caData: pki.caCert, token: 'admin' });

  const created = await kubectl(kc, dir, ['create', 'secret', 'generic', 'bgp-secrets', '-n', 'kube-system', '--from-literal=rr=p@ss']);
  t.true(created.ok, created.out);
  t.deepEqual(store.get('secrets', 'kube-system', 'bgp-secrets')?.data, { rr: Buffer.from('p@ss').toString('base64') });
  t.is(store.get('secrets', 'kube-system', 'bgp-secrets')?.type, 'Opaque');
  t.is(store.get('secrets', 'default', 'bgp-secrets'), undefined, 'namespaced');

  writeFileSync(join(dir, 's.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: other\n  namespace: kube-system\nstringData:\n  rr: plain text\n');
  const applied = await kubectl(kc, dir, ['apply', '--validate=false', '-f', join(dir, 's.yaml')]);
  t.true(applied.ok, applied.out);
  const stored = store.get('secrets', 'kube-system', 'other');
  t.deepEqual(stored?.data, { rr: Buffer.from('plain text').toString('base64') });
  t.is(stored?.stringData, undefined, 'stringData is write-only');
  const listed = await kubectl(kc, dir, ['get', 'secrets', '-n', 'kube-system', '-o', 'jsonpath={.items[*].metadata.name}']);
  t.is(listed.out.trim(), 'bgp-secrets other');
  const deleted = await kubectl(kc, dir, ['delete', 'secret', 'other', '-n', 'kube-system']);
  t.true(deleted.ok, deleted.out);
  t.is(store.get('secrets', 'kube-system', 'other'), undefined);

  const client = new KubeClient(loadKubeConnection(kc, {}));
  cleanups.push(async () => client.close());
  const path = '/api/v1/namespaces/kube-system/secrets';
  const refused = async (p: Promise<unknown>): Promise<KubeApiError> => {
    const err = await t.throwsAsync(p);
    t.true(err instanceof KubeApiError);
    return err as KubeApiError;
  };
  t.is((await refused(client.create(path, { metadata: { name: 'bad' }, data: { k: 'not base64!' } }))).status, 400);
  t.is((await refused(client.create(path, { metadata: { name: 'bad' }, data: { 'a/b': 'eA==' } }))).status, 422);
  const current = await client.get(`${path}/bgp-secrets`);
  t.is((await refused(client.update(`${path}/bgp-secrets`, { ...current, type: 'kubernetes.io/tls' }))).status, 422);
  await client.create(path, { metadata: { name: 'frozen' }, immutable: true, data: { k: 'eA==' } });
  const frozen = await client.get(`${path}/frozen`);
  const e = await refused(client.update(`${path}/frozen`, { ...frozen, data: { k: 'eQ==' } }));
  t.is(e.status, 422);
  t.regex(e.message, /immutable/);
});
