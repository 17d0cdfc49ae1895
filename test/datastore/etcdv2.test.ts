import test from 'ava';
import { EtcdV2KeySource } from '../../src/datastore/etcdv2-source.js';
import { desiredPeers } from '../../src/datastore/calico-mapping.js';
import { checked, deadPort, Etcd, ETCD_HOST } from './etcd-harness.js';
import { runChild } from '../helpers/child.js';
import { Recorder, sleep } from './recorder.js';

const P = '/calico/bgp/v1';
const etcd = await Etcd.create();
const sources: EtcdV2KeySource[] = [];

test.before(async () => {
  await etcd.start();
});
test.after.always(async () => {
  for (const s of sources) await s.stop().catch(() => undefined);
  await etcd.destroy();
});
test.afterEach.always(async () => {
  // each test's sources end with it, so later outages and floods meet only that test's sources
  for (const s of sources.splice(0)) await s.stop().catch(() => undefined);
  if (etcd.pid !== undefined) etcd.curl('DELETE', '/calico?recursive=true');
});

function source(extra: Partial<ConstructorParameters<typeof EtcdV2KeySource>[0]> = {}): EtcdV2KeySource {
  const s = new EtcdV2KeySource({ endpoints: [etcd.url], backoffInitialMs: 100, backoffMaxMs: 500, ...extra });
  sources.push(s);
  return s;
}

test.serial('missing /calico/bgp/v1 is an empty keyspace; the seed\'s curl commands then apply live', async (t) => {
  const rec = new Recorder();
  const src = source();
  t.is(src.name, `etcdv2:${etcd.url}`);
  await src.start(rec);
  t.is(rec.snapshots, 1);
  t.is(rec.state.size, 0);
  t.deepEqual(rec.problems(), []);

  // README of calico/routereflector: register the reflector, then Calico's keys for a global peer and two hosts
  etcd.curl('PUT', `${P}/rr_v4/10.0.0.10`, '-d', 'value={"ip":"10.0.0.10","cluster_id":"1.0.0.1"}');
  etcd.curl('PUT', `${P}/rr_v4/10.0.0.11`, '-d', 'value={"ip":"10.0.0.11","cluster_id":"1.0.0.1"}');
  etcd.curl('PUT', `${P}/global/as_num`, '-d', 'value=64512');
  etcd.curl('PUT', `${P}/global/peer_v4/10.0.0.10`, '-d', 'value={"ip":"10.0.0.10","as_num":"64512"}');
  etcd.curl('PUT', `${P}/host/node-a/ip_addr_v4`, '-d', 'value=10.0.1.1');
  etcd.curl('PUT', `${P}/host/node-b/ip_addr_v4`, '-d', 'value=10.0.1.2');
  await rec.waitFor(() => rec.state.size === 6, 'six keys');
  const env = { ip: '10.0.0.10', port: 179 };
  t.deepEqual(
    desiredPeers(rec.state, env).peers.map((p) => p.name),
    ['Global_10_0_1_1', 'Global_10_0_1_2', 'Mesh_10_0_0_11'],
  );
  t.is(rec.snapshots, 1); // live changes, not re-lists

  // removing a host directory (recursive delete) removes its keys; removing the mesh peer removes the session
  etcd.curl('DELETE', `${P}/host/node-b?recursive=true`);
  etcd.curl('DELETE', `${P}/rr_v4/10.0.0.11`);
  await rec.waitFor(() => rec.state.size === 4, 'deletions');
  t.deepEqual(desiredPeers(rec.state, env).peers.map((p) => p.name), ['Global_10_0_1_1']);
  // deleting the whole prefix empties the view
  etcd.curl('DELETE', `${P}?recursive=true`);
  await rec.waitFor(() => rec.state.size === 0, 'prefix deleted');
  etcd.curl('PUT', `${P}/global/as_num`, '-d', 'value=65000');
  await rec.waitFor(() => rec.state.get(`${P}/global/as_num`) === '65000', 'written after the prefix was deleted');
});

test.serial('"event index cleared" (401) leads to a re-list that includes what happened meanwhile', async (t) => {
  etcd.curl('PUT', `${P}/global/as_num`, '-d', 'value=64512');
  const rec = new Recorder();
  let lists = 0;
  const src = source({
    onListed: async () => {
      lists++;
      if (lists === 1) {
        // between the list and the first watch: a change we must see, then >1000 events elsewhere
        etcd.curl('PUT', `${P}/rr_v4/10.0.0.12`, '-d', 'value={"ip":"10.0.0.12"}');
        etcd.floodV2('/other/flood', 1100);
      }
    },
  });
  await src.start(rec);
  await rec.waitFor(() => lists >= 2, 'a second list', 10_000);
  await rec.waitFor(() => rec.state.has(`${P}/rr_v4/10.0.0.12`), 'the change made before the history was cleared');
  t.true(rec.snapshots >= 2);
  t.deepEqual(rec.problems(), []); // a re-list is routine, not a problem
  etcd.curl('DELETE', '/other?recursive=true');
  // and the watch works after the re-list
  etcd.curl('PUT', `${P}/global/as_num`, '-d', 'value=64999');
  await rec.waitFor(() => rec.state.get(`${P}/global/as_num`) === '64999', 'watch after re-list');
});

test.serial('a failing endpoint is skipped for the next one', async (t) => {
  etcd.curl('PUT', `${P}/global/as_num`, '-d', 'value=64512');
  const rec = new Recorder();
  const src = source({ endpoints: [`http://${ETCD_HOST}:${await deadPort()}`, etcd.url] });
  await src.start(rec);
  await rec.waitFor(() => rec.snapshots === 1, 'snapshot via the second endpoint');
  t.is(rec.state.get(`${P}/global/as_num`), '64512');
});

test.serial('etcd lost: the last keys stay; changes made meanwhile (incl. deletions) apply on return', async (t) => {
  etcd.curl('PUT', `${P}/rr_v4/10.0.0.11`, '-d', 'value={"ip":"10.0.0.11"}');
  etcd.curl('PUT', `${P}/rr_v4/10.0.0.12`, '-d', 'value={"ip":"10.0.0.12"}');
  const rec = new Recorder();
  const src = source();
  await src.start(rec);
  t.is(rec.state.size, 2);
  await etcd.kill();
  await rec.waitFor(() => rec.problems().length > 0, 'a problem for the outage');
  t.regex(rec.problems()[0] ?? '', /keeping the last configuration, retrying/);
  t.is(rec.state.size, 2);
  // the same data served on another port: changes the reflector cannot see
  await etcd.start(await deadPort());
  etcd.curl('DELETE', `${P}/rr_v4/10.0.0.11`);
  etcd.curl('PUT', `${P}/rr_v4/10.0.0.13`, '-d', 'value={"ip":"10.0.0.13"}');
  await etcd.kill();
  await sleep(300);
  t.is(rec.state.size, 2);
  t.true(rec.state.has(`${P}/rr_v4/10.0.0.11`));
  await etcd.start();
  await rec.waitFor(() => rec.state.has(`${P}/rr_v4/10.0.0.13`), 'resync on return', 10_000);
  t.false(rec.state.has(`${P}/rr_v4/10.0.0.11`));
  t.true(rec.state.has(`${P}/rr_v4/10.0.0.12`));
  t.true(rec.snapshots >= 2);
});

test.serial('unreachable at start: problem, no invented keys; the first snapshot comes when etcd is there', async (t) => {
  const rec = new Recorder();
  const src = source({ endpoints: [`http://${ETCD_HOST}:${await deadPort()}`] });
  await src.start(rec);
  t.is(rec.snapshots, 0);
  t.regex(rec.problems()[0] ?? '', /ECONNREFUSED/);
  await src.stop();
});

test.serial('self-registration with a TTL: refreshed while running, gone after the TTL once stopped, deregister removes at once', async (t) => {
  const observer = new Recorder();
  await source().start(observer);
  const entry = { key: `${P}/rr_v4/10.0.0.20`, value: '{"ip":"10.0.0.20","cluster_id":"1.0.0.1"}' };
  const a = source({ registration: { entries: [entry], ttlSeconds: 3 } });
  await a.start(new Recorder());
  await observer.waitFor(() => observer.state.get(entry.key) === entry.value, 'registration seen');
  const ttl = JSON.parse(etcd.curl('GET', entry.key)) as { node: { ttl?: number } };
  t.true((ttl.node.ttl ?? 0) > 0 && (ttl.node.ttl ?? 99) <= 3);
  await sleep(4000); // longer than the TTL: the refresh keeps it
  t.is(observer.state.get(entry.key), entry.value);
  await a.deregister();
  await observer.waitFor(() => !observer.state.has(entry.key), 'deregistered', 2000);

  // a reflector that stops refreshing (as if killed) drops out after the TTL
  const b = source({ registration: { entries: [{ ...entry, key: `${P}/rr_v4/10.0.0.21` }], ttlSeconds: 2 } });
  await b.start(new Recorder());
  await observer.waitFor(() => observer.state.has(`${P}/rr_v4/10.0.0.21`), 'b registered');
  await b.stop();
  const stoppedAt = Date.now();
  await observer.waitFor(() => !observer.state.has(`${P}/rr_v4/10.0.0.21`), 'b expired', 5000);
  t.true(Date.now() - stoppedAt >= 500);
});

test.serial('deregister leaves an entry alone that someone else has overwritten', async (t) => {
  const key = `${P}/rr_v4/10.0.0.22`;
  const a = source({ registration: { entries: [{ key, value: '{"ip":"10.0.0.22"}' }], ttlSeconds: 30 } });
  const observer = new Recorder();
  await source().start(observer);
  await a.start(new Recorder());
  await observer.waitFor(() => observer.state.has(key), 'registered');
  etcd.curl('PUT', key, '-d', 'value={"ip":"10.0.0.22","cluster_id":"7.7.7.7"}');
  await observer.waitFor(() => (observer.state.get(key) ?? '').includes('7.7.7.7'), 'overwritten');
  await a.deregister();
  await sleep(300);
  t.true((observer.state.get(key) ?? '').includes('7.7.7.7'));
});

test.serial('v2 basic authentication: right credentials read, wrong ones are refused with a clear problem', async (t) => {
  etcd.curl('PUT', `${P}/global/as_num`, '-d', 'value=64512');
  const auth = (method: string, path: string, ...args: string[]): string =>
    checked('curl', runChild('curl', ['-sS', '-X', method, `${etcd.url}${path}`, ...args], { encoding: 'utf8' }));
  auth('PUT', '/v2/auth/users/root', '-d', '{"user":"root","password":"rootpw"}');
  auth('PUT', '/v2/auth/enable');
  try {
    const ok = new Recorder();
    await source({ auth: { username: 'root', password: 'rootpw' } }).start(ok);
    t.is(ok.state.get(`${P}/global/as_num`), '64512');
    const bad = new Recorder();
    await source({ auth: { username: 'root', password: 'wrong' } }).start(bad);
    t.is(bad.snapshots, 0);
    t.regex(bad.problems()[0] ?? '', /access denied \(HTTP 401.*ETCD_USERNAME\/ETCD_PASSWORD/);
  } finally {
    auth('DELETE', '/v2/auth/enable', '-u', 'root:rootpw');
  }
});
