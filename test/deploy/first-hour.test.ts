// An operator's first hour, with real parts: the reflector (dist/main.js, as the image runs it) as uid 65534 in
// a socket group, the real bird_exporter as another uid in that group (as the DaemonSet's sidecar), BIRD's own
// birdc, and a real BIRD holding the BGP port as calico-node's BIRD would.
// Oracles: the kernel (stat of the socket, who holds the port per ss), the exporter's and birdc's output,
// package.json and the test's own process.version.
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild, spawnChild } from '../helpers/child.js';
import { claimLoopbackNet, freePort } from '../helpers/net.js';
import { findSample, parsePromText } from '../helpers/prom-text.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NET = await claimLoopbackNet();
const NOBODY = 65534;
/** The sidecar's uid (the manifest's 65532) and a socket group no real account uses, as a pod's fsGroup. */
const EXPORTER_UID = 65532;
const GROUP = 40000 + (process.pid % 20000);
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const running: ChildProcess[] = [];
test.after.always(() => {
  for (const p of running) p.kill('SIGKILL');
});

function start(cmd: string, args: string[], env: Record<string, string> = {}): { proc: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const proc = spawnChild(cmd, args, { cwd: ROOT, env });
  running.push(proc);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('close', (code) => r(code)));
  return { proc, output: () => out, exited };
}

async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (let i = 0; i < 400 && Date.now() < end; i++) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function scrape(hostPort: string): Promise<string | undefined> {
  try {
    const r = await fetch(`http://${hostPort}/metrics`, { signal: AbortSignal.timeout(5000) });
    return await r.text();
  } catch {
    return undefined;
  }
}

/** JSON log lines of the reflector's stdout. */
function lines(out: string): Array<Record<string, unknown>> {
  return out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The reflector as uid 65534 with GROUP as a supplementary group (the pod's fsGroup), in a setgid socket folder. */
async function reflectorInGroup(keys: Record<string, unknown>, extraEnv: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-first-hour-'));
  // As kubelet prepares an emptyDir for fsGroup: group GROUP, setgid, group-writable.
  chownSync(dir, NOBODY, GROUP);
  chmodSync(dir, 0o2770);
  const ds = path.join(dir, 'datastore.json');
  writeFileSync(ds, JSON.stringify(keys));
  chownSync(ds, NOBODY, GROUP);
  const ip = NET.host(1);
  const metrics = `${ip}:${await freePort(ip)}`;
  const env = {
    IP: ip, BGP_PORT: String(await freePort(ip)), DATASTORE_TYPE: 'file', DATASTORE_FILE: ds, SOCKET_DIR: dir,
    METRICS_LISTEN: metrics, LOG_FORMAT: 'json', SOCKET_GROUP: String(GROUP), SOCKET_MODE: '0660', ...extraEnv,
  };
  const rr = start('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, `--groups=${GROUP}`, '--', process.execPath, 'dist/main.js'], env);
  await until('the ready line', () => (rr.output().includes('"msg":"ready: ') ? true : undefined));
  return { rr, dir, metrics, ip, env };
}

/** The real bird_exporter as EXPORTER_UID, in GROUP or not; its /metrics text once it answers. */
async function exporter(socketDir: string, inGroup: boolean, extra: string[] = ['-bird.ipv6=false']): Promise<string> {
  const listen = `${NET.host(2)}:${await freePort(NET.host(2))}`;
  start('setpriv', [
    `--reuid=${EXPORTER_UID}`, `--regid=${EXPORTER_UID}`, ...(inGroup ? [`--groups=${GROUP}`] : ['--clear-groups']), '--',
    '/usr/bin/prometheus-bird-exporter', '-format.new=true', `-bird.socket=${path.join(socketDir, 'bird.ctl')}`, ...extra, `-web.listen-address=${listen}`,
  ]);
  return until('the exporter to answer', () => scrape(listen));
}

test.serial('the sidecar as another uid in the socket group scrapes us; version, build_info, summary and ready lines; no bird6.ctl', async (t) => {
  const node = NET.host(10);
  const { rr, dir, metrics, ip, env } = await reflectorInGroup({
    '/calico/bgp/v1/global/as_num': '64512',
    // Every node peers with this reflector (a global peer naming its address), so each host is a client.
    [`/calico/bgp/v1/global/peer_v4/${NET.host(1)}`]: { ip: NET.host(1), as_num: '64512' },
    '/calico/bgp/v1/host/node0/ip_addr_v4': node,
    // Not an address: the mapping skips it (and says so), the summary counts it.
    '/calico/bgp/v1/host/node1/ip_addr_v4': 'not-an-address',
  });
  const sock = path.join(dir, 'bird.ctl');

  // The kernel's view of the socket: owner 65534, group GROUP, mode 0660 as SOCKET_GROUP/SOCKET_MODE say.
  const st = statSync(sock);
  t.is(st.uid, NOBODY);
  t.is(st.gid, GROUP);
  t.is(st.mode & 0o777, 0o660);
  // IPv6 off: no bird6.ctl, and the log says what the exporter and birdc6 users must do.
  t.false(existsSync(path.join(dir, 'bird6.ctl')));
  t.true(lines(rr.output()).some((l) => /^IPv6 off \(IP6 unset\): no bird6\.ctl .*-bird\.ipv6=false/.test(String(l.msg))));

  // The sessions as BIRD's own birdc lists them are what the summary line counts.
  const protos = runChild('birdc', ['-s', sock, 'show', 'protocols'], { encoding: 'utf8' }).stdout;
  const bgpNames = [...protos.matchAll(/^(\S+)\s+BGP\s/gm)].map((m) => m[1]!);
  t.is(bgpNames.length, 1, protos);
  const kind = (p: string): number => bgpNames.filter((n) => n.startsWith(p)).length;
  const summary = lines(rr.output()).filter((l) => String(l.msg).startsWith('configuration applied: '));
  t.is(summary.length, 1, 'one line for the one applied configuration');
  t.is(summary[0]?.msg, `configuration applied: ${bgpNames.length} session (mesh ${kind('Mesh_')} / global ${kind('Global_')} / node ${kind('Node_')}), 1 entry skipped`);
  const ready = lines(rr.output()).find((l) => String(l.msg).startsWith('ready: '));
  t.is(ready?.msg, `ready: listening on ${ip}:${env.BGP_PORT}, ${bgpNames.length} session configured`);

  // show status keeps BIRD's "BIRD 1.6.8" first, so bird_exporter's `BIRD (\S+)` (its HEAD parser) still reads a
  // BIRD version; what runs follows in brackets.
  const status = runChild('birdc', ['-s', sock, 'show', 'status'], { encoding: 'utf8' }).stdout;
  t.regex(status, new RegExp(`^BIRD 1\\.6\\.8 \\(calico-ts-route-reflector ${VERSION.replaceAll('.', '\\.')}\\)$`, 'm'));
  t.is(/BIRD (\S+)/.exec(status.slice(status.indexOf('BIRD 1.6.8')))?.[1], '1.6.8');
  t.regex(status, /Daemon is up and running/);

  // build_info on our own /metrics: the package's version and the Node.js that runs it (the same binary as ours).
  const ours = parsePromText((await scrape(metrics)) ?? '');
  t.is(findSample(ours, 'bgp_rr_build_info', { version: VERSION, node_version: process.version })?.value, 1);

  // The real exporter as uid 65532 in the socket group reads our session; the same exporter outside the group is
  // refused by the kernel and reports no protocol at all.
  const name = bgpNames[0]!;
  const inGroup = parsePromText(await exporter(dir, true));
  t.is(findSample(inGroup, 'bird_protocol_up', { name, ip_version: '4' })?.value, 0, 'the session is listed (not up: no BGP speaker at the node address)');
  const outside = await exporter(dir, false);
  t.false(outside.includes('bird_protocol_up'), 'without the group: permission denied, no protocols');
  // Without -bird.ipv6=false the exporter also asks for bird6.ctl, which is not there: Debian's 1.4.1 then drops the whole scrape.
  const v6 = await exporter(dir, true, [`-bird.socket6=${path.join(dir, 'bird6.ctl')}`]);
  t.false(v6.includes(`name="${name}"`), 'why the manifest passes -bird.ipv6=false');
  rr.proc.kill('SIGTERM');
  t.is(await rr.exited, 0);
});

test.serial('a SOCKET_GROUP the process is not in stops the start with a line naming fsGroup', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-first-hour-'));
  chownSync(dir, NOBODY, NOBODY);
  writeFileSync(path.join(dir, 'datastore.json'), '{}');
  const rr = start('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', process.execPath, 'dist/main.js'], {
    IP: NET.host(3), BGP_PORT: String(await freePort(NET.host(3))), DATASTORE_TYPE: 'file', DATASTORE_FILE: path.join(dir, 'datastore.json'),
    SOCKET_DIR: dir, METRICS_LISTEN: `${NET.host(3)}:${await freePort(NET.host(3))}`, LOG_FORMAT: 'json', SOCKET_GROUP: String(GROUP),
  });
  t.is(await rr.exited, 1);
  t.regex(rr.output(), new RegExp(`SOCKET_GROUP=${GROUP}: .*groups ${NOBODY}; a non-root process can only set a group it is in \\(Kubernetes: make SOCKET_GROUP the pod's securityContext\\.fsGroup\\)`));
});

test.serial('a bad SOCKET_MODE is named, not guessed', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-first-hour-'));
  writeFileSync(path.join(dir, 'datastore.json'), '{}');
  const rr = start(process.execPath, ['dist/main.js'], {
    IP: NET.host(4), BGP_PORT: String(await freePort(NET.host(4))), DATASTORE_TYPE: 'file', DATASTORE_FILE: path.join(dir, 'datastore.json'),
    SOCKET_DIR: dir, METRICS_LISTEN: `${NET.host(4)}:${await freePort(NET.host(4))}`, LOG_FORMAT: 'json', SOCKET_MODE: 'rw-rw----',
  });
  // A configuration error: stopped before the logger starts, exit 2, one line naming the variable.
  t.is(await rr.exited, 2);
  t.regex(rr.output(), /configuration error: SOCKET_MODE: "rw-rw----" is not an octal file mode such as 0660/);
  t.false(existsSync(path.join(dir, 'bird.ctl')));
});

test.serial('port taken by a real BIRD on the same address: the reflector stops and names calico-node\'s BIRD', async (t) => {
  const ip = NET.host(5);
  const port = await freePort(ip);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-first-hour-bird-'));
  // calico-node's BIRD as it listens: one BGP protocol, so BIRD 1.6 opens its listening socket on the port.
  writeFileSync(path.join(dir, 'bird.cfg'), [
    `router id ${ip};`, `listen bgp address ${ip} port ${port};`, 'protocol device {}',
    `protocol bgp calico { local as 64512; neighbor ${NET.host(6)} as 64512; multihop; }`, '',
  ].join('\n'));
  const bird = start('bird', ['-f', '-c', path.join(dir, 'bird.cfg'), '-s', path.join(dir, 'bird.ctl'), '-P', path.join(dir, 'bird.pid')]);
  // The kernel says BIRD holds the port.
  await until('BIRD listening', () => (/"bird"/.test(runChild('ss', ['-Hltnp', 'src', `${ip}:${port}`], { encoding: 'utf8' }).stdout) ? true : undefined));

  writeFileSync(path.join(dir, 'datastore.json'), '{}');
  const rr = start(process.execPath, ['dist/main.js'], {
    IP: ip, BGP_PORT: String(port), DATASTORE_TYPE: 'file', DATASTORE_FILE: path.join(dir, 'datastore.json'),
    SOCKET_DIR: path.join(dir, 'rr'), METRICS_LISTEN: `${ip}:${await freePort(ip)}`, LOG_FORMAT: 'json',
  });
  t.is(await rr.exited, 1);
  const fatal = lines(rr.output()).find((l) => l.msg === 'cannot start');
  t.regex(String(fatal?.err), new RegExp(`^cannot listen on \\[${ip.replaceAll('.', '\\.')}\\]:${port}: listen EADDRINUSE.*most likely calico-node's BIRD on this node`));
  t.regex(String(fatal?.err), /dedicated nodes where calico-node does not run BGP.*BGP_PORT/);
  t.is(bird.proc.exitCode, null, 'BIRD keeps its port');
});
