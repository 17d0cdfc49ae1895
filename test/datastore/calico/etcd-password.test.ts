// etcd mode, BGPPeer with password.secretKeyRef: as calico-node in etcd mode, the Secret is read from the
// Kubernetes API (KUBECONFIG; here the fake API server), and the session runs with TCP-MD5, Established with a BIRD
// node that has that password (BIRD's own view). Without a Kubernetes API the session is never started: one log
// line names the BGPPeer, the Secret and the key, and BIRD never sees it Established.
import test from 'ava';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { CALICO_V3_PREFIX } from '../../../src/datastore/calico-v3.js';
import { md5Available } from '../../../src/session/tcp-md5.js';
import { Etcd, ETCD_HOST } from '../etcd-harness.js';
import { ROOT, sleep, until } from '../../hardening/lab.js';
import { claimLoopbackNet, freePort } from '../../helpers/net.js';
import { execChild, spawnChild } from '../../helpers/child.js';
import { FakeApiServer, FakeStore } from '../../kubernetes/fake-apiserver.js';
import { tmpDir, writeKubeconfig } from '../../kubernetes/helpers.js';
import { makePki } from '../../kubernetes/pki.js';
import { bgpStates, protocolName, startCalicoBird } from './calico-bird.js';

const run = execChild;
const NET = await claimLoopbackNet();
const RR = NET.host(1);
const NODE = NET.host(11);
const API = NET.host(9);
const PASSWORD = 'Md5-from-a-Secret';
const cleanups: Array<() => Promise<void>> = [];
test.after.always(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

function startOurs(env: Record<string, string>): { sock: string; log: () => string; stop: () => Promise<void> } {
  const dir = tmpDir('rr-etcdpw-');
  const proc = spawnChild(process.execPath, ['--import=tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { IP: RR, NODENAME: 'rr1', SOCKET_DIR: dir, METRICS_LISTEN: 'off', LOG_LEVEL: 'info', ...env },
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  };
  cleanups.push(stop);
  return { sock: join(dir, 'bird.ctl'), log: () => out, stop };
}

async function show(sock: string): Promise<Map<string, string>> {
  try {
    return bgpStates((await run('/usr/sbin/birdc', ['-s', sock, 'show', 'protocols'], { timeout: 5000 })).stdout);
  } catch {
    return new Map();
  }
}

test.serial('etcd mode: the password comes from the Kubernetes Secret (KUBECONFIG); without an API the session is held back', async (t) => {
  t.is(md5Available(), true, 'TCP-MD5 must be available here (see test/hardening/md5.test.ts)');
  const etcd = new Etcd(await freePort(ETCD_HOST), undefined, false);
  await etcd.start();
  cleanups.push(() => etcd.destroy());
  const client = new Etcd3({ hosts: etcd.url });
  const put = async (kind: string, name: string, body: Record<string, unknown>): Promise<void> => {
    await client.put(`${CALICO_V3_PREFIX}/${kind}/${name}`).value(JSON.stringify({ metadata: { name, ...(body.labels !== undefined ? { labels: body.labels } : {}) }, spec: body.spec })).exec();
  };
  await put('nodes', 'rr1', { labels: { 'route-reflector': 'true' }, spec: { bgp: { ipv4Address: `${RR}/24`, routeReflectorClusterID: '244.0.0.1' } } });
  await put('nodes', 'n1', { spec: { bgp: { ipv4Address: `${NODE}/24` } } });
  await put('bgppeers', 'peer-with-route-reflectors', { spec: { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'", password: { secretKeyRef: { name: 'bgp-secrets', key: 'rr' } } } });
  await put('bgpconfigurations', 'default', { spec: { nodeToNodeMeshEnabled: false } });
  client.close();

  const pki = makePki(API);
  const store = new FakeStore();
  store.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bgp-secrets', namespace: 'calico-system' }, type: 'Opaque', data: { rr: Buffer.from(PASSWORD).toString('base64') } });
  const server = await FakeApiServer.start(
    { host: API, tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert }, tokens: { rr: 'rr' }, rbac: { rr: ['get secrets calico-system bgp-secrets', 'list secrets calico-system bgp-secrets', 'watch secrets calico-system bgp-secrets'] } },
    store,
  );
  cleanups.push(() => server.stop());
  const kc = writeKubeconfig(tmpDir('rr-etcdpw-kc-'), { server: server.url, caData: pki.caCert, token: 'rr' });

  const bird = startCalicoBird({ ip: NODE, as: 64512, block: '10.77.1.0/26', pool: '10.77.0.0/16', peers: [{ neighbor: RR, password: PASSWORD }] });
  cleanups.push(bird.stop);
  const session = protocolName(NODE);

  // No Kubernetes API (no KUBECONFIG, not in a pod): held back, one line naming the BGPPeer, the Secret and the key.
  const blind = startOurs({ DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: etcd.url, NAMESPACE: 'calico-system' });
  const line = await until('the held-back line', () => blind.log().split('\n').find((l) => l.includes('BGPPeer peer-with-route-reflectors') && l.includes('cannot be read')), 30_000, 200);
  t.regex(line, /Secret calico-system\/bgp-secrets key \\"rr\\" cannot be read \(no Kubernetes API to read Secrets from: .*\); held back, never started without its password \(sessions Node_/);
  t.is(blind.log().split('\n').filter((l) => l.includes('cannot be read')).length, 1, 'one line');
  await sleep(3000);
  t.false((await show(blind.sock)).has(session), 'no session without its password');
  t.not(bgpStates(bird.birdc('show', 'protocols')).get(protocolName(RR)), 'Established');
  await blind.stop();

  // With KUBECONFIG: the Secret is read by name in NAMESPACE, the session is signed and BIRD has it Established.
  const rr = startOurs({ DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: etcd.url, NAMESPACE: 'calico-system', KUBECONFIG: kc });
  await until('BIRD Established with TCP-MD5', () => (bgpStates(bird.birdc('show', 'protocols')).get(protocolName(RR)) === 'Established' ? true : undefined), 60_000, 500).catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${rr.log().slice(-3000)}`);
  });
  t.is((await show(rr.sock)).get(session), 'Established');
  t.true(server.requests.filter((q) => q.resource === 'secrets').every((q) => q.query.fieldSelector === 'metadata.name=bgp-secrets' && q.path === '/api/v1/namespaces/calico-system/secrets'));
  t.false(rr.log().includes(PASSWORD), 'the password is never logged');
});
