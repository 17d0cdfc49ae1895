// The pure Calico mapping: /calico/bgp/v1/... keys → the BGP sessions this reflector should run, following the
// original bird.cfg/bird6.cfg templates (calico-datastore.md §4–§5) with bad entries skipped instead of fatal.
// A little over 400 lines: the key layout, the per-entry checks and the templates' rules read in one order, as
// the original templates did; each entry's checks are small functions below desiredPeers.
import { addressForName, canonicalAddress, canonicalClusterId, unusableNeighbour } from '../net/address.js';
import { describeValue, safeJsonParse } from './safe-value.js';
import type { KeySnapshot } from './source.js';
import { ADD_PATHS_MAX_N, parseAddPaths, type AddPathsMode, type PeerKind, type PeerSpec } from '../peers/peer-spec.js';

export const CALICO_BGP_PREFIX = '/calico/bgp/v1';
/** Global AS when /calico/bgp/v1/global/as_num is absent, as confd v3 and calico/node defaulted it. */
export const DEFAULT_AS_NUMBER = 64512;

export interface MappingEnv {
  /** IP: router ID and IPv4 address of this reflector. */
  ip: string;
  /** IP6, or undefined when IPv6 is off (then no IPv6 session at all). */
  ip6?: string | undefined;
  /** BGP_PORT. */
  port: number;
}

export interface MappingProblem {
  /** The full datastore key at fault. */
  key: string;
  reason: string;
  /** 'warning': the entry is used, but something about it is worth knowing (default: it was skipped). */
  kind?: 'warning';
}

export interface MappingResult {
  /** Sorted by family, then name. At most one session per neighbour address and family. */
  peers: PeerSpec[];
  problems: MappingProblem[];
}

// ---- Calico value forms ----

/** An AS number from a peer entry: a decimal string or a JSON number, 1..4294967295. */
export function parseAsNumber(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) n = Number(value.trim());
  else return undefined;
  if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) return undefined;
  return n;
}

// ---- key builders (the reverse direction, used by self-registration and resource translation) ----

export function rrKey(family: 4 | 6, address: string): string {
  return `${CALICO_BGP_PREFIX}/rr_v${family}/${address}`;
}
export function globalAsKey(): string {
  return `${CALICO_BGP_PREFIX}/global/as_num`;
}
export function globalPeerKey(family: 4 | 6, address: string): string {
  return `${CALICO_BGP_PREFIX}/global/peer_v${family}/${address}`;
}
export function hostPeerKey(host: string, family: 4 | 6, address: string): string {
  return `${CALICO_BGP_PREFIX}/host/${host}/peer_v${family}/${address}`;
}
export function hostAddressKey(host: string, family: 4 | 6): string {
  return `${CALICO_BGP_PREFIX}/host/${host}/ip_addr_v${family}`;
}

/** The value of a reflector's own rr_v4/rr_v6 entry, as the seed's README writes it with curl. */
export function rrEntryValue(address: string, clusterId: string | undefined): string {
  return JSON.stringify({ ip: address, cluster_id: clusterId ?? '' });
}

// ---- parsing the key set ----

interface HostKeys {
  name: string;
  /** ip_addr_v4 / ip_addr_v6: the raw value, or undefined when the key is absent. */
  address: { 4?: string; 6?: string };
  peers: { 4: [string, string][]; 6: [string, string][] };
}

interface ParsedKeys {
  rr: { 4: [string, string][]; 6: [string, string][] };
  globalAs?: [string, string];
  globalPeers: { 4: [string, string][]; 6: [string, string][] };
  hosts: HostKeys[];
}

function parseKeys(keys: KeySnapshot): ParsedKeys {
  const parsed: ParsedKeys = { rr: { 4: [], 6: [] }, globalPeers: { 4: [], 6: [] }, hosts: [] };
  const hosts = new Map<string, HostKeys>();
  const sorted = [...keys.keys()].sort();
  for (const key of sorted) {
    if (!key.startsWith(`${CALICO_BGP_PREFIX}/`)) continue;
    const value = keys.get(key) ?? '';
    const parts = key.slice(CALICO_BGP_PREFIX.length + 1).split('/');
    const [p0, p1, p2, p3] = parts;
    if ((p0 === 'rr_v4' || p0 === 'rr_v6') && parts.length === 2 && p1) {
      parsed.rr[p0 === 'rr_v4' ? 4 : 6].push([key, value]);
    } else if (p0 === 'global' && parts.length === 2 && p1 === 'as_num') {
      parsed.globalAs = [key, value];
    } else if (p0 === 'global' && parts.length === 3 && (p1 === 'peer_v4' || p1 === 'peer_v6') && p2) {
      parsed.globalPeers[p1 === 'peer_v4' ? 4 : 6].push([key, value]);
    } else if (p0 === 'host' && parts.length >= 3 && p1) {
      // Every host directory with any sub-key is a host, as confd's lsdir saw it.
      let h = hosts.get(p1);
      if (h === undefined) {
        h = { name: p1, address: {}, peers: { 4: [], 6: [] } };
        hosts.set(p1, h);
      }
      if (parts.length === 3 && p2 === 'ip_addr_v4') h.address[4] = value;
      else if (parts.length === 3 && p2 === 'ip_addr_v6') h.address[6] = value;
      else if (parts.length === 4 && (p2 === 'peer_v4' || p2 === 'peer_v6') && p3) {
        h.peers[p2 === 'peer_v4' ? 4 : 6].push([key, value]);
      }
    }
  }
  parsed.hosts = [...hosts.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return parsed;
}

type JsonObject = Record<string, unknown>;

/** One entry's JSON object, parsed with bounded size and depth (safe-value.ts), or why it is unusable. */
function parseJsonObject(value: string): JsonObject | string {
  const parsed = safeJsonParse(value);
  if (!parsed.ok) return parsed.reason;
  const v = parsed.value;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return `value is ${describeValue(v)}, not a JSON object`;
  return v as JsonObject;
}

// ---- the rules ----

interface Candidate {
  kind: PeerKind;
  neighbor: string;
  peerAs: number;
  /** The key that names this candidate in problem reports (rr entry, or the host's ip_addr key). */
  key: string;
  sourceKeys: string[];
  host?: string;
  password?: string;
  /** Per-entry extension fields of the peer entry (max_prefixes, ttl_security, add_paths). */
  security?: EntrySecurity;
}

/** Optional per-entry extension fields of a peer entry (add_paths also of another reflector's rr entry). */
interface EntrySecurity {
  maxPrefixes?: number;
  ttlSecurity?: boolean;
  addPaths?: AddPathsMode;
}

const KIND_PREFIX: Record<PeerKind, string> = { mesh: 'Mesh_', global: 'Global_', node: 'Node_' };

/** A BIRD protocol name as calico/node and the original templates build it ('.' and ':' → '_'). */
export function sessionName(kind: PeerKind, neighbor: string): string {
  return `${KIND_PREFIX[kind]}${addressForName(neighbor)}`;
}

export function desiredPeers(keys: KeySnapshot, env: MappingEnv): MappingResult {
  const parsed = parseKeys(keys);
  const problems: MappingProblem[] = [];
  const peers: PeerSpec[] = [];
  const routerId = canonicalAddress(4, env.ip) ?? env.ip;

  let meshAs = DEFAULT_AS_NUMBER;
  if (parsed.globalAs !== undefined) {
    const [key, value] = parsed.globalAs;
    const n = parseAsNumber(value);
    if (n === undefined) problems.push({ key, reason: `${describeValue(value)} is not an AS number; using the default ${DEFAULT_AS_NUMBER}` });
    else meshAs = n;
  }

  for (const family of [4, 6] as const) {
    const ownRaw = family === 4 ? env.ip : env.ip6;
    if (ownRaw === undefined || ownRaw === '') continue;
    const own = canonicalAddress(family, ownRaw) ?? ownRaw;
    const candidates = familyCandidates(parsed, family, own, routerId, meshAs, problems);
    const winners = new Map<string, Candidate>();
    for (const c of candidates.list) {
      const prev = winners.get(c.neighbor);
      if (prev === undefined) {
        winners.set(c.neighbor, c);
        continue;
      }
      // A host that is both a node-specific and a global client gets one session (the node-specific one,
      // the more specific configuration). Any other clash is two entries claiming one neighbour: a bad entry.
      if (prev.kind === 'node' && c.kind === 'global' && prev.host === c.host) continue;
      problems.push({
        key: c.key,
        reason: `duplicate neighbour address ${c.neighbor}: already used by ${sessionName(prev.kind, prev.neighbor)} (from ${prev.key}); skipped`,
      });
    }
    for (const c of winners.values()) {
      const spec: PeerSpec = {
        name: sessionName(c.kind, c.neighbor),
        kind: c.kind,
        family,
        neighborAddress: c.neighbor,
        localAddress: own,
        port: env.port,
        localAs: c.peerAs,
        peerAs: c.peerAs,
        routeReflectorClient: c.kind !== 'mesh',
        clusterId: candidates.clusterId,
        routerId,
        sourceKeys: c.sourceKeys,
      };
      if (c.password !== undefined) spec.password = c.password;
      if (c.security?.maxPrefixes !== undefined) spec.maxPrefixes = c.security.maxPrefixes;
      if (c.security?.ttlSecurity !== undefined) spec.ttlSecurity = c.security.ttlSecurity;
      if (c.security?.addPaths !== undefined) spec.addPaths = c.security.addPaths;
      peers.push(spec);
    }
  }
  peers.sort((a, b) => a.family - b.family || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // One line per key and reason, even when two rules met the same bad host address.
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const k = `${p.key}\u0000${p.reason}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { peers, problems: unique };
}

function familyCandidates(
  parsed: ParsedKeys,
  family: 4 | 6,
  own: string,
  routerId: string,
  meshAs: number,
  problems: MappingProblem[],
): { list: Candidate[]; clusterId: string } {
  const list: Candidate[] = [];

  // Step A: registered = our own rr_v<family>/<address> entry exists; its cluster_id, when set, is our cluster ID.
  const ownEntry = parsed.rr[family].find(([key]) => {
    const name = key.slice(key.lastIndexOf('/') + 1);
    return name === own || canonicalAddress(family, name) === own;
  });
  const registered = ownEntry !== undefined;
  let clusterId = routerId;
  if (ownEntry !== undefined) {
    const obj = parseJsonObject(ownEntry[1]);
    if (typeof obj === 'string') {
      problems.push({ key: ownEntry[0], reason: `${obj}; registered without a cluster ID (router ID ${routerId} used)` });
    } else {
      const cid = obj.cluster_id;
      if (cid !== undefined && cid !== null && cid !== '') {
        const c = typeof cid === 'string' || typeof cid === 'number' ? canonicalClusterId(cid) : undefined;
        if (c === undefined) {
          problems.push({ key: ownEntry[0], reason: `cluster_id ${describeValue(cid)} is not a dotted quad or 32-bit number; router ID ${routerId} used` });
        } else clusterId = c;
      }
    }
  }

  // Step B: full iBGP mesh with every other registered reflector, AS = global/as_num.
  if (registered) {
    for (const [key, value] of parsed.rr[family]) {
      if (key === ownEntry[0]) continue;
      const peer = entryAddress(key, value, family, problems);
      if (peer === undefined || peer === own) continue; // "Skipping ourselves"
      const c: Candidate = { kind: 'mesh', neighbor: peer, peerAs: meshAs, key, sourceKeys: [key] };
      // The other reflector's entry names it as the neighbour, as a peer entry names us: its add_paths is what
      // every reflector sends it (self-registration writes no add_paths, so then the default applies).
      const rrObj = parseJsonObject(value);
      const addPaths = typeof rrObj === 'string' ? undefined : entryAddPaths(key, rrObj, problems);
      if (addPaths !== undefined) c.security = { addPaths };
      list.push(c);
    }
  }

  // Step D before C so that a host that is both kinds keeps its node-specific session (see desiredPeers).
  for (const host of parsed.hosts) {
    const chosen = firstClientEntry(host.peers[family], family, own, problems, `second node-specific peer entry for this reflector on host ${host.name}`);
    if (chosen === undefined) continue;
    const nip = hostAddress(host, family, own, problems);
    if (nip === undefined) continue;
    list.push(clientCandidate('node', chosen, nip, host.name));
  }

  // Step C: a global peer entry naming us → a client session with every host.
  const global = firstClientEntry(parsed.globalPeers[family], family, own, problems, 'second global peer entry for this reflector');
  if (global !== undefined) {
    for (const host of parsed.hosts) {
      const hasNodeSession = list.some((c) => c.kind === 'node' && c.host === host.name);
      const nip = hostAddress(host, family, own, hasNodeSession ? [] : problems);
      if (nip === undefined) continue;
      list.push(clientCandidate('global', global, nip, host.name));
    }
  }
  return { list, clusterId };
}

/** A peer entry naming this reflector, with the key it came from. */
interface ChosenEntry {
  key: string;
  as: number;
  password?: string;
  security?: EntrySecurity;
}

/** The first valid peer entry naming us; a further one is a problem (`second`, with the key used). */
function firstClientEntry(
  entries: Iterable<[string, string]>,
  family: 4 | 6,
  own: string,
  problems: MappingProblem[],
  second: string,
): ChosenEntry | undefined {
  let chosen: ChosenEntry | undefined;
  for (const [key, value] of entries) {
    const entry = clientEntry(key, value, family, own, problems);
    if (entry === undefined) continue;
    if (chosen !== undefined) {
      problems.push({ key, reason: `${second}; ${chosen.key} used` });
      continue;
    }
    chosen = { key, ...entry };
  }
  return chosen;
}

/** A client session (node-specific or global) with one host, from the entry that asked for it. */
function clientCandidate(kind: 'node' | 'global', entry: ChosenEntry, nip: { address: string; key: string }, host: string): Candidate {
  const c: Candidate = { kind, neighbor: nip.address, peerAs: entry.as, key: nip.key, sourceKeys: [entry.key, nip.key], host };
  if (entry.password !== undefined) c.password = entry.password;
  if (entry.security !== undefined) c.security = entry.security;
  return c;
}

/** The `ip` of an rr entry, canonical; problems for unparsable JSON, missing, empty or invalid addresses. */
function entryAddress(key: string, value: string, family: 4 | 6, problems: MappingProblem[]): string | undefined {
  const obj = parseJsonObject(value);
  if (typeof obj === 'string') {
    problems.push({ key, reason: `${obj}; skipped` });
    return undefined;
  }
  const ip = obj.ip;
  if (ip === undefined || (typeof ip === 'string' && ip.trim() === '')) {
    problems.push({ key, reason: 'entry has no "ip"; skipped' });
    return undefined;
  }
  const a = typeof ip === 'string' ? canonicalAddress(family, ip.trim()) : undefined;
  if (a === undefined) {
    problems.push({ key, reason: `ip ${describeValue(ip)} is not an IPv${family} address; skipped` });
    return undefined;
  }
  const odd = unusableNeighbour(family, a);
  if (odd !== undefined) {
    problems.push({ key, reason: `ip ${a} is ${odd}; skipped` });
    return undefined;
  }
  return a;
}

/**
 * A global or node-specific peer entry: undefined when it is not about us (or is bad, with a problem);
 * else the AS to use on both sides of the session (calico/routereflector ≥ v0.5.0) and an optional password.
 */
function clientEntry(
  key: string,
  value: string,
  family: 4 | 6,
  own: string,
  problems: MappingProblem[],
): { as: number; password?: string; security?: EntrySecurity } | undefined {
  const ip = entryAddress(key, value, family, problems);
  if (ip === undefined || ip !== own) return undefined; // entries for other peers (ToR routers, other reflectors)
  const obj = parseJsonObject(value);
  if (typeof obj === 'string') return undefined; // entryAddress reported it
  const as = parseAsNumber(obj.as_num);
  if (as === undefined) {
    problems.push({
      key,
      reason: obj.as_num === undefined ? 'peer entry has no "as_num"; skipped' : `as_num ${describeValue(obj.as_num)} is not an AS number; skipped`,
    });
    return undefined;
  }
  const result: { as: number; password?: string; security?: EntrySecurity } = { as };
  const pw = obj.password;
  if (typeof pw === 'string' && pw !== '') {
    result.password = pw;
  } else if (pw !== undefined && pw !== null && pw !== '') {
    // A password that is not a string must not silently turn into an unsigned session.
    problems.push({ key, reason: `password is ${describeValue(pw, { secret: true })}, not a string; skipped` });
    return undefined;
  }
  const security = entrySecurity(key, obj, problems);
  if (security !== undefined) result.security = security;
  return result;
}

/**
 * `max_prefixes` (a non-negative integer or its decimal text; 0 = no limit) and `ttl_security` (boolean) of a
 * peer entry. A bad value is reported and ignored (the environment defaults apply); the session still runs.
 */
function entrySecurity(key: string, obj: JsonObject, problems: MappingProblem[]): EntrySecurity | undefined {
  const out: EntrySecurity = {};
  const mp = obj.max_prefixes;
  if (mp !== undefined && mp !== null && mp !== '') {
    const n = typeof mp === 'number' ? mp : typeof mp === 'string' && /^\d{1,10}$/.test(mp.trim()) ? Number(mp.trim()) : NaN;
    if (Number.isSafeInteger(n) && n >= 0 && n <= 0xffffffff) out.maxPrefixes = n === 0 ? 0 : n; // -0 → 0
    else problems.push({ key, reason: `max_prefixes ${describeValue(mp)} is not a non-negative integer; ignored` });
  }
  const ttl = obj.ttl_security;
  if (ttl !== undefined && ttl !== null) {
    if (typeof ttl === 'boolean') out.ttlSecurity = ttl;
    else problems.push({ key, reason: `ttl_security ${describeValue(ttl)} is not true or false; ignored` });
  }
  const ap = entryAddPaths(key, obj, problems);
  if (ap !== undefined) out.addPaths = ap;
  return out.maxPrefixes !== undefined || out.ttlSecurity !== undefined || out.addPaths !== undefined ? out : undefined;
}

/**
 * `add_paths` of an entry: ADD-PATH send for the sessions it makes, `"off"`, `"all"`, `"N"` or the number N
 * (1…64). Absent, null or "": the ADD_PATHS default. A bad value is reported and ignored; the session still runs.
 */
function entryAddPaths(key: string, obj: JsonObject, problems: MappingProblem[]): AddPathsMode | undefined {
  const v = obj.add_paths;
  if (v === undefined || v === null || v === '') return undefined;
  const m = typeof v === 'string' ? parseAddPaths(v) : typeof v === 'number' && Number.isInteger(v) ? parseAddPaths(String(v)) : undefined;
  if (m === undefined) problems.push({ key, reason: `add_paths ${describeValue(v)} is not off, all or 1..${ADD_PATHS_MAX_N}; ignored` });
  return m;
}

/** The neighbour address of a host for this family, or undefined (with a problem) when missing, empty, invalid or ours. */
function hostAddress(
  host: HostKeys,
  family: 4 | 6,
  own: string,
  problems: MappingProblem[],
): { address: string; key: string } | undefined {
  const key = hostAddressKey(host.name, family);
  const raw = host.address[family];
  if (raw === undefined) {
    problems.push({ key, reason: `host ${host.name} has no ip_addr_v${family}; no session` });
    return undefined;
  }
  if (raw.trim() === '') {
    problems.push({ key, reason: `host ${host.name} has an empty ip_addr_v${family}; no session` });
    return undefined;
  }
  const a = canonicalAddress(family, raw.trim());
  if (a === undefined) {
    problems.push({ key, reason: `${describeValue(raw)} is not an IPv${family} address; no session` });
    return undefined;
  }
  const odd = unusableNeighbour(family, a);
  if (odd !== undefined) {
    problems.push({ key, reason: `host ${host.name} has ${a}, ${odd}; no session` });
    return undefined;
  }
  if (a === own) {
    problems.push({ key, reason: `host ${host.name} is this reflector itself (${a}); no session to ourselves` });
    return undefined;
  }
  return { address: a, key };
}
