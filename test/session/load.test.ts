// Load on the session layer: a burst of 1,000 raw-socket nodes (on five claimed loopback /24s) that must all
// become Established, and a peer sending 1,000,000 prefixes while a hold-time-3 BIRD 2 session must not expire
// (the longest event-loop stall is measured with monitorEventLoopDelay and printed). How fast, against BIRD 2 in
// the same run, is bench/responsiveness.ts's job; the time bounds here only catch a hang.
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { log } from '../../src/log.js';
import { BgpListener } from '../../src/session/listener.js';
import { BgpSession } from '../../src/session/session.js';
import type { PeerSpec } from '../../src/peers/peer-spec.js';
import { encodeOpen } from '../../src/wire/index.js';
import { startBird2, type Daemon } from './daemons.js';
import { makeOpen, until } from './speaker.js';
import { spawnChild } from '../helpers/child.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();
// The burst's nodes: 249 hosts per claimed /24, so five of them for 1,000 nodes (burst-peers.ts numbers them alike).
const NODE_NETS: string[] = [];
for (let i = 0; i < 5; i++) NODE_NETS.push((await claimLoopbackNet()).prefix);
const burstAddress = (i: number): string => `${NODE_NETS[Math.floor(i / 249)]!}.${1 + (i % 249)}`;

log.level = 'warn';

const AS = 64512;
const here = path.dirname(fileURLToPath(import.meta.url));
const cleanups: (() => Promise<void> | void)[] = [];

test.after.always(async () => {
  for (const c of cleanups.reverse()) await c();
});

function spec(rr: string, addr: string): PeerSpec {
  return {
    name: `Node_${addr.replaceAll('.', '_')}`, kind: 'node', family: 4, neighborAddress: addr, localAddress: rr, port: 179,
    localAs: AS, peerAs: AS, routeReflectorClient: true, clusterId: rr, routerId: rr, sourceKeys: [],
  };
}

interface BurstResult {
  reflectorMs: number;
  nodeMs: number;
  cpuMs: number;
  line: string;
}

/** One burst of `count` nodes against a fresh listener and sessions on `rr`; everything is torn down after. */
async function burst(t: import('ava').ExecutionContext, rr: string, count: number): Promise<BurstResult> {
  const addrs: string[] = [];
  for (let i = 0; i < count; i++) addrs.push(burstAddress(i));
  const listener = new BgpListener({ addresses: [rr], port: 179 });
  const byAddr = new Map<string, BgpSession>();
  let established = 0;
  let t0 = 0;
  let reflectorMs = 0;
  const estTimes: number[] = [];
  for (const a of addrs) {
    // Active sessions, as in production: their first dial is refused (nothing listens on the nodes) and
    // they wait for the ConnectRetry timer, so the nodes' own connections are what establishes them.
    const s = new BgpSession(spec(rr, a), { connectRetryTime: 30 });
    s.on('established', () => {
      estTimes.push(performance.now() - t0);
      if (++established === count) reflectorMs = performance.now() - t0;
    });
    byAddr.set(a, s);
  }
  listener.setLookup((a) => byAddr.get(a));
  await listener.listen();
  // The nodes run in their own process (built on the same codec), as separate hosts would.
  const child = spawnChild(process.execPath, ['--import=tsx', path.join(here, 'burst-peers.ts'), rr, String(count), String(AS), NODE_NETS.join(',')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const teardown = async (): Promise<void> => {
    child.kill('SIGKILL');
    await Promise.all([...byAddr.values()].map((s) => s.stop()));
    await listener.close();
  };
  cleanups.push(teardown);
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => (out += d));
  await until(() => out.includes('ready'), 20_000, 'burst peers ready');
  for (const s of byAddr.values()) s.start();
  await new Promise((r) => setTimeout(r, 500)); // let the refused dials settle

  // This machine is shared with other test runs: for the seconds that are measured, ask the scheduler to
  // favour the reflector and the nodes (root may lower niceness; without it the figure is just noisier).
  const nice = os.getPriority(0);
  const raise = (n: number): void => {
    try {
      os.setPriority(0, n);
      if (child.pid !== undefined) os.setPriority(child.pid, n);
    } catch {
      // not permitted: measure at normal priority
    }
  };
  raise(-10);
  const cpu0 = process.cpuUsage();
  t0 = performance.now();
  child.stdin!.write('go\n');
  try {
    await until(() => established === count, 60_000, 'all sessions Established');
  } finally {
    raise(nice);
  }
  const cpu = process.cpuUsage(cpu0);
  await until(() => out.includes('"established"') || out.includes('"error"'), 30_000, 'all nodes Established');
  const report = JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!) as { established?: number; ms?: number; error?: string; connectedMs?: number; issuedMs?: number };
  t.is(report.error, undefined);
  t.is(listener.accepted, count);
  t.true([...byAddr.values()].every((s) => s.state === 'Established'));
  const q = (p: number): string => estTimes[Math.min(estTimes.length - 1, Math.floor(p * estTimes.length))]!.toFixed(0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const line = `${count} nodes Established in ${reflectorMs.toFixed(0)} ms on the reflector side (${cpuMs.toFixed(0)} ms CPU; ` +
    `p10 ${q(0.1)}, p50 ${q(0.5)}, p90 ${q(0.9)} ms), ${report.ms!.toFixed(0)} ms on the node side ` +
    `(connects issued in ${report.issuedMs!.toFixed(0)} ms, all TCP-connected at ${report.connectedMs!.toFixed(0)} ms)`;
  await teardown();
  return { reflectorMs, nodeMs: report.ms!, cpuMs, line };
}

test.serial('burst: 1,000 nodes connecting at once are all Established', async (t) => {
  // One burst; burst() asserts that every node and every session got there (within 60 s: a hang, not a speed).
  // The time is printed; the speed target (ours vs BIRD 2 on the same burst) is `bench/responsiveness.ts`.
  const r = await burst(t, NET.host(20), 1000);
  console.log(`burst: ${r.line}`);
});

/** Packs `count` distinct IPv4 prefixes (/24../32) into UPDATEs of at most 4096 octets. */
function buildFlood(count: number, nextHop: string): { blob: Buffer; updates: number } {
  const nh = nextHop.split('.').map(Number);
  const attrs = Buffer.from([0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, ...nh, 0x40, 5, 4, 0, 0, 0, 100]);
  const head = 19 + 2 + 2 + attrs.length;
  const parts: Buffer[] = [];
  let i = 0;
  while (i < count) {
    const msg = Buffer.alloc(4096);
    msg.fill(0xff, 0, 16);
    msg[18] = 2;
    msg.writeUInt16BE(0, 19);
    msg.writeUInt16BE(attrs.length, 21);
    attrs.copy(msg, 23);
    let o = head;
    while (i < count) {
      const len = 24 + (i % 9);
      const bytes = Math.ceil(len / 8);
      if (o + 1 + bytes > 4096) break;
      const addr = (0x0b000000 + i * 256) >>> 0;
      msg[o] = len;
      for (let b = 0; b < bytes; b++) msg[o + 1 + b] = (addr >>> (24 - 8 * b)) & 0xff;
      o += 1 + bytes;
      i++;
    }
    msg.writeUInt16BE(o, 16);
    parts.push(msg.subarray(0, o));
  }
  return { blob: Buffer.concat(parts), updates: parts.length };
}

test.serial('stall: 1,000,000 prefixes from one peer; a hold-time-3 session stays up; longest loop stall printed', async (t) => {
  const RR = NET.host(30);
  const FLOOD = NET.host(31);
  const KA_FLOOD = NET.host(33);
  const NODE = { ip: NET.host(32), rr: RR, as: AS, holdTime: 3, block: '10.65.32.0/26' };
  const listener = new BgpListener({ addresses: [RR], port: 179 });
  const flood = new BgpSession(spec(RR, FLOOD), { passive: true });
  const kaFlood = new BgpSession(spec(RR, KA_FLOOD), { passive: true });
  const calm = new BgpSession(spec(RR, NODE.ip), { connectRetryTime: 2 });
  const byAddr = new Map([[FLOOD, flood], [KA_FLOOD, kaFlood], [NODE.ip, calm]]);
  listener.setLookup((a) => byAddr.get(a));
  await listener.listen();
  let bird: Daemon | undefined;
  const children: ChildProcess[] = [];
  cleanups.push(async () => {
    for (const c of children) c.kill('SIGKILL');
    await bird?.stop();
    await Promise.all([flood.stop(), kaFlood.stop(), calm.stop()]);
    await listener.close();
  });
  const calmDowns: string[] = [];
  calm.on('down', (r) => calmDowns.push(r));
  for (const s of byAddr.values()) s.start();
  bird = startBird2(NODE);
  await until(() => calm.state === 'Established', 15_000, 'BIRD 2 hold-3 session Established');
  t.is(calm.negotiated!.holdTime, 3);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-flood-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));

  /** Starts a flood peer process on `addr` that sends `blob` on "go"; returns its trigger. */
  async function floodPeer(addr: string, session: BgpSession, blob: Buffer): Promise<() => void> {
    const blobPath = path.join(dir, `${addr}.bin`);
    writeFileSync(blobPath, blob);
    const open = encodeOpen(makeOpen({ as: AS, bgpId: addr, holdTime: 90 })).toString('hex');
    const child = spawnChild(process.execPath, [path.join(here, 'flood-peer.mjs'), RR, '179', addr, open, blobPath], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    await until(() => session.state === 'Established', 5_000, `flood peer ${addr} Established`);
    return () => child.stdin!.write('go\n');
  }

  async function measure(label: string, go: () => void, done: () => boolean): Promise<number> {
    const calmInBefore = calm.counters.messagesIn;
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    const t0 = performance.now();
    go();
    await until(done, 60_000, `${label} received`);
    const took = performance.now() - t0;
    h.disable();
    const maxStallMs = h.max / 1e6;
    console.log(`stall: ${label} handled in ${took.toFixed(0)} ms; longest event-loop stall ${maxStallMs.toFixed(1)} ms ` +
      `(p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms, mean ${(h.mean / 1e6).toFixed(1)} ms)`);
    // BIRD sends a KEEPALIVE every second (hold 3): a flood handled over a whole hold time without reading one
    // means the loop was not serving the other sessions.
    t.true(calm.counters.messagesIn > calmInBefore || took < 3000, 'KEEPALIVEs of the hold-3 peer were processed during the flood');
    return maxStallMs;
  }

  const PREFIXES = 1_000_000;
  const { blob, updates } = buildFlood(PREFIXES, FLOOD);
  const goUpdates = await floodPeer(FLOOD, flood, blob);
  let received = 0;
  let bytes = 0;
  flood.on('update', (m) => {
    received++;
    bytes += m.length;
  });
  const stall1 = await measure(`${PREFIXES} prefixes in ${updates} UPDATEs (${(blob.length / 1e6).toFixed(1)} MB)`, goUpdates, () => received === updates);
  t.is(bytes, blob.length);

  // The worst case per byte for the FSM: 200,000 KEEPALIVEs (19 octets each) in one write.
  const KAS = 200_000;
  const ka = Buffer.alloc(19, 0xff);
  ka.writeUInt16BE(19, 16);
  ka[18] = 4;
  const goKas = await floodPeer(KA_FLOOD, kaFlood, Buffer.concat(Array.from({ length: KAS }, () => ka)));
  const kaBefore = kaFlood.counters.messagesIn;
  const stall2 = await measure(`${KAS} KEEPALIVEs (${((KAS * 19) / 1e6).toFixed(1)} MB)`, goKas, () => kaFlood.counters.messagesIn - kaBefore >= KAS);

  // Keep watching the hold-3 session for one more hold interval after the floods.
  await new Promise((r) => setTimeout(r, 3500));
  t.deepEqual(calmDowns, []);
  t.is(calm.state, 'Established');
  t.is(calm.counters.establishedTransitions, 1);
  t.is(flood.state, 'Established');
  t.is(kaFlood.state, 'Established');
  // The requirement: timers keep running, which the hold-3 session surviving shows. The stall itself is a figure
  // (bench/responsiveness.ts measures it on the whole reflector, with BIRD 2's control-socket latency beside it).
  t.log(`longest stall ${Math.max(stall1, stall2).toFixed(1)} ms`);
});
