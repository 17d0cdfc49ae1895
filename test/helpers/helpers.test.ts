// The test helpers' own promises: claimed loopback blocks are exclusive, children get only the env given
// and die with their parent even when it is SIGKILLed.
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { claimLoopbackNet, freePort } from './net.js';
import { childEnv, spawnChild } from './child.js';
import { until } from './until.js';

test('two claims in one process get different blocks, and hosts stay inside them', async (t) => {
  const a = await claimLoopbackNet();
  const b = await claimLoopbackNet();
  t.not(a.prefix, b.prefix);
  t.regex(a.host(1), /^127\.\d+\.\d+\.1$/);
  t.throws(() => a.host(250));
  t.true((await freePort(a.host(1))) > 0);
});

test('a child sees PATH and what the test passes, not the caller\'s environment', async (t) => {
  process.env.MAX_PREFIXES = '7';
  const c = spawnChild('env', [], { env: { ONLY: 'this' } });
  let out = '';
  c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => c.once('exit', r));
  delete process.env.MAX_PREFIXES;
  const keys = out.trim().split('\n').map((l) => l.split('=')[0]).sort();
  t.deepEqual(keys, ['ONLY', 'PATH']);
  t.deepEqual(Object.keys(childEnv({ A: '1', B: undefined })).sort(), ['A', 'PATH']);
});

test('a grandchild started by spawnChild dies when its parent is SIGKILLed', async (t) => {
  // The parent is a node process that starts `sleep` through spawnChild and prints its pid.
  const script = `import { spawnChild } from ${JSON.stringify(new URL('./child.ts', import.meta.url).pathname)};
const c = spawnChild('sleep', ['60']); c.once('spawn', () => console.log(c.pid));`;
  const parent = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const pid = await until('the grandchild pid', () => (/^\d+$/m.test(out) ? Number(out.trim()) : undefined), 20_000, 50);
  t.is(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'sleep');
  parent.kill('SIGKILL');
  await until('the grandchild to die', () => {
    try {
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2];
      return state === 'Z' ? true : undefined;
    } catch {
      return true;
    }
  }, 10_000, 50);
  t.pass();
});
