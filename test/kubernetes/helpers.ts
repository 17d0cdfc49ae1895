// Shared test helpers: a KeySourceEvents recorder with bounded waiting, kubeconfig writers and sample objects.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execChild } from '../helpers/child.js';
import type { KeySourceEvents } from '../../src/datastore/source.js';
import type { Obj } from './fake-apiserver.js';

export class Recorder implements KeySourceEvents {
  keys = new Map<string, string>();
  snapshots = 0;
  /** The first snapshot as it was received. */
  first?: Map<string, string>;
  changes: Array<[string, string | undefined]> = [];
  problems: string[] = [];
  private waiters: Array<() => void> = [];

  snapshot(keys: ReadonlyMap<string, string>): void {
    this.snapshots++;
    this.keys = new Map(keys);
    this.first ??= new Map(keys);
    this.poke();
  }
  change(key: string, value: string | undefined): void {
    this.changes.push([key, value]);
    if (value === undefined) this.keys.delete(key);
    else this.keys.set(key, value);
    this.poke();
  }
  problem(message: string): void {
    this.problems.push(message);
    this.poke();
  }
  private poke(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits (at most timeoutMs) until `pred` holds; fails with `what` and the current keys otherwise. */
  async until(what: string, pred: (r: Recorder) => boolean, timeoutMs = 8000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${what}; keys=${JSON.stringify([...this.keys].slice(0, 50))}; problems=${JSON.stringify(this.problems.slice(-5))}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

export function tmpDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface KubeconfigParts {
  server: string;
  token?: string;
  caPath?: string;
  caData?: string;
  certPath?: string;
  keyPath?: string;
  certData?: string;
  keyData?: string;
  namespace?: string;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** A kubeconfig in the layout `kubectl config view --raw` writes (YAML). */
export function kubeconfigYaml(p: KubeconfigParts): string {
  const cluster = [
    `    server: ${p.server}`,
    ...(p.caPath !== undefined ? [`    certificate-authority: ${p.caPath}`] : []),
    ...(p.caData !== undefined ? [`    certificate-authority-data: ${b64(p.caData)}`] : []),
  ];
  const user = [
    ...(p.token !== undefined ? [`    token: "${p.token}"`] : []),
    ...(p.certPath !== undefined ? [`    client-certificate: ${p.certPath}`] : []),
    ...(p.keyPath !== undefined ? [`    client-key: ${p.keyPath}`] : []),
    ...(p.certData !== undefined ? [`    client-certificate-data: ${b64(p.certData)}`] : []),
    ...(p.keyData !== undefined ? [`    client-key-data: ${b64(p.keyData)}`] : []),
  ];
  return [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    ...cluster,
    '  name: fake # a comment',
    'contexts:',
    '- context:',
    '    cluster: fake',
    ...(p.namespace !== undefined ? [`    namespace: ${p.namespace}`] : []),
    '    user: rr',
    '  name: fake-ctx',
    'current-context: fake-ctx',
    'kind: Config',
    'preferences: {}',
    'users:',
    '- name: rr',
    ...(user.length > 0 ? ['  user:', ...user] : ['  user: {}']),
    '',
  ].join('\n');
}

export function writeKubeconfig(dir: string, p: KubeconfigParts, name = 'kubeconfig'): string {
  const path = join(dir, name);
  writeFileSync(path, kubeconfigYaml(p));
  return path;
}

export function node(name: string, v4?: string, v6?: string, asn?: string): Obj {
  const annotations: Record<string, string> = {};
  if (v4 !== undefined) annotations['projectcalico.org/IPv4Address'] = v4;
  if (v6 !== undefined) annotations['projectcalico.org/IPv6Address'] = v6;
  if (asn !== undefined) annotations['projectcalico.org/ASNumber'] = asn;
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, annotations }, spec: {} };
}

export function bgpPeer(name: string, peerIP: string, asNumber: number, nodeName?: string): Obj {
  return {
    apiVersion: 'crd.projectcalico.org/v1',
    kind: 'BGPPeer',
    metadata: { name },
    spec: { peerIP, asNumber, ...(nodeName !== undefined ? { node: nodeName } : {}) },
  };
}

export function bgpConfig(asNumber: number): Obj {
  return { apiVersion: 'crd.projectcalico.org/v1', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { asNumber } };
}

export const K = '/calico/bgp/v1';

/** Debian's kubernetes-client conflicts with other kubectl packages, so CI may unpack it under /opt. */
export const KUBECTL = process.env.KUBECTL ?? (existsSync('/opt/kubernetes-client/usr/bin/kubectl') ? '/opt/kubernetes-client/usr/bin/kubectl' : 'kubectl');

/** Runs the real kubectl against a kubeconfig (HOME set so it writes no cache elsewhere); never throws. */
export async function kubectl(kc: string, home: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await execChild(KUBECTL, args, { env: { KUBECONFIG: kc, HOME: home }, timeout: 20_000 });
    return { ok: true, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}` };
  }
}

/** Where the Kubernetes source publishes Nodes, BGPPeers and BGPConfigurations (as etcd v3 stores Calico v3 resources). */
export const V3 = '/calico/resources/v3/projectcalico.org';

/** A published v3 resource (labels, spec), or undefined when the key set has none of that name. */
export function resource(keys: ReadonlyMap<string, string>, kind: 'nodes' | 'bgppeers' | 'bgpconfigurations', name: string): { labels: Record<string, string>; spec: Record<string, unknown> } | undefined {
  const v = keys.get(`${V3}/${kind}/${name}`);
  if (v === undefined) return undefined;
  const doc = JSON.parse(v) as { metadata: { labels?: Record<string, string> }; spec?: Record<string, unknown> };
  return { labels: doc.metadata.labels ?? {}, spec: doc.spec ?? {} };
}

/** A published Node's BGP address of one family without its prefix length ('' when it has none), undefined when no such Node. */
export function nodeAddress(keys: ReadonlyMap<string, string>, name: string, family: 4 | 6 = 4): string | undefined {
  const r = resource(keys, 'nodes', name);
  if (r === undefined) return undefined;
  const bgp = (r.spec.bgp ?? {}) as Record<string, unknown>;
  const a = bgp[family === 4 ? 'ipv4Address' : 'ipv6Address'];
  return typeof a === 'string' ? a.replace(/\/\d+$/, '').toLowerCase().replace(/^fd00:0:0::/, 'fd00::') : '';
}
