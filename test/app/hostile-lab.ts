// Lab for the hostile-datastore and secret-leak tests: the whole reflector (src/main.ts), a real etcd, and real
// BIRD 2 Calico nodes, each a child of this worker with exactly the environment given (test/helpers/child.ts),
// on addresses of a loopback /24 claimed for this run (test/helpers/net.ts).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeTs, runChild, spawnChild } from '../helpers/child.js';
import { BIRD2, BIRDC2 } from '../session/daemons.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const AS = 64512;

export interface Proc {
  proc: ChildProcess;
  dir: string;
  output: () => string;
  alive: () => boolean;
  stop: () => Promise<void>;
}

function own(proc: ChildProcess, dir: string): Proc {
  let out = '';
  const keep = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 8_000_000) out = out.slice(-4_000_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc,
    dir,
    output: () => out,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function tmpDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The reflector process with `env` (plus PATH only); its control socket is `<dir>/bird.ctl`. */
export function startReflector(dir: string, env: Record<string, string>): Proc & { sock: string } {
  const [cmd, args] = nodeTs('src/main.ts');
  const proc = spawnChild(cmd, args, { cwd: ROOT, env: { SOCKET_DIR: dir, ...env } });
  return { ...own(proc, dir), sock: path.join(dir, 'bird.ctl') };
}

/** A BIRD 2 Calico node peering with the reflector at `rr`; `extra` goes inside the bgp protocol (password …). */
export function startBirdNode(ip: string, rr: string, block: string, extra = ''): Proc & { sock: string } {
  const dir = tmpDir('rr-hostile-bird-');
  const cfg = `router id ${ip};
protocol device { scan time 2; }
protocol static node_routes { ipv4; route ${block} blackhole; }
protocol bgp Node_${rr.replaceAll('.', '_')} {
  local ${ip} port 179 as ${AS};
  strict bind yes;
  neighbor ${rr} port 179 as ${AS};
  multihop;
  graceful restart;
  hold time 9;
  connect delay time 1;
  connect retry time 2;
  error wait time 1,4;
  ${extra}
  ipv4 { import all; export where proto = "node_routes"; next hop self; gateway recursive; add paths on; };
}
`;
  writeFileSync(path.join(dir, 'bird.cfg'), cfg);
  const sock = path.join(dir, 'bird.ctl');
  const proc = spawnChild(BIRD2, ['-f', '-c', 'bird.cfg', '-s', sock, '-P', 'bird.pid'], { cwd: dir });
  return { ...own(proc, dir), sock };
}

/** `birdc` against a control socket (BIRD 2's birdc for a BIRD node, BIRD 1.6's for the reflector's). */
export function birdc(sock: string, bird2: boolean, ...args: string[]): string {
  const r = runChild(bird2 ? BIRDC2 : 'birdc', ['-s', sock, ...args], { encoding: 'utf8', timeout: 5000 });
  return (r.stdout ?? '') + (r.stderr ?? '');
}

/** `show protocols` as name → {state, since, info}. */
export function protocols(sock: string, bird2: boolean): Map<string, { state: string; since: string; info: string }> {
  const m = new Map<string, { state: string; since: string; info: string }>();
  for (const line of birdc(sock, bird2, 'show', 'protocols').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 5 && f[1] === 'BGP') m.set(f[0]!, { state: f[3]!, since: f[4]!, info: f.slice(5).join(' ') });
  }
  return m;
}

/** A real etcd (v2 API enabled) on `host`, data in a temporary directory; `auth` turns on v3 authentication. */
export async function startEtcd(host: string, clientPort: number, peerPort: number): Promise<Proc & { url: string; ctl: (...a: string[]) => string }> {
  const dir = tmpDir('rr-hostile-etcd-');
  const url = `http://${host}:${clientPort}`;
  const peer = `http://${host}:${peerPort}`;
  const proc = spawnChild('etcd', [
    '--enable-v2', '--name', 'rr', '--data-dir', path.join(dir, 'data'),
    '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `rr=${peer}`,
    '--log-level', 'error', '--max-request-bytes', String(4 * 1024 * 1024),
  ]);
  const p = own(proc, dir);
  const end = Date.now() + 15_000;
  for (let i = 0; i < 300 && Date.now() < end; i++) {
    if (!p.alive()) throw new Error(`etcd exited: ${p.output()}`);
    if ((await httpRequest('GET', `${url}/health`)).status === 200) break;
    await sleep(100);
  }
  const ctl = (...a: string[]): string => {
    const r = runChild('etcdctl', ['--endpoints', url, ...a], { encoding: 'utf8', env: { ETCDCTL_API: '3' }, timeout: 10_000 });
    if (r.status !== 0) throw new Error(`etcdctl ${a.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  return { ...p, url, ctl };
}

export function httpRequest(method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(url, { method, headers, timeout: 5000 }, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.on('timeout', () => req.destroy());
    req.end(body);
  });
}

/** A v2 keys API write, as the seed's README does it with curl (form-encoded value). */
export async function putV2(etcdUrl: string, key: string, value: string): Promise<number> {
  const body = `value=${encodeURIComponent(value)}`;
  const r = await httpRequest('PUT', `${etcdUrl}/v2/keys${key}`, body, { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(Buffer.byteLength(body)) });
  return r.status;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 30_000, stepMs = 150): Promise<T> {
  const end = Date.now() + ms;
  for (let i = 0; i < 10_000 && Date.now() < end; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(stepMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}
