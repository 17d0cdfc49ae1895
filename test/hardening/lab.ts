// Test lab for the hardening tests: the reflector as a child process (node --import=tsx src/main.ts) on a file
// datastore, and BIRD 2 Calico nodes with extra session options (password, ttl security), all on loopback.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIRD2, BIRDC2, type Daemon } from '../session/daemons.js';
import { keepOutput, runChild, spawnChild, startDaemon } from '../helpers/child.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const AS = 64512;

export interface Reflector {
  proc: ChildProcess;
  dir: string;
  /** Our BIRD-compatible control socket (IPv4). */
  sock: string;
  ds: string;
  log: () => string;
  /** Replaces the datastore file atomically. */
  write: (keys: Record<string, unknown>) => void;
  stop: () => Promise<void>;
}


export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 20_000, stepMs = 100): Promise<T> {
  const end = Date.now() + ms;
  for (let i = 0; i < 100_000 && Date.now() < end; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(stepMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The reflector with exactly these variables (and `env`) in its environment; inside `netns` if given. */
export function startReflector(ip: string, keys: Record<string, unknown>, env: Record<string, string> = {}, netns?: string): Reflector {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-hard-'));
  const ds = path.join(dir, 'datastore.json');
  const write = (k: Record<string, unknown>): void => {
    writeFileSync(`${ds}.tmp`, JSON.stringify(k, null, 1));
    runChild('mv', [`${ds}.tmp`, ds]);
  };
  write(keys);
  const proc = spawnChild(process.execPath, ['--import=tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { IP: ip, DATASTORE_TYPE: 'file', DATASTORE_FILE: ds, SOCKET_DIR: dir, METRICS_LISTEN: 'off', LOG_LEVEL: 'info', ...env },
    ...(netns !== undefined ? { netns } : {}),
  });
  const out = keepOutput(proc);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc, dir, ds, sock: path.join(dir, 'bird.ctl'), log: out, write,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `show protocols` of our control socket (or a BIRD's with bird2) as name → {state, info}. */
export function protocols(sock: string, bird2 = false): Map<string, { state: string; since: string; info: string }> {
  const out = runChild(bird2 ? BIRDC2 : 'birdc', ['-s', sock, 'show', 'protocols'], { encoding: 'utf8', timeout: 5000 }).stdout ?? '';
  const m = new Map<string, { state: string; since: string; info: string }>();
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 5 && f[1] === 'BGP') m.set(f[0]!, { state: f[3]!, since: f[4]!, info: f.slice(5).join(' ') });
  }
  return m;
}

export function birdc2(d: Daemon, ...args: string[]): string {
  const r = runChild(BIRDC2, ['-s', d.socket ?? '', ...args], { encoding: 'utf8', timeout: 5000 });
  return (r.stdout ?? '') + (r.stderr ?? '');
}

export interface Bird2Node {
  ip: string;
  rr: string;
  block: string;
  holdTime?: number;
  /** Extra lines inside `protocol bgp` (password "…"; ttl security yes; …). */
  extra?: string;
  /** Directly connected instead of multihop (needed by ttl security). */
  direct?: boolean;
  /** Import nothing (a direct session rejects next hops that are its own address, as reflected ones can be). */
  importNone?: boolean;
  /** More static routes to export (prefix texts). */
  statics?: string[];
  /** BIRD's own listening port (default 179); another port makes it the only side that can connect. */
  listenPort?: number;
  /** Run inside this network namespace (test/helpers/netns.ts). */
  netns?: string;
}

/** A BIRD 2 Calico node (as test/session/daemons.ts startBird2, with extra options). */
export function startBird2Node(c: Bird2Node): Daemon {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-hard-bird2-'));
  const name = `Node_${c.rr.replaceAll('.', '_')}`;
  const cfg = `router id ${c.ip};
protocol device { scan time 2; }
protocol static node_routes { ipv4; route ${c.block} blackhole; ${(c.statics ?? []).map((p) => `route ${p} blackhole;`).join(' ')} }
protocol bgp ${name} {
  local ${c.ip} port ${c.listenPort ?? 179} as ${AS};
  strict bind yes;
  neighbor ${c.rr} port 179 as ${AS};
  ${c.direct === true ? 'direct;' : c.extra?.includes('ttl security') === true ? 'multihop 1;' : 'multihop;'}
  graceful restart;
  hold time ${c.holdTime ?? 9};
  connect delay time 1;
  connect retry time 2;
  error wait time 1,4;
  ${c.extra ?? ''}
  ipv4 { import ${c.importNone === true ? 'none' : 'all'}; export ${c.importNone === true ? "none" : "where proto = \"node_routes\""}; next hop self; ${c.direct === true ? '' : 'gateway recursive; '}add paths on; };
}
`;
  writeFileSync(path.join(dir, 'bird.cfg'), cfg);
  const sock = path.join(dir, 'bird.ctl');
  const d: Daemon = startDaemon('bird2', BIRD2, ['-f', '-c', 'bird.cfg', '-s', sock, '-P', 'bird.pid'], dir, { removeDir: true, ...(c.netns !== undefined ? { netns: c.netns } : {}) });
  d.socket = sock;
  return d;
}

/**
 * The TcpExt counters (/proc/net/netstat) of a network namespace the test owns, e.g. TCPMD5Failure,
 * TCPMD5NotFound, TCPMinTTLDrop: only that namespace's sockets move them (the host's count every process).
 */
export function tcpExtIn(ns: string): Record<string, number> {
  const r = runChild('cat', ['/proc/net/netstat'], { netns: ns, encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) throw new Error(`reading /proc/net/netstat in ${ns}: ${r.stderr}`);
  return parseTcpExt(r.stdout);
}

/** The TcpExt section of /proc/net/netstat text (pairs of lines: names, then values). */
export function parseTcpExt(text: string): Record<string, number> {
  const lines = text.split('\n');
  const out: Record<string, number> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i]!.split(/\s+/);
    const vals = lines[i + 1]!.split(/\s+/);
    if (names[0] !== 'TcpExt:') continue;
    for (let j = 1; j < names.length; j++) out[names[j]!] = Number(vals[j]);
  }
  return out;
}

/** Resident set size (bytes) of a process from /proc. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
