// FRR bgpd, standalone (no zebra), as a reflector under test: a peer group of passive RR clients
// with one cluster ID and every client listed, the configuration an FRR user would write.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, which } from './proc.js';
import type { ReflectorDriver, RrConfig } from './types.js';

const BGPD = '/usr/lib/frr/bgpd';

function frrConfig(cfg: RrConfig): string {
  const out = [
    'frr defaults traditional',
    'hostname bench-rr',
    '!',
    `router bgp ${cfg.asn}`,
    ` bgp router-id ${cfg.address}`,
    ` bgp cluster-id ${cfg.clusterId}`,
    ' no bgp ebgp-requires-policy',
    ' no bgp default ipv4-unicast',
    ' neighbor RRC peer-group',
    ` neighbor RRC remote-as ${cfg.asn}`,
    ' neighbor RRC passive',
    ` neighbor RRC timers ${Math.floor(cfg.holdTime / 3)} ${cfg.holdTime}`,
  ];
  for (const c of cfg.clients) out.push(` neighbor ${c} peer-group RRC`);
  const v6 = cfg.clients6 ?? [];
  if (v6.length) {
    out.push(' neighbor RRC6 peer-group', ` neighbor RRC6 remote-as ${cfg.asn}`, ' neighbor RRC6 passive',
      ` neighbor RRC6 timers ${Math.floor(cfg.holdTime / 3)} ${cfg.holdTime}`);
    for (const c of v6) out.push(` neighbor ${c} peer-group RRC6`);
  }
  out.push(
    ' !',
    ' address-family ipv4 unicast',
    '  neighbor RRC activate',
    '  neighbor RRC route-reflector-client',
    ' exit-address-family',
  );
  if (v6.length) out.push(' address-family ipv6 unicast', '  neighbor RRC6 activate', '  neighbor RRC6 route-reflector-client', ' exit-address-family');
  out.push('!');
  return out.join('\n') + '\n';
}

export const frr: ReflectorDriver = {
  name: 'frr',
  label: 'FRR',
  unavailable: () => (which(BGPD) ? undefined : `${BGPD} not installed`),
  version: () => {
    try {
      return execFileSync(BGPD, ['-v'], { encoding: 'utf8' }).split('\n')[0]!.trim();
    } catch {
      return 'unknown';
    }
  },
  start: (cfg) => {
    const d = cfg.workDir;
    const conf = join(d, 'bgpd.conf');
    writeFileSync(conf, frrConfig(cfg));
    return startDaemon({
      cmd: BGPD,
      args: ['-f', conf, '-i', join(d, 'bgpd.pid'), '-z', join(d, 'zserv.api'), '--vty_socket', d, '-P', '0',
        '-Z', '-S', '-n', '-l', cfg.address, ...(cfg.address6 ? ['-l', cfg.address6] : []), '-p', String(cfg.port),
        '--log', 'stdout', '--log-level', 'warn'],
      listen: { address: cfg.address, port: cfg.port },
      readyTimeoutMs: 30000,
      ...(cfg.netns ? { netns: cfg.netns } : {}),
    });
  },
};
