// Starts scripts/entrypoint.sh exactly as the image does (no arguments: `node dist/main.js`), with the
// seed's environment variables, and checks what an operator relies on: health endpoints, the control
// socket, a real BIRD 2 node establishing, and SIGTERM closing the session with an RFC 8203 message.
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { runChild, spawnChild } from '../helpers/child.js';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { ensureBuilt } from '../helpers/build.js';
import net from 'node:net';
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


// The image runs the compiled output; build it when the test runs before `npm run build` or after an edit.
test.before(ensureBuilt);

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
  const exited = new Promise<number | null>((r) => proc.once('close', (code) => r(code)));
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

// --- Not root (issue 21): uid/gid 65534 with only NET_BIND_SERVICE, as the image and the manifest run it. ---
// There is no Docker engine here, so the image's two steps are reproduced on a copy of the node binary: the file
// capability (setcap cap_net_bind_service=+ep, as the Dockerfile does) and the user switch, with the capability
// sets the manifest gives the container (bounding set NET_BIND_SERVICE only, no inheritable or ambient
// capabilities; allowPrivilegeEscalation: true, i.e. no no_new_privs). Oracles: the kernel (/proc status, the
// exec refusal) and a TCP connect to port 179.

const NOBODY = 65534;

/** A copy of the running node binary in a folder uid 65534 can read, with or without the file capability. */
function nodeCopy(withCap: boolean): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-nonroot-node-'));
  chmodSync(dir, 0o755);
  const bin = path.join(dir, 'node');
  copyFileSync(process.execPath, bin);
  chmodSync(bin, 0o755);
  if (withCap) {
    const r = runChild('setcap', ['cap_net_bind_service=+ep', bin], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`setcap failed (libcap2-bin, .ci/install-debian.sh): ${r.stderr}`);
  }
  return bin;
}

/** A socket folder and a file datastore owned by uid 65534, with one node peer (TCP-MD5 and GTSM when `secured`). */
function nobodyDir(rr: string, node: string, secured = false): { dir: string; ds: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-nonroot-'));
  const ds = path.join(dir, 'datastore.json');
  const keys: Record<string, unknown> = {
    '/calico/bgp/v1/global/as_num': '64512',
    // The global entry naming this reflector makes every node its client, here with a password and GTSM.
    [`/calico/bgp/v1/global/peer_v4/${rr}`]: secured ? { ip: rr, as_num: '64512', password: 'nobody-md5-key', ttl_security: true } : { ip: rr, as_num: '64512' },
    '/calico/bgp/v1/host/node2/ip_addr_v4': node,
  };
  writeFileSync(ds, JSON.stringify(keys));
  chownSync(dir, NOBODY, NOBODY);
  chownSync(ds, NOBODY, NOBODY);
  return { dir, ds };
}

/** The checkout must be readable by uid 65534 to run it as that user: say so plainly, not as a failed `cd`. */
function checkoutReadableByNobody(): void {
  const r = runChild('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', 'test', '-r', path.join(ROOT, 'dist', 'main.js')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${ROOT} is not readable by uid ${NOBODY} (this test runs the entrypoint as that user): make the checkout and its parent folders world-readable (chmod o+rx)`);
}

/** scripts/entrypoint.sh run as uid/gid 65534 with the capability sets of the Kubernetes container. */
function entrypointAsNobody(nodeBin: string, env: Record<string, string>, o: { bounding?: string; noNewPrivs?: boolean } = {}): { proc: ChildProcess; output: () => string; exited: Promise<number | null> } {
  checkoutReadableByNobody();
  const proc = spawnChild('setpriv', [
    `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--inh-caps=-all', `--bounding-set=${o.bounding ?? '-all,+net_bind_service'}`,
    ...(o.noNewPrivs === true ? ['--no-new-privs'] : []),
    '--', 'sh', 'scripts/entrypoint.sh', nodeBin, 'dist/main.js',
  ], { cwd: ROOT, env });
  running.push(proc);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('close', (code) => r(code)));
  return { proc, output: () => out, exited };
}

/** Connects to host:port and returns the first bytes (a Cease NOTIFICATION from a BGP listener), or an error code. */
function probe(host: string, port: number, localAddress: string): Promise<Buffer | string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, localAddress });
    const timer = setTimeout(() => {
      s.destroy();
      resolve('timeout');
    }, 3000);
    s.once('data', (d: Buffer) => {
      clearTimeout(timer);
      s.destroy();
      resolve(d);
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(e.code ?? e.message);
    });
  });
}

test.serial('as uid 65534 with only NET_BIND_SERVICE the image binds port 179, metrics on IP only, and serves BIRD', async (t) => {
  const lab = await claimLoopbackNet();
  const rr = lab.host(1);
  const node = lab.host(2);
  const { dir, ds } = nobodyDir(rr, node, true);
  // METRICS_LISTEN unset: the default, IP:9180 (a fixed port is safe on this run's own /24).
  const run = entrypointAsNobody(nodeCopy(true), { IP: rr, DATASTORE_TYPE: 'file', DATASTORE_FILE: ds, SOCKET_DIR: path.join(dir, 'sockets'), LOG_LEVEL: 'info' });
  await until('/healthz on IP:9180', async () => ((await get(`http://${rr}:9180/healthz`)) === 200 ? true : undefined), 30_000);
  // /healthz answers while the process lives; BGP listens once the datastore is applied (/readyz).
  await until('/readyz on IP:9180', async () => ((await get(`http://${rr}:9180/readyz`)) === 200 ? true : undefined), 30_000);

  // The kernel's view of the process: uid and gid 65534, exactly NET_BIND_SERVICE (bit 10) effective.
  const status = readFileSync(`/proc/${run.proc.pid}/status`, 'utf8');
  t.regex(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
  t.regex(status, /^Gid:\s+65534\s+65534\s+65534\s+65534$/m);
  t.regex(status, /^CapEff:\s+0000000000000400$/m);
  t.regex(status, /^CapBnd:\s+0000000000000400$/m);

  // Port 179 is ours: an unknown address gets BGP's Cease "connection rejected" (type 3, code 6, subcode 5).
  const answer = await probe(rr, 179, lab.host(9));
  t.true(Buffer.isBuffer(answer), `port 179: ${String(answer)}\n${run.output()}`);
  if (Buffer.isBuffer(answer)) t.deepEqual([answer[18], answer[19], answer[20]], [3, 6, 5]);
  // TCP-MD5 works as uid 65534: the listening socket holds the key for the secured peer, so the kernel drops
  // that address's unsigned SYN (no answer at all), while other addresses are answered.
  t.is(await probe(rr, 179, node), 'timeout', 'unsigned SYN from the TCP-MD5 peer dropped by the kernel');
  t.notRegex(run.output(), /not started|cannot set|unavailable|cannot send with TTL/, 'TCP-MD5 and GTSM set up without error');
  // Metrics only on IP: another address of the same loopback /24 is refused (":9180" would accept it).
  t.is(await probe(lab.host(9), 9180, lab.host(9)), 'ECONNREFUSED');

  // The control socket, created by uid 65534 in the folder the entrypoint made, answers BIRD's own birdc.
  const birdc = runChild('birdc', ['-s', path.join(dir, 'sockets', 'bird.ctl'), 'show', 'status'], { encoding: 'utf8' });
  t.regex(birdc.stdout, new RegExp(`Router ID is ${rr.replaceAll('.', '\\.')}`));
  t.is(statSync(path.join(dir, 'sockets', 'bird.ctl')).uid, NOBODY);

  run.proc.kill('SIGTERM');
  t.is(await run.exited, 0);
});

test.serial('as uid 65534 without the file capability the reflector stops and names the likely cause', async (t) => {
  const lab = await claimLoopbackNet();
  const rr = lab.host(1);
  const { dir, ds } = nobodyDir(rr, lab.host(2));
  const run = entrypointAsNobody(nodeCopy(false), { IP: rr, DATASTORE_TYPE: 'file', DATASTORE_FILE: ds, SOCKET_DIR: path.join(dir, 'sockets'), METRICS_LISTEN: 'off' });
  const code = await Promise.race([run.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 20_000))]);
  t.not(code, 'running');
  t.not(code, 0);
  t.regex(run.output(), /cannot listen on \[[\d.]+\]:179: listen EACCES/);
  t.regex(run.output(), /CAP_NET_BIND_SERVICE/);
  t.regex(run.output(), /setcap cap_net_bind_service=\+ep/);
});

test.serial('why the manifest says what it says: without NET_BIND_SERVICE in the bounding set, or with no_new_privs, 179 is out of reach', async (t) => {
  const lab = await claimLoopbackNet();
  const rr = lab.host(1);
  const { dir, ds } = nobodyDir(rr, lab.host(2));
  const env = { IP: rr, DATASTORE_TYPE: 'file', DATASTORE_FILE: ds, SOCKET_DIR: path.join(dir, 'sockets'), METRICS_LISTEN: 'off' };
  // capabilities.add: ["NET_BIND_SERVICE"] missing: the kernel refuses to exec a binary whose file capability
  // it cannot grant.
  const noBounding = entrypointAsNobody(nodeCopy(true), env, { bounding: '-all' });
  t.not(await noBounding.exited, 0);
  t.regex(noBounding.output(), /Operation not permitted/);
  // allowPrivilegeEscalation: false (no_new_privs): the shell entrypoint has no capabilities and node may not
  // gain one at exec, so the bind fails, with the message that says so.
  const nnp = entrypointAsNobody(nodeCopy(true), env, { noNewPrivs: true });
  const code = await Promise.race([nnp.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 20_000))]);
  t.not(code, 'running');
  t.not(code, 0);
  t.regex(nnp.output(), /listen EACCES.*no_new_privs/);
});
