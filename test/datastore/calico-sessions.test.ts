// The shared path from a key set (v1 keys, Calico v3 resources, password Secrets) to PeerSpecs. Oracles: the
// documented topology (Calico's documented route-reflector topology, summarised in src/datastore/calico/README.md: each reflector has Node_ sessions to
// the other reflector, non-client with the same cluster ID, and to every other node as rr clients) and the BIRD
// meaning of each Calico field (ttlSecurity N = GTSM with N hops, a port in peerIP = the port dialled).
import test from 'ava';
import { desiredSessions, nodeIdentityFromEnv, secretKey, type SessionsEnv } from '../../src/datastore/calico-sessions.js';
import { CALICO_V3_PREFIX } from '../../src/datastore/calico-v3.js';

const V3 = CALICO_V3_PREFIX;
const P = '/calico/bgp/v1';

function node(name: string, ip: string, labels: Record<string, string> = {}, bgp: Record<string, unknown> = {}): [string, string] {
  return [`${V3}/nodes/${name}`, JSON.stringify({ kind: 'Node', apiVersion: 'projectcalico.org/v3', metadata: { name, labels }, spec: { bgp: { ipv4Address: `${ip}/24`, ...bgp } } })];
}
function peer(name: string, spec: Record<string, unknown>): [string, string] {
  return [`${V3}/bgppeers/${name}`, JSON.stringify({ metadata: { name }, spec })];
}
function config(spec: Record<string, unknown>, name = 'default'): [string, string] {
  return [`${V3}/bgpconfigurations/${name}`, JSON.stringify({ metadata: { name }, spec })];
}
const RR = { 'route-reflector': 'true' };
const CID = { routeReflectorClusterID: '244.0.0.1' };

/** The documented topology: rr1, rr2 (labelled, cluster ID 244.0.0.1), n1..n3, mesh off, one BGPPeer. */
function topology(): Map<string, string> {
  return new Map([
    node('rr1', '10.0.0.1', RR, CID),
    node('rr2', '10.0.0.2', RR, CID),
    node('n1', '10.0.0.11'),
    node('n2', '10.0.0.12'),
    node('n3', '10.0.0.13'),
    peer('peer-with-route-reflectors', { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" }),
    config({ nodeToNodeMeshEnabled: false, asNumber: 64512 }),
  ]);
}
const env = (ip: string, extra: Partial<SessionsEnv> = {}): SessionsEnv => ({ ip, port: 179, ...extra });

test('documented topology, as rr1 found by NODENAME: Node_ to rr2 (non-client) and to n1..n3 (clients), cluster ID from the Node', (t) => {
  const r = desiredSessions(topology(), env('10.0.0.1', { nodeName: 'rr1' }));
  t.deepEqual(r.peers.map((p) => [p.name, p.routeReflectorClient, p.port, p.localAs, p.peerAs]), [
    ['Node_10_0_0_11', true, 179, 64512, 64512],
    ['Node_10_0_0_12', true, 179, 64512, 64512],
    ['Node_10_0_0_13', true, 179, 64512, 64512],
    ['Node_10_0_0_2', false, 179, 64512, 64512],
  ]);
  t.true(r.peers.every((p) => p.clusterId === '244.0.0.1' && p.localAddress === '10.0.0.1' && p.routerId === '10.0.0.1'));
  t.is(r.clusterIdFrom, 'Node routeReflectorClusterID');
  t.is(r.self?.foundBy, 'NODENAME');
  t.deepEqual(r.problems.filter((p) => p.kind !== 'warning'), []);
});

test('which node we are: the host name (lower-cased), else the Node with our IP; a client node gets no rr flags', (t) => {
  t.is(desiredSessions(topology(), env('10.0.0.2', nodeIdentityFromEnv({ HOSTNAME: ' RR2 ' }, 'ignored'))).self?.foundBy, 'hostname');
  const byIp = desiredSessions(topology(), env('10.0.0.2', { hostname: 'not-a-node' }));
  t.is(byIp.self?.foundBy, 'IP');
  t.deepEqual(byIp.peers.map((p) => p.name), ['Node_10_0_0_1', 'Node_10_0_0_11', 'Node_10_0_0_12', 'Node_10_0_0_13']);
  t.deepEqual(nodeIdentityFromEnv({ NODENAME: 'x' }, 'Host-A'), { nodeName: 'x', hostname: 'host-a' });
});

test('operator cluster ID wins: RR_CLUSTER_ID, and our rr_v4 entry over it; both make rr2 a client (different IDs)', (t) => {
  const a = desiredSessions(topology(), env('10.0.0.1', { nodeName: 'rr1', clusterId: '1.2.3.4' }));
  t.is(a.clusterId, '1.2.3.4');
  t.is(a.clusterIdFrom, 'RR_CLUSTER_ID');
  t.true(a.peers.find((p) => p.name === 'Node_10_0_0_2')?.routeReflectorClient);
  const keys = topology();
  keys.set(`${P}/rr_v4/10.0.0.1`, JSON.stringify({ ip: '10.0.0.1', cluster_id: '5.6.7.8' }));
  const b = desiredSessions(keys, env('10.0.0.1', { nodeName: 'rr1', clusterId: '1.2.3.4' }));
  t.is(b.clusterId, '5.6.7.8');
  t.is(b.clusterIdFrom, 'rr_v4 entry');
  t.true(b.peers.every((p) => p.clusterId === '5.6.7.8'));
});

test('no Node for us and no cluster ID: peerIP BGPPeers reach us by reverse peering, clients under our router ID (warned)', (t) => {
  const keys = new Map([node('n1', '10.0.0.11'), node('n2', '10.0.0.12'), peer('to-rr', { peerIP: '10.0.0.9', asNumber: 64512 })]);
  const r = desiredSessions(keys, env('10.0.0.9'));
  t.deepEqual(r.peers.map((p) => [p.name, p.routeReflectorClient, p.clusterId]), [['Node_10_0_0_11', true, '10.0.0.9'], ['Node_10_0_0_12', true, '10.0.0.9']]);
  t.true(r.problems.some((p) => p.kind === 'warning' && /no cluster ID/.test(p.reason)));
});

test('v1 keys keep working next to v3 resources; one session per neighbour, the v3 one wins and the v1 entry is named', (t) => {
  const keys = topology();
  keys.set(`${P}/rr_v4/10.0.0.1`, JSON.stringify({ ip: '10.0.0.1', cluster_id: '244.0.0.1' }));
  keys.set(`${P}/rr_v4/10.0.0.77`, JSON.stringify({ ip: '10.0.0.77' }));
  keys.set(`${P}/rr_v4/10.0.0.2`, JSON.stringify({ ip: '10.0.0.2' }));
  const r = desiredSessions(keys, env('10.0.0.1', { nodeName: 'rr1' }));
  t.deepEqual(r.peers.map((p) => p.name), ['Mesh_10_0_0_77', 'Node_10_0_0_11', 'Node_10_0_0_12', 'Node_10_0_0_13', 'Node_10_0_0_2']);
  t.true(r.problems.some((p) => p.key === `${P}/rr_v4/10.0.0.2` && /Node_10_0_0_2/.test(p.reason)));
});

test('fields our sessions apply: port in peerIP, ttlSecurity hops, maxRestartTime, localASNumber; not applied ones named once', (t) => {
  const keys = new Map([
    node('rr1', '10.0.0.1', {}, CID),
    peer('tor', { node: 'rr1', peerIP: '10.0.0.50:1790', asNumber: 65001, ttlSecurity: 2, maxRestartTime: '300s', localASNumber: 64600, keepaliveTime: '10s', filters: ['f'], sourceAddress: 'None' }),
    config({ nodeToNodeMeshEnabled: false, serviceClusterIPs: [{ cidr: '10.96.0.0/12' }], logSeverityScreen: 'Debug' }),
  ]);
  const r = desiredSessions(keys, env('10.0.0.1', { nodeName: 'rr1' }));
  t.is(r.peers.length, 1);
  const s = r.peers[0]!;
  t.like(s, { name: 'Node_10_0_0_50_port_1790', port: 1790, neighborAddress: '10.0.0.50', localAs: 64600, peerAs: 65001, ttlSecurity: true, ttlSecurityHops: 2, restartTime: 300, routeReflectorClient: false });
  t.deepEqual(r.notApplied, [
    { resource: 'BGPConfiguration default', fields: ['spec.logSeverityScreen', 'spec.serviceClusterIPs'] },
    { resource: 'BGPPeer tor', fields: ['spec.filters', 'spec.keepaliveTime', 'spec.sourceAddress'] },
  ]);
  t.true(s.sourceKeys.includes('BGPPeer tor') && s.sourceKeys.includes('BGPConfiguration default'));
});

function pwKeys(secret?: Record<string, unknown>): Map<string, string> {
  const keys = topology();
  keys.set(...peer('peer-with-route-reflectors', { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'", password: { secretKeyRef: { name: 'bgp', key: 'pw' } } }));
  if (secret !== undefined) keys.set(secretKey('bgp'), JSON.stringify(secret));
  return keys;
}

test('password present: every session of the BGPPeer carries the base64-decoded value', (t) => {
  const r = desiredSessions(pwKeys({ namespace: 'kube-system', state: 'present', data: { pw: Buffer.from('s3cr3t').toString('base64') } }), env('10.0.0.1', { nodeName: 'rr1' }));
  t.is(r.peers.length, 4);
  t.true(r.peers.every((p) => p.password === 's3cr3t'));
});

test('password not readable: the sessions are held back, one problem naming the BGPPeer, Secret, key and sessions', (t) => {
  const cases: Array<[string, Record<string, unknown> | undefined, RegExp]> = [
    ['pending', undefined, /waiting for password Secret \S*bgp key "pw"/],
    ['missing', { namespace: 'calico-system', state: 'missing' }, /Secret calico-system\/bgp key "pw".*does not exist/],
    ['no key', { namespace: 'kube-system', state: 'present', data: { other: 'eA==' } }, /Secret kube-system\/bgp key "pw".*no such key.*"other"/],
    ['not base64', { namespace: 'kube-system', state: 'present', data: { pw: '%%%' } }, /not base64/],
    ['unavailable', { namespace: 'kube-system', state: 'unavailable', reason: 'no Kubernetes API to read Secrets from: x' }, /Secret kube-system\/bgp key "pw" cannot be read \(no Kubernetes API/],
  ];
  for (const [what, secret, re] of cases) {
    const r = desiredSessions(pwKeys(secret), env('10.0.0.1', { nodeName: 'rr1' }));
    t.deepEqual(r.peers, [], what);
    const mine = r.problems.filter((p) => p.key === 'BGPPeer peer-with-route-reflectors');
    t.is(mine.length, 1, what);
    t.regex(mine[0]!.reason, /\(sessions Node_10_0_0_11, Node_10_0_0_12, Node_10_0_0_13, Node_10_0_0_2\)$/);
    t.true(mine.every((p) => re.test(p.reason) && p.kind === undefined), `${what}: ${mine[0]?.reason}`);
  }
});

test('bad resources are named and skipped, never thrown', (t) => {
  const keys = topology();
  keys.set(`${V3}/bgppeers/broken`, '{not json');
  keys.set(`${V3}/nodes/arr`, '[1,2]');
  keys.set(...peer('badsel', { nodeSelector: 'has(', peerIP: '10.0.0.60', asNumber: 1 }));
  const r = desiredSessions(keys, env('10.0.0.1', { nodeName: 'rr1' }));
  t.is(r.peers.length, 4);
  t.true(r.problems.some((p) => p.key === `${V3}/bgppeers/broken`));
  t.true(r.problems.some((p) => p.key === `${V3}/nodes/arr`));
  t.true(r.problems.some((p) => p.key === 'BGPPeer badsel'));
});
