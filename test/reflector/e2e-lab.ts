// End-to-end lab for reflection tests: our reflector (src/main.ts in a child process, file datastore) and real
// BIRD 2 / BIRD 1.6 Calico nodes on the test file's claimed loopback /24 (or in its own namespace), each in its own temporary directory, all killable.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runChild, startDaemon, type OwnedDaemon } from '../helpers/child.js';

export const BIRD2 = '/opt/bird2/usr/sbin/bird';
export const BIRDC2 = '/opt/bird2/usr/sbin/birdc';
export const BIRD16 = '/usr/sbin/bird';
export const BIRDC16 = '/usr/sbin/birdc';
const REPO = new URL('../../', import.meta.url).pathname;

export type Proc = OwnedDaemon;

export function tmp(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

function start(name: string, cmd: string, args: string[], dir: string, env: Record<string, string> = {}, netns?: string): Proc {
  // setpriv and `ip netns exec` exec the command, so the child's pid is the daemon's (SIGSTOP reaches it).
  return startDaemon(name, cmd, args, dir, { env, ...(netns !== undefined ? { netns } : {}) });
}

export interface NodeConf {
  /** The node's address (router ID, source and listen address, next hop of its routes). */
  ip: string;
  /** The reflector it peers with; the protocol is named Global_<rr>. */
  rr: string;
  as?: number;
  /** Calico blocks it exports, with the attributes its export filter sets. */
  blocks: string[];
  med?: number;
  localPref?: number;
  /** Community (a, b) and large community (a, b, c) added on export. */
  community?: [number, number];
  largeCommunity?: [number, number, number];
  /** Prefixes the node's import filter rejects (to test route refresh after a reconfiguration). */
  rejectImport?: string[];
  /** IPv6 node: its IPv6 address and the reflector's (ip stays the IPv4 router ID); runs in netns. */
  ip6?: string;
  rr6?: string;
  netns?: string;
}

export interface BirdNode extends Proc {
  conf: NodeConf;
  socket: string;
  bird2: boolean;
  /** Starts the node again in the same directory (optionally with another configuration). */
  restart: (c?: NodeConf) => BirdNode;
}

function exportFilter(c: NodeConf): string {
  const sets: string[] = [];
  if (c.community) sets.push(`bgp_community.add((${c.community[0]},${c.community[1]}));`);
  if (c.largeCommunity) sets.push(`bgp_large_community.add((${c.largeCommunity.join(',')}));`);
  if (c.med !== undefined) sets.push(`bgp_med = ${c.med};`);
  if (c.localPref !== undefined) sets.push(`bgp_local_pref = ${c.localPref};`);
  const nets = c.blocks.map((b) => `net = ${b}`).join(' || ');
  const rej = (c.rejectImport ?? []).map((b) => `net = ${b}`).join(' || ');
  const imp = rej === '' ? 'filter calico_import { accept; }\n' : `filter calico_import {\n  if ${rej} then reject;\n  accept;\n}\n`;
  return `filter calico_export {\n  if ${nets} then {\n    ${sets.join('\n    ')}\n    accept;\n  }\n  reject;\n}\n${imp}`;
}

/** Rewrites a node's config (e.g. without rejectImport) and runs `birdc configure`. */
export function reconfigure(n: BirdNode, c: NodeConf): string {
  writeFileSync(path.join(n.dir, 'bird.cfg'), n.bird2 ? bird2Config(c) : bird16Config(c));
  return birdc(n, 'configure');
}

const timers = 'hold time 30;\n  connect delay time 1;\n  connect retry time 2;\n  error wait time 1,4;';

/** A Calico node on BIRD 2 (calico/node template, BIRD 2 syntax): iBGP to the reflector, next hop self, GR. */
export function startBird2Node(c: NodeConf, dir = tmp('rr60-bird2-')): BirdNode {
  writeFileSync(path.join(dir, 'bird.cfg'), bird2Config(c));
  const socket = path.join(dir, 'bird.ctl');
  // -R: graceful restart recovery at start, as calico/node runs BIRD.
  const p = start(`bird2 ${c.ip}`, BIRD2, ['-f', '-R', '-c', 'bird.cfg', '-s', socket, '-P', 'bird.pid'], dir, {}, c.netns);
  return { ...p, conf: c, socket, bird2: true, restart: (nc?: NodeConf) => startBird2Node(nc ?? c, dir) };
}

function bird2Config(c: NodeConf): string {
  const as = c.as ?? 64512;
  return `router id ${c.ip};
protocol device { scan time 2; }
protocol static { ipv4; ${c.blocks.map((b) => `route ${b} blackhole;`).join(' ')} }
${exportFilter(c)}
protocol bgp Global_${c.rr.replaceAll('.', '_')} {
  description "Connection to BGP peer";
  local ${c.ip} port 179 as ${as};
  strict bind yes;
  neighbor ${c.rr} port 179 as ${as};
  multihop;
  graceful restart;
  ${timers}
  ipv4 { import filter calico_import; export filter calico_export; next hop self; gateway recursive; add paths on; };
}
`;
}

/** A Calico node on BIRD 1.6 (calico/node v3.x template). */
export function startBird16Node(c: NodeConf, dir = tmp('rr60-bird16-')): BirdNode {
  writeFileSync(path.join(dir, 'bird.cfg'), bird16Config(c));
  const socket = path.join(dir, 'bird.ctl');
  const p = start(`bird1.6 ${c.ip}`, BIRD16, ['-f', '-R', '-c', 'bird.cfg', '-s', socket, '-P', 'bird.pid'], dir, {}, c.netns);
  return { ...p, conf: c, socket, bird2: false, restart: (nc?: NodeConf) => startBird16Node(nc ?? c, dir) };
}

function bird16Config(c: NodeConf): string {
  const as = c.as ?? 64512;
  return `router id ${c.ip};
listen bgp address ${c.ip} port 179;
protocol device { scan time 2; }
protocol static { ${c.blocks.map((b) => `route ${b} blackhole;`).join(' ')} }
${exportFilter(c)}
protocol bgp Global_${c.rr.replaceAll('.', '_')} {
  description "Connection to BGP peer";
  local as ${as};
  neighbor ${c.rr} as ${as};
  multihop;
  gateway recursive;
  import filter calico_import;
  export filter calico_export;
  next hop self;
  source address ${c.ip};
  add paths on;
  graceful restart;
  ${timers}
}
`;
}

export function birdc(n: { socket: string; bird2: boolean }, ...cmd: string[]): string {
  const r = runChild(n.bird2 ? BIRDC2 : BIRDC16, ['-s', n.socket, ...cmd], { encoding: 'utf8', timeout: 5000 });
  return r.stdout + r.stderr;
}

/** `show route all` parsed into blocks per (prefix, protocol): the route line and its attribute lines. */
export interface BirdRoute {
  prefix: string;
  line: string;
  attrs: Map<string, string>;
}

export function showRouteAll(n: BirdNode): BirdRoute[] {
  const text = n.conf.ip6 !== undefined && !n.bird2 ? birdc6(n, 'show', 'route', 'all') : birdc(n, 'show', 'route', 'all');
  const out: BirdRoute[] = [];
  let prefix = '';
  let cur: BirdRoute | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^\d{4}[- ]/, '').replace(/^ (?=\S)/, '');
    if (line.startsWith('BIRD ') || line.trim() === '' || line.startsWith('Access restricted')) continue;
    const m = /^(\S+)\s+(.*\[.*)$/.exec(line);
    if (m !== null && !line.startsWith('\t') && !line.startsWith(' ')) {
      prefix = m[1];
      cur = { prefix, line: m[2], attrs: new Map() };
      out.push(cur);
      continue;
    }
    const m2 = /^\s+(.*\[.*\].*)$/.exec(line);
    if (m2 !== null && /^\s+(unicast|unreachable|blackhole|via|dev)?.*\[\S+ /.test(line) && !/^\s+[A-Za-z]+\.[a-z_]+:/.test(line)) {
      cur = { prefix, line: m2[1], attrs: new Map() };
      out.push(cur);
      continue;
    }
    const a = /^\s+([A-Za-z]+\.[a-z_]+|Type):\s?(.*)$/.exec(line);
    if (a !== null && cur !== undefined) cur.attrs.set(a[1], a[2].trim());
  }
  return out;
}

/** Routes learned over BGP (not the node's own static ones). */
export function bgpRoutes(n: BirdNode): BirdRoute[] {
  return showRouteAll(n).filter((r) => r.attrs.has('BGP.origin'));
}

export interface ReflectorProc extends Proc {
  ip: string;
  socketDir: string;
  datastore: string;
  restart: () => ReflectorProc;
}

/** Our reflector as operators run it: src/main.ts with a file datastore; JSON logs captured; `extra` env. */
export function startReflector(ip: string, keys: Record<string, unknown>, dir = tmp('rr60-ours-'), extra: Record<string, string> = {}): ReflectorProc {
  const datastore = path.join(dir, 'datastore.json');
  writeFileSync(datastore, JSON.stringify(keys, null, 1));
  const env = {
    ...extra, IP: ip, BGP_PORT: '179', DATASTORE_TYPE: 'file', DATASTORE_FILE: datastore, SOCKET_DIR: dir,
    METRICS_LISTEN: 'off', LOG_LEVEL: 'info', LOG_FORMAT: 'json',
  };
  const p = start(`reflector ${ip}`, process.execPath, ['--import=tsx', path.join(REPO, 'src/main.ts')], REPO, env);
  return { ...p, ip, socketDir: dir, datastore, restart: () => startReflector(ip, keys, dir, extra) };
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- IPv6 in a network namespace the test creates (loopback gets the fd60:: addresses there) ----------------

export function createNetns(name: string, addrs6: string[]): void {
  runChild('/usr/sbin/ip', ['netns', 'del', name]);
  const run = (...a: string[]) => {
    const r = runChild('/usr/sbin/ip', a, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
  };
  run('netns', 'add', name);
  run('-n', name, 'link', 'set', 'lo', 'up');
  for (const a of addrs6) run('-n', name, '-6', 'addr', 'add', `${a}/128`, 'dev', 'lo', 'nodad');
}

export function deleteNetns(name: string): void {
  runChild('/usr/sbin/ip', ['netns', 'del', name]);
}

function v6Name(a: string): string {
  return a.replaceAll(':', '_');
}

/** BIRD 2 with a configuration the test writes itself (for options the Calico node templates above lack). */
export function startBird2WithConfig(name: string, cfg: string, netns: string, dir = tmp('rr60-bird2cfg-')): { proc: Proc; socket: string; bird2: true; dir: string } {
  writeFileSync(path.join(dir, 'bird.cfg'), cfg);
  const socket = path.join(dir, 'bird.ctl');
  // -R: graceful restart recovery at start (as calico/node runs BIRD); harmless on a first start.
  return { proc: start(`bird2 ${name}`, BIRD2, ['-f', '-R', '-c', 'bird.cfg', '-s', socket, '-P', 'bird.pid'], dir, {}, netns), socket, bird2: true, dir };
}

/** An IPv6 Calico node on BIRD 2 (ipv6 channel), iBGP over IPv6 to the reflector's IP6. */
export function startBird2Node6(c: NodeConf, dir = tmp('rr60-bird2v6-')): BirdNode {
  const ip6 = c.ip6 as string;
  const rr6 = c.rr6 as string;
  const cfg = `router id ${c.ip};
protocol device { scan time 2; }
protocol static { ipv6; ${c.blocks.map((b) => `route ${b} blackhole;`).join(' ')} }
${exportFilter(c)}
protocol bgp Global_${v6Name(rr6)} {
  local ${ip6} port 179 as ${c.as ?? 64512};
  strict bind yes;
  neighbor ${rr6} port 179 as ${c.as ?? 64512};
  multihop;
  graceful restart;
  ${timers}
  ipv6 { import filter calico_import; export filter calico_export; next hop self; gateway recursive; add paths on; };
}
`;
  writeFileSync(path.join(dir, 'bird.cfg'), cfg);
  const socket = path.join(dir, 'bird.ctl');
  const p = start(`bird2 ${ip6}`, BIRD2, ['-f', '-R', '-c', 'bird.cfg', '-s', socket, '-P', 'bird.pid'], dir, {}, c.netns);
  return { ...p, conf: c, socket, bird2: true, restart: (nc?: NodeConf) => startBird2Node6(nc ?? c, dir) };
}

/** An IPv6 Calico node on BIRD 1.6 (bird6, as calico/node runs it). */
export function startBird6Node(c: NodeConf, dir = tmp('rr60-bird6-')): BirdNode {
  const ip6 = c.ip6 as string;
  const rr6 = c.rr6 as string;
  const cfg = `router id ${c.ip};
listen bgp address ${ip6} port 179;
protocol device { scan time 2; }
protocol static { ${c.blocks.map((b) => `route ${b} blackhole;`).join(' ')} }
${exportFilter(c)}
protocol bgp Global_${v6Name(rr6)} {
  local as ${c.as ?? 64512};
  neighbor ${rr6} as ${c.as ?? 64512};
  multihop;
  gateway recursive;
  import filter calico_import;
  export filter calico_export;
  next hop self;
  source address ${ip6};
  add paths on;
  graceful restart;
  ${timers}
}
`;
  writeFileSync(path.join(dir, 'bird.cfg'), cfg);
  const socket = path.join(dir, 'bird.ctl');
  const p = start(`bird6 ${ip6}`, '/usr/sbin/bird6', ['-f', '-R', '-c', 'bird.cfg', '-s', socket, '-P', 'bird.pid'], dir, {}, c.netns);
  return { ...p, conf: c, socket, bird2: false, restart: (nc?: NodeConf) => startBird6Node(nc ?? c, dir) };
}

export function birdc6(n: BirdNode, ...cmd: string[]): string {
  const r = runChild(n.bird2 ? BIRDC2 : '/usr/sbin/birdc6', ['-s', n.socket, ...cmd], { encoding: 'utf8', timeout: 5000 });
  return r.stdout + r.stderr;
}

/** Our reflector with IP and IP6, inside a network namespace. */
export function startReflector6(ip: string, ip6: string, netns: string, keys: Record<string, unknown>, dir = tmp('rr60-ours6-'), extra: Record<string, string> = {}): ReflectorProc {
  const datastore = path.join(dir, 'datastore.json');
  writeFileSync(datastore, JSON.stringify(keys, null, 1));
  const env = {
    ...extra, IP: ip, IP6: ip6, BGP_PORT: '179', DATASTORE_TYPE: 'file', DATASTORE_FILE: datastore, SOCKET_DIR: dir,
    METRICS_LISTEN: 'off', LOG_LEVEL: 'info', LOG_FORMAT: 'json',
  };
  const p = start(`reflector ${ip6}`, process.execPath, ['--import=tsx', path.join(REPO, 'src/main.ts')], REPO, env, netns);
  return { ...p, ip, socketDir: dir, datastore, restart: () => startReflector6(ip, ip6, netns, keys, dir, extra) };
}
