// The whole reflector process (src/main.ts) on the file datastore with real BIRD 2 Calico nodes: adding a host
// to the file starts exactly that session, removing it stops exactly that one (Cease "peer de-configured"),
// and the other sessions keep running with their uptime untouched. Routes are reflected between the nodes.
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { runChild, spawnChild } from '../helpers/child.js';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIRDC2, startBird2, type Daemon } from '../session/daemons.js';
import { until } from '../helpers/until.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RR = NET.host(1);
const nodeIp = (n: number): string => `${NET.prefix}.${n}`;
const procs: ChildProcess[] = [];
const daemons: Daemon[] = [];

test.after.always(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await Promise.all(daemons.map((d) => d.stop()));
});


function datastore(hosts: number[]): string {
  const keys: Record<string, unknown> = {
    '/calico/bgp/v1/global/as_num': '64512',
    [`/calico/bgp/v1/global/peer_v4/${RR}`]: { ip: RR, as_num: '64512' },
  };
  for (const n of hosts) keys[`/calico/bgp/v1/host/node${n}/ip_addr_v4`] = nodeIp(n);
  return JSON.stringify(keys, null, 1);
}

/** Replaces the file atomically (temporary file + rename), as editors and ConfigMap mounts do. */
function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

function protocols(sock: string): Map<string, { state: string; since: string; info: string }> {
  const out = runChild('birdc', ['-s', sock, 'show', 'protocols'], { encoding: 'utf8' }).stdout;
  const m = new Map<string, { state: string; since: string; info: string }>();
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 5 && f[1] === 'BGP') m.set(f[0], { state: f[3], since: f[4], info: f[5] ?? '' });
  }
  return m;
}

test('adding and removing a host in the datastore file starts and stops exactly that session', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-app-'));
  const ds = path.join(dir, 'datastore.json');
  writeFileSync(ds, datastore([2, 3]));
  const rr = spawnChild(process.execPath, ['--import=tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { IP: RR, DATASTORE_TYPE: 'file', DATASTORE_FILE: ds, SOCKET_DIR: dir, METRICS_LISTEN: 'off', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(rr);
  let log = '';
  rr.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  rr.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const sock = path.join(dir, 'bird.ctl');

  for (const n of [2, 3, 4]) daemons.push(startBird2({ ip: nodeIp(n), rr: RR, as: 64512, holdTime: 9, block: `10.93.${n}.0/26` }));
  const [n2, n3, n4] = daemons;

  await until('nodes 2 and 3 Established', () => {
    const p = protocols(sock);
    return p.get(`Global_${NET.under(2)}`)?.info === 'Established' && p.get(`Global_${NET.under(3)}`)?.info === 'Established' ? true : undefined;
  });
  t.false(protocols(sock).has(`Global_${NET.under(4)}`), 'no session for a host that is not in the datastore');

  // Node 3 learns node 2's block through us, next hop unchanged, with ORIGINATOR_ID and CLUSTER_LIST.
  const routeOn3 = await until('node 3 to hold node 2 block', () => {
    const r = runChild(BIRDC2, ['-s', n3.socket ?? '', 'show', 'route', 'all', '10.93.2.0/26'], { encoding: 'utf8' }).stdout;
    return /BGP\.originator_id/.test(r) ? r : undefined;
  });
  t.true(routeOn3.includes(`BGP.next_hop: ${NET.host(2)}`), routeOn3);
  t.true(routeOn3.includes(`BGP.originator_id: ${NET.host(2)}`), routeOn3);
  t.true(routeOn3.includes(`BGP.cluster_list: ${NET.host(1)}`), routeOn3);

  const before = protocols(sock);
  await new Promise((r) => setTimeout(r, 1100)); // so a restarted session would show a later "since"

  writeAtomically(ds, datastore([2, 3, 4]));
  await until('node 4 Established after it was added', () => (protocols(sock).get(`Global_${NET.under(4)}`)?.info === 'Established' ? true : undefined));
  const afterAdd = protocols(sock);
  t.is(afterAdd.get(`Global_${NET.under(2)}`)?.since, before.get(`Global_${NET.under(2)}`)?.since, 'node 2 untouched');
  t.is(afterAdd.get(`Global_${NET.under(3)}`)?.since, before.get(`Global_${NET.under(3)}`)?.since, 'node 3 untouched');
  await until('node 4 to hold node 2 block', () => {
    const r = runChild(BIRDC2, ['-s', n4.socket ?? '', 'show', 'route', '10.93.2.0/26'], { encoding: 'utf8' }).stdout;
    return /10\.93\.2\.0\/26/.test(r) ? true : undefined;
  });

  writeAtomically(ds, datastore([2, 4]));
  await until('node 3 session removed', () => (protocols(sock).has(`Global_${NET.under(3)}`) ? undefined : true));
  const afterRemove = protocols(sock);
  t.is(afterRemove.get(`Global_${NET.under(2)}`)?.since, before.get(`Global_${NET.under(2)}`)?.since, 'node 2 still untouched');
  t.is(afterRemove.get(`Global_${NET.under(4)}`)?.info, 'Established');
  const n3view = await until('node 3 to see the Cease', () => {
    const r = runChild(BIRDC2, ['-s', n3.socket ?? '', 'show', 'protocols', 'all'], { encoding: 'utf8' }).stdout;
    return /Peer de-configured/i.test(r) ? r : undefined;
  });
  t.regex(n3view, /Received: Peer de-configured/i);
  // Node 3's block is withdrawn from the others.
  await until('node 2 to lose node 3 block', () => {
    const r = runChild(BIRDC2, ['-s', n2.socket ?? '', 'show', 'route', '10.93.3.0/26'], { encoding: 'utf8' }).stdout;
    return /10\.93\.3\.0\/26/.test(r) ? undefined : true;
  });

  // A file that does not parse keeps the last good configuration.
  writeAtomically(ds, '{ not json');
  await new Promise((r) => setTimeout(r, 500));
  t.is(protocols(sock).get(`Global_${NET.under(4)}`)?.info, 'Established');
  t.regex(log, /datastore/);

  rr.kill('SIGTERM');
  await new Promise((r) => rr.once('exit', r));
});
