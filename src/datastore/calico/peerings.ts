// calico-node's peering computation (confd client.go updatePeersV1 + bgp_processor.go, read at Calico 87c1590,
// v3.32; the rules are summarised in src/datastore/calico/README.md) from the point of view of one node: this reflector. Pure: Calico v3 resources in,
// the BGP sessions calico-node's BIRD would have on that node out, with every field that is not applied and every
// bad resource named. Shared by the etcd v3 and Kubernetes datastores. Just over 400 lines: computePeerings follows
// confd's passes in one reading order (globals, node-scoped, reverse, mesh), which splitting would scatter.
import { canonicalIPv4, canonicalIPv6, addressForName } from '../../net/address.js';
import { describeValue } from '../safe-value.js';
import { evaluateSelector, type Selector } from './selector.js';
import type { AddPathsMode } from '../../peers/peer-spec.js';
import {
  byName, CALICO_DEFAULT_AS, FIELD_TABLE, isSet, Notes, obj, parseAs, parseDurationField, parseNode, parsePeer, parsePort, parseSecretRef,
  type CalicoResource, type NodeModel, type PeerModel, type ResourceNote, type SecretKeyRef,
} from './resources.js';

/** Which node this reflector is, found as calico-node finds its own (NODENAME, then HOSTNAME), or by address. */
export interface SelfIdentity {
  /** NODENAME (trimmed; used as given). */
  nodeName?: string;
  /** HOSTNAME or the OS host name (lower-cased and trimmed, as calico-node does). */
  hostname?: string;
  /** IP / IP6 of this reflector: used to find its Node when no name matches, and when there is no Node at all. */
  ip?: string;
  ip6?: string;
  /** A cluster ID set by the operator (rr_v4 entry, RR_CLUSTER_ID): wins over the Node's routeReflectorClusterID. */
  clusterId?: string;
}

export interface PeeringInput {
  nodes: readonly CalicoResource[];
  bgpPeers: readonly CalicoResource[];
  bgpConfigurations: readonly CalicoResource[];
  self: SelfIdentity;
}

export type SessionKind = 'mesh' | 'global' | 'node';

/** One BIRD protocol as calico-node would render it on this node. */
export interface CalicoSession {
  /** Mesh_<ip>, Global_<ip>[_port_<p>], Node_<ip>[_port_<p>] ('.' and ':' → '_'). */
  name: string;
  kind: SessionKind;
  family: 4 | 6;
  peerIP: string;
  /** The port to dial: the entry's port, else 179. */
  port: number;
  /** Our address in this family (the Node's address); `sourceAddress` says whether the session binds it. */
  localAddress: string;
  /** True for sourceAddress UseNodeIP (the default) and every mesh session: `source address <node IP>`. */
  bindLocalAddress: boolean;
  localAs: number;
  peerAs: number;
  ibgp: boolean;
  /** `rr client; rr cluster id <clusterId>`: iBGP, we have a cluster ID, and the entry's is empty or different. */
  routeReflectorClient: boolean;
  /** Our cluster ID when routeReflectorClient. */
  clusterId?: string;
  /** calico-node's `passive on` (it would not dial). */
  passive: boolean;
  password?: SecretKeyRef;
  /** ttlSecurity hop count: > 0 → `ttl security on; multihop N`; undefined → `ttl security off; multihop`. */
  ttlSecurity?: number;
  /** `graceful restart time S`. */
  restartTimeSeconds?: number;
  /** `keepalive time S` (v3.32+). */
  keepaliveSeconds?: number;
  /** `next hop self` / `next hop keep`. */
  nextHop?: 'self' | 'keep';
  /** `allow local as N`. */
  allowLocalAs?: number;
  /** ADD-PATH send from the BGPPeer's rr.calico-ts.io/add-paths annotation (ours; calico-node has none). */
  addPaths?: AddPathsMode;
  /** The resources that made this session: "BGPPeer x", "Node y", "BGPConfiguration default". */
  from: string[];
}

export interface PeeringResult {
  /** The node we are, how it was found, and what we use from it. */
  self: {
    name: string;
    /** 'NODENAME' | 'hostname' | 'IP' (a Node matched), or 'none': no Node for us (peerIP BGPPeers still apply). */
    foundBy: 'NODENAME' | 'hostname' | 'IP' | 'none';
    ipv4?: string;
    ipv6?: string;
    asNumber: number;
    clusterId?: string;
  };
  /** The port we listen on: BGPConfiguration node.<us> listenPort, else default listenPort, else 179. */
  listenPort: number;
  /** BGPConfiguration logSeverityScreen for us (node.<us> over default), when set. */
  logSeverityScreen?: string;
  /** Sorted by family, then name. */
  sessions: CalicoSession[];
  /** Per resource, once: the set fields that no session here applies. */
  notHonoured: Array<{ resource: string; fields: string[] }>;
  /** Resources (or parts) that are invalid and were skipped. */
  errors: ResourceNote[];
  /** Valid but worth knowing: clashes calico-node resolves at random or silently, a shadowed BGPPeer, ... */
  warnings: ResourceNote[];
}

/** One peering entry (confd's backends.BGPPeer) before rendering. */
interface Entry {
  family: 4 | 6;
  ip: string;
  port: number;
  as: number;
  localAs?: number;
  allowLocalAs?: number;
  rrClusterId: string;
  calicoNode: boolean;
  ttlSecurity: number;
  keepNextHop: boolean;
  nextHopMode?: 'Auto' | 'Self' | 'Keep';
  password?: SecretKeyRef;
  useNodeIP: boolean;
  restart?: number;
  keepalive?: number;
  addPaths?: AddPathsMode;
  from: string[];
}



/** Node we are: NODENAME, then the host name, then a Node whose BGP address is IP / IP6; else a virtual node. */
function findSelf(nodes: NodeModel[], id: SelfIdentity, notes: Notes): { node: NodeModel; foundBy: PeeringResult['self']['foundBy'] } {
  const nodeName = id.nodeName?.trim() ?? '';
  const hostname = id.hostname?.trim().toLowerCase() ?? '';
  const ip4 = id.ip !== undefined ? canonicalIPv4(id.ip.trim()) : undefined;
  const ip6 = id.ip6 !== undefined ? canonicalIPv6(id.ip6.trim()) : undefined;
  let found: { node: NodeModel; foundBy: PeeringResult['self']['foundBy'] } | undefined;
  const name = nodeName !== '' ? nodeName : hostname;
  const named = nodes.find((n) => n.name === name);
  if (named !== undefined) found = { node: named, foundBy: nodeName !== '' ? 'NODENAME' : 'hostname' };
  else {
    const byIp = nodes.filter((n) => (ip4 !== undefined && n.ip[4] === ip4) || (ip6 !== undefined && n.ip[6] === ip6));
    if (byIp.length > 1) notes.warn(`Node ${byIp[0]!.name}`, `Nodes ${byIp.map((n) => n.name).join(', ')} all have our address; ${byIp[0]!.name} used`);
    if (byIp[0] !== undefined) found = { node: byIp[0], foundBy: 'IP' };
  }
  if (found !== undefined) {
    const n = found.node;
    if (ip4 !== undefined && n.ip[4] !== undefined && n.ip[4] !== ip4) notes.warn(`Node ${n.name}`, `its IPv4 address ${n.ip[4]} is not our IP ${ip4}; peers dial ${n.ip[4]}`);
    if (ip6 !== undefined && n.ip[6] !== undefined && n.ip[6] !== ip6) notes.warn(`Node ${n.name}`, `its IPv6 address ${n.ip[6]} is not our IP6 ${ip6}; peers dial ${n.ip[6]}`);
    return found;
  }
  const virtual: NodeModel = { name: name !== '' ? name : ip4 ?? ip6 ?? '', labels: {}, ip: {}, virtual: true };
  if (ip4 !== undefined) virtual.ip[4] = ip4;
  if (ip6 !== undefined) virtual.ip[6] = ip6;
  return { node: virtual, foundBy: 'none' };
}

export function computePeerings(input: PeeringInput): PeeringResult {
  const notes = new Notes();
  const nodes = byName(input.nodes).map((r) => parseNode(r, notes));
  const nodeByName = new Map(nodes.map((n) => [n.name, n]));
  const peers = byName(input.bgpPeers)
    .map((r) => parsePeer(r, notes))
    .filter((p): p is PeerModel => p !== undefined);

  // BGPConfiguration: default + node.<name> listen ports (CL updateBGPConfigCache).
  const cfgs = new Map(input.bgpConfigurations.map((c) => [c.name, obj(c.spec)]));
  const def = cfgs.get('default') ?? {};
  const defWhat = 'BGPConfiguration default';
  let globalAs = CALICO_DEFAULT_AS;
  const gas = parseAs(def.asNumber);
  if (gas === 'bad') notes.error(defWhat, `spec.asNumber ${describeValue(def.asNumber)} is not an AS number; ${CALICO_DEFAULT_AS} used`);
  else if (gas !== undefined) globalAs = gas;
  const meshOn = def.nodeToNodeMeshEnabled !== false;
  let globalListenPort = 0;
  const glp = parsePort(def.listenPort);
  if (glp === 'bad') notes.error(defWhat, `spec.listenPort ${describeValue(def.listenPort)} is not a port; 179 used`);
  else if (glp !== undefined) globalListenPort = glp;
  const nodeListenPorts = new Map<string, number>();
  for (const [name, spec] of cfgs) {
    if (!name.startsWith('node.')) continue;
    const lp = parsePort(spec.listenPort);
    if (lp === 'bad') notes.error(`BGPConfiguration ${name}`, `spec.listenPort ${describeValue(spec.listenPort)} is not a port; ignored`);
    else if (lp !== undefined) nodeListenPorts.set(name.slice(5), lp);
  }
  const meshPassword = parseSecretRef(def.nodeMeshPassword);
  if (meshPassword === 'bad') notes.error(defWhat, 'spec.nodeMeshPassword has no secretKeyRef with a name and a key; mesh sessions are not started');
  const meshRestart = parseDurationField(def.nodeMeshMaxRestartTime);
  if (meshRestart === 'bad') notes.error(defWhat, `spec.nodeMeshMaxRestartTime ${describeValue(def.nodeMeshMaxRestartTime)} is not a duration; ignored`);

  const { node: self, foundBy } = findSelf(nodes, input.self, notes);
  const selfAs = self.as ?? globalAs;
  let clusterId = self.clusterId;
  if (input.self.clusterId !== undefined && input.self.clusterId.trim() !== '') {
    const c = canonicalIPv4(input.self.clusterId.trim());
    if (c === undefined) notes.error('reflector', `cluster ID ${describeValue(input.self.clusterId)} is not a dotted quad; ${clusterId ?? 'none'} used`);
    else {
      if (clusterId !== undefined && clusterId !== c) notes.warn(`Node ${self.name}`, `routeReflectorClusterID ${clusterId} is overridden by the operator's cluster ID ${c}`);
      clusterId = c;
    }
  }

  const nodesMatching = (sel: Selector | null | undefined): NodeModel[] =>
    sel === null || sel === undefined ? [] : nodes.filter((n) => evaluateSelector(sel, n.labels));
  const nodeIPs = new Set(nodes.flatMap((n) => [n.ip[4], n.ip[6]].filter((x): x is string => x !== undefined)));
  const listenPortOf = (n: NodeModel): number => nodeListenPorts.get(n.name) ?? globalListenPort;

  /** CL nodeAsBGPPeers: a Node as the remote end, once per family it has an address in (and that is asked for). */
  const nodeAsEntries = (n: NodeModel, v4: boolean, v6: boolean, p: PeerModel): Entry[] => {
    const out: Entry[] = [];
    for (const family of [4, 6] as const) {
      const ip = n.ip[family];
      if ((family === 4 ? !v4 : !v6) || ip === undefined) continue;
      const e: Entry = {
        family, ip, port: listenPortOf(n), as: n.as ?? globalAs, rrClusterId: n.clusterId ?? '', calicoNode: false,
        ttlSecurity: p.ttlSecurity, keepNextHop: p.keepNextHop, useNodeIP: true, from: [`BGPPeer ${p.name}`, `Node ${n.name}`],
      };
      if (p.nextHopMode !== undefined) e.nextHopMode = p.nextHopMode;
      out.push(e);
    }
    return out;
  };
  /** CL setPeerConfigFieldsFromV3Resource. */
  const common = (e: Entry, p: PeerModel): Entry => {
    if (p.password !== undefined) e.password = p.password;
    e.useNodeIP = p.useNodeIP;
    if (p.restart !== undefined) e.restart = p.restart;
    if (p.keepalive !== undefined) e.keepalive = p.keepalive;
    if (p.addPaths !== undefined) e.addPaths = p.addPaths;
    return e;
  };
  /** CL nodesWithIPPortAndAS, including its listen-port test exactly as written there. */
  const nodesWithIPPortAndAS = (ip: string, as: number, port: number): NodeModel[] => {
    const want = as === 0 ? globalAs : as;
    const candidates = self.virtual ? [...nodes, self] : nodes;
    return candidates.filter((n) => {
      if (n.ip[4] !== ip && n.ip[6] !== ip) return false;
      if ((n.as ?? globalAs) !== want) return false;
      if (port !== 0) {
        const np = nodeListenPorts.get(n.name);
        if (np !== undefined && port !== np) return false;
        else if (globalListenPort !== 0 && globalListenPort !== port) return false;
      }
      return true;
    });
  };

  // Step A: the keyed map, first write wins. Only keys that can render on us matter: Global(...) and Node(us, ...).
  const keyOf = (e: Entry): string => `${e.ip}|${e.port === 179 ? 0 : e.port}`;
  const globals = new Map<string, Entry>();
  const mine = new Map<string, Entry>();
  const sameSettings = (a: Entry, b: Entry): boolean =>
    JSON.stringify({ ...a, from: [] }) === JSON.stringify({ ...b, from: [] });
  const emit = (scope: 'global' | 'node', e: Entry, pass: string): void => {
    const key = keyOf(e);
    const what = e.from[0]!;
    const existing = scope === 'global' ? globals.get(key) : mine.get(key) ?? globals.get(key);
    if (existing !== undefined) {
      if (existing.from[0] !== what && !sameSettings(existing, e)) {
        const shadow = scope === 'node' && !mine.has(key)
          ? `the global peering from ${existing.from[0]!} to ${e.ip} wins over this node-specific one (as in calico-node); their settings differ`
          : `${existing.from[0]!} already gives a peering with ${e.ip}${e.port !== 0 ? ` port ${e.port}` : ''} (${pass}); its settings are used. calico-node picks one of the two at random`;
        notes.warn(what, shadow);
      }
      return;
    }
    (scope === 'global' ? globals : mine).set(key, e);
  };
  const peerIPEntry = (p: PeerModel): Entry | undefined => {
    const pi = p.peerIP!;
    let port = pi.port;
    if (port === 0) {
      const matching = nodesWithIPPortAndAS(pi.ip, p.asNumber, 0);
      if (matching[0] !== undefined) port = nodeListenPorts.get(matching[0].name) ?? globalListenPort;
    }
    const e: Entry = {
      family: pi.family, ip: pi.ip, port, as: p.asNumber, rrClusterId: '', calicoNode: nodeIPs.has(pi.ip),
      ttlSecurity: p.ttlSecurity, keepNextHop: p.keepNextHop, useNodeIP: true, from: [`BGPPeer ${p.name}`],
    };
    if (p.localAs !== undefined) e.localAs = p.localAs;
    if (p.allowLocalAs !== undefined) e.allowLocalAs = p.allowLocalAs;
    if (p.nextHopMode !== undefined) e.nextHopMode = p.nextHopMode;
    return e;
  };

  for (const globalPass of [true, false]) {
    for (const p of peers) {
      const isGlobal = p.nodeSelector === undefined && p.node === '';
      if (globalPass !== isGlobal) continue;
      // Without a Node we are no Calico node: global BGPPeers (every node's peerings) are not ours; only what the
      // nodes dial at us (the reverse pass) and a BGPPeer naming our NODENAME are.
      if (isGlobal && self.virtual) continue;
      if (p.localWorkload) continue; // workload peerings belong to the node running the workloads, not to a reflector
      let locals: string[] = [];
      if (p.nodeSelector !== undefined) locals = nodesMatching(p.nodeSelector).map((n) => n.name);
      else if (p.node !== '') locals = [p.node];
      if (!globalPass && !locals.includes(self.name)) continue;
      const entries: Entry[] = [];
      if (p.peerSelector !== undefined) {
        for (const n of nodesMatching(p.peerSelector)) entries.push(...nodeAsEntries(n, true, true, p));
      } else if (p.peerIP !== undefined) {
        const e = peerIPEntry(p);
        if (e !== undefined) entries.push(e);
      }
      for (const e of entries) emit(globalPass ? 'global' : 'node', common(e, p), globalPass ? 'global BGPPeers' : 'node BGPPeers');
    }
  }
  // Reverse pass: BGPPeers whose remote side is us give us sessions with their local side.
  for (const p of peers) {
    if (p.reverseManual || p.localWorkload) continue;
    let locals: NodeModel[];
    let v4 = false;
    let v6 = false;
    if (p.peerSelector !== undefined) {
      locals = nodesMatching(p.peerSelector);
      v4 = v6 = true;
    } else if (p.peerIP !== undefined) {
      locals = nodesWithIPPortAndAS(p.peerIP.ip, p.asNumber, p.peerIP.port);
      if (p.peerIP.family === 4) v4 = true;
      else v6 = true;
      if (locals.length === 0 && (p.peerIP.ip === self.ip[4] || p.peerIP.ip === self.ip[6])) {
        notes.warn(`BGPPeer ${p.name}`, `names our address ${p.peerIP.ip} but not our AS ${selfAs}${p.peerIP.port !== 0 ? ` or listen port` : ''}; no reverse sessions, as in calico-node`);
      }
    } else continue;
    if (!locals.some((n) => n.name === self.name)) continue;
    let remotes: NodeModel[];
    if (p.nodeSelector !== undefined) remotes = nodesMatching(p.nodeSelector);
    else if (p.node !== '') remotes = nodeByName.has(p.node) ? [nodeByName.get(p.node)!] : [];
    else remotes = nodes;
    for (const r of remotes) for (const e of nodeAsEntries(r, v4, v6, p)) emit('node', common(e, p), 'reverse peerings');
  }

  // Step B: render for us.
  const sessions: CalicoSession[] = [];
  const fromBy = new Set<string>();
  for (const family of [4, 6] as const) {
    const own = self.ip[family];
    if (own === undefined) continue;
    if (meshOn && clusterId === undefined && !self.virtual && meshPassword !== 'bad') {
      for (const n of nodes) {
        const ip = n.ip[family];
        if (n === self || ip === undefined || ip === own || n.clusterId !== undefined) continue;
        const port = listenPortOf(n);
        const peerAs = n.as ?? selfAs;
        const s: CalicoSession = {
          name: `Mesh_${addressForName(ip)}`, kind: 'mesh', family, peerIP: ip, port: port === 0 ? 179 : port,
          localAddress: own, bindLocalAddress: true, localAs: selfAs, peerAs, ibgp: peerAs === selfAs,
          routeReflectorClient: false, passive: ip > own, from: [defWhat, `Node ${n.name}`],
        };
        if (meshPassword !== undefined) s.password = meshPassword;
        if (meshRestart !== undefined && meshRestart !== 'bad') s.restartTimeSeconds = meshRestart;
        sessions.push(s);
      }
    }
    for (const [kind, map] of [['global', globals], ['node', mine]] as const) {
      for (const e of map.values()) {
        if (e.family !== family || e.ip === own) continue;
        const localAs = e.localAs ?? selfAs;
        const ibgp = e.as === localAs;
        const s: CalicoSession = {
          name: `${kind === 'global' ? 'Global' : 'Node'}_${addressForName(e.ip)}${e.port > 0 ? `_port_${e.port}` : ''}`,
          kind, family, peerIP: e.ip, port: e.port > 0 ? e.port : 179, localAddress: own, bindLocalAddress: e.useNodeIP,
          localAs, peerAs: e.as, ibgp, routeReflectorClient: false,
          passive: kind === 'global' && e.calicoNode && e.ip > own, from: e.from,
        };
        if (ibgp && clusterId !== undefined && e.rrClusterId !== clusterId) {
          s.routeReflectorClient = true;
          s.clusterId = clusterId;
        }
        if (e.password !== undefined) s.password = e.password;
        if (e.ttlSecurity > 0) s.ttlSecurity = e.ttlSecurity;
        if (e.restart !== undefined) s.restartTimeSeconds = e.restart;
        if (e.keepalive !== undefined) s.keepaliveSeconds = e.keepalive;
        if (e.allowLocalAs !== undefined) s.allowLocalAs = e.allowLocalAs;
        if (e.addPaths !== undefined) s.addPaths = e.addPaths;
        if (e.nextHopMode === 'Self') s.nextHop = 'self';
        else if (e.nextHopMode === 'Keep' || (e.keepNextHop && !ibgp)) s.nextHop = 'keep';
        sessions.push(s);
        fromBy.add(e.from[0]!);
      }
    }
  }
  sessions.sort((a, b) => a.family - b.family || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // calico-node does not de-duplicate either; two BIRD protocols to one neighbour collide, so say so.
  for (let i = 1; i < sessions.length; i++) {
    for (let j = 0; j < i; j++) {
      const [a, b] = [sessions[j]!, sessions[i]!];
      if (a.family === b.family && a.peerIP === b.peerIP && a.port === b.port) {
        notes.warn(b.from[0]!, `${b.name} and ${a.name} are two sessions with ${a.peerIP} (calico-node renders both; turn the mesh off when BGPPeers connect nodes)`);
      }
    }
  }

  // Fields not applied, once per resource: BGPPeers that give us sessions, BGPConfiguration default, our Node.
  const notHonoured: PeeringResult['notHonoured'] = [];
  for (const p of peers) {
    const fields = [...p.unhonoured];
    if (p.localWorkload && !fields.includes('spec.localWorkloadSelector')) fields.push('spec.localWorkloadSelector');
    if (fields.length > 0 && (fromBy.has(`BGPPeer ${p.name}`) || p.localWorkload)) notHonoured.push({ resource: `BGPPeer ${p.name}`, fields: fields.sort() });
  }
  const cfgTable: Record<string, string> = FIELD_TABLE.BGPConfiguration;
  const cfgFields = Object.entries(def).filter(([k, v]) => cfgTable[k] !== 'honoured' && isSet(v)).map(([k]) => `spec.${k}`);
  if (cfgFields.length > 0) notHonoured.push({ resource: defWhat, fields: cfgFields.sort() });
  const selfCfg = cfgs.get(`node.${self.name}`);
  if (selfCfg !== undefined) {
    const f = Object.entries(selfCfg).filter(([k, v]) => k !== 'listenPort' && k !== 'logSeverityScreen' && isSet(v)).map(([k]) => `spec.${k}`);
    if (f.length > 0) notHonoured.push({ resource: `BGPConfiguration node.${self.name}`, fields: f.sort() });
  }
  if (!self.virtual) {
    const raw = input.nodes.find((r) => r.name === self.name);
    const spec = obj(raw?.spec);
    const nodeTable: Record<string, string> = FIELD_TABLE.Node;
    const f: string[] = [];
    for (const [k, v] of Object.entries(spec)) {
      if (k === 'bgp') {
        for (const [bk, bv] of Object.entries(obj(v))) if (nodeTable[`bgp.${bk}`] !== 'honoured' && isSet(bv)) f.push(`spec.bgp.${bk}`);
      } else if (nodeTable[k] !== 'honoured' && isSet(v)) f.push(`spec.${k}`);
    }
    if (f.length > 0) notHonoured.push({ resource: `Node ${self.name}`, fields: f.sort() });
  }

  const result: PeeringResult = {
    self: { name: self.name, foundBy, asNumber: selfAs },
    listenPort: nodeListenPorts.get(self.name) ?? (globalListenPort || 179),
    sessions,
    notHonoured,
    errors: notes.errors,
    warnings: notes.warnings,
  };
  if (self.ip[4] !== undefined) result.self.ipv4 = self.ip[4];
  if (self.ip[6] !== undefined) result.self.ipv6 = self.ip[6];
  if (clusterId !== undefined) result.self.clusterId = clusterId;
  const sev = obj(selfCfg).logSeverityScreen ?? def.logSeverityScreen;
  if (typeof sev === 'string' && sev !== '') result.logSeverityScreen = sev;
  return result;
}

