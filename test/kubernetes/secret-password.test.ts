// BGPPeer spec.password.secretKeyRef → the password (pure): Secret present, missing, key missing, not base64 /
// not UTF-8 / empty, pending. That such a peer's sessions are held back is tested in test/datastore/calico-sessions.test.ts.
import test from 'ava';
import type { KubeObject } from '../../src/datastore/kubernetes/client.js';
import { referencedSecretNames } from '../../src/datastore/kubernetes/secret-refs.js';
import { peerPassword, resourceKeys, secretRefOf, type SecretSet } from '../../src/datastore/kubernetes/translate.js';
import { bgpPeer } from './helpers.js';

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const REF = (name: string, key: string): { secretKeyRef: { name: string; key: string } } => ({ secretKeyRef: { name, key } });

function securedPeer(name: string, peerIP: string, secret: string, key: string, nodeName?: string): KubeObject {
  const p = bgpPeer(name, peerIP, 64512, nodeName);
  (p.spec as Record<string, unknown>).password = REF(secret, key);
  return p;
}

function secret(name: string, data: Record<string, string>): KubeObject {
  return { metadata: { name, namespace: 'kube-system' }, type: 'Opaque', data };
}

function secrets(...list: KubeObject[]): SecretSet {
  return { namespace: 'kube-system', byName: new Map(list.map((s) => [String(s.metadata?.name), s])) };
}

test('Secret present: the base64-decoded password', (t) => {
  const r = peerPassword('rr', REF('bgp-secrets', 'rr-password'), secrets(secret('bgp-secrets', { 'rr-password': b64('s3cr3t é') })));
  t.is(r.password, 's3cr3t é');
  t.deepEqual(r.problems, []);
});

test('Secret missing: a problem naming the BGPPeer, the Secret (with namespace) and the key', (t) => {
  const r = peerPassword('rr-peer', REF('bgp-secrets', 'rr-password'), secrets());
  t.is(r.password, undefined);
  t.is(r.problems.length, 1);
  t.regex(r.problems[0]!, /^BGPPeer rr-peer: password Secret kube-system\/bgp-secrets key "rr-password": the Secret does not exist in namespace kube-system; peer withheld/);
  // No Secrets known at all counts as waiting, never as "no password".
  const none = peerPassword('rr-peer', REF('bgp-secrets', 'rr-password'), undefined);
  t.is(none.password, undefined);
  t.regex(none.problems[0]!, /waiting for password Secret \?\/bgp-secrets key "rr-password"/);
});

test('key missing: withheld, and the problem lists the keys the Secret does have', (t) => {
  const r = peerPassword('p', REF('bgp-secrets', 'rr-password'), secrets(secret('bgp-secrets', { other: b64('x'), alpha: b64('y') })));
  t.is(r.password, undefined);
  t.regex(r.problems[0]!, /BGPPeer p: password Secret kube-system\/bgp-secrets key "rr-password": the Secret has no such key \(it has "alpha", "other"\)/);
  const empty = peerPassword('p', REF('s', 'k'), secrets({ metadata: { name: 's' } }));
  t.regex(empty.problems[0]!, /no such key \(it has none\)/);
});

test('base64: decoded exactly; not base64, not UTF-8 or empty is withheld; a trailing newline is used but flagged', (t) => {
  const pw = (data: string): ReturnType<typeof peerPassword> => peerPassword('p', { secretKeyRef: { name: 's', key: 'k' } }, secrets(secret('s', { k: data })));
  t.is(pw(b64('a+b/c=d')).password, 'a+b/c=d');
  t.is(pw('cGFzc3dvcmQ=').password, 'password');
  for (const [data, why] of [
    ['not base64!', /the value is not base64 data/],
    ['cGFzc3dvcmQ', /the value is not base64 data/], // unpadded: the API's StdEncoding refuses it
    [b64(Buffer.from([0xff, 0xfe, 0x00])), /the value is not UTF-8 text/],
    ['', /the value is empty/],
  ] as const) {
    const r = pw(data);
    t.is(r.password, undefined, JSON.stringify(data));
    t.regex(r.problems[0]!, why);
    t.regex(r.problems[0]!, /never configured without its password/);
  }
  const nl = pw(b64('secret\n'));
  t.is(nl.password, 'secret\n');
  t.regex(nl.problems[0]!, /ends with a line break \(echo without -n\?\); used as it is/);
  // Problems never carry the password itself.
  t.false(nl.problems.join(' ').includes('secret\n'));
});

test('unusable spec.password (no secretKeyRef, no key): a problem, no password', (t) => {
  for (const password of [{}, { secretKeyRef: { name: 's' } }, { secretKeyRef: { key: 'k' } }, 'plain-text']) {
    const r = peerPassword('odd', password, secrets(secret('s', { k: b64('x') })));
    t.is(r.password, undefined, JSON.stringify(password));
    t.regex(r.problems[0]!, /^BGPPeer odd: spec.password has no secretKeyRef with a name and a key/);
  }
  t.deepEqual(secretRefOf({ secretKeyRef: { name: ' s ', key: 'k' } }), { name: 's', key: 'k' });
});

test('pending Secret: waiting, not missing', (t) => {
  const set: SecretSet = { namespace: 'calico-system', byName: new Map(), pending: new Set(['s']) };
  const r = peerPassword('p', REF('s', 'k'), set);
  t.is(r.password, undefined);
  t.regex(r.problems[0]!, /BGPPeer p: waiting for password Secret calico-system\/s key "k" \(not listed yet\)/);
});

test('referencedSecretNames: each Secret once, from BGPPeers and the default mesh password only', (t) => {
  const keys = new Map<string, string>();
  for (const p of [securedPeer('a', '10.0.0.10', 's1', 'k', 'n1'), securedPeer('b', '10.0.0.11', 's1', 'other'), securedPeer('c', '10.0.0.12', 's2', 'k'), bgpPeer('g', '10.0.0.10', 64512)]) {
    for (const [k, v] of resourceKeys('bgppeers', p).keys) keys.set(k, v);
  }
  const cfg = { metadata: { name: 'default' }, spec: { nodeMeshPassword: REF('mesh', 'k') } } as KubeObject;
  const other = { metadata: { name: 'node.x' }, spec: { nodeMeshPassword: REF('ignored', 'k') } } as KubeObject;
  for (const c of [cfg, other]) for (const [k, v] of resourceKeys('bgpconfigurations', c).keys) keys.set(k, v);
  t.deepEqual([...referencedSecretNames(keys)].sort(), ['mesh', 's1', 's2']);
});
