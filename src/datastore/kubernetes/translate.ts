// Pure translation of Kubernetes objects into keys: Nodes, BGPPeers and BGPConfigurations into the Calico v3
// resources etcd v3 would hold (calico-sessions.ts computes the sessions from them), route-reflector Leases into
// /calico/bgp/v1 rr entries; and the password of a BGPPeer from its Secret.
import { canonicalAddress as canonicalText } from '../../net/address.js';
import type { KubeObject } from './client.js';
import { checkParsedValue, describeValue, MAX_RESOURCE_BYTES } from '../safe-value.js';
import { CALICO_V3_PREFIX } from '../calico-v3.js';
import { nodeFromKubernetes, ourAnnotations } from '../calico/resources.js';

export const PREFIX = '/calico/bgp/v1';
export const ANN_IPV4 = 'projectcalico.org/IPv4Address';
export const ANN_IPV6 = 'projectcalico.org/IPv6Address';
export const ANN_ASN = 'projectcalico.org/ASNumber';
/** Our own annotation on reflector Leases (there is no Calico resource for a reflector's cluster ID). */
export const ANN_CLUSTER_ID = 'projectcalico.org/RouteReflectorClusterID';
/** Label that marks a Lease as a route reflector's announcement; also the watch's label selector. */
export const LABEL_RR = 'projectcalico.org/route-reflector';
export const RR_LABEL_SELECTOR = `${LABEL_RR}=true`;

export interface Translation {
  keys: Array<[string, string]>;
  problems: string[];
}

export interface LeaseTranslation extends Translation {
  /** When this Lease stops counting (renewTime + leaseDurationSeconds), ms since the epoch. */
  expiresAtMs?: number;
}

export interface ObjectSets {
  nodes: Iterable<KubeObject>;
  bgpPeers: Iterable<KubeObject>;
  bgpConfigurations: Iterable<KubeObject>;
  leases: Iterable<KubeObject>;
}

/**
 * The Secrets BGPPeer `spec.password.secretKeyRef` may name. As in calico/node, they all live in one namespace
 * (NAMESPACE, default kube-system): a BGPPeer is cluster-scoped and its secretKeyRef has no namespace field.
 */
export interface SecretSet {
  namespace: string;
  /** Secret name → Secret (core/v1, `data` values in base64). A name absent here is a missing Secret. */
  byName: ReadonlyMap<string, object>;
  /** Names not listed yet: their peers wait ("waiting for"), which is not yet a missing Secret. */
  pending?: ReadonlySet<string>;
}

/** spec.password.secretKeyRef of a BGPPeer. */
export interface SecretRef {
  name: string;
  key: string;
}

export interface FullTranslation {
  keys: Map<string, string>;
  problems: string[];
  /** Earliest future expiry of a live Lease: re-translate then so it drops out. */
  nextExpiryMs?: number;
}

/**
 * Every key of every object; objects are taken in name order so that key clashes resolve the same way each time.
 * `renewedAt` gives, per Lease, the local time its current renewal counts from (see leaseKeys).
 */
export function translateAll(sets: ObjectSets, nowMs: number, renewedAt?: (lease: KubeObject) => number | undefined): FullTranslation {
  const keys = new Map<string, string>();
  const problems: string[] = [];
  let nextExpiryMs: number | undefined;
  const add = (t: Translation): void => {
    for (const [k, v] of t.keys) keys.set(k, v);
    problems.push(...t.problems);
  };
  for (const n of byName(sets.nodes)) add(resourceKeys('nodes', n));
  for (const c of byName(sets.bgpConfigurations)) add(resourceKeys('bgpconfigurations', c));
  for (const p of byName(sets.bgpPeers)) add(resourceKeys('bgppeers', p));
  for (const l of byName(sets.leases)) {
    const t = leaseKeys(l, nowMs, renewedAt?.(l));
    add(t);
    if (t.expiresAtMs !== undefined && t.expiresAtMs > nowMs) {
      nextExpiryMs = nextExpiryMs === undefined ? t.expiresAtMs : Math.min(nextExpiryMs, t.expiresAtMs);
    }
  }
  return { keys, problems, nextExpiryMs };
}

/**
 * A Node, BGPPeer or BGPConfiguration as the Calico v3 resource calico-node's KDD sees (for a Node:
 * nodeFromKubernetes, labels and spec.bgp from the projectcalico.org/ annotations), under the key etcd v3 would
 * store it at, so that calico-sessions.ts reads both datastores the same way.
 */
export function resourceKeys(kind: 'nodes' | 'bgppeers' | 'bgpconfigurations', o: KubeObject): Translation {
  const name = nameOf(o);
  const what = kind === 'nodes' ? 'Node' : kind === 'bgppeers' ? 'BGPPeer' : 'BGPConfiguration';
  if (name === '' || name.includes('/')) return { keys: [], problems: [`${what} with unusable name ${describeValue(name)} ignored`] };
  const why = checkParsedValue(o, { maxBytes: MAX_RESOURCE_BYTES });
  if (why !== undefined) return { keys: [], problems: [`${what} ${name.length > 200 ? `${name.slice(0, 200)}…` : name}: ${why}; ignored`] };
  const r = kind === 'nodes' ? nodeFromKubernetes(o) : { name, labels: labelsOf(o), spec: o.spec ?? {} };
  // Our own annotations (a BGPPeer's rr.calico-ts.io/add-paths) as etcd v3 would hold them; no others.
  const ours = kind === 'nodes' ? undefined : ourAnnotations(o.metadata?.annotations);
  const doc = { metadata: { name, labels: r.labels ?? {}, ...(ours !== undefined ? { annotations: ours } : {}) }, spec: r.spec ?? {} };
  return { keys: [[`${CALICO_V3_PREFIX}/${kind}/${name}`, JSON.stringify(doc)]], problems: [] };
}

/** spec.password → {name, key} of its secretKeyRef, or the reason it is unusable. */
export function secretRefOf(password: unknown): SecretRef | string {
  const ref = recordOf(recordOf(password).secretKeyRef);
  const name = typeof ref.name === 'string' ? ref.name.trim() : '';
  const key = typeof ref.key === 'string' ? ref.key.trim() : '';
  if (name === '' || key === '') return `spec.password has no secretKeyRef with a name and a key (it is ${describeValue(password)})`;
  return { name, key };
}

/** Names of the Secrets these BGPPeers' passwords refer to (what the source must follow). */
export function referencedSecrets(peers: Iterable<KubeObject>): Set<string> {
  const out = new Set<string>();
  for (const p of peers) {
    const pw = recordOf(p.spec).password;
    if (pw === undefined || pw === null) continue;
    const ref = secretRefOf(pw);
    if (typeof ref !== 'string') out.add(ref.name);
  }
  return out;
}

/**
 * The password a BGPPeer's spec.password.secretKeyRef points at: the Secret's data[key], base64-decoded (the API
 * carries Secret data in base64) and read as UTF-8. Problems never contain the password itself.
 */
export function peerPassword(peerName: string, password: unknown, secrets: SecretSet | undefined): { password?: string; problems: string[] } {
  const withheld = 'peer withheld until it can be read (never configured without its password)';
  const ref = secretRefOf(password);
  if (typeof ref === 'string') return { problems: [`BGPPeer ${peerName}: ${ref}; ${withheld}`] };
  const ns = secrets?.namespace ?? '?';
  const what = `Secret ${ns}/${ref.name} key ${JSON.stringify(ref.key.length > 100 ? `${ref.key.slice(0, 100)}…` : ref.key)}`;
  if (secrets === undefined || secrets.pending?.has(ref.name) === true) {
    return { problems: [`BGPPeer ${peerName}: waiting for password ${what} (not listed yet); ${withheld}`] };
  }
  const secret = secrets.byName.get(ref.name);
  if (secret === undefined) {
    return { problems: [`BGPPeer ${peerName}: password ${what}: the Secret does not exist in namespace ${ns}; ${withheld}`] };
  }
  const data = recordOf((secret as { data?: unknown }).data);
  const raw = data[ref.key];
  if (raw === undefined || raw === null) {
    const have = Object.keys(data).sort().map((k) => JSON.stringify(k)).join(', ');
    return { problems: [`BGPPeer ${peerName}: password ${what}: the Secret has no such key (it has ${have === '' ? 'none' : have}); ${withheld}`] };
  }
  if (typeof raw !== 'string' || raw.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(raw)) {
    return { problems: [`BGPPeer ${peerName}: password ${what}: the value is not base64 data; ${withheld}`] };
  }
  const bytes = Buffer.from(raw, 'base64');
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) {
    return { problems: [`BGPPeer ${peerName}: password ${what}: the value is not UTF-8 text; ${withheld}`] };
  }
  if (text === '') return { problems: [`BGPPeer ${peerName}: password ${what}: the value is empty; ${withheld}`] };
  const problems: string[] = [];
  // `echo secret | base64` is the classic mistake; the other side most likely has no line break in its password.
  if (/[\r\n]$/.test(text)) problems.push(`BGPPeer ${peerName}: password ${what} ends with a line break (echo without -n?); used as it is`);
  return { password: text, problems };
}

/**
 * A route-reflector Lease → rr_v4/<IPv4> and rr_v6/<IPv6> entries {"ip", "cluster_id"} while it is live:
 * renewal time + spec.leaseDurationSeconds is in the future. The renewal time is spec.renewTime, or
 * `renewedAtMs` when the caller measured it on its own clock (the holder's clock may be skewed).
 * These are the entries the original's operators wrote by hand into etcd v2; they turn on the reflector mesh.
 */
export function leaseKeys(lease: KubeObject, nowMs: number, renewedAtMs?: number): LeaseTranslation {
  const name = nameOf(lease);
  const out: LeaseTranslation = { keys: [], problems: [] };
  if (labelsOf(lease)[LABEL_RR] !== 'true') return out;
  const spec = recordOf(lease.spec);
  const stated = typeof spec.renewTime === 'string' ? Date.parse(spec.renewTime) : NaN;
  const renewed = Number.isFinite(stated) && renewedAtMs !== undefined ? renewedAtMs : stated;
  const duration = typeof spec.leaseDurationSeconds === 'number' ? spec.leaseDurationSeconds : NaN;
  if (!Number.isFinite(renewed) || !Number.isFinite(duration) || duration <= 0) {
    out.problems.push(`Lease ${name}: no usable spec.renewTime/spec.leaseDurationSeconds; ignored`);
    return out;
  }
  out.expiresAtMs = renewed + duration * 1000;
  if (out.expiresAtMs <= nowMs) return out;
  const ann = annotationsOf(lease);
  const clusterRaw = (ann[ANN_CLUSTER_ID] ?? '').trim();
  for (const family of [4, 6] as const) {
    const raw = (ann[family === 4 ? ANN_IPV4 : ANN_IPV6] ?? '').trim();
    if (raw === '') continue;
    const address = canonicalAddress(family, raw);
    if (address === undefined) {
      out.problems.push(`Lease ${name}: ${family === 4 ? ANN_IPV4 : ANN_IPV6}=${describeValue(raw)} is not an IPv${family} address`);
      continue;
    }
    const entry: { ip: string; cluster_id?: string } = { ip: address };
    if (clusterRaw !== '') entry.cluster_id = clusterRaw;
    out.keys.push([`${PREFIX}/rr_v${family}/${address}`, JSON.stringify(entry)]);
  }
  return out;
}

/** Changes that turn `prev` into `next`: [key, value] for writes, [key, undefined] for deletions. */
export function diffKeys(prev: ReadonlyMap<string, string>, next: ReadonlyMap<string, string>): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = [];
  for (const [k, v] of next) if (prev.get(k) !== v) out.push([k, v]);
  for (const k of prev.keys()) if (!next.has(k)) out.push([k, undefined]);
  return out;
}

/** Canonical address text (net/address.ts); IPv6 in mixed notation ("::ffff:1.2.3.4") is refused here. */
export function canonicalAddress(family: 4 | 6, text: string): string | undefined {
  if (family === 6 && text.includes('.')) return undefined;
  return canonicalText(family, text);
}

export function nameOf(o: KubeObject): string {
  const n = o.metadata?.name;
  return typeof n === 'string' ? n : '';
}

function annotationsOf(o: KubeObject): Record<string, string> {
  return stringRecord(o.metadata?.annotations);
}

function labelsOf(o: KubeObject): Record<string, string> {
  return stringRecord(o.metadata?.labels);
}

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof v !== 'object' || v === null) return out;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (typeof x === 'string') out[k] = x;
  return out;
}

function recordOf(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function byName(objs: Iterable<KubeObject>): KubeObject[] {
  return [...objs].sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0));
}
