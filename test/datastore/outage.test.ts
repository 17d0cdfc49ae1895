// End to end, a datastore outage under live sessions: the reflector process (etcd v3 datastore) with real
// BIRD 2 peers while the real etcd is first frozen (SIGSTOP) and then killed for 20 s. BIRD's view is the
// oracle: no session resets (its `show protocols` since-time unchanged), and once etcd is back, a peer added
// and a peer removed in etcd take effect at the BIRD nodes within 15 s, while the untouched one stays. The
// same with the Kubernetes API server (the fake one, the only part that is not real) stopped and restarted.
import test from 'ava';
import { sameInstant } from '../helpers/bird-time.js';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Daemon } from '../session/daemons.js';
import { claimLoopbackNet } from '../helpers/net.js';
import { runChild, spawnChild } from '../helpers/child.js';
import { until } from '../helpers/until.js';
import { birdc2, startBird2Node, startReflector, type Reflector } from '../hardening/lab.js';
import { FakeApiServer, FakeStore } from '../kubernetes/fake-apiserver.js';
import { bgpConfig, bgpPeer, node, writeKubeconfig } from '../kubernetes/helpers.js';
import { makePki } from '../kubernetes/pki.js';

const P = '/calico/bgp/v1';
const stops: Array<() => Promise<void> | void> = [];
test.after.always(async () => {
  for (const s of stops.reverse()) await s();
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A single-member etcd on `host`, its data kept across restarts in `dir`. */
function startEtcd(host: string, dir: string): ChildProcess {
  const client = `http://${host}:2379`;
  const peer = `http://${host}:2380`;
  return spawnChild('etcd', [
    '--name', 'outage', '--data-dir', path.join(dir, 'data'), '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `outage=${peer}`, '--log-level', 'error',
  ], { env: { HOME: dir } });
}

function etcdctl(url: string, ...args: string[]): string {
  const r = runChild('etcdctl', ['--endpoints', url, '--dial-timeout', '2s', '--command-timeout', '3s', ...args], { env: { ETCDCTL_API: '3' }, encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function etcdUp(url: string): Promise<void> {
  await until('etcd healthy', () => {
    const r = runChild('etcdctl', ['--endpoints', url, '--dial-timeout', '1s', 'endpoint', 'health'], { env: { ETCDCTL_API: '3' }, encoding: 'utf8', timeout: 5000 });
    return r.status === 0 ? true : undefined;
  }, 20_000, 200);
}

/** BIRD 2 nodes a, b, c (blocks 10.232.1-3.0/24) and BIRD's own view of their sessions to us. */
function birdNodes(RR: string, ips: Record<'a' | 'b' | 'c', string>): { view: (n: string) => { state: string; since: string }; hasRoute: (n: string, p: string) => boolean } {
  const nodes: Record<string, Daemon> = {};
  (['a', 'b', 'c'] as const).forEach((n, i) => {
    nodes[n] = startBird2Node({ ip: ips[n], rr: RR, block: `10.232.${i + 1}.0/24` });
    stops.push(() => nodes[n]!.stop());
  });
  const NODE = `Node_${RR.replaceAll('.', '_')}`;
  return {
    view: (n) => {
      const out = birdc2(nodes[n]!, 'show', 'protocols', NODE);
      const m = new RegExp(`^${NODE}\\s+BGP\\s+\\S+\\s+(\\S+)\\s+(\\S+)\\s+(\\S*)`, 'm').exec(out);
      return { state: m?.[3] ?? 'absent', since: m?.[2] ?? '' };
    },
    hasRoute: (n, p) => birdc2(nodes[n]!, 'show', 'route', p).includes(p),
  };
}

async function killed(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await exited;
}

test('etcd frozen, then killed for 20 s: no BIRD session resets; a peer added and one removed after it returns apply within 15 s', async (t) => {
  t.timeout(180_000);
  const net = await claimLoopbackNet();
  const [RR, A, B, C, ETCD] = [net.host(1), net.host(2), net.host(3), net.host(4), net.host(100)];
  const url = `http://${ETCD}:2379`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-outage-'));
  stops.push(() => rmSync(dir, { recursive: true, force: true }));
  let etcd = startEtcd(ETCD, dir);
  stops.push(() => killed(etcd));
  await etcdUp(url);
  etcdctl(url, 'put', `${P}/global/as_num`, '64512');
  etcdctl(url, 'put', `${P}/global/peer_v4/${RR}`, JSON.stringify({ ip: RR, as_num: '64512' }));
  etcdctl(url, 'put', `${P}/host/a/ip_addr_v4`, A);
  etcdctl(url, 'put', `${P}/host/b/ip_addr_v4`, B);

  const rr: Reflector = startReflector(RR, {}, { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: url, LOG_LEVEL: 'info' });
  stops.push(() => rr.stop());
  const { view, hasRoute } = birdNodes(RR, { a: A, b: B, c: C });
  await until('A and B Established with each other\'s routes', () =>
    view('a').state === 'Established' && view('b').state === 'Established' && hasRoute('a', '10.232.2.0/24') && hasRoute('b', '10.232.1.0/24') ? true : undefined, 60_000, 200);
  t.not(view('c').state, 'Established', 'C is not configured yet');
  const sinceA = view('a').since;
  const sinceB = view('b').since;

  // The outage: frozen (connections open, no answers), then gone for 20 s.
  etcd.kill('SIGSTOP');
  await sleep(10_000);
  t.deepEqual([view('a'), view('b')].map((v) => v.since), [sinceA, sinceB], 'no reset while etcd is frozen');
  await killed(etcd);
  await sleep(20_000);
  t.deepEqual([view('a'), view('b')].map((v) => v.since), [sinceA, sinceB], 'no reset while etcd is gone');
  t.is(rr.proc.exitCode, null, 'the reflector is still running');
  t.true(hasRoute('a', '10.232.2.0/24') && hasRoute('b', '10.232.1.0/24'), 'the routes stayed');

  // etcd returns (same data); then a change: C added, B removed.
  etcd = startEtcd(ETCD, dir);
  await etcdUp(url);
  etcdctl(url, 'put', `${P}/host/c/ip_addr_v4`, C);
  etcdctl(url, 'del', `${P}/host/b/ip_addr_v4`);
  const changedAt = Date.now();
  await until('C Established and B down at the BIRD nodes', () => (view('c').state === 'Established' && view('b').state !== 'Established' ? true : undefined), 15_000, 100);
  t.log(`the change applied ${Date.now() - changedAt} ms after the writes`);
  await until('A has C\'s route and not B\'s', () => (hasRoute('a', '10.232.3.0/24') && !hasRoute('a', '10.232.2.0/24') ? true : undefined), 15_000, 100);
  t.true(sameInstant(view('a').since, sinceA), 'A\'s session never reset');
  t.is(view('a').state, 'Established');
});

test('Kubernetes API server stopped for 20 s and restarted: no BIRD session resets; a node added and one removed afterwards apply within 15 s', async (t) => {
  t.timeout(180_000);
  const net = await claimLoopbackNet();
  const [RR, A, B, C, API] = [net.host(1), net.host(2), net.host(3), net.host(4), net.host(100)];
  const pki = makePki(API);
  const store = new FakeStore();
  store.create('bgpconfigurations', bgpConfig(64512));
  store.create('nodes', node('a', `${A}/24`));
  store.create('nodes', node('b', `${B}/24`));
  store.create('bgppeers', bgpPeer('rr-global', RR, 64512));
  const opts = { host: API, tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert }, tokens: { rr: 'rr' }, rbac: { rr: ['*'] } };
  let server = await FakeApiServer.start(opts, store);
  stops.push(() => server.stop());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-outage-k8s-'));
  stops.push(() => rmSync(dir, { recursive: true, force: true }));
  const kc = writeKubeconfig(dir, { server: server.url, caData: pki.caCert, token: 'rr' }, 'rr');
  const rr = startReflector(RR, {}, { DATASTORE_TYPE: 'kubernetes', KUBECONFIG: kc, NAMESPACE: 'kube-system', LOG_LEVEL: 'info' });
  stops.push(() => rr.stop());
  const { view, hasRoute } = birdNodes(RR, { a: A, b: B, c: C });
  await until('A and B Established with each other\'s routes', () =>
    view('a').state === 'Established' && view('b').state === 'Established' && hasRoute('a', '10.232.2.0/24') && hasRoute('b', '10.232.1.0/24') ? true : undefined, 60_000, 200);
  const sinceA = view('a').since;
  const sinceB = view('b').since;

  await server.stop();
  await sleep(20_000);
  t.deepEqual([view('a'), view('b')].map((v) => v.since), [sinceA, sinceB], 'no reset while the API server is gone');
  t.is(rr.proc.exitCode, null, 'the reflector is still running');

  server = await FakeApiServer.start({ ...opts, port: server.port }, store);
  store.create('nodes', node('c', `${C}/24`));
  store.delete('nodes', undefined, 'b');
  const changedAt = Date.now();
  await until('C Established and B down at the BIRD nodes', () => (view('c').state === 'Established' && view('b').state !== 'Established' ? true : undefined), 15_000, 100);
  t.log(`the change applied ${Date.now() - changedAt} ms after the API server returned`);
  await until('A has C\'s route and not B\'s', () => (hasRoute('a', '10.232.3.0/24') && !hasRoute('a', '10.232.2.0/24') ? true : undefined), 15_000, 100);
  t.true(sameInstant(view('a').since, sinceA), 'A\'s session never reset');
});
