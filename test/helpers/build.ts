// The compiled output (dist/) that the image runs, for the tests that run it: fresh when newer than every
// source, built on demand when a test file runs on its own (`npx ava FILE` skips npm test's build).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from './child.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Newest modification time of any file under a folder. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Whether every one of these dist/ files exists and is newer than every file under src/. */
export function distFresh(...files: string[]): boolean {
  const src = newest(path.join(ROOT, 'src'));
  return files.every((f) => {
    const p = path.join(ROOT, f);
    return existsSync(p) && statSync(p).mtimeMs >= src;
  });
}

/** Builds dist/ (scripts/build.sh) unless dist/main.js is fresh. */
export function ensureBuilt(): void {
  if (distFresh('dist/main.js')) return;
  const r = runChild('sh', ['scripts/build.sh'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
}
