// The network namespace the harness makes for IPv6 runs: loopback up, the reflector's and every client's
// IPv6 address on lo (127/8 is local there as everywhere). Removed at the end of the run, or at exit.
import { execFileSync } from 'node:child_process';

const made = new Set<string>();
process.on('exit', () => { for (const n of made) deleteNetns(n); });

export function createNetns(name: string, addrs6: string[]): void {
  execFileSync('ip', ['netns', 'add', name]);
  made.add(name);
  const lines = ['link set lo up', ...addrs6.map((a) => `addr add ${a}/128 dev lo nodad`)];
  execFileSync('ip', ['-n', name, '-batch', '-'], { input: lines.join('\n') + '\n' });
}

export function deleteNetns(name: string): void {
  made.delete(name);
  try {
    execFileSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}
