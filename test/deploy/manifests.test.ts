// Parses every manifest in deploy/kubernetes and checks it agrees with the code: socket paths, the metrics
// and BGP ports, probe paths the HTTP server really serves, the sidecar's exporter port behind the Service.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_METRICS_PORT, loadConfig } from '../../src/config/index.js';
import { socketPathFor } from '../../src/control/server.js';
import { BGP_PORT_DEFAULT } from '../../src/wire/types.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';
import { startMetricsServer } from '../../src/metrics/http-server.js';
import type { MetricsModel } from '../../src/metrics/model.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();

const DIR = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
function at(o: unknown, ...keys: (string | number)[]): unknown {
  let cur: unknown = o;
  for (const k of keys) {
    if (Array.isArray(cur) && typeof k === 'number') cur = cur[k];
    else if (isObj(cur) && typeof k === 'string') cur = cur[k];
    else return undefined;
  }
  return cur;
}
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

function documents(): Obj[] {
  const docs: Obj[] = [];
  for (const f of readdirSync(DIR).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml'))) {
    for (const d of parseAllDocuments(readFileSync(path.join(DIR, f), 'utf8'))) {
      if (d.errors.length > 0) throw new Error(`${f}: ${d.errors.map((e) => e.message).join('; ')}`);
      const js: unknown = d.toJS();
      if (isObj(js)) docs.push({ ...js, __file: f });
    }
  }
  return docs;
}

test('every manifest parses and names its apiVersion and kind', (t) => {
  const docs = documents();
  t.true(docs.length >= 2);
  for (const d of docs) {
    t.is(typeof d.apiVersion, 'string', `${String(d.__file)}: apiVersion`);
    t.is(typeof d.kind, 'string', `${String(d.__file)}: kind`);
  }
  t.false(docs.some((d) => String(d.apiVersion).startsWith('extensions/')), 'no extensions/v1beta1 left');
});

test('the reflector Deployment, its sidecar and the Service agree with the code defaults', async (t) => {
  const docs = documents();
  const deploy = docs.find((d) => d.kind === 'Deployment');
  const service = docs.find((d) => d.kind === 'Service');
  t.truthy(deploy);
  t.truthy(service);
  t.is(deploy?.apiVersion, 'apps/v1');
  const pod = at(deploy, 'spec', 'template', 'spec');
  const containers = list(at(pod, 'containers'));
  const rr = containers.find((c) => String(c.image).includes('route-reflector'));
  const exporter = containers.find((c) => String(c.image).includes('bird_exporter'));
  t.truthy(rr);
  t.truthy(exporter);

  // The environment of the reflector container is a valid configuration for our own loader.
  const env: Record<string, string> = {};
  for (const e of list(rr?.env)) if (typeof e.value === 'string') env[String(e.name)] = e.value;
  env.IP = '192.0.2.10'; // comes from the downward API (status.hostIP) in the manifest
  const cfg = loadConfig(env);
  t.true(list(rr?.env).some((e) => e.name === 'IP' && at(e, 'valueFrom', 'fieldRef', 'fieldPath') === 'status.hostIP'));

  // Both containers mount the same volume at the socket folder, and the exporter reads our socket paths.
  const mountOf = (c: Obj | undefined): Obj | undefined => list(c?.volumeMounts).find((m) => m.mountPath === cfg.observability.socketDir);
  t.truthy(mountOf(rr), 'reflector mounts SOCKET_DIR');
  t.is(mountOf(exporter)?.name, mountOf(rr)?.name, 'sidecar shares the same volume');
  const volume = list(at(pod, 'volumes')).find((v) => v.name === mountOf(rr)?.name);
  t.truthy(volume && isObj(volume.emptyDir), 'the shared volume is an emptyDir');
  const args = (exporter?.args as unknown[]).map(String);
  t.true(args.includes(`-bird.socket=${socketPathFor(cfg.observability.socketDir, 4)}`));
  t.true(args.includes(`-bird.socket6=${socketPathFor(cfg.observability.socketDir, 6)}`));
  t.true(args.includes('-format.new=true'));

  // The pod runs as the service account the RBAC manifest grants (for DATASTORE_TYPE=kubernetes).
  const sa = docs.find((d) => d.kind === 'ServiceAccount');
  t.is(at(pod, 'serviceAccountName'), at(sa, 'metadata', 'name'));
  t.true(docs.some((d) => d.kind === 'ClusterRoleBinding' && list(d.subjects).some((s) => s.name === at(pod, 'serviceAccountName'))));

  // Not privileged: only NET_BIND_SERVICE for port 179.
  t.not(at(rr, 'securityContext', 'privileged'), true);
  t.deepEqual(at(rr, 'securityContext', 'capabilities', 'add'), ['NET_BIND_SERVICE']);
  t.deepEqual(at(rr, 'securityContext', 'capabilities', 'drop'), ['ALL']);
  // Not root, as the image's USER; file capabilities need no no_new_privs (test/container/entrypoint.test.ts).
  t.is(at(rr, 'securityContext', 'runAsNonRoot'), true);
  t.is(at(rr, 'securityContext', 'runAsUser'), 65534);
  t.is(at(rr, 'securityContext', 'allowPrivilegeEscalation'), true);
  // The exporter runs as the same user, so it may open the 0660 control sockets that user created.
  t.is(at(exporter, 'securityContext', 'runAsUser'), at(rr, 'securityContext', 'runAsUser'));
  t.is(at(exporter, 'securityContext', 'runAsGroup'), at(rr, 'securityContext', 'runAsGroup'));
  const dockerfile = readFileSync(fileURLToPath(new URL('../../Dockerfile', import.meta.url)), 'utf8');
  t.regex(dockerfile, /^USER 65534:65534$/m);
  t.regex(dockerfile, /setcap cap_net_bind_service=\+ep/);
  t.notRegex(dockerfile, /METRICS_LISTEN=/, 'the image keeps the default: metrics on IP only');
  t.false(list(rr?.env).some((e) => e.name === 'METRICS_LISTEN'), 'the manifest keeps the default: metrics on IP only');

  // Probes hit the metrics port the config resolves to, on paths our HTTP server serves.
  const metricsPort = cfg.observability.metricsListen?.port;
  t.is(metricsPort, DEFAULT_METRICS_PORT);
  t.is(at(rr, 'livenessProbe', 'httpGet', 'port'), metricsPort);
  t.is(at(rr, 'readinessProbe', 'httpGet', 'port'), metricsPort);
  const model: MetricsModel = {
    sessions: () => [], ribs: () => [], updateGroups: () => [],
    datastore: () => ({ source: 'test', synced: true }), listening: () => true,
  };
  const server = await startMetricsServer(`${NET.host(1)}:0`, createMetricsRegistry(model), model);
  t.teardown(() => server.close());
  for (const probe of ['livenessProbe', 'readinessProbe']) {
    const p = String(at(rr, probe, 'httpGet', 'path'));
    t.is((await fetch(`http://${NET.host(1)}:${server.address().port}${p}`)).status, 200, `${probe} ${p} is served`);
  }

  // The Service maps each port to a port a container really listens on.
  const containerPorts = new Map<string, number>();
  for (const c of containers) for (const p of list(c.ports)) containerPorts.set(String(p.name), Number(p.containerPort));
  for (const p of list(at(service, 'spec', 'ports'))) {
    t.true([...containerPorts.values()].includes(Number(p.targetPort)), `Service port ${String(p.name)} targets a container port`);
  }
  const exporterListen = args.find((a) => a.startsWith('-web.listen-address='));
  const exporterPort = exporterListen !== undefined ? Number(exporterListen.split(':').pop()) : 9324;
  t.is(list(at(service, 'spec', 'ports')).find((p) => p.name === 'metrics')?.targetPort, exporterPort, 'metrics targets the exporter (the seed had 9234)');
  t.is(list(at(service, 'spec', 'ports')).find((p) => p.name === 'bgp-tcp')?.targetPort, BGP_PORT_DEFAULT);
  t.is(cfg.identity.bgpPort, BGP_PORT_DEFAULT);
});
