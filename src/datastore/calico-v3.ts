// Calico v3 resources (Node, BGPPeer, BGPConfiguration) translated into the /calico/bgp/v1 keys the mapping reads,
// the way libcalico-go's BGP syncer does for confd (calico-datastore.md §3); shared by the etcd v3 and k8s sources.
import { addressWithoutPrefix, canonicalIPv4, canonicalIPv6 } from '../net/address.js';
import { describeValue, MAX_RESOURCE_BYTES, safeJsonParse } from './safe-value.js';
import { globalAsKey, globalPeerKey, hostAddressKey, hostPeerKey, parseAsNumber, CALICO_BGP_PREFIX } from './calico-mapping.js';

export const CALICO_V3_PREFIX = '/calico/resources/v3/projectcalico.org';
/** The resource folders the reflector reads (and watches) in etcd v3. */
export const CALICO_V3_KINDS = ['nodes', 'bgppeers', 'bgpconfigurations'] as const;
export type CalicoV3Kind = (typeof CALICO_V3_KINDS)[number];

export type Translation = { keys: Map<string, string> } | { error: string };

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Which kind and name a v3 etcd key names, or undefined for keys the reflector does not read. */
export function parseV3Key(key: string): { kind: CalicoV3Kind; name: string } | undefined {
  if (!key.startsWith(`${CALICO_V3_PREFIX}/`)) return undefined;
  const [kind, name, ...rest] = key.slice(CALICO_V3_PREFIX.length + 1).split('/');
  if (rest.length > 0 || name === undefined || name === '') return undefined;
  if (kind === 'nodes' || kind === 'bgppeers' || kind === 'bgpconfigurations') return { kind, name };
  return undefined;
}

/**
 * BGPPeer spec.peerIP: an address, or (Calico ≥ 3.x) "addr:port" / "[v6]:port". The v1 layout has no port, so a
 * port other than 179 is reported rather than silently dropped.
 */
function parsePeerIP(text: string): { family: 4 | 6; address: string } | { error: string } {
  const v4 = canonicalIPv4(text);
  if (v4 !== undefined) return { family: 4, address: v4 };
  const v6 = canonicalIPv6(text);
  if (v6 !== undefined) return { family: 6, address: v6 };
  const m = /^(?:\[([^\]]+)\]|([\d.]+)):(\d+)$/.exec(text);
  if (m) {
    const addr = m[1] !== undefined ? canonicalIPv6(m[1]) : canonicalIPv4(m[2] ?? '');
    if (addr !== undefined && m[3] === '179') return { family: m[1] !== undefined ? 6 : 4, address: addr };
    if (addr !== undefined) return { error: `spec.peerIP ${describeValue(text)} has port ${m[3]}; the v1 key layout has no peer port` };
  }
  return { error: `spec.peerIP ${describeValue(text)} is not an IP address` };
}

/**
 * A Node's spec.bgp.ipv4Address / ipv6Address: "" when absent or empty (the syncer writes empty addresses),
 * the bare address, or undefined when it is set but not an address of the family.
 */
function nodeAddress(family: 4 | 6, v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return '';
  return typeof v === 'string' ? addressWithoutPrefix(family, v) : undefined;
}

/** Translates one resource (its etcd key and JSON value) into v1 keys, or an error naming what is wrong. */
export function translateV3Resource(key: string, value: string): Translation | undefined {
  const id = parseV3Key(key);
  if (id === undefined) return undefined;
  const parsed = safeJsonParse(value, { maxBytes: MAX_RESOURCE_BYTES });
  if (!parsed.ok) return { error: parsed.reason };
  const doc = obj(parsed.value);
  if (doc === undefined) return { error: `value is ${describeValue(parsed.value)}, not a JSON object` };
  const spec = obj(doc.spec) ?? {};
  const keys = new Map<string, string>();
  switch (id.kind) {
    case 'nodes': {
      // A Node without spec.bgp still yields empty addresses, as the BGP syncer writes them.
      const bgp = obj(spec.bgp) ?? {};
      const a4 = nodeAddress(4, bgp.ipv4Address);
      const a6 = nodeAddress(6, bgp.ipv6Address);
      if (a4 === undefined) return { error: `spec.bgp.ipv4Address ${describeValue(bgp.ipv4Address)} is not an IPv4 address` };
      if (a6 === undefined) return { error: `spec.bgp.ipv6Address ${describeValue(bgp.ipv6Address)} is not an IPv6 address` };
      keys.set(hostAddressKey(id.name, 4), a4);
      keys.set(hostAddressKey(id.name, 6), a6);
      if (bgp.asNumber !== undefined && bgp.asNumber !== null) {
        const as = parseAsNumber(bgp.asNumber);
        if (as === undefined) return { error: `spec.bgp.asNumber ${describeValue(bgp.asNumber)} is not an AS number` };
        keys.set(`${CALICO_BGP_PREFIX}/host/${id.name}/as_num`, String(as));
      }
      return { keys };
    }
    case 'bgppeers': {
      if (spec.peerIP === undefined || spec.peerIP === '') return { error: 'spec.peerIP is missing' };
      if (typeof spec.peerIP !== 'string') return { error: `spec.peerIP ${describeValue(spec.peerIP)} is not an IP address` };
      const peer = parsePeerIP(spec.peerIP.trim());
      if ('error' in peer) return peer;
      const as = parseAsNumber(spec.asNumber);
      if (as === undefined) return { error: `spec.asNumber ${describeValue(spec.asNumber)} is not an AS number` };
      const node = typeof spec.node === 'string' ? spec.node : '';
      const selector = typeof spec.nodeSelector === 'string' ? spec.nodeSelector.trim() : '';
      if (node === '' && selector !== '' && selector !== 'all()') {
        return { error: `spec.nodeSelector ${describeValue(selector)} cannot be expressed in the v1 key layout (only all() is)` };
      }
      if (typeof spec.peerSelector === 'string' && spec.peerSelector.trim() !== '') {
        return { error: 'spec.peerSelector cannot be expressed in the v1 key layout' };
      }
      // as_num as a string, as libcalico-go's `json:",string"` tag writes it.
      const v = JSON.stringify({ ip: peer.address, as_num: String(as) });
      keys.set(node === '' ? globalPeerKey(peer.family, peer.address) : hostPeerKey(node, peer.family, peer.address), v);
      return { keys };
    }
    case 'bgpconfigurations': {
      if (id.name !== 'default') return { keys }; // per-node configurations carry nothing the reflector reads
      if (spec.asNumber !== undefined && spec.asNumber !== null) {
        const as = parseAsNumber(spec.asNumber);
        if (as === undefined) return { error: `spec.asNumber ${describeValue(spec.asNumber)} is not an AS number` };
        keys.set(globalAsKey(), String(as));
      }
      if (typeof spec.nodeToNodeMeshEnabled === 'boolean') {
        keys.set(`${CALICO_BGP_PREFIX}/global/node_mesh`, JSON.stringify({ enabled: spec.nodeToNodeMeshEnabled }));
      }
      if (typeof spec.logSeverityScreen === 'string') {
        const l = spec.logSeverityScreen.toLowerCase();
        keys.set(`${CALICO_BGP_PREFIX}/global/loglevel`, l === 'debug' ? 'debug' : l === 'none' || l === 'fatal' ? 'none' : 'info');
      }
      return { keys };
    }
  }
}

/**
 * Folds translated resources into one key set. Resources are applied in key order so that two resources
 * producing the same v1 key give a stable result; the later one wins and the clash is reported.
 */
export function mergeTranslations(
  resources: ReadonlyMap<string, string>,
): { keys: Map<string, string>; problems: { key: string; reason: string }[] } {
  const keys = new Map<string, string>();
  const from = new Map<string, string>();
  const problems: { key: string; reason: string }[] = [];
  for (const rkey of [...resources.keys()].sort()) {
    const t = translateV3Resource(rkey, resources.get(rkey) ?? '');
    if (t === undefined) continue;
    if ('error' in t) {
      problems.push({ key: rkey, reason: `${t.error}; skipped` });
      continue;
    }
    for (const [k, v] of t.keys) {
      const prev = from.get(k);
      if (prev !== undefined && keys.get(k) !== v) problems.push({ key: rkey, reason: `gives ${k} like ${prev} does; ${rkey} used` });
      keys.set(k, v);
      from.set(k, rkey);
    }
  }
  return { keys, problems };
}
