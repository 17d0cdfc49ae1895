// The test helpers' own promises: claimed loopback blocks are exclusive, children get only the env given
// and die with their parent even when it is SIGKILLed.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
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
  const parent = spawnChild(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  parent.stdout?.on('data', (d: Buffer) => (out += d.toString()));
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

test('a daemon left listening on an earlier claim (its claimer killed) does not block a new claim', async (t) => {
  // The earlier run: a process that claims a block, starts a "daemon" on its .1:179 and is then SIGKILLed.
  // Its sentinel goes with it; the daemon (here a listener of this worker, standing for one that escaped) stays.
  const script = `import { claimLoopbackNet } from ${JSON.stringify(new URL('./net.ts', import.meta.url).pathname)};
const n = await claimLoopbackNet(); console.log(n.prefix); setInterval(() => undefined, 1000);`;
  const earlier = spawnChild(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  earlier.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const prefix = await until('the earlier claim', () => /^(127\.\d+\.\d+)$/m.exec(out)?.[1], 20_000, 50);
  // While the earlier claimer lives, its block is passed over.
  t.not((await claimLoopbackNet({ prefixes: [prefix] })).prefix, prefix);
  const daemon = createServer((s) => s.destroy());
  await new Promise<void>((r) => daemon.listen(179, `${prefix}.1`, () => r()));
  earlier.kill('SIGKILL');
  await new Promise((r) => earlier.once('exit', r));
  try {
    // The same block is drawn first: the new claim passes over it (the daemon is still there) and draws again.
    const next = await claimLoopbackNet({ prefixes: [prefix] });
    t.not(next.prefix, prefix);
    // And the new run's own daemons bind where the leftover would have been in the way.
    const own = createServer();
    await new Promise<void>((resolve, reject) => {
      own.once('error', reject);
      own.listen(179, next.host(1), () => resolve());
    });
    own.close();
  } finally {
    daemon.close();
  }
  // Once the leftover is gone, its block can be claimed again.
  t.is((await claimLoopbackNet({ prefixes: [prefix] })).prefix, prefix);
});

test('freePort never hands out the same port twice in one process', async (t) => {
  const ports = new Set<number>();
  for (let i = 0; i < 20; i++) ports.add(await freePort('::1'));
  t.is(ports.size, 20);
});
