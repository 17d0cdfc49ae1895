// What one BGP session should be, as derived from the datastore by the Calico mapping.
// Sessions are created from these; the reconciler compares them to decide start/stop/restart.

export type PeerKind = 'mesh' | 'global' | 'node';

/**
 * ADD-PATH send (RFC 7911): 'off' = the one best path; 'all' = every usable path the export policy allows;
 * N = the best N of those (the "add-all-paths" and "add-n-paths" modes of the IETF ADD-PATH guidelines draft,
 * draft-ietf-idr-add-paths-guidelines).
 */
export type AddPathsMode = 'off' | 'all' | number;

/** Largest N of ADD_PATHS=N (and of a peer's add_paths). */
export const ADD_PATHS_MAX_N = 64;

/** `off`, `all` or 1…64 (case-insensitive, spaces around allowed); undefined for anything else. */
export function parseAddPaths(text: string): AddPathsMode | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'off' || t === 'all') return t;
  if (!/^\d{1,3}$/.test(t)) return undefined;
  const n = Number(t);
  return n >= 1 && n <= ADD_PATHS_MAX_N ? n : undefined;
}

/** Paths per prefix for a mode: 0 for off, Infinity for all. */
export function addPathMaxOf(m: AddPathsMode): number {
  return m === 'off' ? 0 : m === 'all' ? Infinity : m;
}

export interface PeerSpec {
  /** BIRD protocol name as the original used it: Mesh_10_0_0_2, Global_10_0_0_3, Node_fd00__3. */
  name: string;
  kind: PeerKind;
  /** 4 for an IPv4 session (bird.ctl), 6 for an IPv6 session (bird6.ctl). */
  family: 4 | 6;
  /** Neighbour address as written in canonical form (IPv6 compressed lowercase). */
  neighborAddress: string;
  /** Our source/listen address for this session (IP or IP6). */
  localAddress: string;
  /** TCP port to connect to (BGP_PORT). */
  port: number;
  localAs: number;
  peerAs: number;
  /** True for Calico nodes (Global_/Node_): RFC 4456 clients. False for other reflectors (Mesh_). */
  routeReflectorClient: boolean;
  /** Our cluster ID as a dotted quad (own rr entry's cluster_id, else the router ID). */
  clusterId: string;
  /** Our BGP identifier (router ID) = IP. */
  routerId: string;
  /** Datastore keys this session was derived from, for log lines. */
  sourceKeys: string[];
  /** Optional TCP-MD5 password (hardening issue); absent means none. */
  password?: string;
  /** GTSM / TTL security (RFC 5082) for a directly connected peer; absent = the TTL_SECURITY default. */
  ttlSecurity?: boolean;
  /**
   * With ttlSecurity: how many hops away the peer may be (Calico BGPPeer ttlSecurity, BIRD `multihop N`): we send
   * with TTL 255 and accept TTL ≥ 256 − N. Absent = 1 (RFC 5082, directly connected).
   */
  ttlSecurityHops?: number;
  /** Restart time (s) announced in our graceful restart capability (Calico maxRestartTime); absent = the default. */
  restartTime?: number;
  /** Maximum prefixes accepted per AFI from this peer; absent = the MAX_PREFIXES default, 0 = no limit. */
  maxPrefixes?: number;
  /** ADD-PATH send for this peer (datastore override); absent = the ADD_PATHS default. */
  addPaths?: AddPathsMode;
}

/** The fields whose change requires a session restart (everything but names of source keys). */
export function sessionParametersEqual(a: PeerSpec, b: PeerSpec): boolean {
  return (
    a.name === b.name &&
    a.kind === b.kind &&
    a.family === b.family &&
    a.neighborAddress === b.neighborAddress &&
    a.localAddress === b.localAddress &&
    a.port === b.port &&
    a.localAs === b.localAs &&
    a.peerAs === b.peerAs &&
    a.routeReflectorClient === b.routeReflectorClient &&
    a.clusterId === b.clusterId &&
    a.routerId === b.routerId &&
    a.password === b.password &&
    a.ttlSecurity === b.ttlSecurity &&
    a.ttlSecurityHops === b.ttlSecurityHops &&
    a.restartTime === b.restartTime &&
    a.maxPrefixes === b.maxPrefixes &&
    a.addPaths === b.addPaths
  );
}
