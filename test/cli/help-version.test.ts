// --help and --version of the package's bins (package.json "bin"), run as processes: help goes to stdout
// with exit 0 and names every option the bin parses; --version prints the version package.json declares.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from '../helpers/child.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };

/** The bin's source (dist/cli/x.js -> src/cli/x.ts), run through tsx: the test needs no build. */
function run(bin: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const src = join(ROOT, pkg.bin[bin]!.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'));
  const r = runChild(process.execPath, ['--import=tsx', src, ...args], { cwd: ROOT, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

const options: Record<string, string[]> = {
  'bgp-decode': ['--as2', '--add-path', '--max-length', '--context', '--help', '--version', 'pcapng'],
  'rr-ctl': ['-s', '-6', '--help', '--version', 'SOCKET_DIR'],
};

test('every bin in package.json is covered here', (t) => {
  t.deepEqual(Object.keys(pkg.bin).sort(), Object.keys(options).sort());
});

for (const bin of Object.keys(options)) {
  test(`${bin} --help: usage on stdout, exit 0, every option named`, (t) => {
    for (const flag of ['--help', '-h']) {
      const r = run(bin, [flag]);
      t.is(r.status, 0);
      t.is(r.stderr, '');
      t.true(r.stdout.startsWith(`usage: ${bin} `));
      for (const o of options[bin]!) t.true(r.stdout.includes(o), `${bin} --help mentions ${o}`);
    }
  });

  test(`${bin} --version prints package.json's version, exit 0`, (t) => {
    const r = run(bin, ['--version']);
    t.is(r.status, 0);
    t.is(r.stdout, `${bin} ${pkg.version}\n`);
  });

  test(`${bin} with an unknown option: exit 2, the option named on stderr`, (t) => {
    const r = run(bin, ['--no-such-option']);
    t.is(r.status, 2);
    t.regex(r.stderr, new RegExp(`^${bin}: unknown option --no-such-option`));
    t.is(r.stdout, '');
  });
}
