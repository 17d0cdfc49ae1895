// Pure translation of Kubernetes objects into /calico/bgp/v1 keys (calico-datastore.md §3 and §8).
import test from 'ava';
import {
  bgpConfigurationKeys,
  bgpPeerKeys,
  diffKeys,
  leaseKeys,
  nodeKeys,
  translateAll,
} from '../../src/datastore/kubernetes/translate.js';
import { desiredLease, leaseName, microTime } from '../../src/datastore/kubernetes/lease.js';
import { bgpConfig, bgpPeer, K, node } from './helpers.js';

test('Node annotations: CIDR → bare address and masked network, IPv6 canonical, own AS', (t) => {
  const r = nodeKeys(node('n1', '10.0.1.5/24', 'FD00:0:0::5/64', '65001'));
  t.deepEqual(new Map(r.keys), new Map([
    [`${K}/host/n1/network_v4`, '10.0.1.0/24'],
    [`${K}/host/n1/ip_addr_v4`, '10.0.1.5'],
    [`${K}/host/n1/network_v6`, 'fd00::/64'],
    [`${K}/host/n1/ip_addr_v6`, 'fd00::5'],
    [`${K}/host/n1/as_num`, '65001'],
  ]));
  t.deepEqual(r.problems, []);
});

test('Node without Calico annotations still has empty ip_addr keys; bad values are reported', (t) => {
  t.deepEqual(new Map(nodeKeys(node('bare')).keys), new Map([
    [`${K}/host/bare/ip_addr_v4`, ''],
    [`${K}/host/bare/ip_addr_v6`, ''],
  ]));
  const bad = nodeKeys(node('bad', '10.0.0.300/24', '10.0.0.1', 'sixty'));
  t.is(new Map(bad.keys).get(`${K}/host/bad/ip_addr_v4`), '');
  t.is(new Map(bad.keys).get(`${K}/host/bad/ip_addr_v6`), '');
  t.false(new Map(bad.keys).has(`${K}/host/bad/as_num`));
  t.is(bad.problems.length, 3);
  t.regex(bad.problems[0]!, /Node bad: annotation projectcalico.org\/IPv4Address="10.0.0.300\/24"/);
});

test('BGPPeer: global when spec.node is empty, node-specific otherwise, as_num as a string', (t) => {
  t.deepEqual(bgpPeerKeys(bgpPeer('g', '10.0.0.10', 64512)).keys, [
    [`${K}/global/peer_v4/10.0.0.10`, '{"ip":"10.0.0.10","as_num":"64512"}'],
  ]);
  t.deepEqual(bgpPeerKeys(bgpPeer('n', 'FD00::10', 65000, 'n1')).keys, [
    [`${K}/host/n1/peer_v6/fd00::10`, '{"ip":"fd00::10","as_num":"65000"}'],
  ]);
  t.deepEqual(bgpPeerKeys(bgpPeer('port', '[fd00::10]:179', 65000)).keys, [
    [`${K}/global/peer_v6/fd00::10`, '{"ip":"fd00::10","as_num":"65000"}'],
  ]);
  t.deepEqual(bgpPeerKeys(bgpPeer('e', '', 65000)).keys, []);
  t.regex(bgpPeerKeys(bgpPeer('e', 'nope', 65000)).problems[0]!, /BGPPeer e: spec.peerIP "nope"/);
  t.regex(bgpPeerKeys(bgpPeer('a', '10.0.0.1', 0)).problems[0]!, /spec.asNumber 0/);
  const sel = bgpPeer('s', '10.0.0.1', 1);
  (sel.spec as Record<string, unknown>).nodeSelector = 'all()';
  t.deepEqual(bgpPeerKeys(sel).keys, []);
});

test('BGPConfiguration default → global keys; other names produce nothing', (t) => {
  t.deepEqual(bgpConfigurationKeys(bgpConfig(65010)).keys, [[`${K}/global/as_num`, '65010']]);
  const full = bgpConfig(1);
  full.spec = { asNumber: 64513, nodeToNodeMeshEnabled: false, logSeverityScreen: 'Warning' };
  t.deepEqual(new Map(bgpConfigurationKeys(full).keys), new Map([
    [`${K}/global/as_num`, '64513'],
    [`${K}/global/node_mesh`, '{"enabled":false}'],
    [`${K}/global/loglevel`, 'none'],
  ]));
  const other = bgpConfig(65010);
  other.metadata.name = 'node.n1';
  t.deepEqual(bgpConfigurationKeys(other).keys, []);
});

test('Lease: live → rr_v4/rr_v6 entries with cluster_id; expired → nothing; needs the label', (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const lease = desiredLease({ namespace: 'ns', ip: '10.0.0.10', ip6: 'fd00::10', clusterId: '1.0.0.1', leaseDurationSeconds: 15 }, now);
  t.is(lease.metadata?.name, 'calico-rr-10-0-0-10');
  t.is(leaseName('10.0.0.10'), 'calico-rr-10-0-0-10');
  t.is((lease.spec as { renewTime: string }).renewTime, '2026-01-01T00:00:00.000000Z');
  const live = leaseKeys(lease, now + 14_999);
  t.deepEqual(live.keys, [
    [`${K}/rr_v4/10.0.0.10`, '{"ip":"10.0.0.10","cluster_id":"1.0.0.1"}'],
    [`${K}/rr_v6/fd00::10`, '{"ip":"fd00::10","cluster_id":"1.0.0.1"}'],
  ]);
  t.is(live.expiresAtMs, now + 15_000);
  t.deepEqual(leaseKeys(lease, now + 15_000).keys, []);
  t.is(leaseKeys(lease, now + 15_000, now + 10_000).keys.length, 2, 'a locally measured renewal time wins');
  t.is(leaseKeys(lease, now + 15_000, now + 10_000).expiresAtMs, now + 25_000);
  const noCluster = desiredLease({ namespace: 'ns', ip: '10.0.0.11', leaseDurationSeconds: 15 }, now);
  t.deepEqual(leaseKeys(noCluster, now).keys, [[`${K}/rr_v4/10.0.0.11`, '{"ip":"10.0.0.11"}']]);
  const unlabelled = desiredLease({ namespace: 'ns', ip: '10.0.0.12', leaseDurationSeconds: 15 }, now);
  unlabelled.metadata!.labels = {};
  t.deepEqual(leaseKeys(unlabelled, now).keys, []);
  t.is(microTime(Date.parse('2026-05-06T07:08:09.123Z')), '2026-05-06T07:08:09.123000Z');
});

test('translateAll: next Lease expiry, peer clash reported; diffKeys writes and deletes', (t) => {
  const now = 1_000_000;
  const a = desiredLease({ namespace: 'ns', ip: '10.0.0.1', leaseDurationSeconds: 10 }, now);
  const b = desiredLease({ namespace: 'ns', ip: '10.0.0.2', leaseDurationSeconds: 5 }, now);
  const all = translateAll(
    {
      nodes: [node('n1', '10.0.1.1/24')],
      bgpPeers: [bgpPeer('p1', '10.0.0.1', 64512), bgpPeer('p2', '10.0.0.1', 64513)],
      bgpConfigurations: [bgpConfig(64512)],
      leases: [a, b],
    },
    now,
  );
  t.is(all.nextExpiryMs, now + 5000);
  t.is(all.keys.get(`${K}/global/peer_v4/10.0.0.1`), '{"ip":"10.0.0.1","as_num":"64513"}');
  t.true(all.problems.some((p) => /BGPPeer p2: .* also produced by another BGPPeer/.test(p)));
  t.true(all.keys.has(`${K}/rr_v4/10.0.0.2`));
  const diff = diffKeys(new Map([['a', '1'], ['b', '2']]), new Map([['a', '1'], ['b', '3'], ['c', '4']]));
  t.deepEqual(diff, [['b', '3'], ['c', '4']]);
  t.deepEqual(diffKeys(new Map([['a', '1']]), new Map()), [['a', undefined]]);
});
