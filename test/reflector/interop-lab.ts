// Interop lab: our reflector (src/main.ts, file datastore) and one iBGP route-reflector client of each BGP
// implementation CI installs (BIRD 2, GoBGP, ExaBGP, FRR's bgpd without zebra, OpenBGPD), each on its own
// loopback address in a temporary directory, started through spawnChild (exact environment, dies with the
// worker). Every client announces one prefix with a next hop, a community and a large community of its own, and
// reports what it received from the reflector in its *own* terms (its CLI's JSON or text), normalised here to
// one RouteView so the test compares every daemon's view with what the originating daemon was told to send.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild, spawnChild, startDaemon, type OwnedDaemon } from '../helpers/child.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIRD2 = '/opt/bird2/usr/sbin/bird';
export const BIRDC2 = '/opt/bird2/usr/sbin/birdc';
const GOBGPD = '/usr/bin/gobgpd';
const GOBGP = '/usr/bin/gobgp';
const EXABGP = '/usr/sbin/exabgp';
const FRR_BGPD = '/usr/lib/frr/bgpd';
const VTYSH = '/usr/bin/vtysh';
const OPENBGPD = '/usr/sbin/bgpd';
const BGPCTL = '/usr/sbin/bgpctl';
const PYTHON = '/usr/bin/python3';
/** OpenBGPD's unprivileged processes chroot into the home of _openbgpd; only systemd's unit creates it. */
export const OPENBGPD_CHROOT = '/run/openbgpd';

/**
 * Fails loudly, naming what is missing, when a daemon or tool of this lab is not installed: these tests never
 * skip; `.ci/install-debian.sh` installs all of them.
 */
export function checkInstalled(): void {
  const tools: [string, string][] = [
    [BIRD2, 'bird2 (unpacked into /opt/bird2)'], [BIRDC2, 'bird2 (unpacked into /opt/bird2)'], [GOBGPD, 'gobgpd'], [GOBGP, 'gobgpd'],
    [EXABGP, 'exabgp'], [PYTHON, 'python3 (exabgp)'], [FRR_BGPD, 'frr'], [VTYSH, 'frr'], [OPENBGPD, 'openbgpd'], [BGPCTL, 'openbgpd'],
  ];
  const missing = tools.filter(([file]) => !existsSync(file)).map(([file, pkg]) => `${file} (package ${pkg})`);
  // The package's sysusers entry creates the user OpenBGPD's engines drop to; without it bgpd exits at once.
  if (!/^_openbgpd:/m.test(readFileSync('/etc/passwd', 'utf8'))) missing.push('user _openbgpd (package openbgpd)');
  if (missing.length > 0) throw new Error(`interop lab needs ${missing.join(', ')}: run bash .ci/install-debian.sh as root`);
}

/** What one client announces (and so what every other client must see, plus the reflector's attributes). */
export interface Announce {
  /** The client's address: router ID, source and listen address. */
  ip: string;
  /** The reflector's address. */
  rr: string;
  as: number;
  prefix: string;
  /** Outside 127/8: FRR and GoBGP drop routes whose NEXT_HOP is a loopback address. */
  nextHop: string;
  community: [number, number];
  largeCommunity: [number, number, number];
}

/** One received route as the daemon itself shows it, normalised. */
export interface RouteView {
  nextHop: string;
  originatorId: string | undefined;
  clusterList: string[];
  /** "a:b" */
  communities: string[];
  /** "a:b:c" */
  largeCommunities: string[];
}

export type Proc = OwnedDaemon;

export interface Client extends Proc {
  impl: string;
  spec: Announce;
  /** Routes learned from the reflector, by prefix, read from the daemon's own CLI/API output. */
  view: () => Promise<Map<string, RouteView>>;
  /** Withdraws the client's prefix through the daemon's own interface. */
  withdraw: () => Promise<void>;
}

export function tmp(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Starts a daemon whose files are all in `dir` (removed on stop); it runs in `cwd`, by default `dir`. */
function startProc(name: string, cmd: string, args: string[], dir: string, env: Record<string, string> = {}, cwd = dir): Proc {
  return startDaemon(name, cmd, args, dir, { env, cwd, removeDir: true });
}

/** Runs a CLI (exact environment, bounded in time) and returns its exit code and output. */
export async function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = spawnChild(cmd, args);
  let stdout = '';
  let stderr = '';
  c.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    c.once('error', reject);
    c.once('close', (n) => resolve(n));
  });
  clearTimeout(timer);
  return { code, stdout, stderr };
}

async function runOk(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const comm = (c: readonly number[]): string => c.join(':');

// ---- our reflector ----------------------------------------------------------------------------------------

export interface Reflector extends Proc {
  ip: string;
  clusterId: string;
}

/** Calico keys making every host a client of the reflector at rr (global peer entry), with its own cluster ID. */
export function clientKeys(rr: string, as: number, clusterId: string, hosts: Record<string, string>): Record<string, unknown> {
  const keys: Record<string, unknown> = {
    '/calico/bgp/v1/global/as_num': String(as),
    [`/calico/bgp/v1/global/peer_v4/${rr}`]: { ip: rr, as_num: String(as) },
    [`/calico/bgp/v1/rr_v4/${rr}`]: { ip: rr, cluster_id: clusterId },
  };
  for (const [name, ip] of Object.entries(hosts)) keys[`/calico/bgp/v1/host/${name}/ip_addr_v4`] = ip;
  return keys;
}

export function startReflector(ip: string, clusterId: string, keys: Record<string, unknown>): Reflector {
  const dir = tmp('rr-interop-ours-');
  const datastore = path.join(dir, 'datastore.json');
  writeFileSync(datastore, JSON.stringify(keys, null, 1));
  const env = {
    IP: ip, BGP_PORT: '179', DATASTORE_TYPE: 'file', DATASTORE_FILE: datastore, SOCKET_DIR: dir,
    METRICS_LISTEN: 'off', LOG_LEVEL: 'info', LOG_FORMAT: 'json',
  };
  const p = startProc(`reflector ${ip}`, process.execPath, ['--import=tsx', path.join(ROOT, 'src/main.ts')], dir, env, ROOT);
  return { ...p, ip, clusterId };
}

// ---- BIRD 2 -----------------------------------------------------------------------------------------------

function bird2Config(a: Announce, withPrefix: boolean): string {
  return `router id ${a.ip};
protocol device { scan time 10; }
protocol static { ipv4; ${withPrefix ? `route ${a.prefix} blackhole;` : ''} }
filter to_reflector {
  if net = ${a.prefix} then {
    bgp_next_hop = ${a.nextHop};
    bgp_community.add((${a.community.join(',')}));
    bgp_large_community.add((${a.largeCommunity.join(',')}));
    accept;
  }
  reject;
}
protocol bgp reflector {
  local ${a.ip} port 179 as ${a.as};
  strict bind yes;
  neighbor ${a.rr} port 179 as ${a.as};
  multihop;
  connect delay time 1;
  connect retry time 2;
  error wait time 1,4;
  ipv4 { import all; export filter to_reflector; gateway recursive; };
}
`;
}

/**
 * `birdc show route all` → routes learned from `rr`. BIRD prints one block per route: a line starting with the
 * prefix and `[proto time from ADDR]`, then tab-indented `BGP.attr: value` lines.
 */
export function parseBirdRoutes(text: string, rr: string): Map<string, RouteView> {
  const out = new Map<string, RouteView>();
  let cur: { prefix: string; attrs: Map<string, string>; fromRr: boolean } | undefined;
  const flush = (): void => {
    if (cur === undefined || !cur.fromRr) return;
    const a = cur.attrs;
    out.set(cur.prefix, {
      nextHop: a.get('BGP.next_hop') ?? '',
      originatorId: a.get('BGP.originator_id'),
      clusterList: (a.get('BGP.cluster_list') ?? '').split(/\s+/).filter((s) => s !== ''),
      communities: [...(a.get('BGP.community') ?? '').matchAll(/\((\d+),\s*(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}`),
      largeCommunities: [...(a.get('BGP.large_community') ?? '').matchAll(/\((\d+),\s*(\d+),\s*(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}:${m[3]}`),
    });
  };
  for (const line of text.split('\n')) {
    const head = /^(\d+\.\d+\.\d+\.\d+\/\d+)\s+.*\[(\S+) [^\]]*?(?:from (\S+))?\]/.exec(line);
    if (head !== null) {
      flush();
      cur = { prefix: head[1]!, attrs: new Map(), fromRr: head[3] === rr };
      continue;
    }
    const attr = /^\s+(BGP\.[a-z_]+):\s?(.*)$/.exec(line);
    if (attr !== null && cur !== undefined) cur.attrs.set(attr[1]!, attr[2]!.trim());
  }
  flush();
  return out;
}

export function startBird2Client(a: Announce): Client {
  const dir = tmp('rr-interop-bird2-');
  const cfg = path.join(dir, 'bird.cfg');
  const socket = path.join(dir, 'bird.ctl');
  writeFileSync(cfg, bird2Config(a, true));
  const p = startProc(`bird2 ${a.ip}`, BIRD2, ['-f', '-c', cfg, '-s', socket, '-P', path.join(dir, 'bird.pid')], dir);
  return {
    ...p, impl: 'BIRD 2', spec: a,
    view: async () => parseBirdRoutes((await run(BIRDC2, ['-s', socket, 'show', 'route', 'all'])).stdout, a.rr),
    withdraw: async () => {
      writeFileSync(cfg, bird2Config(a, false));
      const out = await runOk(BIRDC2, ['-s', socket, 'configure']);
      if (!/Reconfigur/.test(out)) throw new Error(`birdc configure: ${out}`);
    },
  };
}

// ---- GoBGP ------------------------------------------------------------------------------------------------

interface GobgpAttr {
  type: number;
  nexthop?: string;
  communities?: number[];
  value?: unknown;
}
interface GobgpPath {
  attrs?: GobgpAttr[];
  'neighbor-ip'?: string;
  best?: boolean;
}

/** `gobgp global rib -j` → routes learned from `rr` (attribute type codes as in RFC 4271/1997/4456/8092). */
export function parseGobgpRib(json: string, rr: string): Map<string, RouteView> {
  const out = new Map<string, RouteView>();
  const rib = JSON.parse(json === '' ? '{}' : json) as Record<string, GobgpPath[]>;
  for (const [prefix, paths] of Object.entries(rib)) {
    const p = paths.find((x) => x['neighbor-ip'] === rr);
    if (p === undefined) continue;
    const attr = (t: number): GobgpAttr | undefined => p.attrs?.find((x) => x.type === t);
    const large = (attr(32)?.value ?? []) as { ASN: number; LocalData1: number; LocalData2: number }[];
    out.set(prefix, {
      nextHop: attr(3)?.nexthop ?? '',
      originatorId: attr(9)?.value as string | undefined,
      clusterList: (attr(10)?.value ?? []) as string[],
      communities: (attr(8)?.communities ?? []).map((c) => `${c >>> 16}:${c & 0xffff}`),
      largeCommunities: large.map((l) => `${l.ASN}:${l.LocalData1}:${l.LocalData2}`),
    });
  }
  return out;
}

export function startGobgpClient(a: Announce, apiPort: number): Client {
  const dir = tmp('rr-interop-gobgp-');
  const cfg = `[global.config]
  as = ${a.as}
  router-id = "${a.ip}"
  port = 179
  local-address-list = ["${a.ip}"]

[[neighbors]]
  [neighbors.config]
    neighbor-address = "${a.rr}"
    peer-as = ${a.as}
  [neighbors.transport.config]
    local-address = "${a.ip}"
  [neighbors.timers.config]
    connect-retry = 2
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
`;
  writeFileSync(path.join(dir, 'gobgpd.toml'), cfg);
  const p = startProc(`gobgp ${a.ip}`, GOBGPD, ['-f', path.join(dir, 'gobgpd.toml'), '-p', '--api-hosts', `${a.ip}:${apiPort}`, '--pprof-disable'], dir);
  const cli = ['-u', a.ip, '-p', String(apiPort)];
  return {
    ...p, impl: 'GoBGP', spec: a,
    view: async () => parseGobgpRib((await runOk(GOBGP, [...cli, 'global', 'rib', '-a', 'ipv4', '-j'])).trim(), a.rr),
    withdraw: async () => {
      await runOk(GOBGP, [...cli, 'global', 'rib', 'del', a.prefix, '-a', 'ipv4']);
    },
  };
}

/** Adds the client's route through GoBGP's API (gobgpd must be answering). */
export async function gobgpAnnounce(c: Client, apiPort: number): Promise<void> {
  const a = c.spec;
  await runOk(GOBGP, ['-u', a.ip, '-p', String(apiPort), 'global', 'rib', 'add', a.prefix, 'nexthop', a.nextHop,
    'community', comm(a.community), 'large-community', comm(a.largeCommunity), 'origin', 'igp', '-a', 'ipv4']);
}

// ---- ExaBGP -----------------------------------------------------------------------------------------------

// ExaBGP hands its API processes a non-blocking stdin, on which `cat` fails with EAGAIN; this copier makes it
// blocking and appends every JSON line ExaBGP emits to a file. It also forwards commands written to a FIFO to
// ExaBGP (its stdout), which is how the test withdraws ExaBGP's route.
const EXABGP_API = `import os, sys, threading
os.set_blocking(0, True)
log, fifo = sys.argv[1], sys.argv[2]
def commands():
    while True:
        with open(fifo) as f:
            for line in f:
                sys.stdout.write(line)
                sys.stdout.flush()
threading.Thread(target=commands, daemon=True).start()
with open(log, 'a') as out:
    for line in sys.stdin:
        out.write(line)
        out.flush()
`;

interface ExaUpdate {
  type?: string;
  neighbor?: {
    address?: { peer?: string };
    message?: {
      update?: {
        attribute?: { community?: number[][]; 'large-community'?: number[][]; 'originator-id'?: string; 'cluster-list'?: string[] };
        announce?: Record<string, Record<string, { nlri: string }[]>>;
        withdraw?: Record<string, { nlri: string }[]>;
      };
    };
  };
}

/** ExaBGP's JSON stream (one object a line, `receive { parsed; update; }`) folded into its current view of `rr`. */
export function foldExabgpUpdates(lines: string, rr: string): Map<string, RouteView> {
  const out = new Map<string, RouteView>();
  for (const line of lines.split('\n')) {
    if (line.trim() === '') continue;
    const m = JSON.parse(line) as ExaUpdate;
    const u = m.neighbor?.message?.update;
    if (m.type !== 'update' || u === undefined || m.neighbor?.address?.peer !== rr) continue;
    for (const list of Object.values(u.withdraw ?? {})) for (const w of list) out.delete(w.nlri);
    const at = u.attribute ?? {};
    for (const byHop of Object.values(u.announce ?? {})) {
      for (const [nextHop, list] of Object.entries(byHop)) {
        for (const n of list) {
          out.set(n.nlri, {
            nextHop,
            originatorId: at['originator-id'],
            clusterList: at['cluster-list'] ?? [],
            communities: (at.community ?? []).map(comm),
            largeCommunities: (at['large-community'] ?? []).map(comm),
          });
        }
      }
    }
  }
  return out;
}

export function startExabgpClient(a: Announce): Client {
  const dir = tmp('rr-interop-exabgp-');
  const api = path.join(dir, 'api.py');
  const received = path.join(dir, 'received.jsonl');
  const fifo = path.join(dir, 'commands');
  writeFileSync(api, EXABGP_API);
  writeFileSync(received, '');
  if (runSync('mkfifo', [fifo]) !== 0) throw new Error(`mkfifo ${fifo} failed`);
  const cfg = `process api {
  run ${PYTHON} ${api} ${received} ${fifo};
  encoder json;
}
neighbor ${a.rr} {
  router-id ${a.ip};
  local-address ${a.ip};
  local-as ${a.as};
  peer-as ${a.as};
  family { ipv4 unicast; }
  api {
    processes [ api ];
    receive { parsed; update; }
  }
  static {
    route ${a.prefix} next-hop ${a.nextHop} community [ ${comm(a.community)} ] large-community [ ${comm(a.largeCommunity)} ];
  }
}
`;
  writeFileSync(path.join(dir, 'exabgp.conf'), cfg);
  const env = {
    'exabgp.daemon.user': 'root',
    'exabgp.daemon.daemonize': 'false',
    'exabgp.daemon.pid': path.join(dir, 'exabgp.pid'),
    'exabgp.tcp.bind': '',
    'exabgp.api.cli': 'false',
    // No "done" acknowledgements on the API process's stdin: it must carry only ExaBGP's JSON.
    'exabgp.api.ack': 'false',
    'exabgp.log.destination': 'stdout',
    'exabgp.log.level': 'INFO',
  };
  const p = startProc(`exabgp ${a.ip}`, EXABGP, [path.join(dir, 'exabgp.conf')], dir, env);
  return {
    ...p, impl: 'ExaBGP', spec: a,
    view: async () => foldExabgpUpdates(readFileSync(received, 'utf8'), a.rr),
    withdraw: async () => {
      // Opening the FIFO for writing blocks until the copier reads it: bounded by the run timeout via `sh`.
      await runOk('/bin/sh', ['-c', `printf '%s\\n' "$1" > "$2"`, 'sh', `neighbor ${a.rr} withdraw route ${a.prefix} next-hop ${a.nextHop}`, fifo]);
    },
  };
}

/** Runs a set-up step that must finish before a daemon starts (exact environment, bounded). */
function runSync(cmd: string, args: string[]): number | null {
  return runChild(cmd, args, { stdio: 'ignore', timeout: 5000 }).status;
}

// ---- FRR (bgpd alone, no zebra) ---------------------------------------------------------------------------

function frrConfig(a: Announce): string {
  // Without zebra bgpd cannot see the RIB, so `network` needs `no bgp network import-check`. The route-map on
  // the session sets the announced NEXT_HOP (FRR would put its own address there); ORIGIN sets the communities.
  return `frr defaults traditional
hostname frr-${a.ip}
log stdout warnings
!
route-map ORIGIN permit 10
 set community ${comm(a.community)}
 set large-community ${comm(a.largeCommunity)}
!
route-map TO-REFLECTOR permit 10
 set ip next-hop ${a.nextHop}
!
router bgp ${a.as}
 bgp router-id ${a.ip}
 no bgp network import-check
 neighbor ${a.rr} remote-as ${a.as}
 neighbor ${a.rr} update-source ${a.ip}
 neighbor ${a.rr} timers connect 2
 address-family ipv4 unicast
  network ${a.prefix} route-map ORIGIN
  neighbor ${a.rr} route-map TO-REFLECTOR out
 exit-address-family
!
`;
}

interface FrrPath {
  nexthops?: { ip: string }[];
  originatorId?: string;
  clusterList?: { list?: string[] };
  community?: { list?: string[] };
  largeCommunity?: { list?: string[] };
  peer?: { peerId?: string };
}

/** `show bgp ipv4 unicast PREFIX json` → the path learned from `rr`, if any. */
export function parseFrrPrefix(json: string, rr: string): RouteView | undefined {
  const j = JSON.parse(json === '' ? '{}' : json) as { paths?: FrrPath[] };
  const p = (j.paths ?? []).find((x) => x.peer?.peerId === rr);
  if (p === undefined) return undefined;
  return {
    nextHop: p.nexthops?.[0]?.ip ?? '',
    originatorId: p.originatorId,
    clusterList: p.clusterList?.list ?? [],
    communities: p.community?.list ?? [],
    largeCommunities: p.largeCommunity?.list ?? [],
  };
}

export function startFrrClient(a: Announce): Client {
  const dir = tmp('rr-interop-frr-');
  writeFileSync(path.join(dir, 'bgpd.conf'), frrConfig(a));
  // -Z no zebra, -n no kernel, -S stay root (no frr user switch), -P 0 no vty TCP port; the vty UNIX socket and
  // pid file go to the temporary directory so several instances never meet.
  const p = startProc(`frr ${a.ip}`, FRR_BGPD, ['-Z', '-n', '-S', '-l', a.ip, '-p', '179', '-P', '0', '-f', path.join(dir, 'bgpd.conf'),
    '-i', path.join(dir, 'bgpd.pid'), '--vty_socket', dir], dir);
  const vtysh = async (cmd: string): Promise<string> => runOk(VTYSH, ['--vty_socket', dir, '-d', 'bgpd', '-c', cmd]);
  return {
    ...p, impl: 'FRR', spec: a,
    view: async () => {
      // The table's JSON lists the prefixes; the per-prefix JSON carries ORIGINATOR_ID and CLUSTER_LIST.
      const all = JSON.parse(await vtysh('show bgp ipv4 unicast json')) as { routes?: Record<string, unknown> };
      const out = new Map<string, RouteView>();
      for (const prefix of Object.keys(all.routes ?? {})) {
        const v = parseFrrPrefix(await vtysh(`show bgp ipv4 unicast ${prefix} json`), a.rr);
        if (v !== undefined) out.set(prefix, v);
      }
      return out;
    },
    withdraw: async () => {
      await runOk(VTYSH, ['--vty_socket', dir, '-d', 'bgpd', '-c', 'configure terminal', '-c', `router bgp ${a.as}`, '-c', 'address-family ipv4 unicast', '-c', `no network ${a.prefix}`]);
    },
  };
}

// ---- OpenBGPD ---------------------------------------------------------------------------------------------

function openbgpdConfig(a: Announce, socket: string, withPrefix: boolean): string {
  const net = withPrefix
    ? `network ${a.prefix} set { nexthop ${a.nextHop} community ${comm(a.community)} large-community ${comm(a.largeCommunity)} }\n`
    : '';
  return `AS ${a.as}
router-id ${a.ip}
listen on ${a.ip}
socket "${socket}"
fib-update no
${net}neighbor ${a.rr} {
  remote-as ${a.as}
  local-address ${a.ip}
  descr "reflector"
}
allow from any
allow to any
`;
}

interface ObgpdRib {
  rib?: {
    prefix: string;
    exit_nexthop?: string;
    neighbor?: { remote_addr?: string };
    communities?: string[];
    large_communities?: string[];
    attributes?: { type: string; originator?: string; cluster_list?: string[] }[];
  }[];
}

/** `bgpctl -j show rib detail` → routes learned from `rr`. */
export function parseOpenbgpdRib(json: string, rr: string): Map<string, RouteView> {
  const out = new Map<string, RouteView>();
  const j = JSON.parse(json === '' ? '{}' : json) as ObgpdRib;
  for (const r of j.rib ?? []) {
    if (r.neighbor?.remote_addr !== rr) continue;
    const attr = (t: string) => r.attributes?.find((x) => x.type === t);
    out.set(r.prefix, {
      nextHop: r.exit_nexthop ?? '',
      originatorId: attr('Originator Id')?.originator,
      clusterList: attr('Cluster Id List')?.cluster_list ?? [],
      communities: r.communities ?? [],
      largeCommunities: r.large_communities ?? [],
    });
  }
  return out;
}

/**
 * OpenBGPD (portable, Debian's `openbgpd`): privilege-separated; its session and route engines drop to the
 * `_openbgpd` user (created by the package's sysusers entry) and chroot into its home, /run/openbgpd, which only
 * the systemd unit creates, so it is made here. -d keeps it in the foreground, logging to stderr.
 */
export function startOpenbgpdClient(a: Announce): Client {
  mkdirSync(OPENBGPD_CHROOT, { recursive: true });
  chmodSync(OPENBGPD_CHROOT, 0o755);
  const dir = tmp('rr-interop-openbgpd-');
  const cfg = path.join(dir, 'bgpd.conf');
  const socket = path.join(dir, 'bgpd.sock');
  writeFileSync(cfg, openbgpdConfig(a, socket, true));
  const p = startProc(`openbgpd ${a.ip}`, OPENBGPD, ['-d', '-v', '-f', cfg], dir);
  return {
    ...p, impl: 'OpenBGPD', spec: a,
    view: async () => parseOpenbgpdRib(await runOk(BGPCTL, ['-j', '-s', socket, 'show', 'rib', 'detail']), a.rr),
    withdraw: async () => {
      writeFileSync(cfg, openbgpdConfig(a, socket, false));
      await runOk(BGPCTL, ['-s', socket, 'reload']);
    },
  };
}

/** The prefix's expected view at every other client: the originator's attributes plus the reflector's. */
export function expectedView(a: Announce, clusterId: string): RouteView {
  return {
    nextHop: a.nextHop,
    originatorId: a.ip,
    clusterList: [clusterId],
    communities: [comm(a.community)],
    largeCommunities: [comm(a.largeCommunity)],
  };
}
