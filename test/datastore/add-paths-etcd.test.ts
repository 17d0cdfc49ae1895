// The per-peer ADD-PATH override through a real etcd (issue 20): `add_paths` of v2 peer entries written with the
// seed's curl, and the rr.calico-ts.io/add-paths annotation of a Calico v3 BGPPeer written with etcdctl, read by
// the merged source (ETCD_ENDPOINTS alone) and mapped to PeerSpecs. Oracle: the values written into etcd; a
// change made in etcd reaches the PeerSpec live.
import test from 'ava';
import { loadConfig } from '../../src/config/index.js';
import { createKeySource } from '../../src/app/key-source.js';
import { desiredSessions } from '../../src/datastore/calico-sessions.js';
import type { KeySource } from '../../src/datastore/source.js';
import { Etcd } from './etcd-harness.js';
import { Recorder } from './recorder.js';

const P = '/calico/bgp/v1';
const R = '/calico/resources/v3/projectcalico.org';
const ANN = 'rr.calico-ts.io/add-paths';
const etcd = await Etcd.create();
const sources: KeySource[] = [];

test.before(async () => {
  await etcd.start();
});
test.after.always(async () => {
  for (const s of sources) await s.stop().catch(() => undefined);
  await etcd.destroy();
});

const bgpPeer = (name: string, annotation: string): string =>
  JSON.stringify({ kind: 'BGPPeer', apiVersion: 'projectcalico.org/v3', metadata: { name, annotations: { [ANN]: annotation } }, spec: { peerIP: '10.0.0.80', asNumber: 64512 } });

test('v2 peer entries with add_paths and a v3 BGPPeer with the annotation: the PeerSpecs carry what was written, live', async (t) => {
  // v2, the seed's way: our registration, a global peer entry for every host, a node-specific one for host b
  etcd.curl('PUT', `${P}/rr_v4/10.0.0.80`, '-d', 'value={"ip":"10.0.0.80","cluster_id":"1.0.0.1"}');
  etcd.curl('PUT', `${P}/global/peer_v4/10.0.0.80`, '-d', 'value={"ip":"10.0.0.80","as_num":"64512","add_paths":"all"}');
  etcd.curl('PUT', `${P}/host/a/ip_addr_v4`, '-d', 'value=10.0.1.1');
  etcd.curl('PUT', `${P}/host/b/ip_addr_v4`, '-d', 'value=10.0.1.2');
  etcd.curl('PUT', `${P}/host/b/peer_v4/10.0.0.80`, '-d', 'value={"ip":"10.0.0.80","as_num":"64512","add_paths":3}');
  etcd.curl('PUT', `${P}/host/c/ip_addr_v4`, '-d', 'value=10.0.1.3');
  etcd.curl('PUT', `${P}/host/c/peer_v4/10.0.0.80`, '-d', 'value={"ip":"10.0.0.80","as_num":"64512","add_paths":"lots"}');
  // v3, as calicoctl stores it: a Node and a BGPPeer naming us (reverse peering with the Node)
  etcd.ctl('put', `${R}/nodes/n1`, JSON.stringify({ kind: 'Node', metadata: { name: 'n1' }, spec: { bgp: { ipv4Address: '10.0.2.1/24' } } }));
  etcd.ctl('put', `${R}/bgppeers/to-rr`, bgpPeer('to-rr', '2'));

  const src = await createKeySource(loadConfig({ IP: '10.0.0.80', ETCD_ENDPOINTS: etcd.url }));
  sources.push(src);
  const rec = new Recorder();
  await src.start(rec);
  await rec.waitFor(() => rec.snapshots >= 1, 'merged snapshot');
  const view = (): ReturnType<typeof desiredSessions> => desiredSessions(rec.state, { ip: '10.0.0.80', port: 179 });
  const r = view();
  t.deepEqual(r.peers.map((p) => [p.name, p.addPaths]), [
    ['Global_10_0_1_1', 'all'],
    ['Node_10_0_1_2', 3],
    ['Node_10_0_1_3', undefined], // its entry's value is bad: the default
    ['Node_10_0_2_1', 2],
  ]);
  t.deepEqual(r.problems.filter((p) => /add_paths|add-paths/.test(p.reason)), [
    { key: `${P}/host/c/peer_v4/10.0.0.80`, reason: 'add_paths "lots" is not off, all or 1..64; ignored' },
  ]);

  // live: the annotation changed with etcdctl, the global entry with curl
  etcd.ctl('put', `${R}/bgppeers/to-rr`, bgpPeer('to-rr', 'all'));
  etcd.curl('PUT', `${P}/global/peer_v4/10.0.0.80`, '-d', 'value={"ip":"10.0.0.80","as_num":"64512","add_paths":"off"}');
  await rec.waitFor(() => {
    const m = new Map(view().peers.map((p) => [p.name, p.addPaths]));
    return m.get('Node_10_0_2_1') === 'all' && m.get('Global_10_0_1_1') === 'off';
  }, 'both changes in the PeerSpecs');
  // a bad annotation: one warning naming the BGPPeer and the annotation, the session stays with the default
  etcd.ctl('put', `${R}/bgppeers/to-rr`, bgpPeer('to-rr', 'every'));
  await rec.waitFor(() => view().peers.some((p) => p.name === 'Node_10_0_2_1' && p.addPaths === undefined), 'bad annotation ignored');
  t.deepEqual(view().problems.filter((p) => p.key === 'BGPPeer to-rr'), [
    { key: 'BGPPeer to-rr', reason: `annotation ${ANN} "every" is not off, all or 1..64; ignored (the ADD_PATHS default applies)`, kind: 'warning' },
  ]);
  t.is(rec.snapshots, 1);
  t.deepEqual(rec.problems(), []);
});
