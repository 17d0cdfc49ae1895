// The package version for the bins' --version: read from the package.json two directories up, which is the
// package root both from src/cli/ (tsx) and from dist/cli/ (built), in the repository and in the image.
import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
