// Per-peer ADD-PATH send override (issue 20) from the key set to PeerSpec.addPaths: `add_paths` of v1 peer and rr
// entries, the rr.calico-ts.io/add-paths annotation of a Calico v3 BGPPeer (etcd v3 as stored, Kubernetes as the
// source publishes it). Oracle: the value written into the entry or annotation, and the documented form
// (off / all / 1..64); a bad value is one problem naming the key or BGPPeer, and the session still runs.
import test from 'ava';
import { desiredPeers, type MappingEnv } from '../../src/datastore/calico-mapping.js';
import { desiredSessions } from '../../src/datastore/calico-sessions.js';
import { CALICO_V3_PREFIX } from '../../src/datastore/calico-v3.js';
import { resourceKeys } from '../../src/datastore/kubernetes/translate.js';
import type { PeerSpec } from '../../src/peers/peer-spec.js';

const P = '/calico/bgp/v1';
const V3 = CALICO_V3_PREFIX;
const ANN = 'rr.calico-ts.io/add-paths';
const env: MappingEnv = { ip: '10.0.0.10', ip6: 'fd00::10', port: 179 };

function keys(obj: Record<string, string | object>): Map<string, string> {
  const m = new Map<string, string>();
  for (const [k, v] of Object.entries(obj)) m.set(`${P}/${k}`, typeof v === 'string' ? v : JSON.stringify(v));
  return m;
}
function addPathsByName(peers: PeerSpec[]): Record<string, unknown> {
  return Object.fromEntries(peers.map((p) => [`${p.family}/${p.name}`, p.addPaths]));
}

// ---- v1 keys (file, etcd v2, etcd v3 keyspace) ----

test('v1: add_paths of a global, a node-specific (number) and another reflector\'s rr entry reach the sessions they make; absent = default', (t) => {
  const r = desiredPeers(
    keys({
      'rr_v4/10.0.0.10': { ip: '10.0.0.10', cluster_id: '1.0.0.1', add_paths: 'all' }, // our own: what others send us, not ours
      'rr_v4/10.0.0.11': { ip: '10.0.0.11', add_paths: '2' },
      'rr_v4/10.0.0.12': { ip: '10.0.0.12' },
      'global/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '64512', add_paths: 'ALL' },
      'host/b/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '64512', add_paths: 4 },
      'host/c/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '64512', add_paths: ' off ' },
      'global/peer_v6/fd00::10': { ip: 'fd00::10', as_num: '64512', add_paths: '64' },
      'host/a/ip_addr_v4': '10.0.1.1',
      'host/b/ip_addr_v4': '10.0.1.2',
      'host/c/ip_addr_v4': '10.0.1.3',
      'host/a/ip_addr_v6': 'fd00::1:1',
    }),
    env,
  );
  t.deepEqual(r.problems.filter((p) => /add_paths/.test(p.reason)), []);
  t.deepEqual(addPathsByName(r.peers), {
    '4/Global_10_0_1_1': 'all',
    '4/Node_10_0_1_2': 4, // the node-specific entry's session wins over the global one for host b, with its value
    '4/Node_10_0_1_3': 'off',
    '4/Mesh_10_0_0_11': 2,
    '4/Mesh_10_0_0_12': undefined,
    '6/Global_fd00__1_1': 64,
  });
  t.false(r.peers.some((p) => p.name === 'Mesh_10_0_0_12' && 'addPaths' in p), 'absent stays absent (the ADD_PATHS default)');
});

test('v1: a bad add_paths is one problem naming the key and the value; the session runs with the default', (t) => {
  const bad: Array<[unknown, RegExp]> = [
    ['many', /add_paths "many" is not off, all or 1\.\.64; ignored/],
    [0, /add_paths 0 is not off, all or 1\.\.64; ignored/],
    ['65', /add_paths "65" is not off/],
    [4.5, /add_paths 4\.5 is not off/],
    [true, /add_paths true is not off/],
    [['all'], /add_paths an array of 1 item is not off/],
    ['-1', /add_paths "-1" is not off/],
  ];
  for (const [value, reason] of bad) {
    const r = desiredPeers(
      keys({
        'rr_v4/10.0.0.10': { ip: '10.0.0.10' },
        'rr_v4/10.0.0.11': { ip: '10.0.0.11', add_paths: value },
        'global/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '64512', add_paths: value },
        'host/a/ip_addr_v4': '10.0.1.1',
      }),
      env,
    );
    t.deepEqual(r.peers.map((p) => [p.name, p.addPaths]), [['Global_10_0_1_1', undefined], ['Mesh_10_0_0_11', undefined]], String(value));
    t.deepEqual(r.problems.map((p) => p.key).sort(), [`${P}/global/peer_v4/10.0.0.10`, `${P}/rr_v4/10.0.0.11`], String(value));
    for (const p of r.problems) t.regex(p.reason, reason);
  }
});

test('v1: a change of add_paths changes the PeerSpec (the reconciler restarts the session: capabilities are in OPEN)', (t) => {
  const at = (v: unknown): PeerSpec | undefined =>
    desiredPeers(keys({ 'global/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '64512', add_paths: v }, 'host/a/ip_addr_v4': '10.0.1.1' }), env).peers[0];
  t.is(at('3')?.addPaths, 3);
  t.is(at('all')?.addPaths, 'all');
  t.is(at(null)?.addPaths, undefined);
  t.is(at('')?.addPaths, undefined);
});

// ---- Calico v3 resources ----

function node(name: string, ip: string, labels: Record<string, string> = {}): [string, string] {
  return [`${V3}/nodes/${name}`, JSON.stringify({ metadata: { name, labels }, spec: { bgp: { ipv4Address: `${ip}/24`, routeReflectorClusterID: labels.rr === 'true' ? '244.0.0.1' : undefined } } })];
}
function peer(name: string, spec: Record<string, unknown>, annotations?: Record<string, unknown>): [string, string] {
  return [`${V3}/bgppeers/${name}`, JSON.stringify({ metadata: { name, ...(annotations !== undefined ? { annotations } : {}) }, spec })];
}
const nomesh: [string, string] = [`${V3}/bgpconfigurations/default`, JSON.stringify({ metadata: { name: 'default' }, spec: { nodeToNodeMeshEnabled: false, asNumber: 64512 } })];

test('v3: the BGPPeer annotation reaches every session it gives us (peerSelector, peerIP reverse, peerIP with a port); the annotation is read from metadata.annotations among others', (t) => {
  const ks = new Map([
    node('rr1', '10.0.0.1', { rr: 'true' }),
    node('n1', '10.0.0.11'),
    node('n2', '10.0.0.12'),
    nomesh,
    // rr1 → the nodes selected: each gets the BGPPeer's value
    peer('rr-to-nodes', { nodeSelector: "rr == 'true'", peerSelector: '!has(rr)' }, { [ANN]: 'all', 'kubectl.kubernetes.io/last-applied-configuration': '{}' }),
    // a ToR for rr1 only, by peerIP with a port
    peer('tor', { node: 'rr1', peerIP: '10.0.0.50:1790', asNumber: 65001 }, { [ANN]: 8 }),
  ]);
  const r = desiredSessions(ks, { ip: '10.0.0.1', port: 179, nodeName: 'rr1' });
  t.deepEqual(r.peers.map((p) => [p.name, p.addPaths]), [['Node_10_0_0_11', 'all'], ['Node_10_0_0_12', 'all'], ['Node_10_0_0_50_port_1790', 8]]);
  t.deepEqual(r.problems.filter((p) => /add-paths/.test(p.reason)), []);

  // reverse peering: the nodes' BGPPeer names our IP; the sessions it gives us carry its value
  const rev = new Map([node('n1', '10.0.0.11'), node('n2', '10.0.0.12'), nomesh, peer('to-rr', { peerIP: '10.0.0.9', asNumber: 64512 }, { [ANN]: ' Off ' })]);
  t.deepEqual(desiredSessions(rev, { ip: '10.0.0.9', port: 179, clusterId: '1.0.0.1' }).peers.map((p) => [p.name, p.addPaths]), [['Node_10_0_0_11', 'off'], ['Node_10_0_0_12', 'off']]);
});

test('v3: a bad annotation is one warning naming the BGPPeer and the annotation; the sessions run with the default', (t) => {
  for (const [value, shown] of [['many', '"many"'], ['0', '"0"'], ['65', '"65"'], [true, 'true'], [2.5, '2.5']] as const) {
    const ks = new Map([node('n1', '10.0.0.11'), nomesh, peer('to-rr', { peerIP: '10.0.0.9', asNumber: 64512 }, { [ANN]: value })]);
    const r = desiredSessions(ks, { ip: '10.0.0.9', port: 179, clusterId: '1.0.0.1' });
    t.deepEqual(r.peers.map((p) => [p.name, p.addPaths]), [['Node_10_0_0_11', undefined]]);
    const lines = r.problems.filter((p) => /add-paths/.test(p.reason));
    t.deepEqual(lines, [{ key: 'BGPPeer to-rr', reason: `annotation ${ANN} ${shown} is not off, all or 1..64; ignored (the ADD_PATHS default applies)`, kind: 'warning' }]);
  }
});

test('v3: two BGPPeers giving one session: the first in confd\'s order (global over node-specific; by name within a pass) keeps its value, the other is warned', (t) => {
  const base = [node('rr1', '10.0.0.1', { rr: 'true' }), nomesh];
  // two node-specific BGPPeers to the same ToR: the first by name wins, the second is reported
  const two = new Map([...base, peer('a-tor', { node: 'rr1', peerIP: '10.0.0.50', asNumber: 65001 }, { [ANN]: '2' }), peer('b-tor', { node: 'rr1', peerIP: '10.0.0.50', asNumber: 65001 }, { [ANN]: 'all' })]);
  const r = desiredSessions(two, { ip: '10.0.0.1', port: 179, nodeName: 'rr1' });
  t.deepEqual(r.peers.map((p) => [p.name, p.addPaths, p.sourceKeys[0]]), [['Node_10_0_0_50', 2, 'BGPPeer a-tor']]);
  t.true(r.problems.some((p) => p.key === 'BGPPeer b-tor' && /BGPPeer a-tor already gives a peering with 10\.0\.0\.50/.test(p.reason)));
  // a global BGPPeer and a node-specific one to the same address: the global one's value, whatever the names
  const mixed = new Map([...base, peer('a-node', { node: 'rr1', peerIP: '10.0.0.50', asNumber: 65001 }, { [ANN]: '3' }), peer('z-global', { peerIP: '10.0.0.50', asNumber: 65001 })]);
  const m = desiredSessions(mixed, { ip: '10.0.0.1', port: 179, nodeName: 'rr1' });
  t.deepEqual(m.peers.map((p) => [p.name, p.addPaths]), [['Global_10_0_0_50', undefined]]);
  t.true(m.problems.some((p) => p.key === 'BGPPeer a-node' && /global peering from BGPPeer z-global/.test(p.reason)));
  // same value in both: no warning (the settings do not differ)
  const same = new Map([...base, peer('a-tor', { node: 'rr1', peerIP: '10.0.0.50', asNumber: 65001 }, { [ANN]: '2' }), peer('b-tor', { node: 'rr1', peerIP: '10.0.0.50', asNumber: 65001 }, { [ANN]: '2' })]);
  t.false(desiredSessions(same, { ip: '10.0.0.1', port: 179, nodeName: 'rr1' }).problems.some((p) => p.key === 'BGPPeer b-tor'));
});

test('Kubernetes: a BGPPeer is published with our annotations only, and gives the same PeerSpec as in etcd v3', (t) => {
  const o = {
    metadata: { name: 'tor', annotations: { [ANN]: '4', 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"object"}', 'other.io/x': 'y' } },
    spec: { node: 'rr1', peerIP: '10.0.0.50', asNumber: 65001 },
  };
  const tr = resourceKeys('bgppeers', o);
  t.deepEqual(tr.problems, []);
  const [key, value] = tr.keys[0]!;
  t.is(key, `${V3}/bgppeers/tor`);
  t.deepEqual((JSON.parse(value) as { metadata: unknown }).metadata, { name: 'tor', labels: {}, annotations: { [ANN]: '4' } });
  // without any annotation of ours the published value has none (nothing changes for existing clusters)
  t.false('annotations' in (JSON.parse(resourceKeys('bgppeers', { metadata: { name: 'x', annotations: { 'a.io/b': 'c' } }, spec: {} }).keys[0]![1]) as { metadata: object }).metadata);
  const ks = new Map([node('rr1', '10.0.0.1', { rr: 'true' }), nomesh, [key, value] as [string, string]]);
  t.deepEqual(desiredSessions(ks, { ip: '10.0.0.1', port: 179, nodeName: 'rr1' }).peers.map((p) => [p.name, p.addPaths]), [['Node_10_0_0_50', 4]]);
});
