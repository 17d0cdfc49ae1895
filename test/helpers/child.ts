// Child processes of the tests: exactly the environment the test gives (never the caller's shell), and tied
// to the test worker's life.
//
// * Environment: PATH (a fixed system path plus the directory of the running node) and whatever the test
//   passes, nothing else, so MAX_PREFIXES, IP6, ETCD_*, NODE_OPTIONS or BIRD_TIMEFORMAT in the caller's shell
//   change no result.
// * Lifetime: each child runs under `setpriv --pdeathsig KILL` (util-linux), so the kernel kills it when the
//   worker dies, even by SIGKILL; on a normal exit of the worker the children still alive are killed too.
// spawnChild starts a long-running child; runChild (like spawnSync) and execChild (like a promisified execFile)
// run a command to its end under the same rules.
import { execFile, spawn, spawnSync, type ChildProcess, type SpawnOptions, type SpawnSyncReturns, type StdioOptions } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

export const SYSTEM_PATH = `${path.dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

export interface ChildOptions {
  /** The child's whole environment besides PATH (which may be overridden here too). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  stdio?: StdioOptions;
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
}

const alive = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const c of alive) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** The environment a child gets: PATH plus exactly `extra` (undefined values left out). */
export function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: SYSTEM_PATH };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** The argument vector of `setpriv` that runs `cmd args` (in `netns` if given) and dies with this process. */
function owned(cmd: string, args: readonly string[], netns: string | undefined): string[] {
  const inner = netns !== undefined ? ['ip', 'netns', 'exec', netns, cmd, ...args] : [cmd, ...args];
  return ['--pdeathsig', 'KILL', '--', ...inner];
}

/** Starts `cmd args` as a child owned by this worker (see the header). */
export function spawnChild(cmd: string, args: readonly string[], o: ChildOptions = {}): ChildProcess {
  if (!hooked) {
    hooked = true;
    process.once('exit', killAll);
  }
  const opts: SpawnOptions = { env: childEnv(o.env), stdio: o.stdio ?? ['ignore', 'pipe', 'pipe'] };
  if (o.cwd !== undefined) opts.cwd = o.cwd;
  const child = spawn('setpriv', owned(cmd, args, o.netns), opts);
  alive.add(child);
  child.once('exit', () => alive.delete(child));
  return child;
}

/** Arguments that run a TypeScript file of this repository with the node running the tests. */
export function nodeTs(file: string, ...args: string[]): [string, string[]] {
  return [process.execPath, ['--import=tsx', file, ...args]];
}

export interface RunOptions extends ChildOptions {
  input?: string | Buffer;
  /** Milliseconds before the child is killed (SIGKILL for runChild, SIGTERM for execChild). */
  timeout?: number;
  maxBuffer?: number;
  encoding?: 'utf8' | 'buffer';
}

/**
 * Runs `cmd args` to completion (spawnSync) with the same environment and lifetime rules as spawnChild: a
 * child a worker killed mid-call would otherwise outlive it.
 */
export function runChild(cmd: string, args: readonly string[], o: RunOptions & { encoding: 'utf8' }): SpawnSyncReturns<string>;
export function runChild(cmd: string, args: readonly string[], o?: RunOptions): SpawnSyncReturns<Buffer>;
export function runChild(cmd: string, args: readonly string[], o: RunOptions = {}): SpawnSyncReturns<string | Buffer> {
  return spawnSync('setpriv', owned(cmd, args, o.netns), {
    env: childEnv(o.env),
    ...(o.cwd !== undefined ? { cwd: o.cwd } : {}),
    ...(o.stdio !== undefined ? { stdio: o.stdio } : {}),
    ...(o.input !== undefined ? { input: o.input } : {}),
    ...(o.timeout !== undefined ? { timeout: o.timeout, killSignal: 'SIGKILL' as const } : {}),
    maxBuffer: o.maxBuffer ?? 1 << 26,
    encoding: o.encoding ?? 'buffer',
  });
}

const execFileP = promisify(execFile);

/**
 * Runs `cmd args` asynchronously (like promisified execFile: resolves to {stdout, stderr}, rejects on a
 * non-zero exit with `code`, `stdout` and `stderr` on the error), with spawnChild's environment and lifetime.
 */
export async function execChild(cmd: string, args: readonly string[], o: Omit<RunOptions, 'input' | 'stdio' | 'encoding'> = {}): Promise<{ stdout: string; stderr: string }> {
  return execFileP('setpriv', owned(cmd, args, o.netns), {
    env: childEnv(o.env),
    encoding: 'utf8',
    maxBuffer: o.maxBuffer ?? 1 << 26,
    ...(o.cwd !== undefined ? { cwd: o.cwd } : {}),
    ...(o.timeout !== undefined ? { timeout: o.timeout } : {}),
  });
}

/** A daemon a test started: its output kept for assertions, stopped (and its folder removed) in cleanup. */
export interface OwnedDaemon {
  name: string;
  proc: ChildProcess;
  /** The daemon's own folder (config, sockets, pid file). */
  dir: string;
  /** The last OUTPUT_KEEP_BYTES or so of stdout and stderr together. */
  output: () => string;
  alive: () => boolean;
  exited: Promise<void>;
  /**
   * Stops it: SIGCONT first (a SIGSTOPped daemon takes no other signal), then `signal` (default SIGKILL),
   * SIGKILL after 5 s if it is still there; removes `dir` when the daemon was started with removeDir.
   */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

const OUTPUT_KEEP_BYTES = 4_000_000;

/** Collects a child's stdout and stderr (the last 2–4 MB) for assertions on its log. */
export function keepOutput(proc: ChildProcess): () => string {
  let out = '';
  const keep = (d: Buffer): void => {
    out += d.toString();
    if (out.length > OUTPUT_KEEP_BYTES) out = out.slice(-OUTPUT_KEEP_BYTES / 2);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return () => out;
}

/** Starts a daemon owned by this worker (spawnChild) whose files live in `dir`; it runs in `o.cwd ?? dir`. */
export function startDaemon(name: string, cmd: string, args: readonly string[], dir: string, o: ChildOptions & { removeDir?: boolean } = {}): OwnedDaemon {
  const proc = spawnChild(cmd, args, { ...o, cwd: o.cwd ?? dir });
  const output = keepOutput(proc);
  const alive = (): boolean => proc.exitCode === null && proc.signalCode === null;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    name, proc, dir, output, alive, exited,
    stop: async (signal: NodeJS.Signals = 'SIGKILL') => {
      if (alive()) {
        proc.kill('SIGCONT');
        proc.kill(signal);
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      if (o.removeDir === true) rmSync(dir, { recursive: true, force: true });
    },
  };
}
