// Our reflector under test: started as Calico would (env + a file datastore in which the reflector
// is a global peer and every client is a host), via tsx from src/ or from dist/ when built.
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDaemon } from './proc.js';
import type { ReflectorDriver, RrConfig } from './types.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The etcd key space of calico-datastore.md §3 as one JSON object (the file datastore's format). */
export function calicoDatastore(cfg: RrConfig): Record<string, unknown> {
  const ds: Record<string, unknown> = {
    '/calico/bgp/v1/global/as_num': String(cfg.asn),
    [`/calico/bgp/v1/global/peer_v4/${cfg.address}`]: { ip: cfg.address, as_num: String(cfg.asn) },
  };
  cfg.clients.forEach((c, i) => { ds[`/calico/bgp/v1/host/node${i}/ip_addr_v4`] = c; });
  if (cfg.address6 && cfg.clients6?.length) {
    ds[`/calico/bgp/v1/global/peer_v6/${cfg.address6}`] = { ip: cfg.address6, as_num: String(cfg.asn) };
    cfg.clients6.forEach((c, i) => { ds[`/calico/bgp/v1/host/node${i}/ip_addr_v6`] = c; });
  }
  return ds;
}

function entry(): { args: string[] } | undefined {
  if (process.env.BENCH_OURS === 'dist' && existsSync(join(ROOT, 'dist/main.js'))) return { args: [join(ROOT, 'dist/main.js')] };
  if (existsSync(join(ROOT, 'src/main.ts'))) return { args: ['--import=tsx', join(ROOT, 'src/main.ts')] };
  if (existsSync(join(ROOT, 'dist/main.js'))) return { args: [join(ROOT, 'dist/main.js')] };
  return undefined;
}

export const ours: ReflectorDriver = {
  name: 'ours',
  label: 'ours',
  unavailable: () => (entry() ? undefined : 'src/main.ts and dist/main.js do not exist yet'),
  version: () => `node ${process.version}`,
  start: (cfg) => {
    const e = entry()!;
    const dsFile = join(cfg.workDir, 'datastore.json');
    writeFileSync(dsFile, JSON.stringify(calicoDatastore(cfg), null, 1));
    const extra = process.env.BENCH_OURS_NODE_ARGS ? process.env.BENCH_OURS_NODE_ARGS.split(' ') : [];
    return startDaemon({
      cmd: process.execPath,
      args: [...extra, ...e.args],
      cwd: ROOT,
      env: {
        ...process.env,
        IP: cfg.address,
        ...(cfg.address6 ? { IP6: cfg.address6 } : {}),
        BGP_PORT: String(cfg.port),
        DATASTORE_FILE: dsFile,
        SOCKET_DIR: cfg.workDir,
        METRICS_LISTEN: `${cfg.address}:${30000 + (cfg.port % 10000)}`,
        LOG_LEVEL: 'warn',
      },
      listen: { address: cfg.address, port: cfg.port },
      readyTimeoutMs: 30000,
      ...(cfg.netns ? { netns: cfg.netns } : {}),
    });
  },
};
