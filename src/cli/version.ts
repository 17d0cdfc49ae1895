// The package version for the bins' --version: read from the package.json two directories up, which is the
// package root both from src/cli/ (tsx) and from dist/cli/ (built), in the repository and in the image.
import { readFileSync } from 'node:fs';

function packageField(field: 'name' | 'version'): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const v = pkg[field];
    return typeof v === 'string' ? v : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function packageVersion(): string {
  return packageField('version');
}

/** The package's name: what the daemon's --version prints before the version (the bins print their own name). */
export function packageName(): string {
  return packageField('name');
}
