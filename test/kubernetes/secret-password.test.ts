// BGPPeer spec.password.secretKeyRef → the peer entry's "password" (pure translation): Secret present, missing,
// key missing, not base64 / not UTF-8 / empty, pending; the peer is withheld rather than configured without it.
import test from 'ava';
import type { KubeObject } from '../../src/datastore/kubernetes/client.js';
import {
  bgpPeerKeys,
  peerPassword,
  referencedSecrets,
  secretRefOf,
  translateAll,
  type SecretSet,
} from '../../src/datastore/kubernetes/translate.js';
import { bgpPeer, K } from './helpers.js';

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

function securedPeer(name: string, peerIP: string, secret: string, key: string, nodeName?: string): KubeObject {
  const p = bgpPeer(name, peerIP, 64512, nodeName);
  (p.spec as Record<string, unknown>).password = { secretKeyRef: { name: secret, key } };
  return p;
}

function secret(name: string, data: Record<string, string>): KubeObject {
  return { metadata: { name, namespace: 'kube-system' }, type: 'Opaque', data };
}

function secrets(...list: KubeObject[]): SecretSet {
  return { namespace: 'kube-system', byName: new Map(list.map((s) => [String(s.metadata?.name), s])) };
}

test('Secret present: the peer entry carries the base64-decoded password', (t) => {
  const r = bgpPeerKeys(securedPeer('rr', '10.0.0.10', 'bgp-secrets', 'rr-password', 'n1'), secrets(secret('bgp-secrets', { 'rr-password': b64('s3cr3t é') })));
  t.deepEqual(r.keys, [[`${K}/host/n1/peer_v4/10.0.0.10`, JSON.stringify({ ip: '10.0.0.10', as_num: '64512', password: 's3cr3t é' })]]);
  t.deepEqual(r.problems, []);
  t.is(r.withheldKey, undefined);
  // Global scope too, and the value is valid JSON the etcd-side mapping reads ("password" string).
  const g = bgpPeerKeys(securedPeer('g', '10.0.0.10', 's', 'k'), secrets(secret('s', { k: b64('pw') })));
  t.is((JSON.parse(g.keys[0]![1]) as { password?: unknown }).password, 'pw');
  t.is(g.keys[0]![0], `${K}/global/peer_v4/10.0.0.10`);
});

test('Secret missing: no key at all, a problem naming the BGPPeer, the Secret (with namespace) and the key', (t) => {
  const r = bgpPeerKeys(securedPeer('rr-peer', '10.0.0.10', 'bgp-secrets', 'rr-password'), secrets());
  t.deepEqual(r.keys, []);
  t.is(r.withheldKey, `${K}/global/peer_v4/10.0.0.10`);
  t.is(r.problems.length, 1);
  t.regex(r.problems[0]!, /^BGPPeer rr-peer: password Secret kube-system\/bgp-secrets key "rr-password": the Secret does not exist in namespace kube-system; peer withheld/);
  // No Secrets known at all counts as waiting, never as "no password".
  const none = bgpPeerKeys(securedPeer('rr-peer', '10.0.0.10', 'bgp-secrets', 'rr-password'));
  t.deepEqual(none.keys, []);
  t.regex(none.problems[0]!, /waiting for password Secret \?\/bgp-secrets key "rr-password"/);
});

test('key missing: withheld, and the problem lists the keys the Secret does have', (t) => {
  const r = bgpPeerKeys(securedPeer('p', 'fd00::10', 'bgp-secrets', 'rr-password'), secrets(secret('bgp-secrets', { other: b64('x'), alpha: b64('y') })));
  t.deepEqual(r.keys, []);
  t.is(r.withheldKey, `${K}/global/peer_v6/fd00::10`);
  t.regex(r.problems[0]!, /BGPPeer p: password Secret kube-system\/bgp-secrets key "rr-password": the Secret has no such key \(it has "alpha", "other"\)/);
  const empty = bgpPeerKeys(securedPeer('p', '10.0.0.10', 's', 'k'), secrets({ metadata: { name: 's' } }));
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

test('unusable spec.password (no secretKeyRef, no key): withheld with a problem', (t) => {
  for (const password of [{}, { secretKeyRef: { name: 's' } }, { secretKeyRef: { key: 'k' } }, 'plain-text']) {
    const p = bgpPeer('odd', '10.0.0.10', 64512);
    (p.spec as Record<string, unknown>).password = password;
    const r = bgpPeerKeys(p, secrets(secret('s', { k: b64('x') })));
    t.deepEqual(r.keys, [], JSON.stringify(password));
    t.regex(r.problems[0]!, /^BGPPeer odd: spec.password has no secretKeyRef with a name and a key/);
  }
  t.deepEqual(secretRefOf({ secretKeyRef: { name: ' s ', key: 'k' } }), { name: 's', key: 'k' });
});

test('pending Secret: waiting, not missing; a BGPPeer without password is unaffected by Secrets', (t) => {
  const set: SecretSet = { namespace: 'calico-system', byName: new Map(), pending: new Set(['s']) };
  const r = bgpPeerKeys(securedPeer('p', '10.0.0.10', 's', 'k'), set);
  t.deepEqual(r.keys, []);
  t.regex(r.problems[0]!, /BGPPeer p: waiting for password Secret calico-system\/s key "k" \(not listed yet\)/);
  const plain = bgpPeerKeys(bgpPeer('plain', '10.0.0.10', 64512), set);
  t.deepEqual(plain.keys, [[`${K}/global/peer_v4/10.0.0.10`, JSON.stringify({ ip: '10.0.0.10', as_num: '64512' })]]);
});

test('referencedSecrets names each Secret once; translateAll withholds per peer and notes a global fallback', (t) => {
  const peers = [
    securedPeer('a', '10.0.0.10', 's1', 'k', 'n1'),
    securedPeer('b', '10.0.0.11', 's1', 'other'),
    securedPeer('c', '10.0.0.12', 's2', 'k'),
    bgpPeer('g', '10.0.0.10', 64512),
  ];
  t.deepEqual([...referencedSecrets(peers)].sort(), ['s1', 's2']);
  const out = translateAll(
    { nodes: [], bgpPeers: peers, bgpConfigurations: [], leases: [], secrets: secrets(secret('s2', { k: b64('pw2') })) },
    Date.now(),
  );
  t.false(out.keys.has(`${K}/host/n1/peer_v4/10.0.0.10`), 'a: Secret s1 missing');
  t.false(out.keys.has(`${K}/global/peer_v4/10.0.0.11`), 'b: Secret s1 missing');
  t.is((JSON.parse(out.keys.get(`${K}/global/peer_v4/10.0.0.12`)!) as { password?: unknown }).password, 'pw2');
  t.is(out.keys.get(`${K}/global/peer_v4/10.0.0.10`), JSON.stringify({ ip: '10.0.0.10', as_num: '64512' }));
  t.true(out.problems.some((p) => /^BGPPeer a: password Secret kube-system\/s1 key "k": the Secret does not exist/.test(p)));
  t.true(out.problems.some((p) => /^BGPPeer b: password Secret kube-system\/s1 key "other"/.test(p)));
  t.true(out.problems.some((p) => p === `BGPPeer a: while it is withheld, its node peers through the global entry ${K}/global/peer_v4/10.0.0.10 (another BGPPeer) instead`));
});
