// calico-node's peering computation from one node's point of view. Expected sessions are written from the text of
// Calico's docs and confd's rules (calico-v3-bgp.md §3–§5, copied into src/datastore/calico/README.md), not from running it.
import test from 'ava';
import { computePeerings, type CalicoSession, type PeeringInput } from '../../../src/datastore/calico/peerings.js';
import { nodeFromKubernetes, parsePeerIP, type CalicoResource } from '../../../src/datastore/calico/resources.js';
import { parseGoDuration } from '../../../src/datastore/calico/duration.js';

const node = (name: string, ip: string, extra: { labels?: Record<string, string>; cid?: string; as?: number; ip6?: string } = {}): CalicoResource => ({
  name,
  labels: extra.labels ?? {},
  spec: {
    bgp: {
      ipv4Address: `${ip}/24`,
      ...(extra.ip6 !== undefined ? { ipv6Address: `${extra.ip6}/64` } : {}),
      ...(extra.cid !== undefined ? { routeReflectorClusterID: extra.cid } : {}),
      ...(extra.as !== undefined ? { asNumber: extra.as } : {}),
    },
  },
});
const rrLabel = { 'route-reflector': 'true' };
const meshOff: CalicoResource = { name: 'default', spec: { nodeToNodeMeshEnabled: false } };
/** The documented topology (DOC "Configure a node to act as a route reflector"; calico-v3-bgp.md §5). */
const docNodes = [
  node('rr1', '10.0.0.1', { labels: rrLabel, cid: '244.0.0.1' }),
  node('rr2', '10.0.0.2', { labels: rrLabel, cid: '244.0.0.1' }),
  node('n1', '10.0.0.11'),
  node('n2', '10.0.0.12'),
  node('n3', '10.0.0.13'),
];
const docPeer: CalicoResource = { name: 'peer-with-route-reflectors', spec: { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" } };

/** The fields that matter for comparing with the docs' BIRD protocols. */
const brief = (s: CalicoSession): string =>
  `${s.name} ${s.peerIP}:${s.port} as ${s.localAs}->${s.peerAs}${s.ibgp ? ' ibgp' : ' ebgp'}${s.routeReflectorClient ? ` rr client ${s.clusterId}` : ''}${s.passive ? ' passive' : ''}`;
const view = (input: Omit<PeeringInput, 'self'>, nodeName: string): string[] => computePeerings({ ...input, self: { nodeName } }).sessions.map(brief);

test('documented RR topology: the sessions of §5 on RR1, RR2 and the clients', (t) => {
  const input = { nodes: docNodes, bgpPeers: [docPeer], bgpConfigurations: [meshOff] };
  t.deepEqual(view(input, 'rr1'), [
    'Node_10_0_0_11 10.0.0.11:179 as 64512->64512 ibgp rr client 244.0.0.1',
    'Node_10_0_0_12 10.0.0.12:179 as 64512->64512 ibgp rr client 244.0.0.1',
    'Node_10_0_0_13 10.0.0.13:179 as 64512->64512 ibgp rr client 244.0.0.1',
    'Node_10_0_0_2 10.0.0.2:179 as 64512->64512 ibgp',
  ]);
  t.deepEqual(view(input, 'rr2'), [
    'Node_10_0_0_1 10.0.0.1:179 as 64512->64512 ibgp',
    'Node_10_0_0_11 10.0.0.11:179 as 64512->64512 ibgp rr client 244.0.0.1',
    'Node_10_0_0_12 10.0.0.12:179 as 64512->64512 ibgp rr client 244.0.0.1',
    'Node_10_0_0_13 10.0.0.13:179 as 64512->64512 ibgp rr client 244.0.0.1',
  ]);
  for (const n of ['n1', 'n2', 'n3']) {
    t.deepEqual(view(input, n), ['Node_10_0_0_1 10.0.0.1:179 as 64512->64512 ibgp', 'Node_10_0_0_2 10.0.0.2:179 as 64512->64512 ibgp'], n);
  }
  const r = computePeerings({ ...input, self: { nodeName: 'rr1' } });
  t.deepEqual(r.self, { name: 'rr1', foundBy: 'NODENAME', ipv4: '10.0.0.1', asNumber: 64512, clusterId: '244.0.0.1' });
  t.true(r.sessions.every((s) => s.localAddress === '10.0.0.1' && s.bindLocalAddress && !s.passive), 'multihop from the node IP; both ends dial');
  t.deepEqual(r.errors, []);
  t.deepEqual(r.notHonoured, []);
  t.is(r.listenPort, 179);
});

test('hard-way guide variant (two BGPPeers with has()/!has()) gives the same sessions', (t) => {
  const label = { 'calico-route-reflector': '' };
  const nodes = [
    node('rr1', '10.0.0.1', { labels: label, cid: '244.0.0.1' }),
    node('rr2', '10.0.0.2', { labels: label, cid: '244.0.0.1' }),
    node('n1', '10.0.0.11'),
  ];
  const bgpPeers = [
    { name: 'peer-to-rrs', spec: { nodeSelector: '!has(calico-route-reflector)', peerSelector: 'has(calico-route-reflector)' } },
    { name: 'rrs-to-rrs', spec: { nodeSelector: 'has(calico-route-reflector)', peerSelector: 'has(calico-route-reflector)' } },
  ];
  const input = { nodes, bgpPeers, bgpConfigurations: [meshOff] };
  t.deepEqual(view(input, 'rr1'), ['Node_10_0_0_11 10.0.0.11:179 as 64512->64512 ibgp rr client 244.0.0.1', 'Node_10_0_0_2 10.0.0.2:179 as 64512->64512 ibgp']);
  t.deepEqual(view(input, 'n1'), ['Node_10_0_0_1 10.0.0.1:179 as 64512->64512 ibgp', 'Node_10_0_0_2 10.0.0.2:179 as 64512->64512 ibgp']);
});

test('§4 pairings: different cluster IDs make each other clients; peerIP peerings never record a cluster ID', (t) => {
  const differ = {
    nodes: [node('rr1', '10.0.0.1', { labels: rrLabel, cid: '1.1.1.1' }), node('rr2', '10.0.0.2', { labels: rrLabel, cid: '2.2.2.2' })],
    bgpPeers: [docPeer],
    bgpConfigurations: [meshOff],
  };
  t.deepEqual(view(differ, 'rr1'), ['Node_10_0_0_2 10.0.0.2:179 as 64512->64512 ibgp rr client 1.1.1.1']);
  t.deepEqual(view(differ, 'rr2'), ['Node_10_0_0_1 10.0.0.1:179 as 64512->64512 ibgp rr client 2.2.2.2']);
  const byIP = {
    nodes: [node('rr1', '10.0.0.1', { cid: '1.1.1.1' }), node('rr2', '10.0.0.2', { cid: '1.1.1.1' })],
    bgpPeers: [{ name: 'rr1-to-rr2', spec: { node: 'rr1', peerIP: '10.0.0.2', asNumber: 64512 } }],
    bgpConfigurations: [meshOff],
  };
  // Forward entry on rr1 (peerIP: no cluster ID → client even with the same C); reverse on rr2 (records rr1's C).
  t.deepEqual(view(byIP, 'rr1'), ['Node_10_0_0_2 10.0.0.2:179 as 64512->64512 ibgp rr client 1.1.1.1']);
  t.deepEqual(view(byIP, 'rr2'), ['Node_10_0_0_1 10.0.0.1:179 as 64512->64512 ibgp']);
  // One peerIP BGPPeer each way (the table's case): forward entries on both ends, each makes the other its client.
  const both = { ...byIP, bgpPeers: [...byIP.bgpPeers, { name: 'rr2-to-rr1', spec: { node: 'rr2', peerIP: '10.0.0.1', asNumber: 64512 } }] };
  t.deepEqual(view(both, 'rr1'), ['Node_10_0_0_2 10.0.0.2:179 as 64512->64512 ibgp rr client 1.1.1.1']);
  t.deepEqual(view(both, 'rr2'), ['Node_10_0_0_1 10.0.0.1:179 as 64512->64512 ibgp rr client 1.1.1.1']);
  // An eBGP session never gets rr lines.
  const ebgp = {
    nodes: [node('rr1', '10.0.0.1', { cid: '1.1.1.1' })],
    bgpPeers: [{ name: 'tor', spec: { peerIP: '192.0.2.1', asNumber: 65000 } }],
    bgpConfigurations: [meshOff],
  };
  t.deepEqual(view(ebgp, 'rr1'), ['Global_192_0_2_1 192.0.2.1:179 as 64512->65000 ebgp']);
});

test('a global BGPPeer wins over a node-specific one to the same IP and port, as calico-node does, and it is said', (t) => {
  const input: PeeringInput = {
    nodes: [node('rr1', '10.0.0.1', { cid: '1.1.1.1' })],
    bgpPeers: [
      { name: 'a-node-tor', spec: { node: 'rr1', peerIP: '192.0.2.1', asNumber: 65001, password: { secretKeyRef: { name: 'b', key: 'k' } } } },
      { name: 'z-global-tor', spec: { peerIP: '192.0.2.1:179', asNumber: 65000, password: { secretKeyRef: { name: 'a', key: 'k' } } } },
      { name: 'other-port', spec: { node: 'rr1', peerIP: '192.0.2.1:1790', asNumber: 65001 } },
    ],
    bgpConfigurations: [meshOff],
    self: { nodeName: 'rr1' },
  };
  const r = computePeerings(input);
  t.deepEqual(r.sessions.map(brief), [
    'Global_192_0_2_1_port_179 192.0.2.1:179 as 64512->65000 ebgp',
    'Node_192_0_2_1_port_1790 192.0.2.1:1790 as 64512->65001 ebgp',
  ]);
  t.deepEqual(r.sessions[0]!.password, { name: 'a', key: 'k' });
  t.true(r.warnings.some((w) => w.resource === 'BGPPeer a-node-tor' && /global peering from BGPPeer z-global-tor .* wins/.test(w.message)), JSON.stringify(r.warnings));
});

test('mesh: every other node without a cluster ID, passive when its IP is greater as text; a reflector leaves it', (t) => {
  const nodes = [node('a', '10.0.0.2'), node('b', '10.0.0.11'), node('c', '10.0.0.3', { as: 65010 }), node('rr', '10.0.0.9', { cid: '9.9.9.9' })];
  const cfg = [{ name: 'default', spec: { nodeMeshPassword: { secretKeyRef: { name: 'mesh', key: 'pw' } }, nodeMeshMaxRestartTime: '5m' } }];
  const r = computePeerings({ nodes, bgpPeers: [], bgpConfigurations: cfg, self: { hostname: 'A' } });
  t.is(r.self.foundBy, 'hostname');
  t.deepEqual(r.sessions.map(brief), [
    'Mesh_10_0_0_11 10.0.0.11:179 as 64512->64512 ibgp',
    'Mesh_10_0_0_3 10.0.0.3:179 as 64512->65010 ebgp passive',
  ]);
  t.true(r.sessions.every((s) => s.password?.name === 'mesh' && s.restartTimeSeconds === 300));
  t.deepEqual(computePeerings({ nodes, bgpPeers: [], bgpConfigurations: [], self: { nodeName: 'rr' } }).sessions, []);
});

test('peerIP ports, a Calico node\'s listenPort, IPv6, and names as BIRD gets them', (t) => {
  const nodes = [node('rr1', '10.0.0.1', { ip6: 'fd00::1', cid: '1.1.1.1' }), node('n1', '10.0.0.11', { ip6: 'fd00::11' })];
  const bgpConfigurations = [meshOff, { name: 'node.n1', spec: { listenPort: 1790 } }];
  const bgpPeers = [
    { name: 'n1-to-rr-v6', spec: { node: 'n1', peerIP: '[fd00::1]:179', asNumber: 64512 } },
    { name: 'rr-to-n1', spec: { node: 'rr1', peerIP: '10.0.0.11', asNumber: 64512 } },
  ];
  const r = computePeerings({ nodes, bgpPeers, bgpConfigurations, self: { nodeName: 'rr1' } });
  t.deepEqual(r.sessions.map(brief), [
    // peerIP without a port, to a Calico node: its listenPort (CL updatePeersV1) and the _port_ suffix.
    'Node_10_0_0_11_port_1790 10.0.0.11:1790 as 64512->64512 ibgp rr client 1.1.1.1',
    // reverse of n1's IPv6 peering to us: n1 as a Node entry, its listen port, its (empty) cluster ID.
    'Node_fd00__11_port_1790 fd00::11:1790 as 64512->64512 ibgp rr client 1.1.1.1',
  ]);
  t.is(r.sessions[1]!.localAddress, 'fd00::1');
  t.deepEqual(parsePeerIP('[fd00::1]:1790'), { family: 6, ip: 'fd00::1', port: 1790 });
  t.deepEqual(parsePeerIP('10.0.0.1:65536'), undefined);
  t.deepEqual(parsePeerIP(' 10.0.0.1 '), { family: 4, ip: '10.0.0.1', port: 0 });
});

test('honoured fields reach the session; the others are named once per resource', (t) => {
  const bgpPeers = [
    {
      name: 'tor',
      spec: {
        node: 'rr1', peerIP: '192.0.2.1', asNumber: 65000, ttlSecurity: 2, maxRestartTime: '2m', keepaliveTime: '1m30s',
        keepOriginalNextHop: true, sourceAddress: 'None', filters: ['f1'], reachableBy: '10.0.0.254', numAllowedLocalASNumbers: 1,
      },
    },
    { name: 'ibgp-keep', spec: { node: 'rr1', peerIP: '10.9.9.9', asNumber: 64512, keepOriginalNextHop: true } },
    { name: 'self-mode', spec: { node: 'rr1', peerIP: '10.9.9.8', asNumber: 64512, keepOriginalNextHop: true, nextHopMode: 'Self' } },
    { name: 'not-us', spec: { node: 'elsewhere', peerIP: '192.0.2.9', asNumber: 65000, filters: ['f2'] } },
  ];
  const cfg = [{ name: 'default', spec: { nodeToNodeMeshEnabled: false, listenPort: 1179, communities: [{ name: 'x', value: '1:1' }], asNumber: 64512 } }];
  const r = computePeerings({ nodes: [node('rr1', '10.0.0.1', { cid: '1.1.1.1' })], bgpPeers, bgpConfigurations: cfg, self: { nodeName: 'rr1' } });
  const tor = r.sessions.find((s) => s.name === 'Node_192_0_2_1')!;
  t.is(tor.ttlSecurity, 2);
  t.is(tor.restartTimeSeconds, 120);
  t.is(tor.keepaliveSeconds, 90);
  t.is(tor.nextHop, 'keep', 'keepOriginalNextHop on eBGP');
  t.false(tor.bindLocalAddress, 'sourceAddress None');
  t.is(tor.allowLocalAs, 1);
  t.is(r.sessions.find((s) => s.name === 'Node_10_9_9_9')!.nextHop, undefined, 'keepOriginalNextHop is eBGP only');
  t.is(r.sessions.find((s) => s.name === 'Node_10_9_9_8')!.nextHop, 'self', 'nextHopMode wins over keepOriginalNextHop');
  t.is(r.listenPort, 1179);
  t.deepEqual(r.notHonoured, [
    { resource: 'BGPPeer tor', fields: ['spec.filters', 'spec.reachableBy'] },
    { resource: 'BGPConfiguration default', fields: ['spec.communities'] },
  ]);
});

test('which node we are: NODENAME over hostname, then our IP; none: peerIP BGPPeers naming us still apply', (t) => {
  const nodes = [node('a', '10.0.0.1'), node('b', '10.0.0.2')];
  const base = { nodes, bgpPeers: [], bgpConfigurations: [] };
  t.is(computePeerings({ ...base, self: { nodeName: 'b', hostname: 'a' } }).self.name, 'b');
  t.like(computePeerings({ ...base, self: { nodeName: 'zz', ip: '10.0.0.1' } }).self, { name: 'a', foundBy: 'IP' });
  // Not a Node: a global BGPPeer to our IP makes every node dial us; the reverse pass gives us a session with each.
  const standalone = computePeerings({
    nodes,
    bgpPeers: [
      { name: 'to-rr', spec: { peerIP: '10.0.0.100', asNumber: 64512 } },
      // Every node's peering with a ToR: not ours without a Node; a BGPPeer naming our node name is.
      { name: 'to-tor', spec: { peerIP: '10.0.0.200', asNumber: 65001 } },
      { name: 'rr-x-tor', spec: { node: 'rr-x', peerIP: '10.0.0.201', asNumber: 65001 } },
    ],
    bgpConfigurations: [],
    self: { nodeName: 'rr-x', ip: '10.0.0.100', clusterId: '5.5.5.5' },
  });
  t.is(standalone.self.foundBy, 'none');
  t.deepEqual(standalone.sessions.map(brief), [
    'Node_10_0_0_1 10.0.0.1:179 as 64512->64512 ibgp rr client 5.5.5.5',
    'Node_10_0_0_2 10.0.0.2:179 as 64512->64512 ibgp rr client 5.5.5.5',
    'Node_10_0_0_201 10.0.0.201:179 as 64512->65001 ebgp',
  ]);
  // The operator's cluster ID wins over the Node's, and the difference is said.
  const over = computePeerings({ nodes: [node('rr', '10.0.0.1', { cid: '1.1.1.1' })], bgpPeers: [], bgpConfigurations: [], self: { nodeName: 'rr', clusterId: '2.2.2.2' } });
  t.is(over.self.clusterId, '2.2.2.2');
  t.true(over.warnings.some((w) => /overridden/.test(w.message)));
});

test('bad resources: clear errors naming the resource; a bad selector matches nothing, as in calico-node', (t) => {
  const r = computePeerings({
    nodes: [node('rr1', '10.0.0.1', { labels: rrLabel, cid: '1.1.1.1' }), { name: 'bad', spec: { bgp: { ipv4Address: '10.0.0.300', routeReflectorClusterID: 'x' } } }],
    bgpPeers: [
      { name: 'typo', spec: { nodeSelector: 'all()', peerSelector: "route-reflector = 'true'" } },
      { name: 'noip', spec: { peerIP: 'ten', asNumber: 1 } },
      { name: 'nopw', spec: { peerIP: '192.0.2.1', asNumber: 1, password: { secretKeyRef: { name: 's' } } } },
    ],
    bgpConfigurations: [meshOff],
    self: { nodeName: 'rr1' },
  });
  t.deepEqual(r.sessions, []);
  const msg = (res: string): string => r.errors.filter((e) => e.resource === res).map((e) => e.message).join(' | ');
  t.regex(msg('BGPPeer typo'), /^spec\.peerSelector: selector "route-reflector = 'true'": expected "==" at position 16; it matches no node/);
  t.regex(msg('BGPPeer noip'), /spec\.peerIP "ten" is not IP/);
  t.regex(msg('BGPPeer nopw'), /secretKeyRef.*never run without its password/);
  t.regex(msg('Node bad'), /ipv4Address "10.0.0.300".*routeReflectorClusterID "x"/);
});

test('reversePeering Manual: no automatic reverse session', (t) => {
  const nodes = [node('rr1', '10.0.0.1', { cid: '1.1.1.1' }), node('n1', '10.0.0.11')];
  const spec = { node: 'n1', peerIP: '10.0.0.1', asNumber: 64512 };
  t.deepEqual(view({ nodes, bgpPeers: [{ name: 'p', spec }], bgpConfigurations: [meshOff] }, 'rr1'), ['Node_10_0_0_11 10.0.0.11:179 as 64512->64512 ibgp rr client 1.1.1.1']);
  t.deepEqual(view({ nodes, bgpPeers: [{ name: 'p', spec: { ...spec, reversePeering: 'Manual' } }], bgpConfigurations: [meshOff] }, 'rr1'), []);
});

test('Kubernetes Nodes: annotation labels overlaid by Kubernetes labels, spec.bgp from annotations', (t) => {
  const r = nodeFromKubernetes({
    metadata: {
      name: 'k1',
      labels: { 'route-reflector': 'true' },
      annotations: {
        'projectcalico.org/labels': '{"route-reflector":"false","zone":"a"}',
        'projectcalico.org/IPv4Address': '10.0.0.1/24',
        'projectcalico.org/RouteReflectorClusterID': '244.0.0.1',
      },
    },
  });
  t.deepEqual(r, { name: 'k1', labels: { 'route-reflector': 'true', zone: 'a' }, spec: { bgp: { ipv4Address: '10.0.0.1/24', routeReflectorClusterID: '244.0.0.1' } } });
});

test('Go durations', (t) => {
  t.is(parseGoDuration('120s'), 120_000);
  t.is(parseGoDuration('1h30m'), 5_400_000);
  t.is(parseGoDuration('1.5m'), 90_000);
  t.is(parseGoDuration('0'), 0);
  t.is(parseGoDuration('12'), undefined);
  t.is(parseGoDuration('1d'), undefined);
});
