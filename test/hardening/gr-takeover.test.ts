// Graceful restart (RFC 4724 §4.2) against a real BIRD 2 node: a new connection from the node's address
// replaces the Established session only once it has carried a valid OPEN (right AS, the session's BGP
// identifier). Connections that prove nothing (a bare connect, garbage, an OPEN with a wrong AS or BGP
// identifier) from the node's own address leave BIRD's session untouched, as BIRD's `show protocols` says;
// BIRD's real restarts are still taken over: a second BIRD on the same address while the first hangs (its TCP
// session never ends, as after a reboot), and kill -9 followed by a new start.
import test from 'ava';
import { sameInstant } from '../helpers/bird-time.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { claimLoopbackNet, freePort } from '../helpers/net.js';
import { nodeTs, runChild, spawnChild } from '../helpers/child.js';
import { until } from '../helpers/until.js';
import { encodeOpen } from '../../src/wire/index.js';
import { makeOpen } from '../session/speaker.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIRD2 = '/opt/bird2/usr/sbin/bird';
const BIRDC2 = '/opt/bird2/usr/sbin/birdc';
const AS = 64512;

const lab = await claimLoopbackNet();
const RR = lab.host(1);
const NODE = lab.host(2);
const children: ChildProcess[] = [];
let rrOut = '';
let rrDir = '';

test.after.always(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Bird { proc: ChildProcess; sock: string; output: () => string }

/** BIRD 2 as a Calico node with graceful restart; `listenPort` lets a second instance share the address. */
function startBird(tag: string, listenPort: number): Bird {
  const dir = mkdtempSync(path.join(os.tmpdir(), `rr-gr-bird-${tag}-`));
  writeFileSync(path.join(dir, 'bird.cfg'), `router id ${NODE};
timeformat protocol iso long;
protocol device { scan time 2; }
protocol static { ipv4; route 10.66.7.0/26 blackhole; }
protocol bgp toRR {
  local ${NODE} port ${listenPort} as ${AS};
  strict bind yes;
  neighbor ${RR} port 179 as ${AS};
  multihop;
  graceful restart on;
  hold time 30;
  connect delay time 1;
  connect retry time 2;
  error wait time 1,4;
  ipv4 { import all; export all; next hop self; gateway recursive; };
}
`);
  const sock = path.join(dir, 'bird.ctl');
  const proc = spawnChild(BIRD2, ['-f', '-c', 'bird.cfg', '-s', sock, '-P', 'bird.pid'], { cwd: dir });
  children.push(proc);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { proc, sock, output: () => out };
}

/** BIRD's own view of its session to the reflector: state and the time it entered it. */
function birdSession(b: Bird): { state: string; since: string } | undefined {
  const r = runChild(BIRDC2, ['-s', b.sock, 'show', 'protocols', 'toRR'], { encoding: 'utf8', timeout: 5000 });
  const m = /^toRR\s+BGP\s+\S+\s+\S+\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+(\S+)/m.exec(r.stdout);
  return m ? { since: m[1]!, state: m[2]! } : undefined;
}

/** The reflector's view, through its own BIRD-compatible control socket. */
function rrRouteCount(): string {
  const r = runChild(BIRDC2, ['-s', path.join(rrDir, 'bird.ctl'), 'show', 'route', 'count'], { encoding: 'utf8', timeout: 5000 });
  return r.stdout;
}

/** Connects from the node's own address, writes `data` (if any), keeps the connection `holdMs`, then closes. */
function fromNode(data: Buffer | undefined, holdMs: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const s = net.connect({ host: RR, port: 179, localAddress: NODE });
    let got = Buffer.alloc(0);
    s.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    s.on('error', () => undefined);
    s.once('connect', () => {
      if (data) s.write(data);
    });
    const timer = setTimeout(() => s.destroy(), holdMs);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

/** Message types in a byte stream of BGP messages (OPEN 1, NOTIFICATION 3, KEEPALIVE 4). */
function types(buf: Buffer): Array<[number, number?, number?]> {
  const out: Array<[number, number?, number?]> = [];
  for (let at = 0; at + 19 <= buf.length;) {
    const len = buf.readUInt16BE(at + 16);
    const type = buf[at + 18]!;
    out.push(type === 3 ? [type, buf[at + 19], buf[at + 20]] : [type]);
    if (len < 19) break;
    at += len;
  }
  return out;
}

const grCaps = [
  { kind: 'multiprotocol' as const, code: 1 as const, afi: 1, safi: 1 },
  { kind: 'graceful-restart' as const, code: 64 as const, restarting: true, notification: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingPreserved: false }] },
  { kind: 'as4' as const, code: 65 as const, as: AS },
];

let birdA: Bird;

test.before(async () => {
  rrDir = mkdtempSync(path.join(os.tmpdir(), 'rr-gr-'));
  const ds = path.join(rrDir, 'datastore.json');
  writeFileSync(ds, JSON.stringify({
    '/calico/bgp/v1/global/as_num': String(AS),
    [`/calico/bgp/v1/global/peer_v4/${RR}`]: { ip: RR, as_num: String(AS) },
    '/calico/bgp/v1/host/node0/ip_addr_v4': NODE,
  }));
  const [cmd, args] = nodeTs('src/main.ts');
  const rr = spawnChild(cmd, args, {
    cwd: ROOT,
    env: { IP: RR, DATASTORE_TYPE: 'file', DATASTORE_FILE: ds, SOCKET_DIR: rrDir, LOG_LEVEL: 'info', METRICS_LISTEN: `${RR}:${await freePort(RR)}` },
  });
  children.push(rr);
  rr.stdout?.on('data', (d: Buffer) => (rrOut += d.toString()));
  rr.stderr?.on('data', (d: Buffer) => (rrOut += d.toString()));
  birdA = startBird('a', 179);
  try {
    await until('BIRD to establish with the reflector', () => (birdSession(birdA)?.state === 'Established' ? true : undefined), 40_000, 250);
  } catch (e) {
    const r = runChild(BIRDC2, ['-s', birdA.sock, 'show', 'protocols', 'all', 'toRR'], { encoding: 'utf8', timeout: 5000 });
    throw new Error(`${String(e)}\nBIRD: ${birdA.output()}\n${r.stdout}${r.stderr}\nreflector: ${rrOut.slice(-3000)}`);
  }
  await until('the reflector to hold the node route', () => (/1 of 1 routes/.test(rrRouteCount()) ? true : undefined), 20_000, 250);
});

test.serial('connections from the node address without a valid OPEN leave the Established session alone', async (t) => {
  const before = birdSession(birdA)!;
  // Uptime is shown to the second: wait so that a reset now could not keep the same timestamp.
  await new Promise((r) => setTimeout(r, 1100));

  const bare = await fromNode(undefined, 1500);
  t.deepEqual(types(bare).map((m) => m[0]), [1], 'a bare connect gets our OPEN and nothing else');

  const garbage = await fromNode(Buffer.alloc(64, 0x41), 1500);
  t.deepEqual(types(garbage).map((m) => m.slice(0, 2)), [[1], [3, 1]], 'garbage: OPEN, then NOTIFICATION 1 (message header error)');

  const wrongAs = await fromNode(encodeOpen(makeOpen({ as: 65000, bgpId: NODE, holdTime: 30, capabilities: grCaps.map((c) => (c.kind === 'as4' ? { ...c, as: 65000 } : c)) })), 1500);
  t.deepEqual(types(wrongAs).map((m) => m.slice(0, 3)), [[1], [3, 2, 2]], 'wrong AS: NOTIFICATION 2/2 (bad peer AS)');

  const wrongId = await fromNode(encodeOpen(makeOpen({ as: AS, bgpId: '10.9.9.9', holdTime: 30, capabilities: grCaps })), 1500);
  t.deepEqual(types(wrongId).map((m) => m.slice(0, 3)), [[1], [3, 6, 7]], 'right AS, another BGP identifier: Cease 7 (collision), old session kept');

  // A burst of bare connects, each superseding the one before.
  await Promise.all(Array.from({ length: 200 }, () => fromNode(undefined, 300)));

  const after = birdSession(birdA)!;
  t.is(after.state, 'Established');
  t.true(sameInstant(after.since, before.since), "BIRD's session was not reset (same uptime)");
  t.regex(rrRouteCount(), /1 of 1 routes/, 'the reflector still has the node route');
  t.false(rrOut.includes('peer reconnected (graceful restart)'), 'the reflector never treated them as a restart');
  // Per-connection lines are throttled: 200 NOTIFICATION-less connects and three bad ones, a handful of lines.
  const noisy = rrOut.split('\n').filter((l) => l.includes('on a new connection') || l.includes('superseded'));
  t.log(`reflector lines about the 203 connections: ${noisy.length}`);
  t.true(noisy.length <= 6, `${noisy.length} lines`);
});

test.serial('a restarted BIRD whose old TCP session never ended is taken over on its valid, confirmed OPEN', async (t) => {
  // BIRD A hangs: its kernel keeps the TCP session, so no FIN or RST reaches the reflector (as after a reboot).
  birdA.proc.kill('SIGSTOP');
  const birdB = startBird('b', 1179);
  await until('the new BIRD to establish', () => (birdSession(birdB)?.state === 'Established' ? true : undefined), 30_000, 250);
  t.true(rrOut.includes('valid OPEN on a new connection from the Established graceful-restart peer'), 'a candidate on its OPEN');
  t.true(rrOut.includes('peer reconnected (graceful restart)'));
  await until('the route from the new BIRD', () => (/1 of 1 routes/.test(rrRouteCount()) ? true : undefined), 20_000, 250);
  birdA.proc.kill('SIGKILL');

  // BIRD's real restart: kill -9, then start again (graceful restart on both sides).
  const since = birdSession(birdB)!.since;
  birdB.proc.kill('SIGKILL');
  const birdC = startBird('c', 179);
  await until('the restarted BIRD to establish', () => (birdSession(birdC)?.state === 'Established' ? true : undefined), 30_000, 250);
  await until('the route again', () => (/1 of 1 routes/.test(rrRouteCount()) ? true : undefined), 20_000, 250);
  t.not(birdSession(birdC)!.since, since);
  t.regex(rrRouteCount(), /1 of 1 routes/);
});
