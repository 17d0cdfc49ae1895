import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { EtcdV3KeySource } from '../../src/datastore/etcdv3-source.js';
import { desiredSessions } from '../../src/datastore/calico-sessions.js';
import { createKeySource } from '../../src/app/key-source.js';
import { loadConfig } from '../../src/config/index.js';
import type { KeySource } from '../../src/datastore/source.js';
import { deadPort, Etcd, ETCD_HOST } from './etcd-harness.js';
import { Recorder, sleep } from './recorder.js';
import { spawnChild } from '../helpers/child.js';

const P = '/calico/bgp/v1';
const R = '/calico/resources/v3/projectcalico.org';
const etcd = await Etcd.create();
let client: Etcd3;
const sources: KeySource[] = [];
const children: ChildProcess[] = [];

test.before(async () => {
  await etcd.start();
  client = new Etcd3({ hosts: etcd.url });
});
test.after.always(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of sources) await s.stop().catch(() => undefined);
  client?.close();
  await etcd.destroy();
});
test.afterEach.always(async () => {
  for (const s of sources.splice(0)) await s.stop().catch(() => undefined);
  if (etcd.pid !== undefined) etcd.ctl('del', '--prefix', '/calico/');
});

function source(extra: Partial<ConstructorParameters<typeof EtcdV3KeySource>[0]> = {}): EtcdV3KeySource {
  const s = new EtcdV3KeySource({ endpoints: [etcd.url], backoffInitialMs: 100, backoffMaxMs: 500, ...extra });
  sources.push(s);
  return s;
}

function names(keys: ReadonlyMap<string, string>, ip: string, ip6?: string): string[] {
  return desiredSessions(keys, { ip, ip6, port: 179 }).peers.map((p) => `${p.family}/${p.name}`);
}

function problems(keys: ReadonlyMap<string, string>, ip: string): string[] {
  return desiredSessions(keys, { ip, port: 179 }).problems.map((p) => `${p.key}: ${p.reason}`);
}

test.serial('the /calico/bgp/v1 layout written with etcdctl put: list, live puts and deletes', async (t) => {
  etcd.ctl('put', `${P}/rr_v4/10.0.0.30`, '{"ip":"10.0.0.30","cluster_id":"1.0.0.1"}');
  const rec = new Recorder();
  const src = source();
  t.is(src.name, `etcdv3:${etcd.url}`);
  await src.start(rec);
  t.is(rec.snapshots, 1);
  t.is(rec.state.size, 1);
  etcd.ctl('put', `${P}/rr_v4/10.0.0.31`, '{"ip":"10.0.0.31"}');
  etcd.ctl('put', `${P}/global/peer_v4/10.0.0.30`, '{"ip":"10.0.0.30","as_num":"64512"}');
  etcd.ctl('put', `${P}/host/n1/ip_addr_v4`, '10.0.1.1');
  await rec.waitFor(() => rec.state.size === 4, 'four keys');
  t.deepEqual(names(rec.state, '10.0.0.30'), ['4/Global_10_0_1_1', '4/Mesh_10_0_0_31']);
  // keys inside the watched key range that the reflector does not read cause no event
  const eventsBefore = rec.events.length;
  etcd.ctl('put', '/calico/ipam/v2/assignment/ipv4/block/10.65.0.0-26', '{}');
  etcd.ctl('put', `${R}/felixconfigurations/default`, '{}');
  etcd.ctl('put', `${R}/ippools/p`, '{}');
  etcd.ctl('del', '--prefix', `${P}/host/`);
  await rec.waitFor(() => !rec.state.has(`${P}/host/n1/ip_addr_v4`), 'delete');
  t.deepEqual(rec.events.slice(eventsBefore), [{ type: 'change', key: `${P}/host/n1/ip_addr_v4`, value: undefined }]);
  t.deepEqual(names(rec.state, '10.0.0.30'), ['4/Mesh_10_0_0_31']);
  t.is(rec.snapshots, 1);
  t.deepEqual(rec.problems(), []);
});

test.serial('Calico v3 resources (Node, BGPPeer, BGPConfiguration) are read as stored and followed live', async (t) => {
  const node = (name: string, v4: string, v6?: string): string =>
    JSON.stringify({
      kind: 'Node',
      apiVersion: 'projectcalico.org/v3',
      metadata: { name, uid: `uid-${name}`, creationTimestamp: '2026-11-27T10:00:00Z' },
      spec: { bgp: { ipv4Address: v4, ...(v6 ? { ipv6Address: v6 } : {}) } },
      status: {},
    });
  await client.put(`${R}/nodes/node-a`).value(node('node-a', '10.0.1.1/24', 'fd00:1::1/64'));
  await client.put(`${R}/nodes/node-b`).value(node('node-b', '10.0.1.2/24'));
  await client.put(`${R}/bgpconfigurations/default`).value(
    JSON.stringify({ kind: 'BGPConfiguration', apiVersion: 'projectcalico.org/v3', metadata: { name: 'default' }, spec: { asNumber: 65010, nodeToNodeMeshEnabled: false, logSeverityScreen: 'Info' } }),
  );
  await client.put(`${R}/bgppeers/rr-global`).value(
    JSON.stringify({ kind: 'BGPPeer', apiVersion: 'projectcalico.org/v3', metadata: { name: 'rr-global' }, spec: { peerIP: '10.0.0.30', asNumber: 65010 } }),
  );
  await client.put(`${R}/bgppeers/rr6-node-a`).value(
    JSON.stringify({ kind: 'BGPPeer', apiVersion: 'projectcalico.org/v3', metadata: { name: 'rr6-node-a' }, spec: { node: 'node-a', peerIP: 'fd00::30', asNumber: '65010' } }),
  );
  // resources the reflector does not read, and a broken one
  await client.put(`${R}/ippools/default-ipv4-ippool`).value('{"spec":{"cidr":"10.65.0.0/16"}}');
  await client.put(`${R}/bgppeers/broken`).value('{"spec": {"peerIP": "not-an-ip", "asNumber": 1}}');

  const rec = new Recorder();
  await source().start(rec);
  // The resources arrive as stored; the ones the reflector does not read do not.
  t.deepEqual([...rec.state.keys()].sort(), [`${R}/bgpconfigurations/default`, `${R}/bgppeers/broken`, `${R}/bgppeers/rr-global`, `${R}/bgppeers/rr6-node-a`, `${R}/nodes/node-a`, `${R}/nodes/node-b`]);
  t.deepEqual((JSON.parse(rec.state.get(`${R}/bgppeers/rr-global`) ?? '') as { spec?: unknown }).spec, { peerIP: '10.0.0.30', asNumber: 65010 });
  // calico-node's computation for a reflector at 10.0.0.30 / fd00::30 without a Node: reverse peerings with
  // every node (the global BGPPeer names our IP), and with node-a over IPv6 (its BGPPeer names our IPv6 address).
  t.deepEqual(names(rec.state, '10.0.0.30', 'fd00::30'), ['4/Node_10_0_1_1', '4/Node_10_0_1_2', '6/Node_fd00_1__1']);
  t.true(problems(rec.state, '10.0.0.30').some((m) => m.startsWith('BGPPeer broken: spec.peerIP "not-an-ip"')));

  // live: node-b moves, node-c joins, the global peer goes
  await client.put(`${R}/nodes/node-b`).value(node('node-b', '10.0.1.22/24'));
  await client.put(`${R}/nodes/node-c`).value(node('node-c', '10.0.1.3/24'));
  await rec.waitFor(() => rec.state.has(`${R}/nodes/node-c`), 'node-c');
  await rec.waitFor(() => names(rec.state, '10.0.0.30').includes('4/Node_10_0_1_22'), 'node-b moved');
  t.deepEqual(names(rec.state, '10.0.0.30'), ['4/Node_10_0_1_1', '4/Node_10_0_1_22', '4/Node_10_0_1_3']);
  await client.delete().key(`${R}/bgppeers/rr-global`);
  await rec.waitFor(() => !rec.state.has(`${R}/bgppeers/rr-global`), 'peer deleted');
  t.deepEqual(names(rec.state, '10.0.0.30'), []);
  await client.delete().key(`${R}/nodes/node-c`);
  await rec.waitFor(() => !rec.state.has(`${R}/nodes/node-c`), 'node deleted');
  // v1 keys in the v3 keyspace keep working next to the resources
  etcd.ctl('put', `${P}/rr_v4/10.0.0.31`, '{"ip":"10.0.0.31"}');
  etcd.ctl('put', `${P}/rr_v4/10.0.0.30`, '{"ip":"10.0.0.30"}');
  await rec.waitFor(() => names(rec.state, '10.0.0.30').includes('4/Mesh_10_0_0_31'), 'v1 mesh entry');
  t.is(rec.snapshots, 1);
});

test.serial('compaction of the listed revision: the watch is refused and a fresh list follows', async (t) => {
  etcd.ctl('put', `${P}/global/as_num`, '64512');
  let lists = 0;
  const rec = new Recorder();
  await source({
    onListed: async () => {
      lists++;
      if (lists === 1) {
        etcd.ctl('put', `${P}/rr_v4/10.0.0.40`, '{"ip":"10.0.0.40"}');
        etcd.ctl('put', '/unrelated', 'x');
        const rev = (JSON.parse(etcd.ctl('get', '/unrelated', '-w', 'json')) as { header: { revision: number } }).header.revision;
        etcd.ctl('compact', String(rev));
      }
    },
  }).start(rec);
  await rec.waitFor(() => lists >= 2, 'second list after compaction', 10_000);
  await rec.waitFor(() => rec.state.has(`${P}/rr_v4/10.0.0.40`), 'change seen through the re-list');
  t.true(rec.snapshots >= 2);
  t.deepEqual(rec.problems(), []); // a compacted revision is routine: re-list, no outage report
  etcd.ctl('put', `${P}/rr_v4/10.0.0.41`, '{"ip":"10.0.0.41"}');
  await rec.waitFor(() => rec.state.has(`${P}/rr_v4/10.0.0.41`), 'watch works after the re-list');
  etcd.ctl('del', '/unrelated');
});

test.serial('etcd lost: last keys kept, problem logged; on return a fresh list applies changes made meanwhile', async (t) => {
  etcd.ctl('put', `${P}/rr_v4/10.0.0.31`, '{"ip":"10.0.0.31"}');
  etcd.ctl('put', `${P}/rr_v4/10.0.0.32`, '{"ip":"10.0.0.32"}');
  const rec = new Recorder();
  await source().start(rec);
  t.is(rec.state.size, 2);
  await etcd.kill();
  await rec.waitFor(() => rec.problems().length > 0, 'outage problem');
  t.regex(rec.problems()[0] ?? '', /keeping the last configuration, retrying/);
  await etcd.start(await deadPort());
  etcd.ctl('del', `${P}/rr_v4/10.0.0.31`);
  etcd.ctl('put', `${P}/rr_v4/10.0.0.33`, '{"ip":"10.0.0.33"}');
  await etcd.kill();
  await sleep(300);
  t.deepEqual([...rec.state.keys()].sort(), [`${P}/rr_v4/10.0.0.31`, `${P}/rr_v4/10.0.0.32`]);
  await etcd.start();
  client.close();
  client = new Etcd3({ hosts: etcd.url });
  await rec.waitFor(() => rec.state.has(`${P}/rr_v4/10.0.0.33`), 'resync', 15_000);
  t.deepEqual([...rec.state.keys()].sort(), [`${P}/rr_v4/10.0.0.32`, `${P}/rr_v4/10.0.0.33`]);
  t.true(rec.snapshots >= 2);
});

test.serial('unreachable at start: no snapshot, a problem; several endpoints fail over', async (t) => {
  const rec = new Recorder();
  const dead = `http://${ETCD_HOST}:${await deadPort()}`;
  const down = source({ endpoints: [dead] });
  await down.start(rec);
  t.is(rec.snapshots, 0);
  t.true(rec.problems().length >= 1);
  etcd.ctl('put', `${P}/global/as_num`, '64512');
  const rec2 = new Recorder();
  await source({ endpoints: [dead, etcd.url] }).start(rec2);
  await rec2.waitFor(() => rec2.snapshots >= 1, 'snapshot through the live endpoint', 10_000);
  t.is(rec2.state.get(`${P}/global/as_num`), '64512');
});

function startChild(env: Record<string, string>): { proc: ChildProcess; lines: { peers: string[] }[] } {
  const script = fileURLToPath(new URL('./reflector-child.ts', import.meta.url));
  const proc = spawnChild(process.execPath, ['--import', 'tsx', script], { env: { LOG_LEVEL: 'warn', ...env } });
  children.push(proc);
  const lines: { peers: string[] }[] = [];
  let buf = '';
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, i)) as { peers: string[] });
      buf = buf.slice(i + 1);
    }
  });
  proc.stderr?.resume();
  return { proc, lines };
}

async function waitLines(lines: { peers: string[] }[], cond: (peers: string[]) => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const last = lines.at(-1);
    if (last !== undefined && cond(last.peers)) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(lines.at(-1))}`);
}

test.serial('self-registration: two reflectors find each other; SIGKILL drops one after the lease TTL, SIGTERM at once', async (t) => {
  const base = { ETCD_ENDPOINTS: etcd.url, DATASTORE_TYPE: 'etcdv3', RR_REGISTER: 'true', RR_REGISTER_TTL: '2' };
  // reflector A in this process, built exactly as main builds it
  const a = await createKeySource(loadConfig({ ...base, IP: '10.0.0.50', RR_CLUSTER_ID: '1.0.0.1' }));
  sources.push(a);
  const rec = new Recorder();
  await a.start(rec);
  // reflector B as its own process
  const b = startChild({ ...base, IP: '10.0.0.51' });
  await waitLines(b.lines, (p) => p.includes('Mesh_10_0_0_50'), 'B meshes with A');
  await rec.waitFor(() => names(rec.state, '10.0.0.50').includes('4/Mesh_10_0_0_51'), 'A meshes with B', 15_000);
  t.deepEqual(JSON.parse(rec.state.get(`${P}/rr_v4/10.0.0.50`) ?? ''), { ip: '10.0.0.50', cluster_id: '1.0.0.1' });
  const lease = JSON.parse(etcd.ctl('get', `${P}/rr_v4/10.0.0.51`, '-w', 'json')) as { kvs: { lease?: number }[] };
  t.truthy(lease.kvs[0]?.lease, 'B\'s entry is under a lease');

  b.proc.kill('SIGKILL');
  const killedAt = Date.now();
  await rec.waitFor(() => !names(rec.state, '10.0.0.50').includes('4/Mesh_10_0_0_51'), 'B gone after its TTL', 30_000);
  const took = Date.now() - killedAt;
  // the lease TTL is 2 s: not before ~1 s (etcd may round), well before the 60 s a stale entry would live
  t.true(took >= 1000 && took < 30_000, `removed after ${took} ms`);

  // C stops cleanly: its entry goes at once
  const c = startChild({ ...base, IP: '10.0.0.52', RR_REGISTER_TTL: '60' });
  await rec.waitFor(() => names(rec.state, '10.0.0.50').includes('4/Mesh_10_0_0_52'), 'A meshes with C', 15_000);
  const exited = new Promise<number | null>((r) => c.proc.once('exit', (code) => r(code)));
  c.proc.kill('SIGTERM');
  t.is(await exited, 0);
  await rec.waitFor(() => !rec.state.has(`${P}/rr_v4/10.0.0.52`), 'C deregistered', 3000);

  // A's own deregister (what main does on SIGTERM)
  await a.deregister?.();
  await sleep(200);
  t.is(etcd.ctl('get', `${P}/rr_v4/10.0.0.50`).trim(), '');
});

test.serial('etcd user/password authentication', async (t) => {
  etcd.ctl('put', `${P}/global/as_num`, '64512');
  etcd.ctl('user', 'add', 'root', '--new-user-password', 'rootpw');
  etcd.ctl('user', 'grant-role', 'root', 'root');
  etcd.ctl('auth', 'enable');
  try {
    const rec = new Recorder();
    await source({ auth: { username: 'root', password: 'rootpw' } }).start(rec);
    t.is(rec.state.get(`${P}/global/as_num`), '64512');
    const denied = new Recorder();
    await source({ auth: { username: 'root', password: 'wrong' } }).start(denied);
    t.is(denied.snapshots, 0);
    t.regex(denied.problems()[0] ?? '', /auth|password|permission/i);
    const anonymous = new Recorder();
    await source().start(anonymous);
    t.is(anonymous.snapshots, 0);
    t.true(anonymous.problems().length > 0);
  } finally {
    etcd.ctl('--user', 'root:rootpw', 'auth', 'disable');
  }
});
