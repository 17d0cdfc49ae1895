// End to end: Calico's documented route-reflector topology (tigera/docs "Configure a node to act as a route
// reflector": two reflector Nodes labelled route-reflector=true with routeReflectorClusterID 244.0.0.1, the mesh
// off, a BGPPeer with nodeSelector all() and peerSelector route-reflector == 'true') in real etcd v3 and in the fake
// API server filled with the real kubectl. The client nodes are BIRD 1.6 configured as calico-node renders them
// (calico-bird.ts). Oracle: the sessions calico-node would have (calico-v3-bgp.md §5: on a reflector, Node_ to the
// other reflector without rr lines and Node_ to every client with `rr client`), each seen Established by BIRD, and
// the routes BIRD receives (each client gets each other client's block once from each reflector, reflected with
// ORIGINATOR_ID and CLUSTER_LIST 244.0.0.1).
// Mixed cluster: the second reflector is BIRD configured as calico-node renders a reflector; ours and it mesh and
// serve the same clients.
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { CALICO_V3_PREFIX } from '../../../src/datastore/calico-v3.js';
import { Etcd, ETCD_HOST } from '../etcd-harness.js';
import { ROOT, until } from '../../hardening/lab.js';
import { claimLoopbackNet, freePort } from '../../helpers/net.js';
import { execChild, spawnChild } from '../../helpers/child.js';
import { FakeApiServer, FakeStore } from '../../kubernetes/fake-apiserver.js';
import { KUBECTL, tmpDir, writeKubeconfig } from '../../kubernetes/helpers.js';
import { makePki } from '../../kubernetes/pki.js';
import { bgpStates, protocolName, startCalicoBird, type CalicoBird } from './calico-bird.js';

const run = execChild;
const NET = await claimLoopbackNet();
const AS = 64512;
const CID = '244.0.0.1';
const POOL_OCTET = Number(NET.prefix.split('.')[1]);
const POOL = `10.${POOL_OCTET}.0.0/16`;
const block = (n: number): string => `10.${POOL_OCTET}.${n}.0/26`;
const RR1 = NET.host(1);
const RR2 = NET.host(2);
const CLIENTS = [NET.host(11), NET.host(12), NET.host(13)];
const API = NET.host(9);

interface Ours {
  sock: string;
  log: () => string;
  stop: () => Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
test.after.always(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

function startOurs(ip: string, nodeName: string, env: Record<string, string>): Ours {
  const dir = tmpDir('rr-topo-');
  const proc = spawnChild(process.execPath, ['--import=tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { IP: ip, NODENAME: nodeName, SOCKET_DIR: dir, METRICS_LISTEN: 'off', LOG_LEVEL: 'info', ...env },
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-500_000)));
  proc.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-500_000)));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const o: Ours = {
    sock: join(dir, 'bird.ctl'),
    log: () => out,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
    },
  };
  cleanups.push(o.stop);
  return o;
}

async function birdc(sock: string, ...args: string[]): Promise<string> {
  try {
    const r = await run('/usr/sbin/birdc', ['-s', sock, ...args], { timeout: 5000 });
    return r.stdout;
  } catch (e) {
    return `birdc failed: ${(e as Error).message}`;
  }
}

/** The v3 resources of the documented topology, as calicoctl would store them (etcd) or kubectl apply them (KDD). */
const nodes = (): Array<{ name: string; ip: string; rr: boolean }> => [
  { name: 'rr1', ip: RR1, rr: true },
  { name: 'rr2', ip: RR2, rr: true },
  ...CLIENTS.map((ip, i) => ({ name: `n${i + 1}`, ip, rr: false })),
];
const PEER_SPEC = { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" };
const CONFIG_SPEC = { nodeToNodeMeshEnabled: false, asNumber: AS };

async function fillEtcd(url: string): Promise<void> {
  const client = new Etcd3({ hosts: url });
  try {
    for (const n of nodes()) {
      const spec = { bgp: { ipv4Address: `${n.ip}/24`, ...(n.rr ? { routeReflectorClusterID: CID } : {}) } };
      const labels = n.rr ? { 'route-reflector': 'true' } : {};
      await client.put(`${CALICO_V3_PREFIX}/nodes/${n.name}`).value(JSON.stringify({ kind: 'Node', apiVersion: 'projectcalico.org/v3', metadata: { name: n.name, labels }, spec }));
    }
    await client.put(`${CALICO_V3_PREFIX}/bgppeers/peer-with-route-reflectors`).value(JSON.stringify({ kind: 'BGPPeer', apiVersion: 'projectcalico.org/v3', metadata: { name: 'peer-with-route-reflectors' }, spec: PEER_SPEC }));
    await client.put(`${CALICO_V3_PREFIX}/bgpconfigurations/default`).value(JSON.stringify({ kind: 'BGPConfiguration', apiVersion: 'projectcalico.org/v3', metadata: { name: 'default' }, spec: CONFIG_SPEC }));
  } finally {
    client.close();
  }
}

function kddYaml(): string {
  const docs: string[] = [];
  for (const n of nodes()) {
    docs.push([
      'apiVersion: v1', 'kind: Node', 'metadata:', `  name: ${n.name}`,
      ...(n.rr ? ['  labels:', '    route-reflector: "true"'] : []),
      '  annotations:', `    projectcalico.org/IPv4Address: ${n.ip}/24`,
      ...(n.rr ? [`    projectcalico.org/RouteReflectorClusterID: ${CID}`] : []),
    ].join('\n'));
  }
  docs.push(['apiVersion: crd.projectcalico.org/v1', 'kind: BGPPeer', 'metadata:', '  name: peer-with-route-reflectors', 'spec:', '  nodeSelector: all()', `  peerSelector: route-reflector == 'true'`].join('\n'));
  docs.push(['apiVersion: crd.projectcalico.org/v1', 'kind: BGPConfiguration', 'metadata:', '  name: default', 'spec:', '  nodeToNodeMeshEnabled: false', `  asNumber: ${AS}`].join('\n'));
  return `${docs.join('\n---\n')}\n`;
}

/** Starts the datastore with the topology in it; returns the environment our reflectors need to read it. */
async function datastore(kind: 'etcd' | 'kubernetes'): Promise<Record<string, string>> {
  if (kind === 'etcd') {
    const etcd = new Etcd(await freePort(ETCD_HOST), undefined, false);
    await etcd.start();
    cleanups.push(() => etcd.destroy());
    await fillEtcd(etcd.url);
    return { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: etcd.url };
  }
  const pki = makePki(API);
  const server = await FakeApiServer.start(
    { host: API, tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert }, tokens: { admin: 'admin', rr: 'rr' }, rbac: { admin: ['*'], rr: ['list *', 'watch *', 'get *'] } },
    new FakeStore(),
  );
  cleanups.push(() => server.stop());
  const dir = tmpDir('rr-topo-kc-');
  const admin = writeKubeconfig(dir, { server: server.url, caData: pki.caCert, token: 'admin' }, 'admin');
  const kc = writeKubeconfig(dir, { server: server.url, caData: pki.caCert, token: 'rr' }, 'rr');
  writeFileSync(join(dir, 'topology.yaml'), kddYaml());
  const r = await run(KUBECTL, ['apply', '--validate=false', '-f', join(dir, 'topology.yaml')], { env: { KUBECONFIG: admin, HOME: dir }, timeout: 20_000 });
  if (!/bgppeer.crd.projectcalico.org\/peer-with-route-reflectors created/.test(r.stdout)) throw new Error(`kubectl apply: ${r.stdout}${r.stderr}`);
  return { DATASTORE_TYPE: 'kubernetes', KUBECONFIG: kc };
}

const ALL_CLIENTS = CLIENTS.map((ip) => protocolName(ip));

async function topology(t: import('ava').ExecutionContext, kind: 'etcd' | 'kubernetes', second: 'ours' | 'calico-node'): Promise<void> {
  const env = await datastore(kind);
  const birds: CalicoBird[] = CLIENTS.map((ip, i) =>
    startCalicoBird({ ip, as: AS, block: block(i + 1), pool: POOL, peers: [{ neighbor: RR1 }, { neighbor: RR2 }] }),
  );
  for (const b of birds) cleanups.push(b.stop);
  const rr1 = startOurs(RR1, 'rr1', env);
  let rr2Bird: CalicoBird | undefined;
  let rr2Ours: Ours | undefined;
  if (second === 'ours') rr2Ours = startOurs(RR2, 'rr2', env);
  else {
    // calico-node on a reflector: the other reflector without rr lines (same cluster ID), every client with them.
    rr2Bird = startCalicoBird({ ip: RR2, as: AS, block: block(99), pool: POOL, clusterId: CID, peers: [{ neighbor: RR1 }, ...CLIENTS.map((ip) => ({ neighbor: ip, rrClient: true }))] });
    cleanups.push(rr2Bird.stop);
  }

  const expectOn = (other: string): string[] => [protocolName(other), ...ALL_CLIENTS].sort();
  // Our reflectors: exactly calico-node's sessions on those nodes, all Established.
  for (const [ours, other] of [[rr1, RR2], ...(rr2Ours !== undefined ? [[rr2Ours, RR1] as const] : [])] as Array<[Ours, string]>) {
    const states = await until(`our reflector: ${expectOn(other).join(', ')} Established`, async () => {
      const s = bgpStates(await birdc(ours.sock, 'show', 'protocols'));
      return [...s.values()].every((v) => v === 'Established') && [...s.keys()].sort().join() === expectOn(other).join() ? s : undefined;
    }, 90_000, 500).catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n${ours.log().slice(-4000)}`);
    });
    t.deepEqual([...states.keys()].sort(), expectOn(other));
    // rr client for the clients, not for the other reflector (same cluster ID).
    for (const name of ALL_CLIENTS) t.regex(await birdc(ours.sock, 'show', 'protocols', 'all', name), /Session:\s+internal multihop route-reflector/);
    t.notRegex(await birdc(ours.sock, 'show', 'protocols', 'all', protocolName(other)), /route-reflector/);
  }
  // The BIRD side agrees: every client has both of its reflector sessions up; the calico-node reflector all of its own.
  for (const b of [...birds, ...(rr2Bird !== undefined ? [rr2Bird] : [])]) {
    await until(`${b.ip}: every session Established`, () => {
      const s = bgpStates(b.birdc('show', 'protocols'));
      return s.size > 0 && [...s.values()].every((v) => v === 'Established') ? s : undefined;
    }, 60_000, 500);
  }
  // Routes: n2 gets n1's block from each reflector, reflected (ORIGINATOR_ID n1, CLUSTER_LIST 244.0.0.1 once).
  const n2 = birds[1]!;
  const routes = await until("n2 has n1's block from both reflectors", () => {
    const out = n2.birdc('show', 'route', block(1), 'all');
    return (out.match(/BGP\.originator_id: (\S+)/g) ?? []).length === 2 ? out : undefined;
  }, 60_000, 500);
  t.deepEqual(routes.match(/BGP\.originator_id: (\S+)/g), [`BGP.originator_id: ${CLIENTS[0]}`, `BGP.originator_id: ${CLIENTS[0]}`]);
  t.deepEqual(routes.match(/BGP\.cluster_list: .*/g), [`BGP.cluster_list: ${CID}`, `BGP.cluster_list: ${CID}`]);
  t.regex(routes, new RegExp(`\\[${protocolName(RR1)} `));
  t.regex(routes, new RegExp(`\\[${protocolName(RR2)} `));
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
}

test.serial('etcd v3: two of our reflectors have exactly calico-node\'s sessions and reflect between BIRD clients', (t) => topology(t, 'etcd', 'ours'));
test.serial('Kubernetes (kubectl): two of our reflectors have exactly calico-node\'s sessions and reflect between BIRD clients', (t) => topology(t, 'kubernetes', 'ours'));
test.serial('mixed cluster, etcd v3: our reflector and a calico-node BIRD reflector mesh and serve the same clients', (t) => topology(t, 'etcd', 'calico-node'));
test.serial('mixed cluster, Kubernetes: our reflector and a calico-node BIRD reflector mesh and serve the same clients', (t) => topology(t, 'kubernetes', 'calico-node'));
