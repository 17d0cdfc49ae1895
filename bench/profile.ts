// Reads a V8 .cpuprofile (node --cpu-prof) and lists the functions with the most self time: the
// "where does the time go" note for any workload where our reflector misses its target.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  name: string; // function (file:line)
  selfMs: number;
  share: number; // of the busy (non-idle) sampled time
}

export function topFunctions(file: string, n = 10): HotFunction[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const cf = byId.get(id)!.callFrame;
    const key = `${cf.functionName || '(anonymous)'} (${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1})`;
    const dt = p.timeDeltas[i] ?? 0;
    if (cf.functionName === '(idle)') return;
    total += dt;
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([name, us]) => ({ name, selfMs: us / 1000, share: total ? us / total : 0 }));
}

/**
 * The main-thread profile of the newest process in a directory, if any. Under tsx, Node writes one file per
 * thread (the loader's worker too: CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile); the main thread's
 * is the largest of that pid's files.
 */
export function newestProfile(dir: string): string | undefined {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => ({ f: join(dir, f), st: statSync(join(dir, f)) }));
  if (!files.length) return undefined;
  const newest = files.reduce((a, b) => (b.st.mtimeMs > a.st.mtimeMs ? b : a));
  const pid = newest.f.split('.').at(-4);
  const same = files.filter((x) => x.f.split('.').at(-4) === pid);
  return same.reduce((a, b) => (b.st.size > a.st.size ? b : a)).f;
}

export function renderTop(fns: HotFunction[]): string {
  return fns.map((f, i) => `${String(i + 1).padStart(2)}. ${f.selfMs.toFixed(1).padStart(9)} ms ${(100 * f.share).toFixed(1).padStart(5)}%  ${f.name}`).join('\n');
}
