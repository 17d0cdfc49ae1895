// BIRD 1.6 configured the way calico-node renders bird.cfg (Calico v3.x templates, read at projectcalico/calico
// 87c1590: bgp_template with local as, multihop, gateway recursive, add paths, graceful restart; one
// `protocol bgp Node_<ip> from bgp_template` per peer with `source address`, and on a route reflector
// `rr client; rr cluster id C` for its clients), written by hand from those templates, not by the code under test.
// Test-only differences: `listen bgp address` (many daemons share the loopback), short connect/error timers, a
// static blackhole route for the node's block instead of IPAM, and `protocol direct` for 127/8 so that the
// recursive next hops (other loopback addresses) resolve.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runChild, spawnChild } from '../../helpers/child.js';

export interface CalicoBirdPeer {
  neighbor: string;
  /** `rr client; rr cluster id <clusterId>` (calico-node on a reflector, for a client). */
  rrClient?: boolean;
  /** `password "…"` (calico-node writes the Secret's value unescaped). */
  password?: string;
}

export interface CalicoBirdNode {
  ip: string;
  as: number;
  /** The node's block (exported like an IPAM block). */
  block: string;
  /** The pool the export filter allows (calico_export_to_bgp_peers). */
  pool: string;
  /** This node's routeReflectorClusterID, when it is a reflector. */
  clusterId?: string;
  peers: CalicoBirdPeer[];
}

export interface CalicoBird {
  ip: string;
  socket: string;
  proc: ChildProcess;
  birdc: (...args: string[]) => string;
  stop: () => Promise<void>;
}

export const protocolName = (ip: string): string => `Node_${ip.replaceAll('.', '_').replaceAll(':', '_')}`;

export function renderCalicoBird(n: CalicoBirdNode): string {
  const lines = [
    `router id ${n.ip};`,
    `listen bgp address ${n.ip};`,
    '',
    `filter calico_export_to_bgp_peers {`,
    `  if ( net ~ ${n.pool} ) then { accept; }`,
    `  reject;`,
    `}`,
    '',
    'protocol device { scan time 2; }',
    'protocol direct { interface "lo"; import where net = 127.0.0.0/8; export none; }',
    `protocol static { route ${n.block} blackhole; }`,
    '',
    'template bgp bgp_template {',
    '  debug { states };',
    '  description "Connection to BGP peer";',
    `  local as ${n.as};`,
    '  multihop;',
    '  gateway recursive;',
    '  import all;',
    '  export filter calico_export_to_bgp_peers;',
    '  add paths on;',
    '  graceful restart;',
    '  connect delay time 1;',
    '  connect retry time 2;',
    '  error wait time 1,4;',
    '}',
    '',
  ];
  for (const p of n.peers) {
    lines.push(`protocol bgp ${protocolName(p.neighbor)} from bgp_template {`);
    lines.push(`  neighbor ${p.neighbor} as ${n.as};`);
    lines.push(`  source address ${n.ip};`);
    if (p.password !== undefined) lines.push(`  password "${p.password}";`);
    if (p.rrClient === true) {
      if (n.clusterId === undefined) throw new Error('rr client without a cluster ID');
      lines.push('  rr client;', `  rr cluster id ${n.clusterId};`);
    }
    lines.push('}', '');
  }
  return lines.join('\n');
}

export function startCalicoBird(n: CalicoBirdNode): CalicoBird {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-calico-bird-'));
  writeFileSync(path.join(dir, 'bird.cfg'), renderCalicoBird(n));
  const socket = path.join(dir, 'bird.ctl');
  const proc = spawnChild('/usr/sbin/bird', ['-f', '-c', 'bird.cfg', '-s', socket, '-P', 'bird.pid'], { cwd: dir, env: {} });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
  proc.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    ip: n.ip,
    socket,
    proc,
    birdc: (...args: string[]) => {
      const r = runChild('/usr/sbin/birdc', ['-s', socket, ...args], { encoding: 'utf8', timeout: 5000 });
      return `${r.stdout ?? ''}${r.stderr ?? ''}${proc.exitCode !== null ? `\n[bird exited ${proc.exitCode}: ${out}]` : ''}`;
    },
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `show protocols` of a BIRD (or of our control socket) as name → state column ("Established", ...). */
export function bgpStates(showProtocols: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of showProtocols.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 5 && f[1] === 'BGP') m.set(f[0]!, f.slice(5).join(' '));
  }
  return m;
}
