// Pure translation of Kubernetes objects (Node, BGPPeer with its password Secret, BGPConfiguration, route-reflector
// Lease) into the /calico/bgp/v1/... keys that Calico's BGP syncer produces from them, so one mapping serves every datastore.
import { canonicalAddress as canonicalText, canonicalNetwork } from '../../net/address.js';
import type { KubeObject } from './client.js';
import { describeValue } from '../safe-value.js';

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
  /** Secrets that BGPPeer passwords refer to; undefined = none known (such peers are withheld). */
  secrets?: SecretSet;
}

/**
 * The Secrets BGPPeer `spec.password.secretKeyRef` may name. As in calico/node, they all live in one namespace
 * (NAMESPACE, default kube-system): a BGPPeer is cluster-scoped and its secretKeyRef has no namespace field.
 */
export interface SecretSet {
  namespace: string;
  /** Secret name → Secret (core/v1, `data` values in base64). A name absent here is a missing Secret. */
  byName: ReadonlyMap<string, KubeObject>;
  /** Names not listed yet: their peers wait ("waiting for"), which is not yet a missing Secret. */
  pending?: ReadonlySet<string>;
}

/** spec.password.secretKeyRef of a BGPPeer. */
export interface SecretRef {
  name: string;
  key: string;
}

export interface BgpPeerTranslation extends Translation {
  /** The key this BGPPeer would produce if its password were known: left out (never sent without it). */
  withheldKey?: string;
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
  for (const n of byName(sets.nodes)) add(nodeKeys(n));
  for (const c of byName(sets.bgpConfigurations)) add(bgpConfigurationKeys(c));
  const withheld: Array<[string, string]> = [];
  for (const p of byName(sets.bgpPeers)) {
    const t = bgpPeerKeys(p, sets.secrets);
    for (const [k] of t.keys) {
      if (keys.has(k)) t.problems.push(`BGPPeer ${nameOf(p)}: ${k} is also produced by another BGPPeer; the later name wins`);
    }
    if (t.withheldKey !== undefined) withheld.push([nameOf(p), t.withheldKey]);
    add(t);
  }
  // A node-specific peering withheld for its password leaves that host to a global BGPPeer for the same address,
  // if there is one (as if the node-specific BGPPeer did not exist): say so, since its password may differ.
  for (const [name, key] of withheld) {
    const m = /^\/calico\/bgp\/v1\/host\/[^/]+\/(peer_v[46]\/.+)$/.exec(key);
    const global = m === null ? undefined : `${PREFIX}/global/${m[1]!}`;
    if (global !== undefined && keys.has(global)) {
      problems.push(`BGPPeer ${name}: while it is withheld, its node peers through the global entry ${global} (another BGPPeer) instead`);
    }
  }
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
 * Node → host/<name>/ip_addr_v4 and ip_addr_v6 (bare address, "" when absent, as the syncer always writes
 * them), network_v4/v6 (the masked CIDR) when the annotation is set, as_num when the node has its own AS.
 */
export function nodeKeys(node: KubeObject): Translation {
  const name = nameOf(node);
  const out: Translation = { keys: [], problems: [] };
  if (name === '' || name.includes('/')) {
    out.problems.push(`Node with unusable name ${describeValue(name)} ignored`);
    return out;
  }
  const ann = annotationsOf(node);
  const host = `${PREFIX}/host/${name}`;
  for (const family of [4, 6] as const) {
    const annName = family === 4 ? ANN_IPV4 : ANN_IPV6;
    const raw = ann[annName];
    let addr = '';
    if (raw !== undefined && raw.trim() !== '') {
      const parsed = parseCidrOrAddress(family, raw.trim());
      if (parsed === undefined) {
        out.problems.push(`Node ${name}: annotation ${annName}=${describeValue(raw)} is not an IPv${family} address or CIDR`);
      } else {
        addr = parsed.address;
        out.keys.push([`${host}/network_v${family}`, parsed.network]);
      }
    }
    out.keys.push([`${host}/ip_addr_v${family}`, addr]);
  }
  const asRaw = ann[ANN_ASN];
  if (asRaw !== undefined && asRaw.trim() !== '') {
    const asn = parseAsn(asRaw);
    if (asn === undefined) out.problems.push(`Node ${name}: annotation ${ANN_ASN}=${describeValue(asRaw)} is not an AS number`);
    else out.keys.push([`${host}/as_num`, String(asn)]);
  }
  return out;
}

/**
 * BGPPeer (crd.projectcalico.org/v1) → global/peer_vN/<peerIP> when spec.node is empty, else
 * host/<spec.node>/peer_vN/<peerIP>; value {"ip":..., "as_num":"<asNumber>"} (as_num as a string, like libcalico-go),
 * plus "password" (the TCP-MD5 key) when spec.password.secretKeyRef names a Secret key in `secrets`.
 * A BGPPeer whose password cannot be read (Secret or key missing, unusable value) produces NO key, only a
 * problem naming the BGPPeer, the Secret and the key: a peering meant to be signed never runs unsigned; it
 * appears as soon as the Secret does (the source re-translates on every change of a Secret it follows).
 */
export function bgpPeerKeys(peer: KubeObject, secrets?: SecretSet): BgpPeerTranslation {
  const name = nameOf(peer);
  const out: BgpPeerTranslation = { keys: [], problems: [] };
  const spec = recordOf(peer.spec);
  if (spec.nodeSelector !== undefined && spec.nodeSelector !== '' || spec.peerSelector !== undefined && spec.peerSelector !== '') {
    out.problems.push(`BGPPeer ${name}: nodeSelector/peerSelector peers have no /calico/bgp/v1 form; ignored`);
    return out;
  }
  const peerIP = typeof spec.peerIP === 'string' ? spec.peerIP.trim() : '';
  const parsed = parsePeerIP(peerIP);
  if (parsed === undefined) {
    out.problems.push(`BGPPeer ${name}: spec.peerIP ${describeValue(spec.peerIP)} is not an IP address; ignored`);
    return out;
  }
  const asn = parseAsn(spec.asNumber);
  if (asn === undefined) {
    out.problems.push(`BGPPeer ${name}: spec.asNumber ${describeValue(spec.asNumber)} is not an AS number; ignored`);
    return out;
  }
  const node = typeof spec.node === 'string' ? spec.node.trim() : '';
  if (node.includes('/')) {
    out.problems.push(`BGPPeer ${name}: spec.node ${describeValue(node)} is not a node name; ignored`);
    return out;
  }
  const scope = node === '' ? `${PREFIX}/global` : `${PREFIX}/host/${node}`;
  const key = `${scope}/peer_v${parsed.family}/${parsed.address}`;
  const entry: { ip: string; as_num: string; password?: string } = { ip: parsed.address, as_num: String(asn) };
  if (spec.password !== undefined && spec.password !== null) {
    const pw = peerPassword(name, spec.password, secrets);
    out.problems.push(...pw.problems);
    if (pw.password === undefined) {
      out.withheldKey = key;
      return out;
    }
    entry.password = pw.password;
  }
  out.keys.push([key, JSON.stringify(entry)]);
  return out;
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
  const data = recordOf(secret.data);
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
 * BGPConfiguration "default" → global/as_num, global/node_mesh, global/loglevel. Other BGPConfigurations
 * (node.<name>) only carry per-node settings the reflector does not read, so they produce nothing.
 */
export function bgpConfigurationKeys(cfg: KubeObject): Translation {
  const out: Translation = { keys: [], problems: [] };
  if (nameOf(cfg) !== 'default') return out;
  const spec = recordOf(cfg.spec);
  if (spec.asNumber !== undefined && spec.asNumber !== null) {
    const asn = parseAsn(spec.asNumber);
    if (asn === undefined) out.problems.push(`BGPConfiguration default: spec.asNumber ${describeValue(spec.asNumber)} is not an AS number`);
    else out.keys.push([`${PREFIX}/global/as_num`, String(asn)]);
  }
  if (typeof spec.nodeToNodeMeshEnabled === 'boolean') {
    out.keys.push([`${PREFIX}/global/node_mesh`, JSON.stringify({ enabled: spec.nodeToNodeMeshEnabled })]);
  }
  if (typeof spec.logSeverityScreen === 'string' && spec.logSeverityScreen !== '') {
    const s = spec.logSeverityScreen.toLowerCase();
    out.keys.push([`${PREFIX}/global/loglevel`, s === 'debug' ? 'debug' : s === 'info' ? 'info' : 'none']);
  }
  return out;
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

/** "10.0.0.1/24" → address 10.0.0.1, network 10.0.0.0/24; a bare address counts as a host route. */
function parseCidrOrAddress(family: 4 | 6, text: string): { address: string; network: string } | undefined {
  const slash = text.indexOf('/');
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  const address = canonicalAddress(family, addrText);
  if (address === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  const lenText = slash >= 0 ? text.slice(slash + 1) : String(max);
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) return undefined;
  const len = Number(lenText);
  return { address, network: canonicalNetwork(family, address, len) };
}

/** spec.peerIP: an address, or (newer Calico) "addr:port" / "[v6addr]:port"; the port has no v1 key, so it is dropped. */
function parsePeerIP(text: string): { family: 4 | 6; address: string } | undefined {
  if (text === '') return undefined;
  const v4 = canonicalAddress(4, text);
  if (v4 !== undefined) return { family: 4, address: v4 };
  const v6 = canonicalAddress(6, text);
  if (v6 !== undefined) return { family: 6, address: v6 };
  const bracket = /^\[([^\]]+)\]:\d+$/.exec(text);
  if (bracket !== null) {
    const a = canonicalAddress(6, bracket[1]!);
    return a === undefined ? undefined : { family: 6, address: a };
  }
  const hostPort = /^([0-9.]+):\d+$/.exec(text);
  if (hostPort !== null) {
    const a = canonicalAddress(4, hostPort[1]!);
    return a === undefined ? undefined : { family: 4, address: a };
  }
  return undefined;
}

function parseAsn(v: unknown): number | undefined {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\s*\d+\s*$/.test(v)) n = Number(v.trim());
  else return undefined;
  return Number.isInteger(n) && n >= 1 && n <= 0xffffffff ? n : undefined;
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
