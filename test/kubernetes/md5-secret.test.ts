// End to end: the reflector process on the Kubernetes datastore (fake API server) takes a global BGPPeer's TCP-MD5
// password from a Secret and peers with a real BIRD 2 node configured with that password; changing the Secret with
// kubectl takes the session down (password mismatch), changing it back brings it up again. A node-specific peer
// without a password on another node keeps its session through all of it.
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { md5Available } from '../../src/session/tcp-md5.js';
import { birdc2, protocols, startBird2Node, startReflector, until, type Reflector } from '../hardening/lab.js';
import type { Daemon } from '../session/daemons.js';
import { FakeApiServer, FakeStore } from './fake-apiserver.js';
import { bgpConfig, bgpPeer, kubectl, node, tmpDir, writeKubeconfig } from './helpers.js';
import { makePki } from './pki.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();

const API = NET.host(9);
const RR = NET.host(1);
const SECURED = NET.host(2);
const PLAIN = NET.host(3);
const SECURED_SESSION = `Node_${NET.under(2)}`;
const PLAIN_SESSION = `Node_${NET.under(3)}`;
const daemons: Daemon[] = [];
const rrs: Reflector[] = [];
const cleanups: Array<() => Promise<void>> = [];
test.after.always(async () => {
  await Promise.all([...daemons.map((d) => d.stop()), ...rrs.map((r) => r.stop())]);
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

function secretYaml(password: string): string {
  return [
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    '  name: bgp-secrets',
    '  namespace: kube-system',
    'type: Opaque',
    'data:',
    `  rr-password: ${Buffer.from(password).toString('base64')}`,
    '',
  ].join('\n');
}

const state = (rr: Reflector, name: string): string => protocols(rr.sock).get(name)?.info ?? '';
const since = (rr: Reflector, name: string): string => protocols(rr.sock).get(name)?.since ?? '';

test('BGPPeer password from a Secret: Established with BIRD 2; kubectl changes the Secret → down; back → Established', async (t) => {
  t.is(md5Available(), true, 'TCP-MD5 must be available here (see test/hardening/md5.test.ts)');
  const pki = makePki(API);
  const store = new FakeStore();
  store.create('bgpconfigurations', bgpConfig(64512));
  store.create('nodes', node('secured', `${SECURED}/24`));
  store.create('nodes', node('plain', `${PLAIN}/24`));
  // Node-specific (calico-node lets a global BGPPeer to the same IP win, which would sign the plain node's session too).
  const global = bgpPeer('rr-global', RR, 64512, 'secured');
  (global.spec as Record<string, unknown>).password = { secretKeyRef: { name: 'bgp-secrets', key: 'rr-password' } };
  store.create('bgppeers', global);
  store.create('bgppeers', bgpPeer('rr-plain', RR, 64512, 'plain'));
  const server = await FakeApiServer.start(
    {
      host: API,
      tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert },
      tokens: { admin: 'admin', rr: 'rr' },
      rbac: {
        admin: ['*'],
        // As the manifest grants: read the cluster-scoped collections, and only the named Secret in kube-system.
        rr: ['list *', 'watch *', ...['get', 'list', 'watch'].map((v) => `${v} secrets kube-system bgp-secrets`)],
      },
    },
    store,
  );
  cleanups.push(() => server.stop());
  const dir = tmpDir('md5-secret-');
  const admin = writeKubeconfig(dir, { server: server.url, caData: pki.caCert, token: 'admin' }, 'admin');
  const kc = writeKubeconfig(dir, { server: server.url, caData: pki.caCert, token: 'rr' }, 'rr');

  const rr = startReflector(RR, {}, {
    DATASTORE_TYPE: 'kubernetes',
    KUBECONFIG: kc,
    NAMESPACE: 'kube-system',
    // Quick come-back after the mismatch phase's failed attempts.
    IDLE_HOLD_BASE: '1',
    IDLE_HOLD_CAP: '2',
  });
  rrs.push(rr);
  const secured = startBird2Node({ ip: SECURED, rr: RR, block: '10.181.2.0/24', extra: 'password "first-s3cret";' });
  const plain = startBird2Node({ ip: PLAIN, rr: RR, block: '10.181.3.0/24' });
  daemons.push(secured, plain);

  // No Secret yet: the secured peer is withheld (never configured without its password), the plain one runs.
  await until('the plain session Established', () => (state(rr, PLAIN_SESSION) === 'Established' ? true : undefined), 30_000);
  await until('the missing-Secret line', () => (/BGPPeer rr-global: password Secret kube-system\/bgp-secrets key \\?"rr-password\\?": the Secret does not exist/.test(rr.log()) ? true : undefined), 10_000);
  t.false(protocols(rr.sock).has(SECURED_SESSION), 'no session without its password');

  writeFileSync(join(dir, 'secret.yaml'), secretYaml('first-s3cret'));
  const created = await kubectl(admin, dir, ['apply', '--validate=false', '-f', join(dir, 'secret.yaml')]);
  t.true(created.ok, created.out);
  t.regex(created.out, /secret\/bgp-secrets created/);
  await until('the secured session Established', () => (state(rr, SECURED_SESSION) === 'Established' ? true : undefined), 30_000);
  t.regex(birdc2(secured, 'show', 'protocols', 'all'), /BGP state:\s+Established/);
  const got = await kubectl(admin, dir, ['get', 'secret', 'bgp-secrets', '-n', 'kube-system', '-o', 'jsonpath={.data.rr-password}']);
  t.is(Buffer.from(got.out.trim(), 'base64').toString(), 'first-s3cret');
  const plainSince = since(rr, PLAIN_SESSION);

  // The Secret changes (kubectl apply → PATCH): our side restarts that session with the new key; BIRD still has
  // the old one, so the kernels drop each other's segments and no session comes up.
  writeFileSync(join(dir, 'secret.yaml'), secretYaml('rotated-s3cret'));
  const rotated = await kubectl(admin, dir, ['apply', '--validate=false', '-f', join(dir, 'secret.yaml')]);
  t.true(rotated.ok, rotated.out);
  t.regex(rotated.out, /secret\/bgp-secrets configured/);
  t.true(server.requests.some((r) => r.verb === 'patch' && r.resource === 'secrets'));
  await until('the secured session down', () => (state(rr, SECURED_SESSION) !== 'Established' ? true : undefined), 20_000);
  await until('BIRD sees it down', () => (/BGP state:\s+(Connect|Active|Idle)/.test(birdc2(secured, 'show', 'protocols', 'all')) ? true : undefined), 20_000);
  await until('the mismatch hint', () => (new RegExp(String.raw`TCP-MD5 is on for Node_${NET.under(2)}`).test(rr.log()) ? true : undefined), 20_000);
  t.not(state(rr, SECURED_SESSION), 'Established', 'still down with mismatched passwords');

  // Back to the password BIRD has: Established again.
  writeFileSync(join(dir, 'secret.yaml'), secretYaml('first-s3cret'));
  const restored = await kubectl(admin, dir, ['apply', '--validate=false', '-f', join(dir, 'secret.yaml')]);
  t.true(restored.ok, restored.out);
  await until('the secured session Established again', () => (state(rr, SECURED_SESSION) === 'Established' ? true : undefined), 30_000);
  t.regex(birdc2(secured, 'show', 'protocols', 'all'), /BGP state:\s+Established/);

  // The other session was never touched.
  t.is(state(rr, PLAIN_SESSION), 'Established');
  t.is(since(rr, PLAIN_SESSION), plainSince, 'the plain session kept its uptime');

  // Deleting the Secret withdraws the secured peer; it does not come back unprotected.
  const deleted = await kubectl(admin, dir, ['delete', 'secret', 'bgp-secrets', '-n', 'kube-system']);
  t.true(deleted.ok, deleted.out);
  await until('the secured session removed', () => (!protocols(rr.sock).has(SECURED_SESSION) ? true : undefined), 20_000);
  t.is(state(rr, PLAIN_SESSION), 'Established');
});
