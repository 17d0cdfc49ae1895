import test from 'ava';
import { desiredPeers, sessionName, rrEntryValue, rrKey, type MappingEnv } from '../../src/datastore/calico-mapping.js';
import type { PeerSpec } from '../../src/peers/peer-spec.js';

const P = '/calico/bgp/v1';
const env: MappingEnv = { ip: '10.0.0.10', port: 179 };
const env6: MappingEnv = { ip: '10.0.0.10', ip6: 'fd00::10', port: 179 };

function keys(obj: Record<string, string | object>): Map<string, string> {
  const m = new Map<string, string>();
  for (const [k, v] of Object.entries(obj)) m.set(`${P}/${k}`, typeof v === 'string' ? v : JSON.stringify(v));
  return m;
}

function byName(peers: PeerSpec[]): Record<string, PeerSpec> {
  return Object.fromEntries(peers.map((p) => [`${p.family}/${p.name}`, p]));
}

function names(peers: PeerSpec[]): string[] {
  return peers.map((p) => `${p.family}/${p.name}`);
}

test('the worked example of calico-datastore.md §4', (t) => {
  const r = desiredPeers(
    keys({
      'rr_v4/10.0.0.10': { ip: '10.0.0.10', cluster_id: '1.0.0.1' },
      'rr_v4/10.0.0.11': { ip: '10.0.0.11', cluster_id: '1.0.0.1' },
      'global/as_num': '64512',
      'global/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '64512' },
      'host/a/ip_addr_v4': '10.0.1.1',
      'host/b/ip_addr_v4': '10.0.1.2',
    }),
    env,
  );
  t.deepEqual(r.problems, []);
  t.deepEqual(names(r.peers), ['4/Global_10_0_1_1', '4/Global_10_0_1_2', '4/Mesh_10_0_0_11']);
  const m = byName(r.peers);
  t.deepEqual(m['4/Mesh_10_0_0_11'], {
    name: 'Mesh_10_0_0_11',
    kind: 'mesh',
    family: 4,
    neighborAddress: '10.0.0.11',
    localAddress: '10.0.0.10',
    port: 179,
    localAs: 64512,
    peerAs: 64512,
    routeReflectorClient: false,
    clusterId: '1.0.0.1',
    routerId: '10.0.0.10',
    sourceKeys: [`${P}/rr_v4/10.0.0.11`],
  });
  t.deepEqual(m['4/Global_10_0_1_2'], {
    name: 'Global_10_0_1_2',
    kind: 'global',
    family: 4,
    neighborAddress: '10.0.1.2',
    localAddress: '10.0.0.10',
    port: 179,
    localAs: 64512,
    peerAs: 64512,
    routeReflectorClient: true,
    clusterId: '1.0.0.1',
    routerId: '10.0.0.10',
    sourceKeys: [`${P}/global/peer_v4/10.0.0.10`, `${P}/host/b/ip_addr_v4`],
  });
});

test('standalone (no own rr_v4 entry): no mesh, cluster ID = router ID', (t) => {
  const r = desiredPeers(
    keys({
      'rr_v4/10.0.0.11': { ip: '10.0.0.11', cluster_id: '9.9.9.9' },
      'global/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '65000' },
      'host/a/ip_addr_v4': '10.0.1.1',
    }),
    env,
  );
  t.deepEqual(names(r.peers), ['4/Global_10_0_1_1']);
  t.is(r.peers[0]?.clusterId, '10.0.0.10');
  t.is(r.peers[0]?.localAs, 65000);
  t.is(r.peers[0]?.peerAs, 65000);
  t.deepEqual(r.problems, []);
});

test('registered with empty, null or absent cluster_id: cluster ID = router ID', (t) => {
  for (const own of [{ ip: '10.0.0.10', cluster_id: '' }, { ip: '10.0.0.10', cluster_id: null }, { ip: '10.0.0.10' }]) {
    const r = desiredPeers(keys({ 'rr_v4/10.0.0.10': own, 'rr_v4/10.0.0.12': { ip: '10.0.0.12' } }), env);
    t.deepEqual(names(r.peers), ['4/Mesh_10_0_0_12']);
    t.is(r.peers[0]?.clusterId, '10.0.0.10');
    t.deepEqual(r.problems, []);
  }
});

test('cluster_id as a 32-bit number is converted to a dotted quad; a bad one falls back with a problem', (t) => {
  const r = desiredPeers(keys({ 'rr_v4/10.0.0.10': { ip: '10.0.0.10', cluster_id: 16777217 }, 'rr_v4/10.0.0.12': { ip: '10.0.0.12' } }), env);
  t.is(r.peers[0]?.clusterId, '1.0.0.1');
  const bad = desiredPeers(keys({ 'rr_v4/10.0.0.10': { ip: '10.0.0.10', cluster_id: 'abc' }, 'rr_v4/10.0.0.12': { ip: '10.0.0.12' } }), env);
  t.is(bad.peers[0]?.clusterId, '10.0.0.10');
  t.is(bad.problems.length, 1);
  t.is(bad.problems[0]?.key, `${P}/rr_v4/10.0.0.10`);
  t.regex(bad.problems[0]?.reason ?? '', /cluster_id "abc"/);
});

test('own entry whose JSON does not parse: still registered (mesh kept), cluster ID = router ID, problem named', (t) => {
  const r = desiredPeers(keys({ 'rr_v4/10.0.0.10': '{bad', 'rr_v4/10.0.0.12': { ip: '10.0.0.12' } }), env);
  t.deepEqual(names(r.peers), ['4/Mesh_10_0_0_12']);
  t.is(r.problems[0]?.key, `${P}/rr_v4/10.0.0.10`);
  t.regex(r.problems[0]?.reason ?? '', /not JSON/);
});

test('mesh: AS = global/as_num, default 64512; the entry ip (not the key) is the neighbour; ourselves skipped', (t) => {
  const r = desiredPeers(
    keys({
      'rr_v4/10.0.0.10': { ip: '10.0.0.10' },
      'rr_v4/other-name': { ip: '10.0.0.13' },
      'rr_v4/10.0.0.99': { ip: '10.0.0.10' }, // another entry naming our address: skipped, no session to ourselves
    }),
    env,
  );
  t.deepEqual(names(r.peers), ['4/Mesh_10_0_0_13']);
  t.is(r.peers[0]?.localAs, 64512);
  t.deepEqual(r.problems, []);
  const r2 = desiredPeers(keys({ 'global/as_num': '65100', 'rr_v4/10.0.0.10': { ip: '10.0.0.10' }, 'rr_v4/10.0.0.13': { ip: '10.0.0.13' } }), env);
  t.is(r2.peers[0]?.localAs, 65100);
  t.is(r2.peers[0]?.peerAs, 65100);
  // the global AS does not apply to client sessions: they use the peer entry's AS
  const r3 = desiredPeers(
    keys({ 'global/as_num': '65100', 'global/peer_v4/x': { ip: '10.0.0.10', as_num: 64999 }, 'host/a/ip_addr_v4': '10.0.1.1' }),
    env,
  );
  t.is(r3.peers[0]?.localAs, 64999);
});

test('bad global/as_num: problem, default AS used', (t) => {
  const r = desiredPeers(keys({ 'global/as_num': 'sixty', 'rr_v4/10.0.0.10': { ip: '10.0.0.10' }, 'rr_v4/10.0.0.13': { ip: '10.0.0.13' } }), env);
  t.is(r.peers[0]?.localAs, 64512);
  t.deepEqual(r.problems.map((p) => p.key), [`${P}/global/as_num`]);
});

test('bad rr entries are skipped, each with a problem naming its key, the rest unaffected', (t) => {
  const r = desiredPeers(
    keys({
      'rr_v4/10.0.0.10': { ip: '10.0.0.10' },
      'rr_v4/10.0.0.20': '{"ip": "10.0.0.20"', // JSON does not parse
      'rr_v4/10.0.0.21': { ip: '' }, // empty IP
      'rr_v4/10.0.0.22': { cluster_id: '1.1.1.1' }, // no ip
      'rr_v4/10.0.0.23': { ip: '10.0.0.300' }, // invalid
      'rr_v4/10.0.0.24': '"just a string"', // not an object
      'rr_v4/10.0.0.25': { ip: '10.0.0.25' },
      'rr_v4/10.0.0.26': { ip: '10.0.0.25' }, // duplicate neighbour
    }),
    env,
  );
  t.deepEqual(names(r.peers), ['4/Mesh_10_0_0_25']);
  const probs = Object.fromEntries(r.problems.map((p) => [p.key.slice(P.length + 1), p.reason]));
  t.deepEqual(Object.keys(probs).sort(), ['rr_v4/10.0.0.20', 'rr_v4/10.0.0.21', 'rr_v4/10.0.0.22', 'rr_v4/10.0.0.23', 'rr_v4/10.0.0.24', 'rr_v4/10.0.0.26']);
  t.regex(probs['rr_v4/10.0.0.20'] ?? '', /not JSON/);
  t.regex(probs['rr_v4/10.0.0.21'] ?? '', /no "ip"/);
  t.regex(probs['rr_v4/10.0.0.23'] ?? '', /not an IPv4 address/);
  t.regex(probs['rr_v4/10.0.0.24'] ?? '', /not a JSON object/);
  t.regex(probs['rr_v4/10.0.0.26'] ?? '', /duplicate neighbour address 10\.0\.0\.25.*Mesh_10_0_0_25/);
});

test('global peer: one client session per host; as_num as string or number; other peers ignored', (t) => {
  for (const asNum of ['65001', 65001]) {
    const r = desiredPeers(
      keys({
        'global/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: asNum },
        'global/peer_v4/192.168.0.1': { ip: '192.168.0.1', as_num: '65555' }, // a ToR peer of the nodes: not us
        'host/node-a/ip_addr_v4': '10.0.1.1',
        'host/node-b/ip_addr_v4': '10.0.1.10',
        'host/node-b/network_v4': '10.65.0.0/26',
        'host/node-c/ip_addr_v4': '10.0.1.2',
      }),
      env,
    );
    t.deepEqual(names(r.peers), ['4/Global_10_0_1_1', '4/Global_10_0_1_10', '4/Global_10_0_1_2']);
    t.true(r.peers.every((p) => p.localAs === 65001 && p.peerAs === 65001 && p.routeReflectorClient && p.kind === 'global'));
    t.deepEqual(r.problems, []);
  }
});

test('node-specific peer: session with that host only, named Node_', (t) => {
  const r = desiredPeers(
    keys({
      'host/a/ip_addr_v4': '10.0.1.1',
      'host/a/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '64600' },
      'host/b/ip_addr_v4': '10.0.1.2',
      'host/b/peer_v4/10.0.0.11': { ip: '10.0.0.11', as_num: '64600' }, // another reflector's client
      'host/c/ip_addr_v4': '10.0.1.3',
    }),
    env,
  );
  t.deepEqual(names(r.peers), ['4/Node_10_0_1_1']);
  const p = r.peers[0];
  t.is(p?.kind, 'node');
  t.is(p?.localAs, 64600);
  t.true(p?.routeReflectorClient);
  t.deepEqual(p?.sourceKeys, [`${P}/host/a/peer_v4/10.0.0.10`, `${P}/host/a/ip_addr_v4`]);
});

test('a host that is both a global and a node-specific client gets one (Node_) session', (t) => {
  const r = desiredPeers(
    keys({
      'global/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '64512' },
      'host/a/ip_addr_v4': '10.0.1.1',
      'host/a/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '64512' },
      'host/b/ip_addr_v4': '10.0.1.2',
    }),
    env,
  );
  t.deepEqual(names(r.peers), ['4/Global_10_0_1_2', '4/Node_10_0_1_1']);
  t.deepEqual(r.problems, []);
  t.is(r.peers.filter((p) => p.neighborAddress === '10.0.1.1').length, 1);
});

test('client entries: missing or bad AS, bad JSON, bad ip are skipped with problems', (t) => {
  const r = desiredPeers(
    keys({
      'global/peer_v4/10.0.0.10': { ip: '10.0.0.10' }, // missing AS
      'host/a/ip_addr_v4': '10.0.1.1',
      'host/a/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: 'abc' }, // bad AS
      'host/b/ip_addr_v4': '10.0.1.2',
      'host/b/peer_v4/10.0.0.10': 'not json',
      'host/c/ip_addr_v4': '10.0.1.3',
      'host/c/peer_v4/x': { ip: 'ten', as_num: '1' },
      'host/d/ip_addr_v4': '10.0.1.4',
      'host/d/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: 0 }, // AS 0 is reserved
      'host/e/ip_addr_v4': '10.0.1.5',
      'host/e/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: 4294967295 },
    }),
    env,
  );
  t.deepEqual(names(r.peers), ['4/Node_10_0_1_5']);
  t.is(r.peers[0]?.peerAs, 4294967295);
  const probs = Object.fromEntries(r.problems.map((p) => [p.key.slice(P.length + 1), p.reason]));
  t.regex(probs['global/peer_v4/10.0.0.10'] ?? '', /no "as_num"/);
  t.regex(probs['host/a/peer_v4/10.0.0.10'] ?? '', /as_num "abc" is not an AS number/);
  t.regex(probs['host/b/peer_v4/10.0.0.10'] ?? '', /not JSON/);
  t.regex(probs['host/c/peer_v4/x'] ?? '', /"ten" is not an IPv4 address/);
  t.regex(probs['host/d/peer_v4/10.0.0.10'] ?? '', /as_num 0/);
  t.is(r.problems.length, 5);
});

test('hosts without a usable address: missing, empty, invalid, or ourselves', (t) => {
  const r = desiredPeers(
    keys({
      'global/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '64512' },
      'host/a/network_v4': '10.65.0.0/26', // no ip_addr_v4 at all
      'host/b/ip_addr_v4': '',
      'host/c/ip_addr_v4': '10.0.1.256',
      'host/d/ip_addr_v4': '10.0.0.10', // the reflector's own host is a Calico node
      'host/e/ip_addr_v4': '10.0.1.5',
    }),
    env,
  );
  t.deepEqual(names(r.peers), ['4/Global_10_0_1_5']);
  const probs = Object.fromEntries(r.problems.map((p) => [p.key.slice(P.length + 1), p.reason]));
  t.deepEqual(Object.keys(probs).sort(), ['host/a/ip_addr_v4', 'host/b/ip_addr_v4', 'host/c/ip_addr_v4', 'host/d/ip_addr_v4']);
  t.regex(probs['host/a/ip_addr_v4'] ?? '', /no ip_addr_v4/);
  t.regex(probs['host/b/ip_addr_v4'] ?? '', /empty/);
  t.regex(probs['host/d/ip_addr_v4'] ?? '', /ourselves/);
});

test('duplicate host addresses: first host (sorted) keeps the session, the other is a problem', (t) => {
  const r = desiredPeers(
    keys({
      'global/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '64512' },
      'host/node1/ip_addr_v4': '10.0.1.1',
      'host/node1.example.com/ip_addr_v4': '10.0.1.1', // hostname vs FQDN (projectcalico/calicoctl#1570)
    }),
    env,
  );
  t.deepEqual(names(r.peers), ['4/Global_10_0_1_1']);
  t.deepEqual(r.peers[0]?.sourceKeys, [`${P}/global/peer_v4/10.0.0.10`, `${P}/host/node1/ip_addr_v4`]);
  t.is(r.problems.length, 1);
  t.is(r.problems[0]?.key, `${P}/host/node1.example.com/ip_addr_v4`);
  t.regex(r.problems[0]?.reason ?? '', /duplicate neighbour address 10\.0\.1\.1/);
});

test('a mesh neighbour that is also a client host: the mesh session wins', (t) => {
  const r = desiredPeers(
    keys({
      'rr_v4/10.0.0.10': { ip: '10.0.0.10' },
      'rr_v4/10.0.0.11': { ip: '10.0.0.11' },
      'global/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '64512' },
      'host/rr2/ip_addr_v4': '10.0.0.11',
    }),
    env,
  );
  t.deepEqual(names(r.peers), ['4/Mesh_10_0_0_11']);
  t.is(r.problems[0]?.key, `${P}/host/rr2/ip_addr_v4`);
});

test('second global / node entry naming this reflector is reported', (t) => {
  const r = desiredPeers(
    keys({
      'global/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '64512' },
      'global/peer_v4/zz': { ip: '10.0.0.10', as_num: '64999' },
      'host/a/ip_addr_v4': '10.0.1.1',
      'host/a/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '64512' },
      'host/a/peer_v4/zz': { ip: '10.0.0.10', as_num: '64999' },
    }),
    env,
  );
  t.deepEqual(names(r.peers), ['4/Node_10_0_1_1']);
  t.is(r.peers[0]?.peerAs, 64512);
  t.deepEqual(r.problems.map((p) => p.key).sort(), [`${P}/global/peer_v4/zz`, `${P}/host/a/peer_v4/zz`]);
});

test('IPv6: registered mesh, global and node-specific clients compared with IP6; names with : → _', (t) => {
  const r = desiredPeers(
    keys({
      'rr_v6/fd00::10': { ip: 'fd00::10', cluster_id: '2.0.0.2' },
      'rr_v6/fd00::11': { ip: 'FD00:0::11' },
      'global/peer_v6/fd00::10': { ip: 'fd00::10', as_num: '64512' },
      'host/a/ip_addr_v4': '10.0.1.1',
      'host/a/ip_addr_v6': 'fd00:1::1',
      'host/b/ip_addr_v6': 'fd00:1::2',
      'host/b/peer_v6/fd00::10': { ip: 'fd00::10', as_num: '64512' },
      'host/c/ip_addr_v6': 'fd00:1::3',
      'host/c/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '64512' }, // v4 entry: no v6 session from it
    }),
    env6,
  );
  // host c's v4 node entry names us, but c has no IPv4 address: no v4 session (a problem, below)
  t.deepEqual(names(r.peers), ['6/Global_fd00_1__1', '6/Global_fd00_1__3', '6/Mesh_fd00__11', '6/Node_fd00_1__2']);
  const m = byName(r.peers);
  t.is(m['6/Mesh_fd00__11']?.neighborAddress, 'fd00::11');
  t.is(m['6/Mesh_fd00__11']?.localAddress, 'fd00::10');
  t.is(m['6/Mesh_fd00__11']?.routerId, '10.0.0.10');
  t.is(m['6/Global_fd00_1__1']?.clusterId, '2.0.0.2');
  t.is(m['6/Node_fd00_1__2']?.family, 6);
  // host c's node-specific v4 entry: c has no ip_addr_v4 → a problem for the v4 family only
  t.deepEqual(r.problems.map((p) => p.key), [`${P}/host/c/ip_addr_v4`]);
});

test('IPv6 standalone works too (the original had no v6 standalone branch); IPv4 cluster ID independent', (t) => {
  const r = desiredPeers(
    keys({
      'rr_v4/10.0.0.10': { ip: '10.0.0.10', cluster_id: '1.0.0.1' },
      'global/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '64512' },
      'global/peer_v6/fd00::10': { ip: 'fd00::10', as_num: '64512' },
      'host/a/ip_addr_v4': '10.0.1.1',
      'host/a/ip_addr_v6': 'fd00:1::1',
    }),
    env6,
  );
  const m = byName(r.peers);
  t.is(m['4/Global_10_0_1_1']?.clusterId, '1.0.0.1');
  t.is(m['6/Global_fd00_1__1']?.clusterId, '10.0.0.10');
});

test('without IP6 no IPv6 session is produced and v6 entries are not examined', (t) => {
  const r = desiredPeers(
    keys({ 'rr_v6/fd00::10': '{bad', 'global/peer_v6/fd00::10': { ip: 'fd00::10', as_num: '1' }, 'host/a/ip_addr_v6': 'fd00:1::1' }),
    env,
  );
  t.deepEqual(r.peers, []);
  t.deepEqual(r.problems, []);
});

test('own rr key matched canonically; keys outside the prefix and unknown keys ignored; port and password carried', (t) => {
  const r = desiredPeers(
    new Map([
      [`${P}/rr_v6/FD00:0::10`, rrEntryValue('fd00::10', '3.3.3.3')],
      [`${P}/rr_v6/fd00::12`, rrEntryValue('fd00::12', undefined)],
      [`${P}/global/node_mesh`, '{"enabled":true}'],
      [`${P}/global/loglevel`, 'info'],
      [`/calico/v1/ipam/v4/pool/x`, 'garbage'],
      [`${P}/global/peer_v4/10.0.0.10`, JSON.stringify({ ip: '10.0.0.10', as_num: '64512', password: 's3cret' })],
      [`${P}/host/a/ip_addr_v4`, '10.0.1.1'],
    ]),
    { ...env6, port: 1179 },
  );
  const m = byName(r.peers);
  t.is(m['6/Mesh_fd00__12']?.clusterId, '3.3.3.3');
  t.is(m['6/Mesh_fd00__12']?.port, 1179);
  t.is(m['4/Global_10_0_1_1']?.password, 's3cret');
  t.is(m['6/Mesh_fd00__12']?.password, undefined);
  t.deepEqual(r.problems, []);
  t.is(rrKey(4, '10.0.0.1'), `${P}/rr_v4/10.0.0.1`);
  t.is(sessionName('node', 'fd00::1'), 'Node_fd00__1');
});

test('never a session to ourselves, in any rule, any family', (t) => {
  const r = desiredPeers(
    keys({
      'rr_v4/10.0.0.10': { ip: '10.0.0.10' },
      'rr_v6/fd00::10': { ip: 'fd00::10' },
      'global/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '1' },
      'global/peer_v6/fd00::10': { ip: 'fd00::10', as_num: '1' },
      'host/self/ip_addr_v4': '10.0.0.10',
      'host/self/ip_addr_v6': 'fd00:0::10',
      'host/self/peer_v4/10.0.0.10': { ip: '10.0.0.10', as_num: '1' },
    }),
    env6,
  );
  t.deepEqual(r.peers, []);
  t.true(r.problems.every((p) => /ourselves/.test(p.reason)));
  t.is(r.problems.length, 2); // one per family, deduplicated across the node and global rules
});

test('output is deterministic regardless of key insertion order', (t) => {
  const entries: [string, string][] = [
    [`${P}/rr_v4/10.0.0.10`, '{"ip":"10.0.0.10"}'],
    [`${P}/rr_v4/10.0.0.2`, '{"ip":"10.0.0.2"}'],
    [`${P}/rr_v4/10.0.0.3`, '{"ip":"10.0.0.3"}'],
    [`${P}/global/peer_v4/a`, '{"ip":"10.0.0.10","as_num":"1"}'],
    [`${P}/host/x/ip_addr_v4`, '10.0.5.5'],
    [`${P}/host/y/ip_addr_v4`, '10.0.5.5'],
  ];
  const a = desiredPeers(new Map(entries), env);
  const b = desiredPeers(new Map([...entries].reverse()), env);
  t.deepEqual(a, b);
  t.deepEqual(names(a.peers), ['4/Global_10_0_5_5', '4/Mesh_10_0_0_2', '4/Mesh_10_0_0_3']);
});
