// Pure translation of Kubernetes objects into keys: Calico v3 resources (calico-v3-bgp.md §1, KDD) and Lease rr entries.
import test from 'ava';
import { CALICO_V3_PREFIX } from '../../src/datastore/calico-v3.js';
import { diffKeys, leaseKeys, resourceKeys, translateAll } from '../../src/datastore/kubernetes/translate.js';
import { desiredLease, leaseName, microTime } from '../../src/datastore/kubernetes/lease.js';
import { bgpConfig, bgpPeer, K, node } from './helpers.js';

test('Node → the Calico v3 Node calico-node\'s KDD sees: labels (annotation overlaid by Kubernetes labels), spec.bgp from annotations', (t) => {
  const n = node('n1', '10.0.1.5/24', 'FD00:0:0::5/64', '65001');
  n.metadata.labels = { 'route-reflector': 'true', zone: 'k8s' };
  (n.metadata.annotations as Record<string, string>)['projectcalico.org/labels'] = JSON.stringify({ zone: 'calico', extra: 'x' });
  (n.metadata.annotations as Record<string, string>)['projectcalico.org/RouteReflectorClusterID'] = '244.0.0.1';
  const r = resourceKeys('nodes', n);
  t.deepEqual(r.problems, []);
  t.is(r.keys.length, 1);
  t.is(r.keys[0]![0], `${CALICO_V3_PREFIX}/nodes/n1`);
  t.deepEqual(JSON.parse(r.keys[0]![1]), {
    metadata: { name: 'n1', labels: { extra: 'x', zone: 'k8s', 'route-reflector': 'true' } },
    spec: { bgp: { ipv4Address: '10.0.1.5/24', ipv6Address: 'FD00:0:0::5/64', asNumber: '65001', routeReflectorClusterID: '244.0.0.1' } },
  });
  t.regex(resourceKeys('nodes', node('a/b')).problems[0]!, /Node with unusable name "a\/b" ignored/);
});

test('BGPPeer and BGPConfiguration → their v3 resource keys with spec as given (selectors kept)', (t) => {
  const p = bgpPeer('sel', '', 0);
  p.spec = { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" };
  t.deepEqual(resourceKeys('bgppeers', p).keys, [[`${CALICO_V3_PREFIX}/bgppeers/sel`, JSON.stringify({ metadata: { name: 'sel', labels: {} }, spec: p.spec })]]);
  t.deepEqual(resourceKeys('bgpconfigurations', bgpConfig(65010)).keys, [[`${CALICO_V3_PREFIX}/bgpconfigurations/default`, '{"metadata":{"name":"default","labels":{}},"spec":{"asNumber":65010}}']]);
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

test('translateAll: next Lease expiry, every object as its resource key; diffKeys writes and deletes', (t) => {
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
  t.deepEqual([...all.keys.keys()].filter((k) => k.startsWith(CALICO_V3_PREFIX)).sort(), [
    `${CALICO_V3_PREFIX}/bgpconfigurations/default`, `${CALICO_V3_PREFIX}/bgppeers/p1`, `${CALICO_V3_PREFIX}/bgppeers/p2`, `${CALICO_V3_PREFIX}/nodes/n1`,
  ]);
  t.true(all.keys.has(`${K}/rr_v4/10.0.0.2`));
  const diff = diffKeys(new Map([['a', '1'], ['b', '2']]), new Map([['a', '1'], ['b', '3'], ['c', '4']]));
  t.deepEqual(diff, [['b', '3'], ['c', '4']]);
  t.deepEqual(diffKeys(new Map([['a', '1']]), new Map()), [['a', undefined]]);
});
