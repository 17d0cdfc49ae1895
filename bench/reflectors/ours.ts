// Our reflector under test: started as Calico would (env + a file datastore in which the reflector
// is a global peer and every client is a host), from dist/ as the image runs it (built first when src/ is newer),
// or through tsx from src/ with BENCH_OURS=tsx, or another checkout's built dist/ with BENCH_OURS_ROOT=DIR (e.g. main
// while this branch's bench is newer).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDaemon } from './proc.js';
import type { ReflectorDriver, RrConfig } from './types.js';

const ROOT = process.env.BENCH_OURS_ROOT ? resolve(process.env.BENCH_OURS_ROOT) : resolve(fileURLToPath(new URL('../..', import.meta.url)));

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

/** True when every .ts file under src/ has its .js under dist/ at least as new (what `tsc` leaves after a build). */
function distIsFresh(): boolean {
  const walk = (dir: string): boolean => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const rel = join(dir, e.name);
      if (e.isDirectory()) {
        if (!walk(rel)) return false;
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        const out = join(ROOT, 'dist', rel.slice('src/'.length).replace(/\.ts$/, '.js'));
        if (!existsSync(out) || statSync(out).mtimeMs < statSync(join(ROOT, rel)).mtimeMs) return false;
      }
    }
    return true;
  };
  return walk('src');
}

let chosen: { args: string[]; how: string } | undefined;

/** dist/main.js (what ships; compiled now if stale), or tsx with BENCH_OURS=tsx; decided once per run. */
function entry(): { args: string[]; how: string } | undefined {
  if (chosen !== undefined) return chosen;
  const hasSrc = existsSync(join(ROOT, 'src/main.ts'));
  if (process.env.BENCH_OURS === 'tsx' && hasSrc) return (chosen = { args: ['--import=tsx', join(ROOT, 'src/main.ts')], how: 'tsx' });
  if (hasSrc && !distIsFresh()) {
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json')], { cwd: ROOT, encoding: 'utf8' });
    if (tsc.status !== 0) throw new Error(`ours: dist/ is older than src/ and tsc failed:\n${tsc.stdout}${tsc.stderr}`);
  }
  if (existsSync(join(ROOT, 'dist/main.js'))) return (chosen = { args: [join(ROOT, 'dist/main.js')], how: 'dist' });
  return undefined;
}

export const ours: ReflectorDriver = {
  name: 'ours',
  label: 'ours',
  addPath: true,
  unavailable: () => (entry() ? undefined : 'src/main.ts and dist/main.js do not exist yet'),
  version: () => `node ${process.version} (${entry()?.how ?? '?'}${process.env.BENCH_OURS_ROOT ? ` of ${ROOT}` : ''})`,
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
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        IP: cfg.address,
        ...(cfg.address6 ? { IP6: cfg.address6 } : {}),
        BGP_PORT: String(cfg.port),
        DATASTORE_FILE: dsFile,
        SOCKET_DIR: cfg.workDir,
        METRICS_LISTEN: `${cfg.address}:${30000 + (cfg.port % 10000)}`,
        LOG_LEVEL: 'warn',
        // ADD-PATH send to every peer that negotiates receive (RFC 7911); a build without the feature ignores it.
        ...(cfg.addPath ? { ADD_PATHS: 'all' } : {}),
      },
      listen: { address: cfg.address, port: cfg.port },
      readyTimeoutMs: 30000,
      ...(cfg.netns ? { netns: cfg.netns } : {}),
    });
  },
};
