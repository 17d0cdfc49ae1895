// The one path from a datastore's key set to this reflector's sessions, for every datastore: the old
// /calico/bgp/v1 keys through the v1 mapping (calico-mapping.ts), the Calico v3 resources (Node, BGPPeer,
// BGPConfiguration, stored under /calico/resources/v3/projectcalico.org/<kind>/<name> by etcd v3 and published
// in the same layout by the Kubernetes source) through calico-node's peering computation (src/datastore/calico/peerings.ts),
// and the BGPPeer password Secrets (/calico/secrets/v1/<name>, put there by secret-following-source.ts). Pure.
import { canonicalClusterId, canonicalIPv4 } from '../net/address.js';
import { CALICO_BGP_PREFIX, desiredPeers, rrKey, type MappingEnv, type MappingProblem } from './calico-mapping.js';
import { CALICO_V3_PREFIX, parseV3Key } from './calico-v3.js';
import { peerPassword, type SecretSet } from './kubernetes/translate.js';
import { describeValue, MAX_RESOURCE_BYTES, safeJsonParse } from './safe-value.js';
import type { KeySnapshot } from './source.js';
import { computePeerings, type CalicoSession, type PeeringResult } from './calico/peerings.js';
import { ourAnnotations, type CalicoResource } from './calico/resources.js';
import type { PeerSpec } from '../peers/peer-spec.js';

/** Where the Secrets that BGPPeer passwords name appear in a key set (never in a datastore: see secret-following-source.ts). */
export const SECRETS_PREFIX = '/calico/secrets/v1';

export function secretKey(name: string): string {
  return `${SECRETS_PREFIX}/${name}`;
}

/**
 * The value of a secret key. `present`: the Secret's data (base64 values, as the API gives them); `missing`: the
 * Secret was looked up and does not exist; `pending`: not listed yet; `unavailable`: it cannot be read at all (no
 * Kubernetes API). No key at all: not looked up yet (also pending).
 */
export type SecretEntry =
  | { namespace: string; state: 'present'; data: Record<string, unknown> }
  | { namespace: string; state: 'missing' }
  | { namespace: string; state: 'pending' }
  | { namespace: string; state: 'unavailable'; reason: string };

/** This reflector's identity for the v3 computation, on top of the v1 mapping's IP / IP6 / BGP_PORT. */
export interface SessionsEnv extends MappingEnv {
  /** NODENAME. */
  nodeName?: string | undefined;
  /** HOSTNAME, else the OS host name (calico-node's fallback). */
  hostname?: string | undefined;
  /** RR_CLUSTER_ID. */
  clusterId?: string | undefined;
}

export interface NotApplied {
  /** "BGPPeer name", "BGPConfiguration default", "Node name". */
  resource: string;
  /** "spec.filters", ... */
  fields: string[];
}

export interface SessionsResult {
  /** Sorted by family, then name; at most one session per neighbour address and family. */
  peers: PeerSpec[];
  /** v1 entries skipped (key = the datastore key) and v3 errors and warnings (key = "BGPPeer x", ...). */
  problems: MappingProblem[];
  /** Per resource, once: the set fields that this reflector does not apply. */
  notApplied: NotApplied[];
  /** The v3 computation's view of us (undefined when the key set holds no v3 resource). */
  self?: PeeringResult['self'] & { clusterIdFrom: ClusterIdSource };
  /** The cluster ID every client session carries. */
  clusterId: string;
  clusterIdFrom: ClusterIdSource;
}

export type ClusterIdSource = 'rr_v4 entry' | 'RR_CLUSTER_ID' | 'Node routeReflectorClusterID' | 'router ID';

type Obj = Record<string, unknown>;
function obj(v: unknown): Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
}

/** The v3 resources of a key set, by kind; unparsable ones are problems naming their key. */
export function v3Resources(keys: KeySnapshot, problems: MappingProblem[]): { nodes: CalicoResource[]; bgpPeers: CalicoResource[]; bgpConfigurations: CalicoResource[] } {
  const out = { nodes: [] as CalicoResource[], bgpPeers: [] as CalicoResource[], bgpConfigurations: [] as CalicoResource[] };
  for (const key of [...keys.keys()].sort()) {
    if (!key.startsWith(`${CALICO_V3_PREFIX}/`)) continue;
    const id = parseV3Key(key);
    if (id === undefined) continue;
    const parsed = safeJsonParse(keys.get(key) ?? '', { maxBytes: MAX_RESOURCE_BYTES });
    if (!parsed.ok) {
      problems.push({ key, reason: `${parsed.reason}; skipped` });
      continue;
    }
    const doc = parsed.value;
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      problems.push({ key, reason: `value is ${describeValue(doc)}, not a JSON object; skipped` });
      continue;
    }
    const md = obj((doc as Obj).metadata);
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj(md.labels))) if (typeof v === 'string') labels[k] = v;
    const r: CalicoResource = { name: id.name, labels, spec: (doc as Obj).spec };
    const ours = ourAnnotations(md.annotations);
    if (ours !== undefined) r.annotations = ours;
    if (id.kind === 'nodes') out.nodes.push(r);
    else if (id.kind === 'bgppeers') out.bgpPeers.push(r);
    else out.bgpConfigurations.push(r);
  }
  return out;
}

/** Our own rr_v4 entry's cluster_id, when set and valid (the v1 mapping reports a bad one). */
function rrEntryClusterId(keys: KeySnapshot, env: MappingEnv): string | undefined {
  const ip = canonicalIPv4(env.ip) ?? env.ip;
  const raw = keys.get(rrKey(4, ip));
  if (raw === undefined) return undefined;
  const parsed = safeJsonParse(raw);
  if (!parsed.ok) return undefined;
  const cid = obj(parsed.value).cluster_id;
  return typeof cid === 'string' || typeof cid === 'number' ? (cid === '' ? undefined : canonicalClusterId(cid)) : undefined;
}

function secretSet(keys: KeySnapshot, names: Iterable<string>): { set: SecretSet; unavailable: Map<string, string> } {
  const byName = new Map<string, { data: Record<string, unknown> }>();
  const pending = new Set<string>();
  const unavailable = new Map<string, string>();
  let namespace = '';
  for (const name of names) {
    const raw = keys.get(secretKey(name));
    const parsed = raw === undefined ? undefined : safeJsonParse(raw);
    const e = parsed !== undefined && parsed.ok ? (obj(parsed.value) as Partial<SecretEntry>) : undefined;
    if (e === undefined || typeof e.namespace !== 'string') {
      pending.add(name);
      continue;
    }
    namespace = e.namespace;
    if (e.state === 'pending') pending.add(name);
    else if (e.state === 'present') byName.set(name, { data: obj((e as { data?: unknown }).data) });
    else if (e.state === 'unavailable') unavailable.set(name, typeof (e as { reason?: unknown }).reason === 'string' ? (e as { reason: string }).reason : 'unavailable');
  }
  return { set: { namespace, byName, pending }, unavailable };
}

/**
 * One calico-node session as a PeerSpec. Mapped: port (peerIP's port or the remote Node's listenPort),
 * localAs/peerAs (localASNumber, the Nodes' and the global AS), the client flag and cluster ID, TCP-MD5,
 * ttlSecurity N → GTSM accepting N hops (min TTL 256 − N), maxRestartTime → the restart time of our graceful
 * restart capability, the rr.calico-ts.io/add-paths annotation → addPaths. Always our IP / IP6 as source: it is the address we listen on.
 */
function toPeerSpec(s: CalicoSession, env: MappingEnv, clusterId: string, routerId: string, password: string | undefined): PeerSpec {
  const local = s.family === 4 ? env.ip : (env.ip6 ?? s.localAddress);
  const spec: PeerSpec = {
    name: s.name,
    kind: s.kind,
    family: s.family,
    neighborAddress: s.peerIP,
    localAddress: local,
    port: s.port,
    localAs: s.localAs,
    peerAs: s.peerAs,
    routeReflectorClient: s.routeReflectorClient,
    clusterId: s.clusterId ?? clusterId,
    routerId,
    sourceKeys: s.from,
  };
  if (password !== undefined) spec.password = password;
  if (s.ttlSecurity !== undefined && s.ttlSecurity > 0) {
    spec.ttlSecurity = true;
    spec.ttlSecurityHops = s.ttlSecurity;
  }
  if (s.restartTimeSeconds !== undefined) spec.restartTime = Math.min(4095, s.restartTimeSeconds); // the capability's 12 bits
  if (s.addPaths !== undefined) spec.addPaths = s.addPaths;
  return spec;
}

export function desiredSessions(keys: KeySnapshot, env: SessionsEnv): SessionsResult {
  const routerId = canonicalIPv4(env.ip) ?? env.ip;
  const v1Keys = new Map<string, string>();
  for (const [k, v] of keys) if (k.startsWith(`${CALICO_BGP_PREFIX}/`)) v1Keys.set(k, v);
  const v1 = desiredPeers(v1Keys, env);
  const problems: MappingProblem[] = [...v1.problems];
  const notApplied: NotApplied[] = [];

  // One cluster ID for the whole reflector: the operator's (our rr_v4 entry, RR_CLUSTER_ID) over the Node's.
  let clusterId = routerId;
  let clusterIdFrom: ClusterIdSource = 'router ID';
  const fromEntry = rrEntryClusterId(v1Keys, env);
  const fromEnv = env.clusterId !== undefined && env.clusterId !== '' ? canonicalClusterId(env.clusterId) : undefined;
  const operator = fromEntry ?? fromEnv;
  if (fromEntry !== undefined) [clusterId, clusterIdFrom] = [fromEntry, 'rr_v4 entry'];
  else if (fromEnv !== undefined) [clusterId, clusterIdFrom] = [fromEnv, 'RR_CLUSTER_ID'];

  const res = v3Resources(keys, problems);
  const v3Peers: PeerSpec[] = [];
  let self: SessionsResult['self'];
  if (res.nodes.length + res.bgpPeers.length + res.bgpConfigurations.length > 0) {
    const identity = { ip: env.ip, ...(env.ip6 !== undefined ? { ip6: env.ip6 } : {}), ...(env.nodeName !== undefined ? { nodeName: env.nodeName } : {}), ...(env.hostname !== undefined ? { hostname: env.hostname } : {}) };
    let r = computePeerings({ ...res, self: operator !== undefined ? { ...identity, clusterId: operator } : identity });
    if (operator === undefined && r.self.clusterId !== undefined) [clusterId, clusterIdFrom] = [r.self.clusterId, 'Node routeReflectorClusterID'];
    else if (operator === undefined) {
      // We are a route reflector whatever our Node says: without any cluster ID, our router ID is one (as the
      // v1 mapping does), so the nodes that peer with us are our clients.
      r = computePeerings({ ...res, self: { ...identity, clusterId: routerId } });
      problems.push({ key: `Node ${r.self.name}`, reason: `no cluster ID (Node spec.bgp.routeReflectorClusterID, RR_CLUSTER_ID or our rr_v4 entry): our router ID ${routerId} is used; calico-node reflectors treat us as one of their clients`, kind: 'warning' });
    }
    self = { ...r.self, clusterIdFrom };
    for (const e of r.errors) problems.push({ key: e.resource, reason: e.message });
    for (const w of r.warnings) problems.push({ key: w.resource, reason: w.message, kind: 'warning' });
    if (r.listenPort !== env.port) {
      problems.push({ key: `BGPConfiguration ${r.listenPort === 179 ? 'default' : `(node.${r.self.name} or default)`}`, reason: `peers dial us on port ${r.listenPort} (listenPort), but we listen on BGP_PORT ${env.port}`, kind: 'warning' });
    }

    const secretNames = new Set(r.sessions.flatMap((s) => (s.password !== undefined ? [s.password.name] : [])));
    const { set, unavailable } = secretSet(keys, secretNames);
    const extra = new Map<string, Set<string>>();
    const addNotApplied = (resource: string, field: string): void => {
      let f = extra.get(resource);
      if (f === undefined) extra.set(resource, (f = new Set()));
      f.add(field);
    };
    // A BGPPeer whose password cannot be read: one line for it (naming the Secret, the key and its sessions).
    const held = new Map<string, { owner: string; reason: string; sessions: string[] }>();
    const holdBack = (owner: string, reason: string, session: string): void => {
      const k = `${owner}\u0000${reason}`;
      const h = held.get(k);
      if (h === undefined) held.set(k, { owner, reason, sessions: [session] });
      else h.sessions.push(session);
    };
    for (const s of r.sessions) {
      let password: string | undefined;
      if (s.password !== undefined) {
        const owner = s.from.find((f) => f.startsWith('BGPPeer ')) ?? s.from[0] ?? s.name;
        const ref = s.password;
        const why = unavailable.get(ref.name);
        if (why !== undefined) {
          holdBack(owner, `password Secret ${set.namespace}/${ref.name} key ${JSON.stringify(ref.key)} cannot be read (${why}); held back, never started without its password`, s.name);
          continue;
        }
        const pw = peerPassword(owner.replace(/^BGPPeer /, ''), { secretKeyRef: ref }, set);
        for (const p of pw.problems) {
          const text = p.replace(/^BGPPeer [^:]*: /, '');
          if (pw.password === undefined) holdBack(owner, text, s.name);
          else if (!problems.some((q) => q.key === owner && q.reason === text)) problems.push({ key: owner, reason: text, kind: 'warning' });
        }
        if (pw.password === undefined) continue;
        password = pw.password;
      }
      const owner = s.from.find((f) => f.startsWith('BGPPeer ')) ?? s.from[0] ?? '';
      if (s.kind !== 'mesh') {
        if (!s.bindLocalAddress) addNotApplied(owner, 'spec.sourceAddress');
        if (s.nextHop === 'self') addNotApplied(owner, 'spec.nextHopMode');
        if (s.keepaliveSeconds !== undefined) addNotApplied(owner, 'spec.keepaliveTime');
        if (s.allowLocalAs !== undefined) addNotApplied(owner, 'spec.numAllowedLocalASNumbers');
      }
      const spec = toPeerSpec(s, env, clusterId, routerId, password);
      // Our Node (AS, cluster ID) and the default BGPConfiguration (global AS, ports) shape every session too.
      for (const also of [...(r.self.foundBy !== 'none' ? [`Node ${r.self.name}`] : []), 'BGPConfiguration default']) {
        if (!spec.sourceKeys.includes(also)) spec.sourceKeys = [...spec.sourceKeys, also];
      }
      v3Peers.push(spec);
    }
    for (const h of held.values()) problems.push({ key: h.owner, reason: `${h.reason} (sessions ${h.sessions.join(', ')})` });
    if (r.logSeverityScreen !== undefined) addNotApplied('BGPConfiguration default', 'spec.logSeverityScreen');
    const merged = new Map<string, Set<string>>();
    for (const n of r.notHonoured) merged.set(n.resource, new Set(n.fields));
    for (const [res2, fields] of extra) {
      const m = merged.get(res2) ?? new Set<string>();
      for (const f of fields) m.add(f);
      merged.set(res2, m);
    }
    for (const [resource, fields] of [...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (fields.size > 0) notApplied.push({ resource, fields: [...fields].sort() });
    }
  }

  // Merge: a v3 session and a v1 one to the same neighbour cannot both run (one neighbour, one session); the
  // v3 one is what calico-node computes on both ends, so it wins and the v1 entry is reported.
  // calico-node renders two protocols when a BGPPeer and the mesh (or two BGPPeers) name one neighbour, and
  // BIRD runs one of them; we keep one, in confd's precedence (global, then node-specific, then mesh), and
  // computePeerings has already warned about the pair.
  const rank = { global: 0, node: 1, mesh: 2 } as const;
  const taken = new Map<string, PeerSpec>();
  for (const p of [...v3Peers].sort((a, b) => rank[a.kind] - rank[b.kind])) {
    const k = `${p.family}|${p.neighborAddress}`;
    if (!taken.has(k)) taken.set(k, p);
  }
  const peers: PeerSpec[] = [...taken.values()];
  for (const p of v1.peers) {
    const other = taken.get(`${p.family}|${p.neighborAddress}`);
    if (other !== undefined) {
      problems.push({ key: p.sourceKeys[0] ?? p.name, reason: `${p.name} would be a second session with ${p.neighborAddress}; ${other.name} (from ${other.sourceKeys.join(', ')}) is used`, kind: 'warning' });
      continue;
    }
    // The Node's cluster ID is ours for the v1 sessions too (an operator's one is already theirs).
    peers.push(clusterIdFrom === 'Node routeReflectorClusterID' ? { ...p, clusterId } : p);
  }
  peers.sort((a, b) => a.family - b.family || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const result: SessionsResult = { peers, problems, notApplied, clusterId, clusterIdFrom };
  if (self !== undefined) result.self = self;
  return result;
}

/**
 * NODENAME and the host name as calico-node finds its node (calico node/pkg/lifecycle/startup determineNodeName:
 * NODENAME, else HOSTNAME, else the OS host name, lower-cased and trimmed) from an environment.
 */
export function nodeIdentityFromEnv(env: Readonly<Record<string, string | undefined>>, osHostname: string): { nodeName?: string; hostname?: string } {
  const out: { nodeName?: string; hostname?: string } = {};
  const nn = env.NODENAME?.trim();
  if (nn !== undefined && nn !== '') out.nodeName = nn;
  const hn = (env.HOSTNAME?.trim() || osHostname).trim().toLowerCase();
  if (hn !== '') out.hostname = hn;
  return out;
}
