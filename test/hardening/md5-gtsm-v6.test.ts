// TCP-MD5 (RFC 2385) and GTSM (RFC 5082) over IPv6 against BIRD 2 and bird6 1.6, in three network namespaces
// this test creates: the reflector's (R), the nodes' one hop away over a veth (N), and a far one behind N (F).
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIRD2, BIRDC2 } from '../session/daemons.js';
import { keepOutput } from '../helpers/child.js';
import { protocols, ROOT, sleep, tcpExtIn, until } from './lab.js';
import { runChild, spawnChild } from '../helpers/child.js';
import { netnsName } from '../helpers/net.js';

// fd85::/16 is used by no other test; the namespaces isolate it anyway.
// Random names: a namespace left by an aborted run never collides with this run's.
const NS_R = netnsName('rr85r');
const NS_N = netnsName('rr85n');
const NS_F = netnsName('rr85f');
const RR4 = '127.85.0.1';
const RR = 'fd85:1::1';
const MD5_BIRD2 = 'fd85:1::2';
const MD5_BIRD6 = 'fd85:1::3';
const MD5_BAD = 'fd85:1::4';
const MD5_NONE = 'fd85:1::5';
const GTSM_DIRECT = 'fd85:1::6';
const GTSM_DIALING = 'fd85:1::7';
const MD5_DIALING = 'fd85:1::8';
const GTSM_BIRD6 = 'fd85:1::9';
const ROUTER_N = 'fd85:2::1';
const FAR_GTSM = 'fd85:2::2';
const FAR_PLAIN = 'fd85:2::3';
const PASSWORD = 'v6-s3cret';
const AS = 64512;

interface Proc {
  name: string;
  proc: ChildProcess;
  dir: string;
  socket: string;
  output: () => string;
  stop: () => Promise<void>;
}

const procs: Proc[] = [];

test.after.always(async () => {
  for (const p of procs) await p.stop();
  for (const ns of [NS_F, NS_N, NS_R]) runChild('/usr/sbin/ip', ['netns', 'del', ns]);
});

function ip(...args: string[]): void {
  const r = runChild('/usr/sbin/ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

function sysctl(ns: string, setting: string): void {
  const r = runChild('/usr/sbin/ip', ['netns', 'exec', ns, 'sysctl', '-qw', setting], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`sysctl ${setting} in ${ns}: ${r.stderr}`);
}

/**
 * R ─ veth ─ N ─ veth ─ F. N has every "one hop" node address on its side of the R link and forwards between
 * the links, so F's packets reach R with their hop limit decremented once. Addresses are added with nodad so
 * that they can be bound at once.
 */
function createLab(): void {
  for (const ns of [NS_R, NS_N, NS_F]) {
    runChild('/usr/sbin/ip', ['netns', 'del', ns]);
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  ip('-n', NS_R, 'link', 'add', 'r0', 'type', 'veth', 'peer', 'name', 'n0', 'netns', NS_N);
  ip('-n', NS_N, 'link', 'add', 'n1', 'type', 'veth', 'peer', 'name', 'f0', 'netns', NS_F);
  sysctl(NS_N, 'net.ipv6.conf.all.forwarding=1');
  ip('-n', NS_R, '-6', 'addr', 'add', `${RR}/64`, 'dev', 'r0', 'nodad');
  for (const a of [MD5_BIRD2, MD5_BIRD6, MD5_BAD, MD5_NONE, GTSM_DIRECT, GTSM_DIALING, MD5_DIALING, GTSM_BIRD6]) {
    ip('-n', NS_N, '-6', 'addr', 'add', `${a}/64`, 'dev', 'n0', 'nodad');
  }
  ip('-n', NS_N, '-6', 'addr', 'add', `${ROUTER_N}/64`, 'dev', 'n1', 'nodad');
  for (const a of [FAR_GTSM, FAR_PLAIN]) ip('-n', NS_F, '-6', 'addr', 'add', `${a}/64`, 'dev', 'f0', 'nodad');
  ip('-n', NS_R, 'link', 'set', 'r0', 'up');
  ip('-n', NS_N, 'link', 'set', 'n0', 'up');
  ip('-n', NS_N, 'link', 'set', 'n1', 'up');
  ip('-n', NS_F, 'link', 'set', 'f0', 'up');
  ip('-n', NS_R, '-6', 'route', 'add', 'fd85:2::/64', 'via', MD5_BIRD2);
  ip('-n', NS_F, '-6', 'route', 'add', 'default', 'via', ROUTER_N);
}

/**
 * A process run inside a namespace (`ip netns exec` execs it, so the child's pid is the process's own), in cwd;
 * dir is its own temporary directory (under os.tmpdir(), checked), removed by stop().
 */
function startIn(ns: string, name: string, cmd: string, args: string[], cwd: string, dir: string, socket: string, env: Record<string, string> = {}): Proc {
  if (path.dirname(dir) !== os.tmpdir()) throw new Error(`${dir} is not a temporary directory`);
  const proc = spawnChild(cmd, args, { cwd, env, netns: ns });
  const out = keepOutput(proc);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const p: Proc = {
    name, proc, dir, socket, output: out,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  procs.push(p);
  return p;
}

/** Our reflector in R with IP6 (and IP on R's loopback), on a file datastore. */
function startReflector(keys: Record<string, unknown>): Proc {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr85-ours-'));
  const ds = path.join(dir, 'datastore.json');
  writeFileSync(ds, JSON.stringify(keys, null, 1));
  const env = {
    IP: RR4, IP6: RR, BGP_PORT: '179', DATASTORE_TYPE: 'file', DATASTORE_FILE: ds, SOCKET_DIR: dir,
    METRICS_LISTEN: 'off', LOG_LEVEL: 'info',
  };
  return startIn(NS_R, 'reflector', process.execPath, ['--import=tsx', path.join(ROOT, 'src/main.ts')], ROOT, dir, path.join(dir, 'bird6.ctl'), env);
}

function v6Name(a: string): string {
  return a.replaceAll(':', '_');
}

interface V6Node {
  ns: string;
  ip6: string;
  routerId: string;
  /** Prefixes it originates. */
  blocks?: string[];
  /** Lines inside `protocol bgp` (password, ttl security). */
  extra?: string;
  /** `direct` (one hop, needed by BIRD's ttl security without multihop), `multihop N`, or plain `multihop`. */
  hops?: 'direct' | number;
  /** BIRD's listening port (another than 179 makes it the only side that can connect). */
  listenPort?: number;
}

/** A Calico node on BIRD 2 (ipv6 channel) in a namespace, peering with our reflector over IPv6. */
function startBird2(c: V6Node): Proc {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr85-bird2-'));
  const direct = c.hops === 'direct';
  const cfg = `router id ${c.routerId};
protocol device { scan time 2; }
protocol static node_routes { ipv6; ${(c.blocks ?? []).map((b) => `route ${b} blackhole;`).join(' ')} }
protocol bgp Node_${v6Name(RR)} {
  local ${c.ip6} port ${c.listenPort ?? 179} as ${AS};
  strict bind yes;
  neighbor ${RR} port 179 as ${AS};
  ${direct ? 'direct;' : typeof c.hops === 'number' ? `multihop ${c.hops};` : 'multihop;'}
  hold time 9;
  connect delay time 1;
  connect retry time 2;
  error wait time 1,4;
  ${c.extra ?? ''}
  ipv6 { import ${direct ? 'none' : 'all'}; export where proto = "node_routes"; next hop self; ${direct ? '' : 'gateway recursive;'} add paths on; };
}
`;
  writeFileSync(path.join(dir, 'bird.cfg'), cfg);
  const socket = path.join(dir, 'bird.ctl');
  return startIn(c.ns, `bird2 ${c.ip6}`, BIRD2, ['-f', '-c', 'bird.cfg', '-s', socket, '-P', 'bird.pid'], dir, dir, socket);
}

/** A Calico node on BIRD 1.6 (bird6, as calico/node runs it) in a namespace. */
function startBird6(c: V6Node): Proc {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr85-bird6-'));
  const direct = c.hops === 'direct';
  const cfg = `router id ${c.routerId};
listen bgp address ${c.ip6} port ${c.listenPort ?? 179};
protocol device { scan time 2; }
protocol static node_routes { ${(c.blocks ?? []).map((b) => `route ${b} blackhole;`).join(' ')} }
protocol bgp Node_${v6Name(RR)} {
  local as ${AS};
  neighbor ${RR} as ${AS};
  source address ${c.ip6};
  ${direct ? '' : 'multihop;\n  gateway recursive;'}
  import ${direct ? 'none' : 'all'};
  export where proto = "node_routes";
  next hop self;
  add paths on;
  hold time 9;
  connect delay time 1;
  connect retry time 2;
  error wait time 1,4;
  ${c.extra ?? ''}
}
`;
  writeFileSync(path.join(dir, 'bird.cfg'), cfg);
  const socket = path.join(dir, 'bird.ctl');
  return startIn(c.ns, `bird6 ${c.ip6}`, '/usr/sbin/bird6', ['-f', '-c', 'bird.cfg', '-s', socket, '-P', 'bird.pid'], dir, dir, socket);
}

function birdc(p: Proc, ...args: string[]): string {
  const r = runChild(p.name.startsWith('bird2') ? BIRDC2 : '/usr/sbin/birdc6', ['-s', p.socket, ...args], { encoding: 'utf8', timeout: 5000 });
  return (r.stdout ?? '') + (r.stderr ?? '');
}

const nodeSession = (a: string): string => `Node_${v6Name(a)}`;
const ourState = (rr: Proc, a: string): string | undefined => protocols(rr.socket).get(nodeSession(a))?.info;

let rr: Proc;
let before: Record<string, number>;
const nodes: Record<string, Proc> = {};

test.before(() => {
  createLab();
  before = tcpExtIn(NS_R);
  const host = (name: string, addr: string, entry: Record<string, unknown>): Record<string, unknown> => ({
    [`/calico/bgp/v1/host/${name}/ip_addr_v6`]: addr,
    [`/calico/bgp/v1/host/${name}/peer_v6/${RR}`]: { ip: RR, as_num: String(AS), ...entry },
  });
  const md5 = { password: PASSWORD };
  const gtsm = { ttl_security: true };
  rr = startReflector({
    '/calico/bgp/v1/global/as_num': String(AS),
    ...host('md5-bird2', MD5_BIRD2, md5),
    ...host('md5-bird6', MD5_BIRD6, md5),
    ...host('md5-bad', MD5_BAD, md5),
    ...host('md5-none', MD5_NONE, md5),
    ...host('md5-dialing', MD5_DIALING, md5),
    ...host('gtsm-direct', GTSM_DIRECT, gtsm),
    ...host('gtsm-dialing', GTSM_DIALING, gtsm),
    ...host('gtsm-bird6', GTSM_BIRD6, gtsm),
    ...host('far-gtsm', FAR_GTSM, gtsm),
    ...host('far-plain', FAR_PLAIN, {}),
  });
  const pw = (p: string): string => `password "${p}";`;
  nodes.md5Bird2 = startBird2({ ns: NS_N, ip6: MD5_BIRD2, routerId: '10.85.0.2', blocks: ['fd85:a::/64'], extra: pw(PASSWORD) });
  nodes.md5Bird6 = startBird6({ ns: NS_N, ip6: MD5_BIRD6, routerId: '10.85.0.3', blocks: ['fd85:b::/64'], extra: pw(PASSWORD) });
  nodes.md5Bad = startBird2({ ns: NS_N, ip6: MD5_BAD, routerId: '10.85.0.4', blocks: ['fd85:c::/64'], extra: pw('not-the-password') });
  nodes.md5None = startBird2({ ns: NS_N, ip6: MD5_NONE, routerId: '10.85.0.5', blocks: ['fd85:d::/64'] });
  // Listens on another port: only its own connection to us can carry the session (our listener's key).
  nodes.md5Dialing = startBird2({ ns: NS_N, ip6: MD5_DIALING, routerId: '10.85.0.8', blocks: ['fd85:e::/64'], extra: pw(PASSWORD), listenPort: 1179 });
  const ttl = 'ttl security yes;';
  nodes.gtsmDirect = startBird2({ ns: NS_N, ip6: GTSM_DIRECT, routerId: '10.85.0.6', blocks: ['fd85:f::/64'], extra: ttl, hops: 'direct' });
  // Listens on another port: only its connection to us can carry the session (GTSM on the accepted socket).
  nodes.gtsmDialing = startBird2({ ns: NS_N, ip6: GTSM_DIALING, routerId: '10.85.0.7', extra: ttl, hops: 'direct', listenPort: 1179 });
  nodes.gtsmBird6 = startBird6({ ns: NS_N, ip6: GTSM_BIRD6, routerId: '10.85.0.9', extra: ttl, hops: 'direct' });
  // Two hops away: it sends with hop limit 255 and accepts 254 (multihop 2), so only our IPV6_MINHOPCOUNT 255
  // can keep the session down. The plain far node shows that the path itself works.
  nodes.farGtsm = startBird2({ ns: NS_F, ip6: FAR_GTSM, routerId: '10.85.0.12', blocks: ['fd85:21::/64'], extra: ttl, hops: 2 });
  nodes.farPlain = startBird2({ ns: NS_F, ip6: FAR_PLAIN, routerId: '10.85.0.13', blocks: ['fd85:20::/64'] });
});

test.serial('TCP-MD5 over IPv6: same password Established with routes both ways; wrong or no password: no session, a clear log line, kernel counters', async (t) => {
  for (const a of [MD5_BIRD2, MD5_BIRD6, MD5_DIALING]) {
    await until(`${a} Established`, () => (ourState(rr, a) === 'Established' ? true : undefined), 40_000);
  }
  t.regex(birdc(nodes.md5Bird2!, 'show', 'protocols', 'all'), /BGP state:\s+Established/);
  t.regex(birdc(nodes.md5Bird6!, 'show', 'protocols', 'all'), /BGP state:\s+Established/);
  // Reflected over the signed sessions: BIRD 2's prefix at bird6 and bird6's at BIRD 2, next hops unchanged.
  t.regex(await until('fd85:a::/64 at bird6', () => {
    const r = birdc(nodes.md5Bird6!, 'show', 'route', 'all', 'fd85:a::/64');
    return /fd85:a::\/64/.test(r) ? r : undefined;
  }), /BGP\.next_hop: fd85:1::2/);
  t.regex(await until('fd85:b::/64 at BIRD 2', () => {
    const r = birdc(nodes.md5Bird2!, 'show', 'route', 'all', 'fd85:b::/64');
    return /fd85:b::\/64/.test(r) ? r : undefined;
  }), /BGP\.next_hop: fd85:1::3/);
  t.regex(await until('fd85:e::/64 (dialing node) at BIRD 2', () => {
    const r = birdc(nodes.md5Bird2!, 'show', 'route', 'fd85:e::/64');
    return /fd85:e::\/64/.test(r) ? r : undefined;
  }), /fd85:e::\/64/);

  await until('the mismatch hint for the wrong password', () => (rr.output().includes(`TCP-MD5 is on for ${nodeSession(MD5_BAD)}`) ? true : undefined), 20_000);
  await until('the mismatch hint for no password', () => (rr.output().includes(`TCP-MD5 is on for ${nodeSession(MD5_NONE)}`) ? true : undefined), 20_000);
  await sleep(2000);
  t.regex(rr.output(), /no TCP answer from \[fd85:1::4\]:179 after \d+ s: TCP-MD5 is on for Node_fd85_1__4, and a password mismatch/);
  t.regex(rr.output(), /no TCP answer from \[fd85:1::5\]:179 after \d+ s: TCP-MD5 is on for Node_fd85_1__5, and a password mismatch/);
  t.not(ourState(rr, MD5_BAD), 'Established', 'wrong password: no session');
  t.not(ourState(rr, MD5_NONE), 'Established', 'no password on the node: no session');
  t.regex(birdc(nodes.md5Bad!, 'show', 'protocols', 'all'), /BGP state:\s+(Connect|Active)/);
  t.regex(birdc(nodes.md5None!, 'show', 'protocols', 'all'), /BGP state:\s+(Connect|Active)/);
  t.notRegex(birdc(nodes.md5Bad!, 'show', 'route', 'fd85:a::/64'), /fd85:a::\/64/);
  // The kernel's evidence, in the reflector's namespace: badly signed segments (the wrong password) and
  // unsigned ones (no password) from keyed addresses were dropped.
  const after = tcpExtIn(NS_R);
  t.log(`in ${NS_R}: TCPMD5Failure ${before.TCPMD5Failure} → ${after.TCPMD5Failure}, TCPMD5NotFound ${before.TCPMD5NotFound} → ${after.TCPMD5NotFound}`);
  t.true((after.TCPMD5Failure ?? 0) > (before.TCPMD5Failure ?? 0), `TCPMD5Failure grew (${before.TCPMD5Failure} → ${after.TCPMD5Failure})`);
  t.true((after.TCPMD5NotFound ?? 0) > (before.TCPMD5NotFound ?? 0), `TCPMD5NotFound grew (${before.TCPMD5NotFound} → ${after.TCPMD5NotFound})`);
  for (const a of [MD5_BIRD2, MD5_BIRD6, MD5_DIALING]) t.is(ourState(rr, a), 'Established', `${a} stayed up`);
});

test.serial('GTSM over IPv6: directly connected BIRD 2 / bird6 with ttl security Established; a node two hops away gets no session', async (t) => {
  for (const a of [GTSM_DIRECT, GTSM_DIALING, GTSM_BIRD6, FAR_PLAIN]) {
    await until(`${a} Established`, () => (ourState(rr, a) === 'Established' ? true : undefined), 40_000);
  }
  t.regex(birdc(nodes.gtsmDirect!, 'show', 'protocols', 'all'), /BGP state:\s+Established/);
  t.regex(birdc(nodes.gtsmDialing!, 'show', 'protocols', 'all'), /BGP state:\s+Established/);
  t.regex(birdc(nodes.gtsmBird6!, 'show', 'protocols', 'all'), /BGP state:\s+Established/);
  // The path through N works (a plain session two hops away is up and carries routes) ...
  t.regex(await until('fd85:20::/64 at BIRD 2', () => {
    const r = birdc(nodes.md5Bird2!, 'show', 'route', 'fd85:20::/64');
    return /fd85:20::\/64/.test(r) ? r : undefined;
  }), /fd85:20::\/64/);
  // ... but the far GTSM node's segments arrive with hop limit 254 and IPV6_MINHOPCOUNT 255 drops them. (Its
  // OPEN can be queued by the kernel before we accept its connection and set the option, so we may reach
  // OpenConfirm and BIRD may count the session up for a hold time, but its KEEPALIVE never reaches us.) Watched
  // for more than a hold time (9 s): never Established on our side, no route either way.
  const seen = new Set<string>();
  for (let i = 0; i < 60; i++) {
    seen.add(ourState(rr, FAR_GTSM) ?? 'absent');
    await sleep(200);
  }
  t.false(seen.has('Established'), `two hops away: never Established (states seen: ${[...seen].join(', ')})`);
  t.notRegex(birdc(nodes.farGtsm!, 'show', 'route', 'fd85:a::/64'), /fd85:a::\/64/);
  t.notRegex(birdc(nodes.md5Bird2!, 'show', 'route', 'fd85:21::/64'), /fd85:21::\/64/);
  const drops = tcpExtIn(NS_R).TCPMinTTLDrop ?? 0;
  t.log(`in ${NS_R}: TCPMinTTLDrop ${before.TCPMinTTLDrop} → ${drops}; far GTSM node: ${ourState(rr, FAR_GTSM) ?? 'no session'}`);
  t.true(drops > (before.TCPMinTTLDrop ?? 0), `TCPMinTTLDrop grew (${before.TCPMinTTLDrop} → ${drops})`);
  for (const a of [GTSM_DIRECT, GTSM_DIALING, GTSM_BIRD6]) t.is(ourState(rr, a), 'Established', `${a} stayed up`);
});
