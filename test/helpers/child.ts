// Child processes of the tests: exactly the environment the test gives (never the caller's shell), and tied
// to the test worker's life.
//
// * Environment: PATH (a fixed system path plus the directory of the running node) and whatever the test
//   passes, nothing else, so MAX_PREFIXES, IP6, ETCD_*, NODE_OPTIONS or BIRD_TIMEFORMAT in the caller's shell
//   change no result.
// * Lifetime: each child runs under `setpriv --pdeathsig KILL` (util-linux), so the kernel kills it when the
//   worker dies, even by SIGKILL; on a normal exit of the worker the children still alive are killed too.
import { spawn, type ChildProcess, type SpawnOptions, type StdioOptions } from 'node:child_process';
import path from 'node:path';

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

/** Starts `cmd args` as a child owned by this worker (see the header). */
export function spawnChild(cmd: string, args: readonly string[], o: ChildOptions = {}): ChildProcess {
  if (!hooked) {
    hooked = true;
    process.once('exit', killAll);
  }
  const inner = o.netns !== undefined ? ['ip', 'netns', 'exec', o.netns, cmd, ...args] : [cmd, ...args];
  const opts: SpawnOptions = { env: childEnv(o.env), stdio: o.stdio ?? ['ignore', 'pipe', 'pipe'] };
  if (o.cwd !== undefined) opts.cwd = o.cwd;
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', ...inner], opts);
  alive.add(child);
  child.once('exit', () => alive.delete(child));
  return child;
}

/** Arguments that run a TypeScript file of this repository with the node running the tests. */
export function nodeTs(file: string, ...args: string[]): [string, string[]] {
  return [process.execPath, ['--import=tsx', file, ...args]];
}
