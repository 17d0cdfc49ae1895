// The RBAC manifest's rules, enforced by the fake API server, are enough for the Kubernetes datastore with a
// BGP password Secret (and nothing wider): the Secret named in the Role is read in the pod's namespace, another
// Secret gets a 403 that names it. The DaemonSet sets NAMESPACE from its own namespace, where the Role lives.
import test from 'ava';
import { createKubernetesSource } from '../../src/datastore/kubernetes/kubernetes-source.js';
import { FakeApiServer, FakeStore, type Obj } from '../kubernetes/fake-apiserver.js';
import { bgpPeer, node, Recorder, tmpDir, writeKubeconfig } from '../kubernetes/helpers.js';
import { makePki } from '../kubernetes/pki.js';
import { claimLoopbackNet } from '../helpers/net.js';
import { render, reflectorPod } from './render.js';

const NET = await claimLoopbackNet();

const HOST = NET.host(1);
const cleanups: Array<() => Promise<void>> = [];
test.after.always(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

type Doc = Record<string, unknown>;
const isObj = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): Doc[] => (Array.isArray(v) ? v.filter(isObj) : []);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const meta = (d: Doc | undefined): Doc => (isObj(d?.metadata) ? d.metadata : {});


/** The fake server's rule strings ("verb resource [namespace [name]]") that the manifest grants to the account. */
function grantedRules(rbac: Doc[], sa: string, saNamespace: string): string[] {
  const out: string[] = [];
  for (const b of rbac.filter((d) => d.kind === 'RoleBinding' || d.kind === 'ClusterRoleBinding')) {
    if (!list(b.subjects).some((s) => s.kind === 'ServiceAccount' && s.name === sa && s.namespace === saNamespace)) continue;
    const ref = isObj(b.roleRef) ? b.roleRef : {};
    const ns = b.kind === 'RoleBinding' ? String(meta(b).namespace) : undefined;
    const role = rbac.find((d) => d.kind === ref.kind && meta(d).name === ref.name && (ns === undefined || meta(d).namespace === ns));
    for (const rule of list(role?.rules)) {
      for (const verb of strings(rule.verbs)) {
        for (const res of strings(rule.resources)) {
          const names = strings(rule.resourceNames);
          if (ns === undefined) out.push(`${verb} ${res}`);
          else if (names.length === 0) out.push(`${verb} ${res} ${ns}`);
          else for (const n of names) out.push(`${verb} ${res} ${ns} ${n}`);
        }
      }
    }
  }
  return out;
}

test('the manifest RBAC lets the reflector read its password Secret in its namespace, by name only', async (t) => {
  // The overlay as kubectl renders it: the RBAC and the DaemonSet together.
  const rbac = render('kubernetes');
  const { ds, pod, rr } = reflectorPod(rbac);
  const podNs = String(meta(ds).namespace);
  const sa = String((pod as Doc).serviceAccountName);
  const nsEnv = list(rr?.env).find((e) => e.name === 'NAMESPACE');
  t.is(((nsEnv?.valueFrom as Doc)?.fieldRef as Doc)?.fieldPath, 'metadata.namespace', 'NAMESPACE is the pod\'s own namespace');
  const role = rbac.find((d) => d.kind === 'Role' && list(d.rules).some((r) => strings(r.resources).includes('secrets')));
  t.is(meta(role).namespace, podNs, 'the Secret Role is in the pod\'s namespace');
  t.false(
    rbac.some((d) => d.kind === 'ClusterRole' && list(d.rules).some((r) => strings(r.resources).includes('secrets'))),
    'no cluster-wide Secret access',
  );

  const user = `system:serviceaccount:${podNs}:${sa}`;
  const rules = grantedRules(rbac, sa, podNs);
  t.true(rules.includes(`watch secrets ${podNs} bgp-secrets`), rules.join('\n'));
  const pki = makePki(HOST);
  const store = new FakeStore();
  store.create('nodes', node('n1', '10.0.1.1/24'));
  const peer = bgpPeer('secured', '10.0.0.10', 64512);
  (peer.spec as Doc).password = { secretKeyRef: { name: 'bgp-secrets', key: 'rr' } };
  store.create('bgppeers', peer);
  const other = bgpPeer('other', '10.0.0.11', 64512);
  (other.spec as Doc).password = { secretKeyRef: { name: 'not-granted', key: 'rr' } };
  store.create('bgppeers', other);
  const secret = (name: string): Obj => ({ metadata: { name, namespace: podNs }, data: { rr: Buffer.from('pw').toString('base64') } });
  store.create('secrets', secret('bgp-secrets'));
  store.create('secrets', secret('not-granted'));
  const server = await FakeApiServer.start(
    { host: HOST, tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert }, tokens: { sa: user }, rbac: { [user]: rules } },
    store,
  );
  cleanups.push(() => server.stop());
  const kc = writeKubeconfig(tmpDir('kc-'), { server: server.url, caData: pki.caCert, token: 'sa' });
  const src = createKubernetesSource({ kubeconfigPath: kc, register: false, ip: '10.0.0.10', initialBackoffMs: 50, maxBackoffMs: 300, secretNamespace: podNs });
  cleanups.push(() => src.stop());
  const rec = new Recorder();
  await src.start(rec);
  // The source publishes each referenced Secret under /calico/secrets/v1/<name> (state and data), from which the
  // sessions take their passwords (src/datastore/calico-sessions.ts).
  const secretKey = (name: string): string => `/calico/secrets/v1/${name}`;
  const secretState = (name: string): { state?: string; data?: Record<string, string> } | undefined => {
    const v = rec.keys.get(secretKey(name));
    return v === undefined ? undefined : (JSON.parse(v) as { state?: string; data?: Record<string, string> });
  };
  await rec.until('the granted password', () => secretState('bgp-secrets')?.state === 'present');
  t.is(Buffer.from(secretState('bgp-secrets')?.data?.rr ?? '', 'base64').toString(), 'pw');
  await rec.until('the 403 for the other Secret', (r) => r.problems.some((p) => p.includes('403')));
  const forbidden = rec.problems.filter((p) => p.includes('403'));
  // Retried with backoff, so the same 403 may be reported more than once: every one is about the Secret the
  // Role does not name, none about the granted one.
  t.true(forbidden.length >= 1);
  for (const f of forbidden) {
    t.regex(f, /^list secrets \(metadata.name=not-granted\): 403 Forbidden: missing RBAC permission: verb "list" on resource "secrets" in API group "" at namespace kube-system/);
    t.regex(f, /secrets "not-granted" is forbidden/);
  }
  t.not(secretState('not-granted')?.state, 'present', 'its password stays withheld');
});
