// Self-containment: nothing the code, tests, benchmarks, scripts or CI read may live outside the repository
// (a fresh clone has nothing beside it). Scans the text of those files for paths that leave the checkout.

import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from './helpers/child.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCANNED_DIRS = ['src', 'test', 'bench', 'scripts', '.ci', 'native'];
const SCANNED_FILES = ['package.json', 'Dockerfile', 'tsconfig.json', 'tsconfig.test.json'];
/** Files whose text is code or configuration; captured daemon output (.txt, .raw, .cmd, .conf …) is data. */
const CODE = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.sh', '.json', '.gyp', '.cc', '.c', '.h', '.py', '.yaml', '.yml', '.md']);
const SKIP_DIRS = new Set(['node_modules', 'build', 'dist', '.git']);

interface Finding {
  file: string;
  line: number;
  text: string;
  why: string;
}

function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) yield* walk(join(dir, e.name));
    } else if (e.isFile()) {
      yield join(dir, e.name);
    }
  }
}

/** A file under scripts/ or .ci/ without an extension is a script (e.g. .ci/run). */
function isCode(path: string): boolean {
  const ext = extname(path);
  if (CODE.has(ext)) return true;
  return ext === '' && (path.includes(`${sep}.ci${sep}`) || path.includes(`${sep}scripts${sep}`));
}

/** Paths in `text` (the file at `file`) that point outside `root`. */
function outsideReferences(root: string, file: string, text: string): Finding[] {
  const found: Finding[] = [];
  const lines = text.split('\n');
  const markdown = extname(file) === '.md';
  lines.forEach((l, i) => {
    const add = (why: string): void => void found.push({ file: relative(root, file), line: i + 1, text: l.trim(), why });
    // A relative path climbing out of the checkout, resolved from the file's own folder (as import.meta.url
    // and `$(dirname "$0")` resolve it) and from the repository root (as a process started there would).
    for (const m of l.matchAll(/(?<![\w.])((?:\.\.\/)+)([\w.@-]*)/g)) {
      const rel = m[1]! + m[2]!;
      const fromFile = relative(root, resolve(dirname(file), rel));
      const fromRoot = relative(root, resolve(root, rel));
      if (fromFile.startsWith('..') && fromRoot.startsWith('..')) add(`${rel} leaves the repository`);
      else if (fromRoot.startsWith('..') && /^(\.\.\/)+shared\b/.test(rel)) add(`${rel} is the notes folder beside the checkout`);
    }
    // The notes folder by absolute path, or by name outside documentation (READMEs may name provenance).
    if (/\/work\/(shared|main|wt)\b/.test(l)) add('absolute path to this machine\'s folders');
    if (!markdown && /\bshared\/(fixtures|tools)\b/.test(l)) add('names the notes folder shared/');
  });
  return found;
}

test('no file under src/ test/ bench/ scripts/ .ci/ or package.json reads a path outside the repository', (t) => {
  const files: string[] = [];
  for (const d of SCANNED_DIRS) {
    const abs = join(ROOT, d);
    try {
      if (statSync(abs).isDirectory()) files.push(...[...walk(abs)].filter(isCode));
    } catch {
      // A folder the repository does not have is simply not scanned.
    }
  }
  for (const f of SCANNED_FILES) files.push(join(ROOT, f));
  t.true(files.length > 100, `scanned ${files.length} files`);
  t.true(files.some((f) => f.endsWith(join('test', 'control', 'lab.ts'))));
  const findings = files.flatMap((f) => outsideReferences(ROOT, f, readFileSync(f, 'utf8')));
  t.deepEqual(findings, [], findings.map((f) => `${f.file}:${f.line}: ${f.why}: ${f.text}`).join('\n'));
});

// The check itself can fail: the line that crashed fresh clones, and its look-alikes, are caught. The samples are
// assembled from parts so that this file's own text passes the scan above.
test('the scan flags paths that leave the checkout and passes ones that stay inside', (t) => {
  const up = (n: number): string => '../'.repeat(n);
  const notes = ['shared', 'fixtures', 'bird', ''].join('/');
  const lab = join(ROOT, 'test', 'control', 'lab.ts');
  const flagged = (text: string, file = lab): string[] => outsideReferences(ROOT, file, text).map((f) => f.why);
  // The old lab.ts line: climbs out of the checkout, and names the notes folder.
  t.is(flagged(`export const FIXTURES = new URL('${up(3)}${notes}', import.meta.url).pathname;`).length, 2);
  // From bench/ one level up is still inside, but a process started in the root would read beside the checkout.
  t.deepEqual(flagged(`readFileSync('${up(1)}shared/anchors.md')`, join(ROOT, 'bench', 'run.ts')), [`${up(1)}shared is the notes folder beside the checkout`]);
  t.is(flagged(`cat /${['work', 'shared'].join('/')}/design.md`, join(ROOT, '.ci', 'run')).length, 1);
  t.is(flagged(`cp ${up(2)}outside.txt .`, join(ROOT, 'scripts', 'x.sh')).length, 1);
  t.deepEqual(flagged(`import { x } from '${up(2)}src/control/model.js';`), []);
  t.deepEqual(flagged(`new URL('${up(1)}fixtures/bird/', import.meta.url)`), []);
  t.deepEqual(flagged('cd "$(dirname "$0")/.."', join(ROOT, '.ci', 'run')), []);
  // A README may say where its data came from.
  t.deepEqual(flagged(`Copied from the notes (\`${notes}\`).`, join(ROOT, 'test', 'fixtures', 'bird', 'README.md')), []);
});

// `.ci/run` proves the README's promise only if it runs the README's command.
test('.ci/run runs exactly the README\'s test command', (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /Run the whole test suite[\s\S]*?```sh\n([^\n]+)\n```/.exec(readme);
  const ci = /^TEST_COMMAND='([^']+)'$/m.exec(readFileSync(join(ROOT, '.ci', 'run'), 'utf8'));
  t.truthy(block, 'the README has a test command block');
  t.truthy(ci, '.ci/run has a TEST_COMMAND line');
  t.is(ci?.[1], block?.[1]);
  t.regex(block?.[1] ?? '', /npm ci && npm test$/, 'one command from a fresh clone: npm test builds what it needs');
});

// A fixture the tests read but git ignores exists only in the checkout it was copied into.
test('no fixture file is ignored by git (a clone has every file the tests read)', (t) => {
  const r = runChild('git', ['ls-files', '--others', '--ignored', '--exclude-standard', '--', 'test', 'proto-fixtures'], { cwd: ROOT, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.deepEqual(r.stdout.split('\n').filter((l) => l !== ''), []);
});
