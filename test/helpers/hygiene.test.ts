// The suite's own hygiene: no test hands the caller's environment to a child, every child goes through
// test/helpers/child.ts, and a representative end-to-end test file still passes when run from a shell whose
// environment would change the reflector's behaviour if it leaked through.
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnChild } from './child.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|mts|js|mjs)$/.test(e)) out.push(p);
  }
  return out;
}

const FILES = [...sources(path.join(ROOT, 'test')), path.join(ROOT, 'scripts/demo.ts')];
const rel = (p: string): string => path.relative(ROOT, p);

/** Lines that pass the whole of process.env on: spread, assigned as an env, or a default parameter. */
const WHOLE_ENV = [/\.\.\.\s*process\.env\b/, /\benv\s*:\s*process\.env\b(?!\s*\.)/, /=\s*process\.env\s*[,)]/];

test('no test file spreads or passes process.env into a child environment', (t) => {
  const bad: string[] = [];
  for (const f of FILES) {
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      if (WHOLE_ENV.some((re) => re.test(line))) bad.push(`${rel(f)}:${i + 1}: ${line.trim()}`);
    });
  }
  t.deepEqual(bad, []);
  // The check can fail: it sees the patterns it is meant to catch.
  const whole = ['process', 'env'].join('.');
  t.true(WHOLE_ENV[0]!.test(`env: { ...${whole}, IP }`));
  t.true(WHOLE_ENV[1]!.test(`spawn(c, a, { env: ${whole} })`));
  t.true(WHOLE_ENV[2]!.test(`function f(env = ${whole}) {}`));
  t.false(WHOLE_ENV.some((re) => re.test('const n = Number(process.env.WIRE_PROPERTY_RUNS ?? 1);')));
});

test('only test/helpers/child.ts starts children (spawn, spawnSync, execFile, exec, fork)', (t) => {
  const valueImport = /^import\s+(?!type\b)[^;]*from\s+'(node:)?child_process'/m;
  const bad = FILES.filter((f) => !f.endsWith(path.join('test', 'helpers', 'child.ts')) && valueImport.test(readFileSync(f, 'utf8'))).map(rel);
  // scripts/demo.ts is a user-facing script (not under test/): it may spawn, but with an explicit env (above).
  t.deepEqual(bad.filter((f) => f !== 'scripts/demo.ts'), []);
  t.true(valueImport.test("import { spawn, type ChildProcess } from 'node:child_process';"));
  t.false(valueImport.test("import type { ChildProcess } from 'node:child_process';"));
});

// A shell that would change results if its environment reached the reflector or BIRD: one prefix per peer,
// an IPv6 address to bind, an etcd that is not there, a 16 MB heap, another time format, no logs.
const HOSTILE = {
  MAX_PREFIXES: '1',
  IP6: 'fd00::1',
  ETCD_ENDPOINTS: 'http://127.0.0.1:1',
  DATASTORE_TYPE: 'etcdv3',
  NODE_OPTIONS: '--max-old-space-size=16',
  BIRD_TIMEFORMAT: 'old long',
  LOG_LEVEL: 'silent',
};

test('an end-to-end test file (reflector + BIRD 2 + BIRD 1.6) passes under a hostile parent environment', async (t) => {
  const file = 'test/reflector/mesh-bird.test.ts';
  // ava's own process and its worker run with the hostile environment; the children they start must see none of it.
  const child = spawnChild('npx', ['ava', file], { cwd: ROOT, env: HOSTILE });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  t.is(code, 0, out.slice(-4000));
  t.regex(out, /\d+ tests? passed/);
  t.notRegex(out, /\d+ tests? failed/);
});

test('the reflector itself dies under that environment (the hostile settings do bite when passed on)', async (t) => {
  // Without this, the test above would also pass if the hostile values were harmless.
  const child = spawnChild(process.execPath, ['--import=tsx', 'src/main.ts'], { cwd: ROOT, env: { ...HOSTILE, IP: '127.0.0.1' } });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  t.not(code, 0, out.slice(-2000));
});
