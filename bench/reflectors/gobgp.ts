// GoBGP (gobgpd) as a reflector under test: one [[neighbors]] per client, route-reflector client
// with one cluster ID, passive; gRPC API on our own loopback address so parallel tests never clash.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon } from './proc.js';
import type { ReflectorDriver, RrConfig } from './types.js';

function gobgpConfig(cfg: RrConfig): string {
  const out = [
    '[global.config]',
    `  as = ${cfg.asn}`,
    `  router-id = "${cfg.address}"`,
    `  port = ${cfg.port}`,
    `  local-address-list = ["${cfg.address}"${cfg.address6 ? `, "${cfg.address6}"` : ''}]`,
  ];
  const all = [...cfg.clients.map((c) => [c, cfg.address, 'ipv4-unicast']), ...(cfg.clients6 ?? []).map((c) => [c, cfg.address6!, 'ipv6-unicast'])];
  for (const [c, local, family] of all) {
    out.push(
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = "${c}"`,
      `    peer-as = ${cfg.asn}`,
      '  [neighbors.transport.config]',
      '    passive-mode = true',
      `    local-address = "${local}"`,
      '  [neighbors.timers.config]',
      `    hold-time = ${cfg.holdTime}`,
      `    keepalive-interval = ${Math.floor(cfg.holdTime / 3)}`,
      // Graceful restart as the other reflectors have it by default (BIRD/FRR are GR-aware): also makes
      // GoBGP send End-of-RIB, which the harness waits for before it starts a clock.
      '  [neighbors.graceful-restart.config]',
      '    enabled = true',
      '  [neighbors.route-reflector.config]',
      '    route-reflector-client = true',
      `    route-reflector-cluster-id = "${cfg.clusterId}"`,
      '  [[neighbors.afi-safis]]',
      '    [neighbors.afi-safis.config]',
      `      afi-safi-name = "${family}"`,
      '    [neighbors.afi-safis.mp-graceful-restart.config]',
      '      enabled = true',
    );
  }
  return out.join('\n') + '\n';
}

function whichBin(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export const gobgp: ReflectorDriver = {
  name: 'gobgp',
  label: 'GoBGP',
  unavailable: () => (whichBin('gobgpd') ? undefined : 'gobgpd not installed'),
  version: () => {
    try {
      return execFileSync('gobgpd', ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  },
  start: (cfg) => {
    const conf = join(cfg.workDir, 'gobgpd.toml');
    writeFileSync(conf, gobgpConfig(cfg));
    return startDaemon({
      cmd: 'gobgpd',
      args: ['-f', conf, '-t', 'toml', '-l', 'warn', '-p', '--pprof-disable', `--api-hosts=${cfg.address}:${50000 + (cfg.port % 10000)}`],
      listen: { address: cfg.address, port: cfg.port },
      readyTimeoutMs: 30000,
      ...(cfg.netns ? { netns: cfg.netns } : {}),
    });
  },
};
