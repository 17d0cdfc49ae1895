// KubernetesKeySource with BGPPeer passwords from Secrets, against the fake API server: the peer appears only
// once its Secret does, follows Secret changes live, disappears when it goes; only the referenced Secret, in the
// configured namespace, is read (by name); a 403 on Secrets names the missing RBAC rule.
import test from 'ava';
import { createKubernetesSource, type KubernetesKeySource } from '../../src/datastore/kubernetes/kubernetes-source.js';
import { FakeApiServer, FakeStore, type Obj } from './fake-apiserver.js';
import { desiredSessions } from '../../src/datastore/calico-sessions.js';
import { bgpPeer, node, Recorder, tmpDir, writeKubeconfig } from './helpers.js';
import { makePki } from './pki.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();

const HOST = NET.host(1);
const PKI = makePki(HOST);
const READ = ['list nodes', 'watch nodes', 'list bgppeers', 'watch bgppeers', 'list bgpconfigurations', 'watch bgpconfigurations'];
const cleanups: Array<() => Promise<void>> = [];
test.after.always(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const b64 = (s: string): string => Buffer.from(s).toString('base64');
/** The sessions the reflector at 10.0.0.10 computes from what the source published (the shared path). */
const ENV = { ip: '10.0.0.10', port: 179 };
const session = (r: Recorder, name: string): ReturnType<typeof desiredSessions>['peers'][number] | undefined => desiredSessions(r.keys, ENV).peers.find((p) => p.name === name);
const problems = (r: Recorder): string[] => desiredSessions(r.keys, ENV).problems.map((p) => `${p.key}: ${p.reason}`);
/** Both BGPPeers name us (peerIP) for one node each: the secured one n1, the plain one n2 (reverse peerings). */
const SECURED = 'Node_10_0_1_1';
const PLAIN = 'Node_10_0_2_2';

function securedPeer(name: string, peerIP: string, secretName: string, key: string): Obj {
  const p = bgpPeer(name, peerIP, 64512, 'n1');
  (p.spec as Record<string, unknown>).password = { secretKeyRef: { name: secretName, key } };
  return p;
}

function secret(namespace: string, name: string, data: Record<string, string>): Obj {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', data };
}

async function setup(store: FakeStore, rules: string[], secretNamespace?: string): Promise<{ server: FakeApiServer; src: KubernetesKeySource; rec: Recorder }> {
  const server = await FakeApiServer.start(
    { host: HOST, tls: { key: PKI.serverKey, cert: PKI.serverCert, ca: PKI.caCert }, tokens: { t: 'rr' }, rbac: { rr: rules }, bookmarkIntervalMs: 100 },
    store,
  );
  cleanups.push(() => server.stop());
  const kc = writeKubeconfig(tmpDir('kc-'), { server: server.url, caData: PKI.caCert, token: 't' });
  const src = createKubernetesSource({ kubeconfigPath: kc, register: false, ip: '10.0.0.10', initialBackoffMs: 50, maxBackoffMs: 300, secretNamespace });
  cleanups.push(() => src.stop());
  const rec = new Recorder();
  await src.start(rec);
  return { server, src, rec };
}

test('the password follows its Secret: missing → withheld, created → set, changed → changed, deleted → withheld', async (t) => {
  const store = new FakeStore();
  store.create('nodes', node('n1', '10.0.1.1/24'));
  store.create('nodes', node('n2', '10.0.2.2/24'));
  store.create('bgppeers', securedPeer('rr-global', '10.0.0.10', 'bgp-secrets', 'rr-password'));
  store.create('bgppeers', bgpPeer('plain', '10.0.0.10', 64512, 'n2'));
  // The same name in another namespace must not count.
  store.create('secrets', secret('default', 'bgp-secrets', { 'rr-password': b64('wrong-namespace') }));
  // Only Secrets in calico-system, only the ones the reflector reads.
  const { server, rec } = await setup(store, [...READ, 'list secrets calico-system', 'watch secrets calico-system'], 'calico-system');

  await rec.until('snapshot', (r) => r.snapshots === 1);
  await rec.until('the missing-Secret problem', (r) => problems(r).some((p) => p.includes('does not exist in namespace calico-system')));
  t.is(session(rec, SECURED), undefined, 'no session without its password');
  t.truthy(session(rec, PLAIN), 'other BGPPeers are unaffected');
  t.true(
    problems(rec).some((p) => p.startsWith('BGPPeer rr-global: password Secret calico-system/bgp-secrets key "rr-password": the Secret does not exist')),
    problems(rec).join('\n'),
  );

  store.create('secrets', secret('calico-system', 'bgp-secrets', { 'rr-password': b64('first') }));
  await rec.until('the peer with its password', (r) => session(r, SECURED) !== undefined);
  t.is(session(rec, SECURED)?.password, 'first');

  store.apply('secrets', secret('calico-system', 'bgp-secrets', { 'rr-password': b64('second') }));
  await rec.until('the new password', (r) => session(r, SECURED)?.password === 'second');
  // An unrelated Secret in the namespace is not even seen (watch by name).
  const changes = rec.changes.length;
  store.create('secrets', secret('calico-system', 'unrelated', { x: b64('y') }));
  await new Promise((r) => setTimeout(r, 300));
  t.is(rec.changes.length, changes, 'an unrelated Secret changes no key');
  store.apply('secrets', secret('calico-system', 'bgp-secrets', { 'rr-password': b64('second'), extra: b64('z') }));
  await new Promise((r) => setTimeout(r, 300));
  t.is(session(rec, SECURED)?.password, 'second', 'a Secret change that leaves the password alone');

  store.apply('secrets', secret('calico-system', 'bgp-secrets', { other: b64('x') }));
  await rec.until('withheld when the key goes', (r) => session(r, SECURED) === undefined);
  t.true(problems(rec).some((p) => /key "rr-password": the Secret has no such key \(it has "other"\)/.test(p)));
  store.apply('secrets', secret('calico-system', 'bgp-secrets', { 'rr-password': b64('third') }));
  await rec.until('back', (r) => session(r, SECURED)?.password === 'third');
  store.delete('secrets', 'calico-system', 'bgp-secrets');
  await rec.until('withheld when the Secret goes', (r) => session(r, SECURED) === undefined);

  // Every Secret request was by name, in calico-system.
  const secretReqs = server.requests.filter((q) => q.resource === 'secrets');
  t.true(secretReqs.length >= 2);
  for (const q of secretReqs) {
    t.is(q.path, '/api/v1/namespaces/calico-system/secrets');
    t.is(q.query.fieldSelector, 'metadata.name=bgp-secrets');
  }

  // No BGPPeer names the Secret any more: its watch stops, and nothing else is read.
  store.delete('bgppeers', undefined, 'rr-global');
  await rec.until('peer gone', (r) => session(r, SECURED) === undefined && !problems(r).some((p) => p.startsWith('BGPPeer rr-global')));
  await new Promise((r) => setTimeout(r, 300));
  const before = server.requests.filter((q) => q.resource === 'secrets').length;
  server.endWatches();
  await new Promise((r) => setTimeout(r, 500));
  t.is(server.requests.filter((q) => q.resource === 'secrets').length, before, 'no new Secret watch once unreferenced');
});

test('a 403 on Secrets names the missing rule; the other peers are configured meanwhile', async (t) => {
  const store = new FakeStore();
  store.create('nodes', node('n1', '10.0.1.1/24'));
  store.create('nodes', node('n2', '10.0.2.2/24'));
  store.create('bgppeers', securedPeer('secured', '10.0.0.10', 'bgp-secrets', 'k'));
  store.create('bgppeers', bgpPeer('plain', '10.0.0.10', 64512, 'n2'));
  store.create('secrets', secret('kube-system', 'bgp-secrets', { k: b64('pw') }));
  // Without RBAC for Secrets nothing is read by default: RBAC with no secrets rule at all.
  const { rec } = await setup(store, READ);
  await rec.until('snapshot', (r) => r.snapshots === 1);
  t.truthy(session(rec, PLAIN));
  await rec.until('the 403', (r) => r.problems.some((p) => p.includes('403')));
  const forbidden = rec.problems.find((p) => p.includes('403'))!;
  t.regex(forbidden, /^list secrets \(metadata.name=bgp-secrets\): 403 Forbidden: missing RBAC permission: verb "list" on resource "secrets" in API group "" at namespace kube-system \(see deploy\/kubernetes\/overlays\/kubernetes\/rbac-route-reflector.yaml\)/);
  t.true(problems(rec).some((p) => /^BGPPeer secured: waiting for password Secret kube-system\/bgp-secrets key "k" \(not listed yet\); peer withheld/.test(p)), problems(rec).join('\n'));
  t.deepEqual(desiredSessions(rec.keys, ENV).peers.map((p) => p.name), [PLAIN], 'never configured without its password');
});
