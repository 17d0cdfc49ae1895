// Real BGP daemons configured as Calico nodes (calico-datastore.md §9) for the interop tests: BIRD 1.6,
// BIRD 2, GoBGP and ExaBGP, each in a temporary directory, on its own loopback address, killable.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runChild, startDaemon, type OwnedDaemon } from '../helpers/child.js';

export const BIRD2 = '/opt/bird2/usr/sbin/bird';
export const BIRDC2 = '/opt/bird2/usr/sbin/birdc';

export interface NodeConf {
  /** The node's own address (router ID, source and listen address). */
  ip: string;
  /** The reflector's address. */
  rr: string;
  as: number;
  holdTime: number;
  /** A Calico block the node exports (e.g. 10.65.51.0/26). */
  block: string;
}

/** A daemon with its control socket, when it has one. */
export type Daemon = OwnedDaemon & { socket?: string };

function tmp(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

function start(name: string, cmd: string, args: string[], dir: string, env: Record<string, string> = {}, socket?: string): Daemon {
  const d: Daemon = startDaemon(name, cmd, args, dir, { env, removeDir: true });
  if (socket !== undefined) d.socket = socket;
  return d;
}

/** Node side of BIRD 1.6 as calico/node renders it (v3.x template), with short timers for tests. */
export function startBird16(c: NodeConf): Daemon {
  const dir = tmp('rr-bird16-');
  const name = `Node_${c.rr.replaceAll('.', '_')}`;
  const cfg = `router id ${c.ip};
listen bgp address ${c.ip} port 179;
protocol device { scan time 2; }
protocol static { route ${c.block} blackhole; }
protocol bgp ${name} {
  description "Connection to BGP peer";
  local as ${c.as};
  neighbor ${c.rr} as ${c.as};
  multihop;
  gateway recursive;
  import all;
  export all;
  next hop self;
  source address ${c.ip};
  add paths on;
  graceful restart;
  hold time ${c.holdTime};
  connect delay time 1;
  connect retry time 2;
  error wait time 1,4;
}
`;
  writeFileSync(path.join(dir, 'bird.cfg'), cfg);
  const sock = path.join(dir, 'bird.ctl');
  return start('bird1.6', '/usr/sbin/bird', ['-f', '-c', 'bird.cfg', '-s', sock, '-P', 'bird.pid'], dir, {}, sock);
}

/** Node side of BIRD 2 (calico/node v3.x with BIRD 2 syntax: one ipv4 channel). */
export function startBird2(c: NodeConf): Daemon {
  const dir = tmp('rr-bird2-');
  const name = `Node_${c.rr.replaceAll('.', '_')}`;
  const cfg = `router id ${c.ip};
protocol device { scan time 2; }
protocol static { ipv4; route ${c.block} blackhole; }
protocol bgp ${name} {
  description "Connection to BGP peer";
  local ${c.ip} port 179 as ${c.as};
  strict bind yes;
  neighbor ${c.rr} port 179 as ${c.as};
  multihop;
  graceful restart;
  hold time ${c.holdTime};
  connect delay time 1;
  connect retry time 2;
  error wait time 1,4;
  ipv4 { import all; export all; next hop self; gateway recursive; add paths on; };
}
`;
  writeFileSync(path.join(dir, 'bird.cfg'), cfg);
  const sock = path.join(dir, 'bird.ctl');
  return start('bird2', BIRD2, ['-f', '-c', 'bird.cfg', '-s', sock, '-P', 'bird.pid'], dir, {}, sock);
}

/** GoBGP as a node: iBGP to the reflector, graceful restart, ADD-PATH, listening only on its own address. */
export function startGobgp(c: NodeConf, apiPort: number): Daemon {
  const dir = tmp('rr-gobgp-');
  const cfg = `[global.config]
  as = ${c.as}
  router-id = "${c.ip}"
  port = 179
  local-address-list = ["${c.ip}"]

[[neighbors]]
  [neighbors.config]
    neighbor-address = "${c.rr}"
    peer-as = ${c.as}
  [neighbors.transport.config]
    local-address = "${c.ip}"
  [neighbors.timers.config]
    hold-time = ${c.holdTime}
    keepalive-interval = ${Math.max(1, Math.floor(c.holdTime / 3))}
    connect-retry = 2
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = 120
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.add-paths.config]
      receive = true
      send-max = 8
`;
  writeFileSync(path.join(dir, 'gobgpd.toml'), cfg);
  return start('gobgp', '/usr/bin/gobgpd', ['-f', 'gobgpd.toml', '-p', '--api-hosts', `${c.ip}:${apiPort}`, '--pprof-disable'], dir);
}

/** Adds a route to a running GoBGP through its CLI. */
export function gobgpAddRoute(c: NodeConf, apiPort: number): void {
  const r = runChild('/usr/bin/gobgp', ['-u', c.ip, '-p', String(apiPort), 'global', 'rib', 'add', c.block, 'nexthop', c.ip, '-a', 'ipv4'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gobgp rib add failed: ${r.stderr}`);
}

export function gobgpNeighbor(c: NodeConf, apiPort: number): string {
  const r = runChild('/usr/bin/gobgp', ['-u', c.ip, '-p', String(apiPort), 'neighbor', c.rr], { encoding: 'utf8' });
  return r.stdout + r.stderr;
}

/** ExaBGP as a node announcing one block (exabgp 4.2 syntax); it connects out, never listens. */
export function startExabgp(c: NodeConf): Daemon {
  const dir = tmp('rr-exabgp-');
  const cfg = `neighbor ${c.rr} {
  router-id ${c.ip};
  local-address ${c.ip};
  local-as ${c.as};
  peer-as ${c.as};
  hold-time ${c.holdTime};
  family { ipv4 unicast; }
  capability {
    graceful-restart 120;
    add-path send/receive;
    route-refresh;
  }
  static {
    route ${c.block} next-hop ${c.ip};
  }
}
`;
  writeFileSync(path.join(dir, 'exabgp.conf'), cfg);
  const env = {
    'exabgp.daemon.user': 'root',
    'exabgp.daemon.daemonize': 'false',
    'exabgp.tcp.bind': '',
    'exabgp.api.cli': 'false',
    'exabgp.log.destination': 'stdout',
    'exabgp.log.level': 'INFO',
    'exabgp.daemon.pid': path.join(dir, 'exabgp.pid'),
  };
  return start('exabgp', '/usr/sbin/exabgp', [path.join(dir, 'exabgp.conf')], dir, env);
}

/** `birdc show protocols` through the daemon's control socket (BIRD 1.6 or 2). */
export function birdcShowProtocols(d: Daemon, bird2: boolean, ...more: string[]): string {
  const r = runChild(bird2 ? BIRDC2 : '/usr/sbin/birdc', ['-s', d.socket!, 'show', 'protocols', ...more], { encoding: 'utf8', timeout: 5000 });
  return r.stdout + r.stderr;
}
