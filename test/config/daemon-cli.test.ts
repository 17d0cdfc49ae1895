// The built daemon's command line, run as the image runs it (`node dist/main.js`) with an exact environment:
// a bad variable is one stderr line naming it (validated before the logger starts: no pino stack trace);
// --help prints every variable with the README's default and starts nothing; --version prints package.json's.
import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnChild } from '../helpers/child.js';
import { ensureBuilt } from '../helpers/build.js';
import { claimLoopbackNet, freePort } from '../helpers/net.js';
import { until } from '../helpers/until.js';
import { perVariableDefaults, readmeVariableRows } from './readme-tables.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = path.join(ROOT, 'dist/main.js');


// What ships is the compiled output; build it when src/ is newer.
test.before(ensureBuilt);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs dist/main.js to its end (bounded: a daemon that does not exit is killed and fails the assertion on code). */
function run(args: string[], env: Record<string, string>, timeoutMs = 15_000): Promise<Run> {
  const child = spawnChild(process.execPath, [MAIN, ...args], { env, cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function daemonEnv(): Promise<{ env: Record<string, string>; sockets: string }> {
  const net = await claimLoopbackNet();
  const ip = net.host(1);
  const sockets = mkdtempSync(path.join(os.tmpdir(), 'rr-cli-'));
  const ds = path.join(sockets, 'ds.json');
  const env = {
    IP: ip, BGP_PORT: String(await freePort(ip)), DATASTORE_TYPE: 'file', DATASTORE_FILE: ds,
    SOCKET_DIR: sockets, METRICS_LISTEN: `${ip}:${await freePort(ip)}`, LOG_FORMAT: 'json',
  };
  return { env, sockets };
}

test('LOG_LEVEL=loud: one line naming LOG_LEVEL on stderr, exit 2, no stack trace, nothing on stdout', async (t) => {
  const { env, sockets } = await daemonEnv();
  const r = await run([], { ...env, LOG_LEVEL: 'loud' });
  t.is(r.code, 2);
  t.is(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  t.is(lines[0], 'configuration error: LOG_LEVEL: "loud" is not one of fatal, error, warn, info, debug, trace, silent');
  t.is(lines[1], 'not starting (see --help)');
  t.is(lines.length, 2, r.stderr);
  t.notRegex(r.stderr, /^\s+at /m, 'no stack trace');
  t.deepEqual(readdirSync(sockets), [], 'no control socket, no datastore file');
});

test('several bad variables of different areas: one line each, then exit 2', async (t) => {
  const { env } = await daemonEnv();
  const r = await run([], { ...env, LOG_LEVEL: 'loud', MAX_PREFIXES: 'many', GRACEFUL_RESTART_TIME: '9999', IP6: '10.0.0.1' });
  t.is(r.code, 2);
  const named = r.stderr.split('\n').filter((l) => l.startsWith('configuration error: ')).map((l) => l.split(':')[1]?.trim());
  t.deepEqual(named, ['IP6', 'LOG_LEVEL', 'MAX_PREFIXES', 'GRACEFUL_RESTART_TIME']);
});

test('--help: every README variable with its README default, exit 0, the daemon not started', async (t) => {
  const { env, sockets } = await daemonEnv();
  const r = await run(['--help'], env);
  t.is(r.code, 0);
  t.is(r.stderr, '');
  t.regex(r.stdout, /^usage: /);
  // "  NAME   description" then "         default: text"; the README (Markdown) is the oracle, code spans unquoted.
  const help = new Map<string, string>();
  const lines = r.stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^ {2}([A-Z][A-Z0-9_]+) {2,}\S/.exec(lines[i] ?? '');
    const d = /^ +default: (.*)$/.exec(lines[i + 1] ?? '');
    if (m?.[1] !== undefined && d?.[1] !== undefined) help.set(m[1], d[1]);
  }
  let checked = 0;
  for (const row of readmeVariableRows()) {
    for (const [name, text] of perVariableDefaults(row) ?? new Map<string, string>()) {
      t.is(help.get(name), text.replace(/`/g, ''), `--help default of ${name} (README.md:${row.line})`);
      checked++;
    }
  }
  t.true(checked >= 30, `${checked} variables checked`);
  t.is(help.size, checked, 'no variable in --help that the README does not document');
  t.deepEqual(readdirSync(sockets), [], '--help created no control socket and no datastore file');

  // The contrast: the same environment without --help does start (control socket appears), and stops on SIGTERM.
  const child = spawnChild(process.execPath, [MAIN], { env, cwd: ROOT });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  await until('bird.ctl created', () => (existsSync(path.join(sockets, 'bird.ctl')) ? true : undefined), 15_000);
  child.kill('SIGTERM');
  t.is(await exited, 0);
});

test('--version prints the name and version of package.json and exits 0', async (t) => {
  const { env, sockets } = await daemonEnv();
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const r = await run(['--version'], env);
  t.is(r.code, 0);
  t.is(r.stdout, `${pkg.name} ${pkg.version}\n`);
  t.is(r.stderr, '');
  t.deepEqual(readdirSync(sockets), []);
});

test('an unknown argument is refused (exit 2) rather than ignored', async (t) => {
  const { env } = await daemonEnv();
  const r = await run(['--hepl'], env);
  t.is(r.code, 2);
  t.regex(r.stderr, /unknown argument "--hepl".*--help/);
});
