// Renders both kustomize overlays (etcd, kubernetes) with the real kubectl and holds what it sends to the code:
// socket paths and group, the metrics and BGP ports, probe paths the HTTP server really serves, the env names
// our loader accepts, the exporter flags for an IPv4-only reflector, and the deployment rules of issue 19
// (dedicated nodes, hardening, resources, disruption budget, a metrics Service that selects the pods).
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_METRICS_PORT, loadConfig } from '../../src/config/index.js';
import { socketPathFor } from '../../src/control/server.js';
import { BGP_PORT_DEFAULT } from '../../src/wire/types.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';
import { startMetricsServer } from '../../src/metrics/http-server.js';
import type { MetricsModel } from '../../src/metrics/model.js';
import { claimLoopbackNet } from '../helpers/net.js';
import { at, isObj, list, OVERLAYS, render, reflectorPod, type Doc } from './render.js';

const NET = await claimLoopbackNet();
const rendered = new Map(OVERLAYS.map((o) => [o, render(o)]));

/** Kubernetes quantities as numbers (cores, bytes) for comparisons. */
function quantity(v: unknown): number {
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?$/.exec(String(v));
  if (m === null) throw new Error(`not a quantity: ${String(v)}`);
  const n = Number(m[1]);
  return n * ({ m: 0.001, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2] ?? ''] ?? 1);
}

function envOf(c: Doc | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of list(c?.env)) if (typeof e.value === 'string') env[String(e.name)] = e.value;
  return env;
}

for (const overlay of OVERLAYS) {
  test(`overlays/${overlay}: every rendered object names its apiVersion and kind, none from retired API groups`, (t) => {
    const docs = rendered.get(overlay)!;
    t.true(docs.length >= 4);
    for (const d of docs) {
      t.is(typeof d.apiVersion, 'string');
      t.is(typeof d.kind, 'string');
      t.is(at(d, 'metadata', 'namespace') ?? 'cluster-scoped', d.kind === 'ClusterRole' || d.kind === 'ClusterRoleBinding' ? 'cluster-scoped' : 'kube-system', `${String(d.kind)} namespace`);
    }
    t.false(docs.some((d) => /^(extensions\/|policy\/v1beta1|apps\/v1beta)/.test(String(d.apiVersion))));
  });

  test(`overlays/${overlay}: the DaemonSet and its sidecar agree with the code's defaults`, async (t) => {
    const docs = rendered.get(overlay)!;
    const { ds, pod, rr, exporter } = reflectorPod(docs);
    t.is(ds?.apiVersion, 'apps/v1');
    t.truthy(rr);
    t.truthy(exporter);

    // The environment is a valid configuration for our own loader, with the overlay's datastore.
    const env = envOf(rr);
    t.true(list(rr?.env).some((e) => e.name === 'IP' && at(e, 'valueFrom', 'fieldRef', 'fieldPath') === 'status.hostIP'));
    const cfg = loadConfig({ ...env, IP: '192.0.2.10' });
    t.is(cfg.datastore.type, overlay === 'etcd' ? 'etcdv3' : 'kubernetes');
    t.is(cfg.identity.ip6, undefined, 'IPv4 only as shipped');

    // Both containers share the socket folder; the exporter reads bird.ctl only, since with IP6 unset there is no bird6.ctl.
    const mountOf = (c: Doc | undefined): Doc | undefined => list(c?.volumeMounts).find((m) => m.mountPath === cfg.observability.socketDir);
    t.truthy(mountOf(rr), 'reflector mounts SOCKET_DIR');
    t.is(mountOf(exporter)?.name, mountOf(rr)?.name, 'sidecar shares the same volume');
    t.true(isObj(list(at(pod, 'volumes')).find((v) => v.name === mountOf(rr)?.name)?.emptyDir), 'the shared volume is an emptyDir');
    const args = (exporter?.args as unknown[]).map(String);
    t.true(args.includes(`-bird.socket=${socketPathFor(cfg.observability.socketDir, 4)}`));
    t.true(args.includes('-bird.ipv6=false'), 'no IPv6 socket to read');
    t.false(args.some((a) => a.startsWith('-bird.socket6=')));
    t.true(args.includes('-format.new=true'));

    // Sockets: group = the pod's fsGroup, mode lets that group connect (write), exporter is another uid.
    const access = loadConfig({ ...env, IP: '192.0.2.10' }).observability.socketAccess;
    t.is(access.gid, at(pod, "securityContext", "fsGroup") as number | undefined);
    t.is(access.mode & 0o060, 0o060, 'group read and write');
    t.is(access.mode & 0o007, 0, 'nothing for others');
    t.not(at(exporter, 'securityContext', 'runAsUser'), at(rr, 'securityContext', 'runAsUser'));

    // Probes hit the metrics port the config resolves to, on paths our HTTP server serves.
    t.is(cfg.observability.metricsListen?.port, DEFAULT_METRICS_PORT);
    t.is(cfg.identity.bgpPort, BGP_PORT_DEFAULT);
    t.is(list(rr?.ports).find((p) => p.name === 'bgp')?.containerPort, BGP_PORT_DEFAULT);
    t.is(list(rr?.ports).find((p) => p.name === 'rr-metrics')?.containerPort, DEFAULT_METRICS_PORT);
    const model: MetricsModel = { sessions: () => [], ribs: () => [], updateGroups: () => [], datastore: () => ({ source: 'test', synced: true }), listening: () => true };
    const server = await startMetricsServer(`${NET.host(1)}:0`, createMetricsRegistry(model), model);
    t.teardown(() => server.close());
    for (const probe of ['livenessProbe', 'readinessProbe']) {
      t.is(at(rr, probe, 'httpGet', 'port'), DEFAULT_METRICS_PORT);
      const p = String(at(rr, probe, 'httpGet', 'path'));
      t.is((await fetch(`http://${NET.host(1)}:${server.address().port}${p}`)).status, 200, `${probe} ${p} is served`);
    }
    t.false(list(rr?.env).some((e) => e.name === 'METRICS_LISTEN'), 'the manifest keeps the default: metrics on IP only');
  });

  test(`overlays/${overlay}: dedicated nodes, hardening, resources, disruption budget and the metrics Service`, (t) => {
    const docs = rendered.get(overlay)!;
    const { ds, pod, rr, exporter } = reflectorPod(docs);
    const podLabels = at(ds, 'spec', 'template', 'metadata', 'labels') as Doc;

    // Only on nodes labelled route-reflector=true, tolerating their taint, on the host's network.
    t.is(at(pod, 'hostNetwork'), true);
    t.deepEqual(at(pod, 'nodeSelector'), { 'route-reflector': 'true' });
    t.true(list(at(pod, 'tolerations')).some((x) => x.key === 'route-reflector' && x.value === 'true' && x.effect === 'NoSchedule'));
    t.is(at(ds, 'spec', 'updateStrategy', 'rollingUpdate', 'maxUnavailable'), 1);

    // Hardened: read-only root, seccomp RuntimeDefault, only NET_BIND_SERVICE (and allowPrivilegeEscalation
    // true for its file capability, README "Not root"); the exporter gets nothing at all.
    t.is(at(pod, 'securityContext', 'seccompProfile', 'type'), 'RuntimeDefault');
    for (const c of [rr, exporter]) {
      t.is(at(c, 'securityContext', 'readOnlyRootFilesystem'), true);
      t.is(at(c, 'securityContext', 'runAsNonRoot'), true);
      t.is(at(c, 'securityContext', 'seccompProfile', 'type'), 'RuntimeDefault');
      t.deepEqual(at(c, 'securityContext', 'capabilities', 'drop'), ['ALL']);
      t.not(at(c, 'securityContext', 'privileged'), true);
    }
    t.deepEqual(at(rr, 'securityContext', 'capabilities', 'add'), ['NET_BIND_SERVICE']);
    t.is(at(rr, 'securityContext', 'allowPrivilegeEscalation'), true);
    t.is(at(rr, 'securityContext', 'runAsUser'), 65534);
    t.is(at(exporter, 'securityContext', 'capabilities', 'add'), undefined);
    t.is(at(exporter, 'securityContext', 'allowPrivilegeEscalation'), false);

    // Requests and limits on both containers, requests within limits; the reflector's memory request covers
    // the 1,000-session RSS the manifest's comment states (129-140 MiB measured).
    for (const c of [rr, exporter]) {
      for (const r of ['cpu', 'memory']) {
        const req = quantity(at(c, 'resources', 'requests', r));
        const lim = quantity(at(c, 'resources', 'limits', r));
        t.true(req > 0 && req <= lim, `${String(c?.name)} ${r}: ${req} within ${lim}`);
      }
    }
    t.true(quantity(at(rr, 'resources', 'requests', 'memory')) >= 140 * 1024 ** 2);

    // The exporter image is pinned to a release (x.y.z tag or a digest), never a floating tag.
    t.regex(String(exporter?.image), /^[\w./-]+\/bird_exporter(:\d+\.\d+\.\d+|@sha256:[0-9a-f]{64})$/);

    // One disruption budget across all reflectors.
    const pdb = docs.filter((d) => d.kind === 'PodDisruptionBudget');
    t.is(pdb.length, 1);
    t.is(pdb[0]?.apiVersion, 'policy/v1');
    t.is(at(pdb[0], 'spec', 'maxUnavailable'), 1);
    for (const [k, v] of Object.entries(at(pdb[0], 'spec', 'selector', 'matchLabels') as Doc)) t.is(podLabels[k], v, `PDB selects the pods (${k})`);

    // The metrics Service selects the pods and maps each port to a named container port that exists; BGP is not a Service.
    const services = docs.filter((d) => d.kind === 'Service');
    t.is(services.length, 1);
    const svc = services[0];
    for (const [k, v] of Object.entries(at(svc, 'spec', 'selector') as Doc)) t.is(podLabels[k], v, `Service selects the pods (${k})`);
    const named = new Map<string, number>();
    for (const c of [rr, exporter]) for (const p of list(c?.ports)) named.set(String(p.name), Number(p.containerPort));
    const ports = list(at(svc, 'spec', 'ports'));
    for (const p of ports) {
      t.true(named.has(String(p.targetPort)), `Service port ${String(p.name)} targets container port ${String(p.targetPort)}`);
      t.is(named.get(String(p.targetPort)), Number(p.port));
    }
    const exporterListen = (exporter?.args as unknown[]).map(String).find((a) => a.startsWith('-web.listen-address='));
    t.deepEqual(ports.map((p) => named.get(String(p.targetPort))).sort(), [DEFAULT_METRICS_PORT, Number(exporterListen?.split(':').pop())].sort());
    t.false(ports.some((p) => Number(p.port) === BGP_PORT_DEFAULT), 'no Service on 179');

    // The pod's service account exists; the Kubernetes datastore binds its rules to it.
    const sa = at(pod, 'serviceAccountName');
    t.true(docs.some((d) => d.kind === 'ServiceAccount' && at(d, 'metadata', 'name') === sa));
    t.is(docs.some((d) => d.kind === 'ClusterRoleBinding' && list(d.subjects).some((s) => s.name === sa)), overlay === 'kubernetes');
  });
}

test('the Dockerfile runs as 65534 with the file capability and keeps the metrics default', (t) => {
  const dockerfile = readFileSync(fileURLToPath(new URL('../../Dockerfile', import.meta.url)), 'utf8');
  t.regex(dockerfile, /^USER 65534:65534$/m);
  t.regex(dockerfile, /setcap cap_net_bind_service=\+ep/);
  t.notRegex(dockerfile, /^\s*(ENV|ARG)\b.*METRICS_LISTEN=/m, 'the image keeps the default: metrics on IP only');
});
