// BIRD 2 and BIRD 1.6 as reflectors under test: one `protocol bgp` per client from a shared
// template (rr client, one cluster ID, passive), the shape Calico's confd templates render.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, which } from './proc.js';
import { protoName, type ReflectorDriver, type RrConfig } from './types.js';

function faultFilter(cfg: RrConfig, client: string): string {
  if (cfg.fault?.client !== client) return '';
  return ` export filter { if net = ${cfg.fault.dropPrefix} then reject; accept; };`;
}

function bird2Config(cfg: RrConfig): string {
  const lines = [
    'log stderr { warning, error, fatal };',
    `router id ${cfg.address};`,
    'protocol device { scan time 60; }',
    'template bgp rrc {',
    `  local ${cfg.address} port ${cfg.port} as ${cfg.asn};`,
    '  strict bind yes;',
    '  passive on;',
    '  rr client;',
    `  rr cluster id ${cfg.clusterId};`,
    `  hold time ${cfg.holdTime};`,
    '  ipv4 { import all; export all; };',
    '}',
  ];
  for (const c of cfg.clients) {
    const f = faultFilter(cfg, c);
    lines.push(`protocol bgp ${protoName(c)} from rrc { neighbor ${c} port ${cfg.port} as ${cfg.asn};${f ? ` ipv4 {${f} };` : ''} }`);
  }
  return lines.join('\n') + '\n';
}

function bird1Config(cfg: RrConfig): string {
  const lines = [
    'log stderr { warning, error, fatal };',
    `router id ${cfg.address};`,
    `listen bgp address ${cfg.address} port ${cfg.port};`,
    'protocol device { scan time 60; }',
    'template bgp rrc {',
    `  local ${cfg.address} as ${cfg.asn};`,
    '  passive on;',
    '  rr client;',
    `  rr cluster id ${cfg.clusterId};`,
    `  hold time ${cfg.holdTime};`,
    '  import all;',
    '  export all;',
    '}',
  ];
  for (const c of cfg.clients) {
    lines.push(`protocol bgp ${protoName(c)} from rrc { neighbor ${c} as ${cfg.asn};${faultFilter(cfg, c)} }`);
  }
  return lines.join('\n') + '\n';
}

function birdDriver(name: string, label: string, bin: string, render: (c: RrConfig) => string): ReflectorDriver {
  return {
    name,
    label,
    unavailable: () => (which(bin) ? undefined : `${bin} not installed`),
    version: () => {
      // BIRD prints its version on stderr
      const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
      return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() || 'unknown';
    },
    start: (cfg) => {
      const conf = join(cfg.workDir, 'bird.conf');
      writeFileSync(conf, render(cfg));
      return startDaemon({
        cmd: bin,
        args: ['-f', '-c', conf, '-s', join(cfg.workDir, 'bird.ctl'), '-P', join(cfg.workDir, 'bird.pid')],
        listen: { address: cfg.address, port: cfg.port },
      });
    },
  };
}

export const bird2 = birdDriver('bird2', 'BIRD 2', '/opt/bird2/usr/sbin/bird', bird2Config);
export const bird1 = birdDriver('bird1', 'BIRD 1.6', '/usr/sbin/bird', bird1Config);
