// The running reflector watched the way operators do: the real prometheus-bird-exporter (the seed's sidecar,
// new format, both sockets) and our own /metrics must agree with the truth of a lab of real BIRD 2 nodes.
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { runChild, spawnChild } from '../helpers/child.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBird2, type Daemon } from '../session/daemons.js';
import { findSample, parsePromText, type Sample } from '../helpers/prom-text.js';
import { until } from '../helpers/until.js';
import { claimLoopbackNet, freePort } from '../helpers/net.js';

const NET = await claimLoopbackNet();

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RR = NET.host(1);
const NODES = [2, 3, 4].map((n) => `${NET.prefix}.${n}`);
const METRICS = `${RR}:${await freePort(RR)}`;
const EXPORTER = `${RR}:${await freePort(RR)}`;
const procs: ChildProcess[] = [];
const daemons: Daemon[] = [];

test.after.always(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await Promise.all(daemons.map((d) => d.stop()));
});


async function scrape(hostPort: string): Promise<Sample[] | undefined> {
  try {
    const r = await fetch(`http://${hostPort}/metrics`, { signal: AbortSignal.timeout(5000) });
    return parsePromText(await r.text());
  } catch {
    return undefined;
  }
}

test('bird_exporter and /metrics report every session up with the true route counts', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-obs-'));
  const ds = path.join(dir, 'datastore.json');
  const keys: Record<string, unknown> = {
    '/calico/bgp/v1/global/as_num': '64512',
    [`/calico/bgp/v1/global/peer_v4/${RR}`]: { ip: RR, as_num: '64512' },
  };
  NODES.forEach((ip, i) => (keys[`/calico/bgp/v1/host/node${i}/ip_addr_v4`] = ip));
  writeFileSync(ds, JSON.stringify(keys));
  const rr = spawnChild(process.execPath, ['--import=tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { IP: RR, DATASTORE_TYPE: 'file', DATASTORE_FILE: ds, SOCKET_DIR: dir, METRICS_LISTEN: METRICS, BIRD_TIMEFORMAT: 'iso long', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  procs.push(rr);
  NODES.forEach((ip, i) => daemons.push(startBird2({ ip, rr: RR, as: 64512, holdTime: 9, block: `10.95.${i}.0/26` })));
  const names = NODES.map((ip) => `Global_${ip.replaceAll('.', '_')}`);

  // Each node announces one block and must receive the two others: imported 1, exported 2, preferred 1.
  await until('every node to hold the two other blocks', () => {
    const ok = daemons.every((d) => (runChild('/opt/bird2/usr/sbin/birdc', ['-s', d.socket ?? '', 'show', 'route', 'count'], { encoding: 'utf8' }).stdout.match(/(\d+) of \d+ routes/)?.[1] ?? '0') === '3');
    return ok ? true : undefined;
  });

  const exporter = spawnChild('/usr/bin/prometheus-bird-exporter', [
    // IP6 unset: the reflector creates no bird6.ctl, so the exporter is told not to ask for one (as in the DaemonSet).
    '-format.new=true', `-bird.socket=${path.join(dir, 'bird.ctl')}`, '-bird.ipv6=false', `-web.listen-address=${EXPORTER}`,
  ], { stdio: 'ignore' });
  procs.push(exporter);
  const fromExporter = await until('the exporter to answer', () => scrape(EXPORTER));
  const ours = await until('our /metrics', () => scrape(METRICS));

  for (const name of names) {
    const sel = { name, ip_version: '4' };
    t.is(findSample(fromExporter, 'bird_protocol_up', sel)?.value, 1, `${name} up (exporter)`);
    t.is(findSample(fromExporter, 'bird_protocol_prefix_import_count', sel)?.value, 1, `${name} imported (exporter)`);
    t.is(findSample(fromExporter, 'bird_protocol_prefix_export_count', sel)?.value, 2, `${name} exported (exporter)`);
    t.true((findSample(fromExporter, 'bird_protocol_uptime', sel)?.value ?? -1) >= 0, `${name} uptime (exporter)`);
    t.is(findSample(ours, 'bgp_rr_session_up', { name })?.value, 1, `${name} up (ours)`);
    t.is(findSample(ours, 'bgp_rr_prefixes_received', { name })?.value, 1, `${name} received (ours)`);
    t.is(findSample(ours, 'bgp_rr_prefixes_advertised', { name })?.value, 2, `${name} advertised (ours)`);
  }
  t.is(findSample(ours, 'bgp_rr_loc_rib_prefixes', { family: 'ipv4' })?.value, 3);
  t.is(findSample(ours, 'bgp_rr_update_groups', { family: 'ipv4' })?.value, 1, 'three alike clients share one update group');
  t.is(findSample(ours, 'bgp_rr_update_group_members', { family: 'ipv4' })?.value, 3);
  t.is(findSample(ours, 'bgp_rr_datastore_synced')?.value, 1);

  // A node whose operator shuts its session down (a Cease, so no graceful-restart retention) shows as down in
  // both, and its block leaves the others' counts.
  runChild('/opt/bird2/usr/sbin/birdc', ['-s', daemons[2].socket ?? '', 'disable', `Node_${RR.replaceAll('.', '_')}`], { encoding: 'utf8' });
  const after = await until('node 4 down in /metrics', async () => {
    const s = await scrape(METRICS);
    return s !== undefined && findSample(s, 'bgp_rr_session_up', { name: names[2] })?.value === 0 ? s : undefined;
  }, 30_000);
  t.is(findSample(after, 'bgp_rr_prefixes_advertised', { name: names[0] })?.value, 1);
  const exp2 = await until('exporter to see node 4 down', async () => {
    const s = await scrape(EXPORTER);
    return s !== undefined && findSample(s, 'bird_protocol_up', { name: names[2], ip_version: '4' })?.value === 0 ? s : undefined;
  });
  t.is(findSample(exp2, 'bird_protocol_prefix_export_count', { name: names[0], ip_version: '4' })?.value, 1);
  rr.kill('SIGTERM');
});
