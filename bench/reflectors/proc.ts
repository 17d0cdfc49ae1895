// Processes of the reflectors under test: spawn with a log tail, wait until the BGP port listens,
// read CPU seconds and RSS from /proc, and kill everything we started when the runner exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { RunningReflector } from './types.js';

const live = new Set<ChildProcess>();
process.on('exit', () => { for (const c of live) c.kill('SIGKILL'); });
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    for (const c of live) c.kill('SIGKILL');
    process.exit(130);
  });
}

const CLK_TCK = 100; // getconf CLK_TCK on Linux/x86-64 and arm64

export interface ProcStats {
  cpuSec: number; // utime + stime of the process (all its threads)
  rssKb: number; // VmRSS
  hwmKb: number; // VmHWM: peak RSS since start
}

/** Sum over the processes of one reflector (peak RSS summed too: an upper bound of the joint peak). */
export function procStatsAll(pids: number[]): ProcStats {
  const all = pids.map(procStats);
  return { cpuSec: all.reduce((a, x) => a + x.cpuSec, 0), rssKb: all.reduce((a, x) => a + x.rssKb, 0), hwmKb: all.reduce((a, x) => a + x.hwmKb, 0) };
}

export function procStats(pid: number): ProcStats {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSec = (Number(f[11]) + Number(f[12])) / CLK_TCK; // fields 14 and 15, counted from after "(comm)"
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { cpuSec, rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

function ipv6Bytes(s: string): number[] {
  const [head, tail] = s.includes('::') ? s.split('::') as [string, string] : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16));
  return groups.flatMap((g) => [g >> 8, g & 255]);
}

/** /proc/net/tcp{,6} spelling of addr:port and of the wildcard address on that port. */
function hexAddrPort(addr: string, port: number): string[] {
  const p = port.toString(16).padStart(4, '0').toUpperCase();
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16).padStart(2, '0')).join('').toUpperCase();
  if (addr.includes(':')) {
    const b = ipv6Bytes(addr);
    // four 32-bit words, each in host (little-endian) order
    const words = [0, 4, 8, 12].map((i) => hex([b[i + 3]!, b[i + 2]!, b[i + 1]!, b[i]!])).join('');
    return [`${words}:${p}`, `${'0'.repeat(32)}:${p}`];
  }
  const b = addr.split('.').map(Number);
  return [`${hex([b[3]!, b[2]!, b[1]!, b[0]!])}:${p}`, `00000000:${p}`];
}

/**
 * True when some socket listens on addr:port (or the wildcard address) — read from /proc, no probing.
 * With a pid, the table of that process's network namespace is read.
 */
export function isListening(addr: string, port: number, pid?: number): boolean {
  const want = hexAddrPort(addr, port);
  const table = addr.includes(':') ? 'tcp6' : 'tcp';
  for (const file of [pid ? `/proc/${pid}/net/${table}` : `/proc/net/${table}`]) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && want.includes(cols[1]!)) return true;
    }
  }
  return false;
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timeout after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface StartOptions {
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  listen: { address: string; port: number };
  readyTimeoutMs?: number;
  netns?: string; // run inside this network namespace (ip netns exec; the pid stays the daemon's)
}

/** Starts a foreground daemon and resolves once its BGP port listens. */
export async function startDaemon(o: StartOptions): Promise<RunningReflector> {
  if (!o.netns && isListening(o.listen.address, o.listen.port)) throw new Error(`${o.listen.address}:${o.listen.port} is already in use`);
  const [cmd, args] = o.netns ? ['ip', ['netns', 'exec', o.netns, o.cmd, ...o.args]] : [o.cmd, o.args];
  // Only PATH unless the caller says more: the shell's MAX_PREFIXES or NODE_OPTIONS must not reach a measured daemon.
  const child = spawn(cmd, args, { env: o.env ?? { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' }, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let tail = '';
  const keep = (d: Buffer): void => { tail = (tail + d.toString()).slice(-4000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  const gone = new Promise<void>((r) => child.on('exit', () => { exited = true; live.delete(child); r(); }));
  child.on('error', (e) => { tail += `\nspawn error: ${e.message}`; });
  const running: RunningReflector = {
    pids: [child.pid ?? -1],
    logTail: () => tail,
    stop: async () => {
      if (exited) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 6000); // ours stops gracefully within 5 s (and then writes --cpu-prof)
      await gone;
      clearTimeout(t);
    },
  };
  try {
    await waitFor(() => exited || isListening(o.listen.address, o.listen.port, child.pid), o.readyTimeoutMs ?? 15000, `${o.cmd} to listen on ${o.listen.address}:${o.listen.port}`);
    if (exited) throw new Error(`${o.cmd} exited during start-up: ${tail.slice(-1500)}`);
  } catch (e) {
    await running.stop();
    throw e;
  }
  return running;
}

/** Runs several daemons as one reflector (BIRD 1.6: bird for IPv4 plus bird6 for IPv6). */
export function combine(parts: RunningReflector[]): RunningReflector {
  return {
    pids: parts.flatMap((p) => p.pids),
    stop: async () => { await Promise.all(parts.map((p) => p.stop())); },
    logTail: () => parts.map((p) => p.logTail()).join('\n'),
  };
}

export function which(path: string): boolean {
  return existsSync(path);
}
