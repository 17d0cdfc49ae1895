// Only the datastore in use is loaded (issue 18: etcd3 with gRPC and protobufjs, the YAML parser and the
// Prometheus client cost tens of MiB of idle RSS). The reflector runs as the image runs it (dist/main.js) with a
// test-only preload (module-list.mjs) that lists, on SIGUSR2, the npm packages and Node modules it has loaded;
// the etcd and metrics cases show that the list does see those packages when they are in use.
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { keepOutput, spawnChild } from '../helpers/child.js';
import { ensureBuilt, ROOT } from '../helpers/build.js';
import { claimLoopbackNet, freePort } from '../helpers/net.js';
import { until } from '../helpers/until.js';

const NET = await claimLoopbackNet();
const PRELOAD = fileURLToPath(new URL('./module-list.mjs', import.meta.url));
const procs: ChildProcess[] = [];
const dirs: string[] = [];

test.before(() => ensureBuilt());
test.after.always(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Every package of the etcd, Kubernetes and metrics paths that an idle file-datastore reflector must not load. */
const ETCD = ['etcd3', '@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs'];
const KUBERNETES = ['yaml'];
const METRICS = ['prom-client'];

interface Loaded {
  packages: string[];
  builtins: string[];
}

/** Starts the reflector with `env`, waits for its ready line, and returns what it had loaded by then. */
async function loadedBy(host: number, env: Record<string, string>): Promise<Loaded> {
  const ip = NET.host(host);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-lazy-'));
  dirs.push(dir);
  const rr = spawnChild(process.execPath, [`--import=${PRELOAD}`, 'dist/main.js'], {
    cwd: ROOT,
    env: { IP: ip, BGP_PORT: String(await freePort(ip)), SOCKET_DIR: dir, DATASTORE_FILE: path.join(dir, 'datastore.json'), LOG_FORMAT: 'json', ...env },
  });
  procs.push(rr);
  const out = keepOutput(rr);
  await until('the ready line', () => (/"msg":"ready: listening on /.test(out()) ? true : undefined), 30_000);
  rr.kill('SIGUSR2');
  const line = await until('the module list', () => /^module-list (.*)$/m.exec(out())?.[1], 10_000);
  rr.kill('SIGKILL');
  return JSON.parse(line) as Loaded;
}

test('file datastore, metrics off: no etcd, Kubernetes, YAML or Prometheus package, no TLS', async (t) => {
  const loaded = await loadedBy(1, { METRICS_LISTEN: 'off' });
  t.true(loaded.packages.includes('pino'), `the list sees packages: ${loaded.packages.join(', ')}`);
  for (const p of [...ETCD, ...KUBERNETES, ...METRICS]) t.false(loaded.packages.includes(p), `${p} loaded`);
  for (const b of ['tls', 'https']) t.false(loaded.builtins.includes(b), `node:${b} loaded`);
});

test('file datastore, metrics on: the Prometheus client, still no etcd or YAML', async (t) => {
  const ip = NET.host(2);
  const loaded = await loadedBy(2, { METRICS_LISTEN: `${ip}:${await freePort(ip)}` });
  for (const p of METRICS) t.true(loaded.packages.includes(p), `${p} loaded`);
  for (const p of [...ETCD, ...KUBERNETES]) t.false(loaded.packages.includes(p), `${p} loaded`);
});

test('etcd v3 datastore (nothing listening): etcd3 and gRPC loaded, YAML not', async (t) => {
  const ip = NET.host(3);
  // An endpoint nobody serves: the source keeps retrying, the listener opens after its first-sync wait.
  const loaded = await loadedBy(3, { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: `http://${ip}:${await freePort(ip)}`, METRICS_LISTEN: 'off' });
  for (const p of ['etcd3', '@grpc/grpc-js']) t.true(loaded.packages.includes(p), `${p} loaded`);
  for (const p of [...KUBERNETES, ...METRICS]) t.false(loaded.packages.includes(p), `${p} loaded`);
});
