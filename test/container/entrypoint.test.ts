// Starts scripts/entrypoint.sh exactly as the image does (no arguments: `node dist/main.js`), with the
// seed's environment variables, and checks what an operator relies on: health endpoints, the control
// socket, a real BIRD 2 node establishing, and SIGTERM closing the session with an RFC 8203 message.
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { runChild, spawnChild } from '../helpers/child.js';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIRDC2, startBird2, type Daemon } from '../session/daemons.js';
import { until } from '../helpers/until.js';
import { claimLoopbackNet, freePort } from '../helpers/net.js';

const NET = await claimLoopbackNet();

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RR = NET.host(1);
const NODE = NET.host(2);
const METRICS_PORT = await freePort(RR);
const running: ChildProcess[] = [];
const daemons: Daemon[] = [];

/** Newest modification time of any file under a folder. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

test.before(() => {
  // The image runs the compiled output; build it when the test runs before `npm run build` or after an edit.
  const main = path.join(ROOT, 'dist/main.js');
  if (!existsSync(main) || statSync(main).mtimeMs < newest(path.join(ROOT, 'src'))) {
    const r = runChild('sh', ['scripts/build.sh'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
  }
});

test.after.always(async () => {
  for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await Promise.all(daemons.map((d) => d.stop()));
});


function entrypoint(env: NodeJS.ProcessEnv): { proc: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const proc = spawnChild('sh', ['scripts/entrypoint.sh'], { cwd: ROOT, env: { ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(proc);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, output: () => out, exited };
}

async function get(url: string): Promise<number | undefined> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).status;
  } catch {
    return undefined;
  }
}

test.serial('without IP but with ETCD_ENDPOINTS the entrypoint stops at once and names the variable', async (t) => {
  const run = entrypoint({ ETCD_ENDPOINTS: `http://${NET.host(9)}:2379`, SOCKET_DIR: mkdtempSync(path.join(os.tmpdir(), 'rr-ep-')) });
  t.is(await run.exited, 2);
  t.regex(run.output(), /IP: not set/);
});

test.serial('a bad variable stops the reflector with a message naming it', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-ep-'));
  const run = entrypoint({ IP: RR, BGP_PORT: 'seventy', DATASTORE_FILE: path.join(dir, 'ds.json'), SOCKET_DIR: dir });
  t.is(await run.exited, 2);
  t.regex(run.output(), /BGP_PORT/);
});

test.serial('the image entrypoint serves health, the control socket and BGP, and SIGTERM sends a shutdown Cease', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-ep-'));
  const sockets = path.join(dir, 'sockets');
  const ds = path.join(dir, 'datastore.json');
  writeFileSync(ds, JSON.stringify({
    '/calico/bgp/v1/global/as_num': '64512',
    [`/calico/bgp/v1/global/peer_v4/${RR}`]: { ip: RR, as_num: '64512' },
    '/calico/bgp/v1/host/node2/ip_addr_v4': NODE,
  }));
  const run = entrypoint({ IP: RR, DATASTORE_TYPE: 'file', DATASTORE_FILE: ds, SOCKET_DIR: sockets, METRICS_LISTEN: `${RR}:${METRICS_PORT}`, LOG_LEVEL: 'info' });
  const base = `http://${RR}:${METRICS_PORT}`;
  await until('/healthz', async () => ((await get(`${base}/healthz`)) === 200 ? true : undefined));
  await until('/readyz', async () => ((await get(`${base}/readyz`)) === 200 ? true : undefined));

  // The image's HEALTHCHECK command.
  const hc = runChild('node', ['scripts/healthcheck.mjs'], { cwd: ROOT, env: { METRICS_LISTEN: `${RR}:${METRICS_PORT}` } });
  t.is(hc.status, 0, 'HEALTHCHECK passes');

  // The socket folder was created by the entrypoint and the control socket answers birdc.
  const status = runChild('birdc', ['-s', path.join(sockets, 'bird.ctl'), 'show', 'status'], { encoding: 'utf8' });
  t.regex(status.stdout, new RegExp(`Router ID is ${RR.replaceAll('.', '\\.')}`));

  const node = startBird2({ ip: NODE, rr: RR, as: 64512, holdTime: 9, block: '10.91.2.0/26' });
  daemons.push(node);
  await until('Established', () => {
    const r = runChild('birdc', ['-s', path.join(sockets, 'bird.ctl'), 'show', 'protocols'], { encoding: 'utf8' });
    return new RegExp(String.raw`Global_${NET.under(2)}\s+BGP\s+master\s+up\s+\S+\s+Established`).test(r.stdout) ? true : undefined;
  });

  const stoppedAt = Date.now();
  run.proc.kill('SIGTERM');
  t.is(await run.exited, 0, 'exit code 0 after SIGTERM');
  // Exit code 0 already says the stop beat the reflector's own 5 s deadline (it exits 1 past it); measured
  // from here, the bound only catches a hang.
  t.true(Date.now() - stoppedAt < 30_000, 'stopped, not hung');

  // BIRD 2 shows the Cease it received together with our RFC 8203 message.
  const shown = await until('the node to see the Cease', () => {
    const r = runChild(BIRDC2, ['-s', node.socket ?? '', 'show', 'protocols', 'all'], { encoding: 'utf8' });
    return /Administrative shutdown/.test(r.stdout) ? r.stdout : undefined;
  });
  t.regex(shown, /shutting down/);
});
