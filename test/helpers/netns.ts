// Network namespaces owned by one test process: `rrt-<pid>-<random>`, deleted when the process exits, and
// swept by a later run if the process died without cleaning up (its pid no longer alive). A namespace has its
// own loopback, addresses, ports and kernel counters (/proc/net/netstat), so nothing else on the host can
// change what a test observes there.
import { randomBytes } from 'node:crypto';
import { runChild } from './child.js';

const IP = '/usr/sbin/ip';
const PREFIX = 'rrt-';
const owned = new Set<string>();
let hooked = false;

function run(...args: string[]): string {
  const r = runChild(IP, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes namespaces left by test processes that are gone. */
function sweep(): void {
  for (const line of run('netns', 'list').split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = /^rrt-(\d+)-[0-9a-f]+$/.exec(name);
    if (m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]))) runChild(IP, ['netns', 'del', name], { timeout: 10_000 });
  }
}

export interface Netns {
  readonly name: string;
  /** Runs a command inside (synchronously), returning its stdout; throws on a non-zero status. */
  exec(cmd: string, ...args: string[]): string;
  /** Removes the namespace (its processes should be stopped first). */
  remove(): void;
}

/** A fresh namespace with its loopback up (127/8 and ::1 usable at once). */
export function createNetns(): Netns {
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const n of owned) runChild(IP, ['netns', 'del', n], { timeout: 10_000 });
    });
  }
  sweep();
  const name = `${PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`;
  run('netns', 'add', name);
  owned.add(name);
  run('-n', name, 'link', 'set', 'lo', 'up');
  return {
    name,
    exec: (cmd, ...args) => run('netns', 'exec', name, cmd, ...args),
    remove: () => {
      runChild(IP, ['netns', 'del', name], { timeout: 10_000 });
      owned.delete(name);
    },
  };
}
