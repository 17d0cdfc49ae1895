// BIRD 2 and BIRD 1.6 as reflectors under test: one `protocol bgp` per client from a shared
// template (rr client, one cluster ID, passive), the shape Calico's confd templates render.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { combine, startDaemon, which } from './proc.js';
import { protoName, type ReflectorDriver, type RrConfig } from './types.js';

function faultFilter(cfg: RrConfig, client: string): string {
  if (cfg.fault?.client !== client) return '';
  return ` export filter { if net = ${cfg.fault.dropPrefix} then reject; accept; };`;
}

/** BIRD 2: ADD-PATH is a channel option (`add paths tx` towards clients that receive, `rx` from speakers). */
function addPaths2(cfg: RrConfig, client: string): string {
  const tx = cfg.addPath?.send.includes(client) === true;
  const rx = cfg.addPath?.receive.includes(client) === true;
  return tx && rx ? ' add paths on;' : tx ? ' add paths tx;' : rx ? ' add paths rx;' : '';
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
    const f = faultFilter(cfg, c) + addPaths2(cfg, c);
    lines.push(`protocol bgp ${protoName(c)} from rrc { neighbor ${c} port ${cfg.port} as ${cfg.asn};${f ? ` ipv4 {${f} };` : ''} }`);
  }
  if (cfg.address6 && cfg.clients6?.length) {
    // Calico's IPv6 sessions are separate sessions between IPv6 addresses (bird6's), in one BIRD 2 process here.
    lines.push(
      'template bgp rrc6 {',
      `  local ${cfg.address6} port ${cfg.port} as ${cfg.asn};`,
      '  strict bind yes;',
      '  passive on;',
      '  rr client;',
      `  rr cluster id ${cfg.clusterId};`,
      `  hold time ${cfg.holdTime};`,
      '  ipv6 { import all; export all; };',
      '}',
    );
    for (const c of cfg.clients6) lines.push(`protocol bgp ${protoName(c)} from rrc6 { neighbor ${c} port ${cfg.port} as ${cfg.asn}; }`);
  }
  return lines.join('\n') + '\n';
}

function bird1Config(cfg: RrConfig, v6 = false): string {
  const lines = [
    'log stderr { warning, error, fatal };',
    `router id ${cfg.address};`,
    `listen bgp address ${v6 ? cfg.address6! : cfg.address} port ${cfg.port};`,
    'protocol device { scan time 60; }',
    'template bgp rrc {',
    `  local ${v6 ? cfg.address6! : cfg.address} as ${cfg.asn};`,
    '  passive on;',
    '  rr client;',
    `  rr cluster id ${cfg.clusterId};`,
    `  hold time ${cfg.holdTime};`,
    '  import all;',
    '  export all;',
    '}',
  ];
  for (const c of v6 ? cfg.clients6 ?? [] : cfg.clients) {
    // BIRD 1.6: ADD-PATH is a protocol option, the same words as BIRD 2's channel option.
    lines.push(`protocol bgp ${protoName(c)} from rrc { neighbor ${c} as ${cfg.asn};${faultFilter(cfg, c)}${addPaths2(cfg, c)} }`);
  }
  return lines.join('\n') + '\n';
}

/** bin6: BIRD 1.6 handles IPv6 in a second daemon (bird6), as calico/routereflector ran it. */
function birdDriver(name: string, label: string, bin: string, render: (c: RrConfig, v6?: boolean) => string, bin6?: string): ReflectorDriver {
  return {
    name,
    label,
    addPath: true,
    unavailable: () => (which(bin) ? undefined : `${bin} not installed`),
    version: () => {
      // BIRD prints its version on stderr
      const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
      return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() || 'unknown';
    },
    start: async (cfg) => {
      const conf = join(cfg.workDir, 'bird.conf');
      writeFileSync(conf, render(cfg));
      const v4 = await startDaemon({
        cmd: bin,
        args: ['-f', '-c', conf, '-s', join(cfg.workDir, 'bird.ctl'), '-P', join(cfg.workDir, 'bird.pid')],
        listen: { address: cfg.address, port: cfg.port },
        ...(cfg.netns ? { netns: cfg.netns } : {}),
      });
      if (!bin6 || !cfg.clients6?.length) return v4;
      const conf6 = join(cfg.workDir, 'bird6.conf');
      writeFileSync(conf6, render(cfg, true));
      try {
        const v6 = await startDaemon({
          cmd: bin6,
          args: ['-f', '-c', conf6, '-s', join(cfg.workDir, 'bird6.ctl'), '-P', join(cfg.workDir, 'bird6.pid')],
          listen: { address: cfg.address6!, port: cfg.port },
          ...(cfg.netns ? { netns: cfg.netns } : {}),
        });
        return combine([v4, v6]);
      } catch (e) {
        await v4.stop();
        throw e;
      }
    },
  };
}

export const bird2 = birdDriver('bird2', 'BIRD 2', '/opt/bird2/usr/sbin/bird', bird2Config);
export const bird1 = birdDriver('bird1', 'BIRD 1.6', '/usr/sbin/bird', bird1Config, '/usr/sbin/bird6');
