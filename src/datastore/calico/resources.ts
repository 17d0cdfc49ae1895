// Calico v3 resources as this reflector reads them (BGPPeer, BGPConfiguration, Node): the field table, value
// parsing with every bad field named, and the Kubernetes Node view. Pure. src/datastore/calico/peerings.ts computes the
// sessions from what this module parses.
import { canonicalIPv4, canonicalIPv6 } from '../../net/address.js';
import { describeValue } from '../safe-value.js';
import { durationSeconds, parseGoDuration } from './duration.js';
import { parseSelector, SelectorError, type Labels, type Selector } from './selector.js';
import { ADD_PATHS_MAX_N, parseAddPaths, type AddPathsMode } from '../../peers/peer-spec.js';

/**
 * One Calico v3 resource: metadata.name, metadata.labels, our own annotations (OUR_ANNOTATION_PREFIX; Calico's
 * are not carried) and spec (as stored in etcd or in the CRD).
 */
export interface CalicoResource {
  name: string;
  labels?: Readonly<Record<string, string>>;
  annotations?: Readonly<Record<string, unknown>>;
  spec?: unknown;
}

/**
 * Prefix of this reflector's own annotations on Calico resources: settings Calico has no field for. A domain of
 * our own rather than projectcalico.org/ (whose names the Lease annotations reuse because they mean what Calico's
 * Node annotations mean), so that a future Calico annotation can never be read with our meaning.
 */
export const OUR_ANNOTATION_PREFIX = 'rr.calico-ts.io/';
/** BGPPeer annotation: ADD-PATH send (RFC 7911) for the sessions this BGPPeer gives us: off, all or 1..64. */
export const ANN_ADD_PATHS = `${OUR_ANNOTATION_PREFIX}add-paths`;

/**
 * The annotations of ours in a metadata.annotations value (anything else, such as kubectl's
 * last-applied-configuration, stays out of the key set); undefined when there is none.
 */
export function ourAnnotations(annotations: unknown): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(obj(annotations))) {
    if (k.startsWith(OUR_ANNOTATION_PREFIX)) (out ??= {})[k] = v;
  }
  return out;
}


export interface SecretKeyRef {
  name: string;
  key: string;
}


export interface ResourceNote {
  /** "BGPPeer name", "Node name", "BGPConfiguration default". */
  resource: string;
  message: string;
}


/** calico-node's default AS (confd globalDefaults). */
export const CALICO_DEFAULT_AS = 64512;

/**
 * Every field, and what this computation does with it. 'honoured': carried into the sessions (or the result);
 * 'reported': named in notHonoured when set.
 * A field not listed here is reported too.
 */
export const FIELD_TABLE = {
  BGPPeer: {
    node: 'honoured', nodeSelector: 'honoured', peerIP: 'honoured', asNumber: 'honoured', peerSelector: 'honoured',
    localASNumber: 'honoured', numAllowedLocalASNumbers: 'honoured', keepOriginalNextHop: 'honoured', nextHopMode: 'honoured',
    password: 'honoured', sourceAddress: 'honoured', maxRestartTime: 'honoured', keepaliveTime: 'honoured',
    ttlSecurity: 'honoured', reversePeering: 'honoured',
    filters: 'reported', reachableBy: 'reported', localWorkloadSelector: 'reported',
  },
  BGPConfiguration: {
    asNumber: 'honoured', nodeToNodeMeshEnabled: 'honoured', listenPort: 'honoured', nodeMeshPassword: 'honoured',
    nodeMeshMaxRestartTime: 'honoured', logSeverityScreen: 'honoured',
    bindMode: 'reported', communities: 'reported', prefixAdvertisements: 'reported', serviceClusterIPs: 'reported',
    serviceExternalIPs: 'reported', serviceLoadBalancerIPs: 'reported', serviceLoadBalancerAggregation: 'reported',
    ignoredInterfaces: 'reported', localWorkloadPeeringIPV4: 'reported', localWorkloadPeeringIPV6: 'reported',
    programClusterRoutes: 'reported',
  },
  Node: {
    'metadata.labels': 'honoured', 'bgp.ipv4Address': 'honoured', 'bgp.ipv6Address': 'honoured', 'bgp.asNumber': 'honoured',
    'bgp.routeReflectorClusterID': 'honoured',
    // Dataplane fields calico-node's BGP does not read either; named when set on our Node, like any field we do not apply.
    'bgp.ipv4IPIPTunnelAddr': 'reported', ipv4VXLANTunnelAddr: 'reported', ipv6VXLANTunnelAddr: 'reported',
    vxlanTunnelMACAddr: 'reported', vxlanTunnelMACAddrV6: 'reported', orchRefs: 'reported', addresses: 'reported',
    wireguard: 'reported', interfaceName: 'reported',
  },
} as const satisfies Record<string, Record<string, 'honoured' | 'reported'>>;

// ---- value parsing ----

export type Obj = Record<string, unknown>;
export function obj(v: unknown): Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
}
export function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

/** numorstring.ASNumber: a number, its decimal text, or asdot "X.Y"; 0 / unset → undefined. */
export function parseAs(v: unknown): number | undefined | 'bad' {
  if (v === undefined || v === null || v === '' || v === 0) return undefined;
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\d+$/.test(v.trim())) n = Number(v.trim());
  else if (typeof v === 'string' && /^\d+\.\d+$/.test(v.trim())) {
    const [hi, lo] = v.trim().split('.').map(Number) as [number, number];
    if (hi > 0xffff || lo > 0xffff) return 'bad';
    n = hi * 65536 + lo;
  } else return 'bad';
  return Number.isInteger(n) && n >= 1 && n <= 0xffffffff ? n : 'bad';
}

export function ipOf(text: string): { family: 4 | 6; ip: string } | undefined {
  const v4 = canonicalIPv4(text);
  if (v4 !== undefined) return { family: 4, ip: v4 };
  const v6 = canonicalIPv6(text);
  return v6 !== undefined ? { family: 6, ip: v6 } : undefined;
}

/** spec.peerIP: "IP", "IPv4:port" or "[IPv6]:port" (Go net.SplitHostPort; a bad port means no port, as confd). */
export function parsePeerIP(text: string): { family: 4 | 6; ip: string; port: number } | undefined {
  const t = text.trim();
  const bare = ipOf(t);
  if (bare !== undefined) return { ...bare, port: 0 };
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(t);
  if (m === null) return undefined;
  const host = ipOf(m[1] ?? m[2] ?? '');
  const port = Number(m[3]);
  if (host === undefined || port > 65535) return undefined;
  return { ...host, port };
}

export function parsePort(v: unknown): number | undefined | 'bad' {
  if (v === undefined || v === null || v === 0) return undefined;
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535 ? v : 'bad';
}

export function parseSecretRef(v: unknown): SecretKeyRef | undefined | 'bad' {
  if (v === undefined || v === null) return undefined;
  const ref = obj(obj(v).secretKeyRef);
  const name = typeof ref.name === 'string' ? ref.name.trim() : '';
  const key = typeof ref.key === 'string' ? ref.key.trim() : '';
  return name !== '' && key !== '' ? { name, key } : 'bad';
}

export function parseDurationField(v: unknown): number | undefined | 'bad' {
  if (v === undefined || v === null || v === '') return undefined;
  const ms = typeof v === 'string' ? parseGoDuration(v) : undefined;
  return ms === undefined || ms < 0 ? 'bad' : durationSeconds(ms);
}

// ---- the model ----

export interface NodeModel {
  name: string;
  labels: Labels;
  ip: { 4?: string; 6?: string };
  as?: number;
  clusterId?: string;
  /** Not a Node resource: this reflector without one. */
  virtual: boolean;
}

export interface PeerModel {
  name: string;
  node: string;
  /** undefined = field empty; null = it did not parse (matches no node, as confd's nodesMatching). */
  nodeSelector: Selector | null | undefined;
  peerSelector: Selector | null | undefined;
  peerIP?: { family: 4 | 6; ip: string; port: number };
  asNumber: number; // 0 = unset
  localAs?: number;
  allowLocalAs?: number;
  ttlSecurity: number;
  keepNextHop: boolean;
  nextHopMode?: 'Auto' | 'Self' | 'Keep';
  password?: SecretKeyRef;
  useNodeIP: boolean;
  restart?: number;
  keepalive?: number;
  reverseManual: boolean;
  localWorkload: boolean;
  /** The rr.calico-ts.io/add-paths annotation; undefined = the ADD_PATHS default. */
  addPaths?: AddPathsMode;
  unhonoured: string[];
}

export class Notes {
  errors: ResourceNote[] = [];
  warnings: ResourceNote[] = [];
  error(resource: string, message: string): void {
    this.errors.push({ resource, message });
  }
  warn(resource: string, message: string): void {
    if (!this.warnings.some((w) => w.resource === resource && w.message === message)) this.warnings.push({ resource, message });
  }
}

export function byName<T extends { name: string }>(xs: readonly T[]): T[] {
  return [...xs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function parseNode(r: CalicoResource, notes: Notes): NodeModel {
  const what = `Node ${r.name}`;
  const bgp = obj(obj(r.spec).bgp);
  const node: NodeModel = { name: r.name, labels: r.labels ?? {}, ip: {}, virtual: false };
  for (const family of [4, 6] as const) {
    const field = family === 4 ? 'ipv4Address' : 'ipv6Address';
    const raw = bgp[field];
    if (raw === undefined || raw === null || raw === '') continue;
    const text = typeof raw === 'string' ? raw.trim() : '';
    const slash = text.indexOf('/');
    const addr = slash >= 0 ? text.slice(0, slash) : text;
    const ip = family === 4 ? canonicalIPv4(addr) : canonicalIPv6(addr);
    if (ip === undefined || (slash >= 0 && !/^\d{1,3}$/.test(text.slice(slash + 1)))) {
      notes.error(what, `spec.bgp.${field} ${describeValue(raw)} is not an IPv${family} address or CIDR; no IPv${family} sessions with this node`);
    } else node.ip[family] = ip;
  }
  const as = parseAs(bgp.asNumber);
  if (as === 'bad') notes.error(what, `spec.bgp.asNumber ${describeValue(bgp.asNumber)} is not an AS number; the global AS is used`);
  else if (as !== undefined) node.as = as;
  const cid = bgp.routeReflectorClusterID;
  if (cid !== undefined && cid !== null && cid !== '') {
    const c = typeof cid === 'string' ? canonicalIPv4(cid.trim()) : undefined;
    if (c === undefined) notes.error(what, `spec.bgp.routeReflectorClusterID ${describeValue(cid)} is not a dotted-quad IPv4 address; ignored`);
    else node.clusterId = c;
  }
  return node;
}

export function selectorField(what: string, field: string, v: unknown, notes: Notes): Selector | null | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') {
    notes.error(what, `spec.${field} is not a string; it matches no node`);
    return null;
  }
  // confd compares the raw field with "": a selector of only spaces is set, and parses as all().
  try {
    return parseSelector(v);
  } catch (e) {
    if (!(e instanceof SelectorError)) throw e;
    notes.error(what, `spec.${field}: selector ${describeValue(e.text)}: ${e.reason} at position ${e.position}; it matches no node (as in calico-node)`);
    return null;
  }
}

export function parsePeer(r: CalicoResource, notes: Notes): PeerModel | undefined {
  const what = `BGPPeer ${r.name}`;
  const spec = obj(r.spec);
  const node = typeof spec.node === 'string' ? spec.node : '';
  const p: PeerModel = {
    name: r.name,
    node,
    nodeSelector: selectorField(what, 'nodeSelector', spec.nodeSelector, notes),
    peerSelector: selectorField(what, 'peerSelector', spec.peerSelector, notes),
    asNumber: 0,
    ttlSecurity: 0,
    keepNextHop: spec.keepOriginalNextHop === true,
    useNodeIP: true,
    reverseManual: spec.reversePeering === 'Manual',
    localWorkload: typeof spec.localWorkloadSelector === 'string' && spec.localWorkloadSelector !== '',
    unhonoured: [],
  };
  const as = parseAs(spec.asNumber);
  if (as === 'bad') {
    notes.error(what, `spec.asNumber ${describeValue(spec.asNumber)} is not an AS number; skipped`);
    return undefined;
  }
  p.asNumber = as ?? 0;
  if (p.peerSelector === undefined) {
    const raw = spec.peerIP;
    const parsed = typeof raw === 'string' ? parsePeerIP(raw) : undefined;
    if (parsed === undefined && !p.localWorkload) {
      notes.error(what, raw === undefined || raw === '' ? 'neither spec.peerIP nor spec.peerSelector is set; skipped' : `spec.peerIP ${describeValue(raw)} is not IP, IP:port or [IPv6]:port; skipped`);
      return undefined;
    }
    if (parsed !== undefined) p.peerIP = parsed;
    if (parsed !== undefined && p.asNumber === 0) notes.warn(what, 'spec.asNumber is not set: calico-node renders "as 0" for this peer IP, which BIRD rejects');
  } else if (spec.asNumber !== undefined && as !== undefined) {
    notes.warn(what, 'spec.asNumber is ignored with spec.peerSelector (each selected Node\'s AS is used), as in calico-node');
  }
  if (node !== '' && p.nodeSelector !== undefined) notes.warn(what, 'spec.node and spec.nodeSelector are both set; nodeSelector is used, as in calico-node');
  const las = parseAs(spec.localASNumber);
  if (las === 'bad') notes.error(what, `spec.localASNumber ${describeValue(spec.localASNumber)} is not an AS number; ignored`);
  else if (las !== undefined) p.localAs = las;
  const nal = spec.numAllowedLocalASNumbers;
  if (nal !== undefined && nal !== null && nal !== 0) {
    if (typeof nal === 'number' && Number.isInteger(nal) && nal > 0 && nal <= 10) p.allowLocalAs = nal;
    else notes.error(what, `spec.numAllowedLocalASNumbers ${describeValue(nal)} is not 1..10; ignored`);
  }
  const ttl = spec.ttlSecurity;
  if (ttl !== undefined && ttl !== null) {
    if (typeof ttl === 'number' && Number.isInteger(ttl) && ttl >= 0 && ttl <= 255) p.ttlSecurity = ttl;
    else notes.error(what, `spec.ttlSecurity ${describeValue(ttl)} is not a hop count 0..255; ignored`);
  }
  const nhm = spec.nextHopMode;
  if (nhm !== undefined && nhm !== null && nhm !== '') {
    if (nhm === 'Auto' || nhm === 'Self' || nhm === 'Keep') {
      p.nextHopMode = nhm;
      p.keepNextHop = false; // keepOriginalNextHop is ignored once nextHopMode is set (confd getNextHopMode)
    } else notes.error(what, `spec.nextHopMode ${describeValue(nhm)} is not Auto, Self or Keep; ignored`);
  }
  const pw = parseSecretRef(spec.password);
  if (pw === 'bad') {
    notes.error(what, `spec.password has no secretKeyRef with a name and a key (${describeValue(spec.password)}); skipped, never run without its password`);
    return undefined;
  }
  if (pw !== undefined) p.password = pw;
  const sa = spec.sourceAddress;
  if (sa === 'None') p.useNodeIP = false;
  else if (sa !== undefined && sa !== null && sa !== '' && sa !== 'UseNodeIP') {
    notes.error(what, `spec.sourceAddress ${describeValue(sa)} is not UseNodeIP or None; UseNodeIP used`);
  }
  for (const [field, key] of [['maxRestartTime', 'restart'], ['keepaliveTime', 'keepalive']] as const) {
    const d = parseDurationField(spec[field]);
    if (d === 'bad') notes.error(what, `spec.${field} ${describeValue(spec[field])} is not a duration such as "120s"; ignored`);
    else if (d !== undefined) p[key] = d;
  }
  const ap = r.annotations?.[ANN_ADD_PATHS];
  if (ap !== undefined && ap !== null && ap !== '') {
    // Kubernetes annotations are strings; a hand-written etcd resource may hold a JSON number.
    const m = typeof ap === 'string' ? parseAddPaths(ap) : typeof ap === 'number' && Number.isInteger(ap) ? parseAddPaths(String(ap)) : undefined;
    if (m === undefined) notes.warn(what, `annotation ${ANN_ADD_PATHS} ${describeValue(ap)} is not off, all or 1..${ADD_PATHS_MAX_N}; ignored (the ADD_PATHS default applies)`);
    else p.addPaths = m;
  }
  const table: Record<string, string> = FIELD_TABLE.BGPPeer;
  for (const [k, v] of Object.entries(spec)) if (table[k] !== 'honoured' && isSet(v)) p.unhonoured.push(`spec.${k}`);
  return p;
}

// ---- the computation ----
/**
 * A Kubernetes Node as calico-node's KDD sees it (K8N K8sNodeToCalico): labels = the projectcalico.org/labels
 * annotation (JSON) overlaid by the Kubernetes labels; spec.bgp from the projectcalico.org/ annotations.
 */
export function nodeFromKubernetes(node: { metadata?: { name?: unknown; labels?: unknown; annotations?: unknown } }): CalicoResource {
  const md = obj(node.metadata);
  const ann = obj(md.annotations) as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof ann[k] === 'string' && ann[k] !== '' ? (ann[k] as string) : undefined);
  const labels: Record<string, string> = {};
  const extra = str('projectcalico.org/labels');
  if (extra !== undefined) {
    try {
      for (const [k, v] of Object.entries(obj(JSON.parse(extra)))) if (typeof v === 'string') labels[k] = v;
    } catch {
      // an unparsable annotation adds no labels (calico-node logs and ignores it)
    }
  }
  for (const [k, v] of Object.entries(obj(md.labels))) if (typeof v === 'string') labels[k] = v;
  const bgp: Record<string, unknown> = {};
  const put = (field: string, k: string): void => {
    const v = str(k);
    if (v !== undefined) bgp[field] = v;
  };
  put('ipv4Address', 'projectcalico.org/IPv4Address');
  put('ipv6Address', 'projectcalico.org/IPv6Address');
  put('asNumber', 'projectcalico.org/ASNumber');
  put('routeReflectorClusterID', 'projectcalico.org/RouteReflectorClusterID');
  return { name: typeof md.name === 'string' ? md.name : '', labels, spec: Object.keys(bgp).length > 0 ? { bgp } : {} };
}

