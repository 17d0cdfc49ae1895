// The real prometheus-bird-exporter (Debian 1.4.1, v1 mode, both sockets) scraping our control sockets.
// Its /metrics must show every session's state and route counts exactly as our model holds them.

import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { systemClock } from '../../src/clock.js';
import { spawnChild } from '../helpers/child.js';
import { emptyRouteChangeStats, deviceProtocol, type Family, type ProtocolView } from '../../src/control/model.js';
import { timeFormatsFromSetting, type TimeFormats } from '../../src/control/timefmt.js';
import { LabModel, type LabData } from './lab.js';
import { startServer, stopAll } from './harness.js';
import { claimLoopbackNet, freePort } from '../helpers/net.js';

const NET = await claimLoopbackNet();

const EXPORTER = '/usr/bin/prometheus-bird-exporter';
const HOST = NET.host(1);
const children: ChildProcess[] = [];

test.after.always(async () => {
  for (const c of children) c.kill('SIGKILL');
  await stopAll();
});

function bgp(name: string, family: Family, i: number, state: 'up' | 'start' | 'down', since: Date): ProtocolView {
  const neighbor = family === 4 ? `10.0.${i >> 8}.${i & 255}` : `fd00::${i.toString(16)}`;
  const stats = emptyRouteChangeStats();
  stats.importUpdates = { received: 10 + i, rejected: 1, filtered: 2, ignored: 3, accepted: 4 + i };
  stats.importWithdraws = { received: 5, rejected: 0, ignored: 1, accepted: 4 };
  stats.exportUpdates = { received: 20 + i, rejected: 6, filtered: 7, accepted: 8 + i };
  stats.exportWithdraws = { received: 9, accepted: 2 };
  const base: ProtocolView = {
    name,
    kind: 'BGP',
    table: 'master',
    state,
    since,
    description: 'Connection to BGP peer',
    preference: 100,
    importFilter: 'ACCEPT',
    exportFilter: 'calico_export_to_bgp_peers',
    routes: { imported: state === 'up' ? 3 * i + 1 : 0, exported: state === 'up' ? 2 * i + 5 : 0, preferred: state === 'up' ? i : 0 },
    stats: state === 'up' ? stats : emptyRouteChangeStats(),
    bgp: { state: 'Down', neighborAddress: neighbor, neighborAs: 64512 },
  };
  if (state === 'up') {
    base.bgp = {
      state: 'Established',
      neighborAddress: neighbor,
      neighborAs: 64512,
      neighborId: `10.1.${i >> 8}.${i & 255}`,
      sourceAddress: family === 4 ? '10.0.0.1' : 'fd00::1',
      holdTimer: { remaining: 200, length: 240 },
      keepaliveTimer: { remaining: 20, length: 80 },
    };
  } else if (state === 'start') {
    base.bgp = { state: 'Active', neighborAddress: neighbor, neighborAs: 64512, connectDelay: { remaining: 3, length: 5 }, lastError: { kind: 'socket', message: 'Connection refused' } };
  }
  return base;
}

/** A reflector with many sessions per family (the v4 reply is far larger than one 4096-byte read). */
function reflector(family: Family, sessions: number, since: Date): LabData {
  const protocols: ProtocolView[] = [deviceProtocol(since)];
  for (let i = 1; i <= sessions; i++) {
    const state = i % 7 === 0 ? 'down' : i % 5 === 0 ? 'start' : 'up';
    const addr = family === 4 ? `10_0_${i >> 8}_${i & 255}` : `fd00__${i.toString(16)}`;
    protocols.push(bgp(`${i % 3 === 0 ? 'Node' : 'Mesh'}_${addr}`, family, i, state, new Date(since.getTime() + i * 1000)));
  }
  return {
    routerId: '10.0.0.1',
    protocols,
    routes: [],
    exports: {},
    interfaces: [],
    memory: { routingTables: 0, routeAttributes: 0, roaTables: 0, protocols: 0, total: 0 },
  };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition format: `name{l="v",...} value` lines. */
function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const l of text.split('\n')) {
    if (l === '' || l.startsWith('#')) continue;
    const m = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(l);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const lm of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]!] = lm[2]!.replace(/\\(.)/g, '$1');
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

async function startExporter(port: number, sock4: string, sock6: string, extra: string[] = []): Promise<string> {
  const url = `http://${HOST}:${port}/metrics`;
  // The exporter reads our local times back in its own zone: give it the zone our server formats in (this
  // process's, from TZ or /etc/localtime), explicitly, and nothing else of the caller's environment.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const child = spawnChild(EXPORTER, [`-bird.socket=${sock4}`, `-bird.socket6=${sock6}`, `-web.listen-address=${HOST}:${port}`, ...extra], { env: { TZ: zone }, stdio: 'ignore' });
  children.push(child);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`http://${HOST}:${port}/`, { signal: AbortSignal.timeout(1000) });
      await r.text();
      return url;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('exporter did not start');
}

async function scrape(url: string): Promise<Sample[]> {
  const r = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  return parseMetrics(await r.text());
}

async function setup(timeFormats: TimeFormats, port: number, extra: string[] = []): Promise<{ model: LabModel; samples: Sample[] }> {
  const since = new Date(Date.now() - 3 * 3600 * 1000);
  since.setMilliseconds(0);
  const model = new LabModel({ 4: reflector(4, 150, since), 6: reflector(6, 12, since) });
  // The real exporter ages the times it reads by its own (wall) clock, so here our server runs on it too;
  // every time is relative to it (since = 3 h ago), so the day and hour of the run do not matter.
  const s4 = await startServer(model, 4, { timeFormats, now: systemClock });
  const s6 = await startServer(model, 6, { timeFormats, now: systemClock }, s4.dir);
  const url = await startExporter(port, s4.path, s6.path, extra);
  return { model, samples: await scrape(url) };
}

function find(samples: Sample[], metric: string, name: string, family: Family): Sample | undefined {
  return samples.find((s) => s.name === metric && s.labels.name === name && s.labels.ip_version === String(family));
}

test('bird_exporter (new format, iso long) reports state, counts and uptime of every session', async (t) => {
  const formats = timeFormatsFromSetting('iso long');
  if (formats === undefined) return t.fail();
  const { model, samples } = await setup(formats, await freePort(HOST));
  let checked = 0;
  for (const family of [4, 6] as const) {
    for (const p of model.protocols(family)) {
      const up = find(samples, 'bird_protocol_up', p.name, family);
      if (p.kind === 'Device') {
        t.is(up, undefined, 'the exporter skips Device protocols');
        continue;
      }
      if (up === undefined) return t.fail(`no bird_protocol_up for ${p.name}/${family}`);
      t.is(up.value, p.state === 'up' ? 1 : 0, p.name);
      t.is(up.labels.proto, 'BGP');
      t.is(up.labels.import_filter, 'ACCEPT');
      t.is(up.labels.export_filter, 'calico_export_to_bgp_peers');
      const expectState = p.state === 'up' ? 'Established' : p.state === 'start' ? 'Active        Socket: Connection refused' : '';
      t.is(up.labels.state, expectState, p.name);
      const counts = p.state === 'down' ? { imported: 0, exported: 0, preferred: 0 } : p.routes;
      t.is(find(samples, 'bird_protocol_prefix_import_count', p.name, family)?.value, counts.imported, p.name);
      t.is(find(samples, 'bird_protocol_prefix_export_count', p.name, family)?.value, counts.exported, p.name);
      t.is(find(samples, 'bird_protocol_prefix_preferred_count', p.name, family)?.value, counts.preferred, p.name);
      if (p.state === 'up') {
        t.is(find(samples, 'bird_protocol_changes_update_import_receive_count', p.name, family)?.value, p.stats.importUpdates.received);
        t.is(find(samples, 'bird_protocol_changes_update_export_accept_count', p.name, family)?.value, p.stats.exportUpdates.accepted);
        t.is(find(samples, 'bird_protocol_changes_withdraw_import_ignore_count', p.name, family)?.value, p.stats.importWithdraws.ignored);
      }
      // iso long gives the exporter an absolute time, so uptime is the real age of the state.
      const uptime = find(samples, 'bird_protocol_uptime', p.name, family)?.value ?? -1;
      const age = (Date.now() - p.since.getTime()) / 1000;
      t.true(Math.abs(uptime - age) < 30, `${p.name} uptime ${uptime} vs ${age}`);
      checked++;
    }
  }
  t.is(checked, 150 + 12);
});

test('bird_exporter with BIRD default time format: uptime is the time of day (BIRD 1.6 behaviour)', async (t) => {
  const formats = timeFormatsFromSetting('');
  if (formats === undefined) return t.fail();
  const { model, samples } = await setup(formats, await freePort(HOST));
  const p = model.protocols(4).find((x) => x.state === 'up' && x.kind === 'BGP');
  if (p === undefined) return t.fail();
  const d = p.since;
  const secondsOfDay = d.getHours() * 3600 + d.getMinutes() * 60 + d.getSeconds();
  t.is(find(samples, 'bird_protocol_uptime', p.name, 4)?.value, secondsOfDay);
  t.is(find(samples, 'bird_protocol_up', p.name, 4)?.value, 1);
});

test('bird_exporter legacy format (-format.new=false) reads the same sockets', async (t) => {
  const formats = timeFormatsFromSetting('iso long');
  if (formats === undefined) return t.fail();
  const { model, samples } = await setup(formats, await freePort(HOST), ['-format.new=false']);
  const v4 = model.protocols(4).filter((p) => p.kind === 'BGP');
  const v6 = model.protocols(6).filter((p) => p.kind === 'BGP');
  for (const [metric, list] of [['bgp4_session_up', v4], ['bgp6_session_up', v6]] as const) {
    for (const p of list) {
      const s = samples.find((x) => x.name === metric && x.labels.name === p.name);
      t.is(s?.value, p.state === 'up' ? 1 : 0, `${metric} ${p.name}`);
    }
  }
  const up = v4.find((p) => p.state === 'up')!;
  t.is(samples.find((x) => x.name === 'bgp4_session_prefix_count_import' && x.labels.name === up.name)?.value, up.routes.imported);
});
