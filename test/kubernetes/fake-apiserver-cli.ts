// Runs the fake Kubernetes API server on its own, seeded from the command line, and writes a kubeconfig for
// it: for trying `DATASTORE_TYPE=kubernetes KUBECONFIG=... IP=... npm start` without a cluster.
//   node --import=tsx test/kubernetes/fake-apiserver-cli.ts --listen 127.80.0.1:6443 --kubeconfig /tmp/kc \
//     --node a=10.0.1.1/24 --node b=10.0.1.2/24 --peer 10.0.0.10:64512 [--peer [fd00::10]:64512@a] [--as 64512] [--plain]
// HTTPS with a generated CA by default (kubectl sends no bearer token over plain http; --plain is for our own
// client only). kubectl works against it (`kubectl apply --validate=false ...`). Stops on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeApiServer, FakeStore } from './fake-apiserver.js';
import { bgpConfig, bgpPeer, kubeconfigYaml, node } from './helpers.js';
import { makePki } from './pki.js';

const { values } = parseArgs({
  options: {
    listen: { type: 'string', default: '127.80.0.1:6443' },
    kubeconfig: { type: 'string' },
    node: { type: 'string', multiple: true, default: [] },
    peer: { type: 'string', multiple: true, default: [] },
    as: { type: 'string' },
    plain: { type: 'boolean', default: false },
  },
});
const m = /^(.+):(\d+)$/.exec(values.listen);
if (m === null) throw new Error(`--listen ${values.listen}: expected host:port`);
const [host, port] = [m[1]!, Number(m[2])];
const store = new FakeStore();
for (const spec of values.node) {
  const [name, addr] = spec.split('=');
  store.create('nodes', node(name!, addr));
}
values.peer.forEach((spec, i) => {
  const pm = /^\[?([^@\]]+?)\]?:(\d+)(?:@(.+))?$/.exec(spec);
  if (pm === null) throw new Error(`--peer ${spec}: expected ip:as or ip:as@node`);
  store.create('bgppeers', bgpPeer(`peer-${i}`, pm[1]!, Number(pm[2]), pm[3]));
});
if (values.as !== undefined) store.create('bgpconfigurations', bgpConfig(Number(values.as)));

const pki = values.plain ? undefined : makePki(host);
const server = await FakeApiServer.start({
  host,
  port,
  tls: pki === undefined ? undefined : { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert },
  tokens: { 'demo-token': 'admin' },
  rbac: { admin: ['*'] },
}, store);
const kcPath = values.kubeconfig ?? join(mkdtempSync(join(tmpdir(), 'fake-kube-')), 'kubeconfig');
writeFileSync(kcPath, kubeconfigYaml({ server: server.url, token: 'demo-token', caData: pki?.caCert, namespace: 'default' }));
process.stdout.write(`fake API server on ${server.url}; kubeconfig: ${kcPath}\n`);
const stop = (): void => void server.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
