import test from 'ava';
import { loadConfig } from '../../src/config/index.js';
import { createKeySource, registrationEntries } from '../../src/app/key-source.js';
import { EtcdV2KeySource } from '../../src/datastore/etcdv2-source.js';
import { MergedKeySource } from '../../src/datastore/merged-source.js';
import { SecretFollowingSource } from '../../src/datastore/secret-following-source.js';
import { desiredSessions } from '../../src/datastore/calico-sessions.js';
import type { KeySource } from '../../src/datastore/source.js';
import { Etcd } from './etcd-harness.js';
import { Recorder, sleep } from './recorder.js';

const P = '/calico/bgp/v1';
const R = '/calico/resources/v3/projectcalico.org';
const withV2 = await Etcd.create();
const withoutV2 = await Etcd.create(undefined, false);
const sources: KeySource[] = [];

test.before(async () => {
  await Promise.all([withV2.start(), withoutV2.start()]);
});
test.after.always(async () => {
  for (const s of sources) await s.stop().catch(() => undefined);
  await Promise.all([withV2.destroy(), withoutV2.destroy()]);
});

async function fromEnv(env: Record<string, string>): Promise<KeySource> {
  const s = await createKeySource(loadConfig(env));
  sources.push(s);
  return s;
}

test.serial('ETCD_ENDPOINTS only: v2 and v3 keyspaces merged (v1 keys and v3 resources), v3 winning where both hold a key', async (t) => {
  // the seed's README (v2) registers the reflectors; Calico v3 resources describe the nodes and the peer
  withV2.curl('PUT', `${P}/rr_v4/10.0.0.80`, '-d', 'value={"ip":"10.0.0.80","cluster_id":"1.0.0.1"}');
  withV2.curl('PUT', `${P}/rr_v4/10.0.0.81`, '-d', 'value={"ip":"10.0.0.81","cluster_id":"1.0.0.1"}');
  withV2.curl('PUT', `${P}/global/as_num`, '-d', 'value=64512');
  withV2.ctl('put', `${R}/nodes/n1`, JSON.stringify({ kind: 'Node', metadata: { name: 'n1' }, spec: { bgp: { ipv4Address: '10.0.1.1/24' } } }));
  withV2.ctl('put', `${R}/bgppeers/rr`, JSON.stringify({ kind: 'BGPPeer', metadata: { name: 'rr' }, spec: { peerIP: '10.0.0.80', asNumber: 65020 } }));
  withV2.ctl('put', `${R}/bgpconfigurations/default`, JSON.stringify({ kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { asNumber: 65020 } }));
  const src = await fromEnv({ IP: '10.0.0.80', ETCD_ENDPOINTS: withV2.url });
  // Wrapped so that BGPPeer password Secrets come from the Kubernetes API (secret-following-source.ts).
  t.true(src instanceof SecretFollowingSource && src.inner instanceof MergedKeySource);
  t.is(src.name, `etcdv2:${withV2.url}+etcdv3:${withV2.url}`);
  const rec = new Recorder();
  await src.start(rec);
  await rec.waitFor(() => rec.snapshots >= 1, 'merged snapshot');
  // v1 keys from v2 (the reflector mesh, its AS) and the v3 resources (the BGPPeer naming us: reverse peerings
  // with every node, in the BGPConfiguration's AS), one cluster ID from our rr_v4 entry.
  const peers = desiredSessions(rec.state, { ip: '10.0.0.80', port: 179 }).peers;
  t.deepEqual(peers.map((p) => `${p.name}:${p.localAs}:${p.clusterId}`), ['Mesh_10_0_0_81:64512:1.0.0.1', 'Node_10_0_1_1:65020:1.0.0.1']);
  // live from both sides
  withV2.curl('PUT', `${P}/rr_v4/10.0.0.82`, '-d', 'value={"ip":"10.0.0.82"}');
  withV2.ctl('put', `${R}/nodes/n2`, JSON.stringify({ kind: 'Node', metadata: { name: 'n2' }, spec: { bgp: { ipv4Address: '10.0.1.2/24' } } }));
  await rec.waitFor(() => rec.state.has(`${P}/rr_v4/10.0.0.82`) && rec.state.has(`${R}/nodes/n2`), 'changes from both keyspaces');
  // a key both keyspaces hold: v3 wins; deleting it there uncovers the v2 value
  withV2.ctl('put', `${P}/global/as_num`, '65020');
  await rec.waitFor(() => rec.state.get(`${P}/global/as_num`) === '65020', 'v3 value wins');
  withV2.ctl('del', `${P}/global/as_num`);
  await rec.waitFor(() => rec.state.get(`${P}/global/as_num`) === '64512', 'v2 value uncovered');
  t.is(rec.snapshots, 1);
  t.deepEqual(rec.problems(), []);
});

test.serial('self-registration in merged mode writes both keyspaces; deregister removes both', async (t) => {
  const env = { IP: '10.0.0.90', IP6: 'fd00::90', ETCD_ENDPOINTS: withV2.url, RR_CLUSTER_ID: '2.0.0.2', RR_REGISTER_TTL: '10' };
  const config = loadConfig(env);
  t.deepEqual(registrationEntries(config), [
    { key: `${P}/rr_v4/10.0.0.90`, value: '{"ip":"10.0.0.90","cluster_id":"2.0.0.2"}' },
    { key: `${P}/rr_v6/fd00::90`, value: '{"ip":"fd00::90","cluster_id":"2.0.0.2"}' },
  ]);
  const src = await fromEnv(env);
  const rec = new Recorder();
  await src.start(rec);
  await rec.waitFor(() => rec.state.has(`${P}/rr_v6/fd00::90`), 'own entries visible');
  // both writers run independently: wait (bounded) until each keyspace holds the entries
  const deadline = Date.now() + 5000;
  const written = (): boolean =>
    withV2.curl('GET', `${P}/rr_v6/fd00::90`).includes('2.0.0.2') && withV2.ctl('get', `${P}/rr_v6/fd00::90`).includes('2.0.0.2');
  while (Date.now() < deadline && !written()) await sleep(100);
  t.true(withV2.curl('GET', `${P}/rr_v4/10.0.0.90`).includes('"ttl"'));
  t.true(withV2.ctl('get', `${P}/rr_v6/fd00::90`).includes('2.0.0.2'));
  await src.deregister?.();
  t.true(withV2.curl('GET', `${P}/rr_v4/10.0.0.90`).includes('Key not found'));
  t.is(withV2.ctl('get', `${P}/rr_v4/10.0.0.90`).trim(), '');
  await rec.waitFor(() => !rec.state.has(`${P}/rr_v4/10.0.0.90`) && !rec.state.has(`${P}/rr_v6/fd00::90`), 'gone from the view');
});

test.serial('deregister right after start (registration still in flight) does not hang and leaves nothing', async (t) => {
  const env = { IP: '10.0.0.91', ETCD_ENDPOINTS: withV2.url, RR_REGISTER: 'true', RR_REGISTER_TTL: '30' };
  for (let i = 0; i < 5; i++) {
    const src = await fromEnv(env);
    await src.start(new Recorder());
    await src.deregister?.();
    await src.stop();
  }
  await sleep(200);
  t.true(withV2.curl('GET', `${P}/rr_v4/10.0.0.91`).includes('Key not found'));
  t.is(withV2.ctl('get', `${P}/rr_v4/10.0.0.91`).trim(), '');
});

test.serial('a server without the v2 API: merged mode runs on v3 alone; etcdv2 alone says how to fix it', async (t) => {
  withoutV2.ctl('put', `${P}/rr_v4/10.0.0.85`, '{"ip":"10.0.0.85"}');
  const rec = new Recorder();
  await (await fromEnv({ IP: '10.0.0.80', ETCD_ENDPOINTS: withoutV2.url })).start(rec);
  await rec.waitFor(() => rec.snapshots >= 1, 'snapshot from v3 alone');
  t.deepEqual([...rec.state.keys()], [`${P}/rr_v4/10.0.0.85`]);
  t.deepEqual(rec.problems(), []);
  const v2only = new EtcdV2KeySource({ endpoints: [withoutV2.url], backoffInitialMs: 100, backoffMaxMs: 300 });
  sources.push(v2only);
  const rec2 = new Recorder();
  await v2only.start(rec2);
  t.is(rec2.snapshots, 0);
  t.regex(rec2.problems()[0] ?? '', /does not offer the etcd v2 API.*--enable-v2/);
  t.false(v2only.offered);
});
