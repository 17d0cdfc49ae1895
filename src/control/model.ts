// What the control sockets read from the daemon and the few actions they may ask of it (ControlModel).
// Fields are in our domain terms (RFC names, numbers, Dates); BIRD 1.6 text is made from them in format.ts.

/** Address family of one socket: 4 serves bird.ctl (IPv4 sessions and table), 6 serves bird6.ctl. */
export type Family = 4 | 6;

/** Protocol kinds BIRD prints in the `proto` column; a reflector has BGP sessions and the Device row. */
export type ProtocolKind = 'BGP' | 'Device' | 'Direct' | 'Kernel' | 'Static' | 'Pipe';

/** BIRD's protocol life cycle (`proto_state_name`): start while a session is being set up, up when Established. */
export type ProtocolState = 'down' | 'start' | 'up' | 'wait' | 'feed' | 'stop' | 'flush';

/** RFC 4271 §8.2.2 FSM states, plus BIRD's Passive (passive peer waiting) and Down (protocol down). */
export type BgpState =
  | 'Idle'
  | 'Connect'
  | 'Active'
  | 'OpenSent'
  | 'OpenConfirm'
  | 'Established'
  | 'Close'
  | 'Passive'
  | 'Down';

/** Why the last session attempt ended; rendered as BIRD's `Last error:` and as the info column. */
export type SessionError =
  /** TCP-level failure; message is the strerror() text, e.g. "Connection refused", or "Connection closed". */
  | { kind: 'socket'; message: string }
  /** NOTIFICATION received from the peer (RFC 4271 §4.5 error code / subcode). */
  | { kind: 'notificationReceived'; code: number; subcode: number }
  /** NOTIFICATION we sent (hold timer expiry, bad OPEN, ...). */
  | { kind: 'notificationSent'; code: number; subcode: number }
  /** Other local reasons: "Neighbor lost", "Invalid next hop", "Route limit exceeded", ... */
  | { kind: 'misc'; message: string }
  /** Stopped by ourselves after an error (e.g. prefix limit with action disable). */
  | { kind: 'automaticShutdown'; message: string };

/** Remaining seconds of a running timer and its configured/negotiated length. */
export interface TimerView {
  remaining: number;
  length: number;
}

/** The BGP part of a protocol (RFC 4271 peer). Fields marked "up" are only shown while the protocol is up. */
export interface BgpSessionView {
  state: BgpState;
  neighborAddress: string;
  /** Interface scope of a link-local neighbour address ("%eth0"), if any. */
  neighborInterface?: string;
  neighborAs: number;
  /** Graceful restart (RFC 4724) in progress for this neighbour; restartTimer is its remaining seconds. */
  gracefulRestartActive?: boolean;
  restartTimer?: number;
  /** While starting: the error-wait back-off and the connect-retry delay. */
  errorWait?: TimerView;
  connectDelay?: TimerView;
  /** up: the peer's BGP Identifier (dotted quad). */
  neighborId?: string;
  /** up: what the peer announced in its OPEN (RFC 5492). */
  neighborCapabilities?: NeighborCapabilities;
  /** up: properties of the established session. */
  session?: SessionProperties;
  /** up: our local address of the TCP connection. */
  sourceAddress?: string;
  /** up: configured import limit and the current count, if a limit is set. */
  routeLimit?: { count: number; limit: number };
  /** up: hold timer (remaining / negotiated hold time) and keepalive timer (remaining / keepalive time). */
  holdTimer?: TimerView;
  keepaliveTimer?: TimerView;
  /** Last error; leave undefined when there is none or the protocol was disabled by the operator. */
  lastError?: SessionError;
}

export interface NeighborCapabilities {
  routeRefresh: boolean; // RFC 2918
  enhancedRouteRefresh: boolean; // RFC 7313
  /** RFC 4724: 'able' when the peer preserved our routes (restart state bit), 'aware' when it merely supports GR. */
  gracefulRestart?: 'able' | 'aware';
  /** RFC 9494 long-lived graceful restart. */
  longLivedGracefulRestart?: 'able' | 'aware';
  fourOctetAs: boolean; // RFC 6793
  addPathReceive: boolean; // RFC 7911: peer can receive multiple paths
  addPathSend: boolean; // RFC 7911: peer can send multiple paths
  extendedMessages: boolean; // RFC 8654
}

export interface SessionProperties {
  /** iBGP (same AS) or eBGP. */
  internal: boolean;
  multihop: boolean;
  /** The peer is our route-reflector client (RFC 4456). */
  routeReflectorClient: boolean;
  routeServerClient: boolean;
  fourOctetAs: boolean;
  addPathReceive: boolean;
  addPathSend: boolean;
  extendedMessages: boolean;
}

export interface RouteCounts {
  imported: number;
  /** Only set when rejected routes are kept (BIRD `import keep filtered`). */
  filtered?: number;
  exported: number;
  preferred: number;
}

/** BIRD's route change statistics (`Route change stats:` table); "received" for export = offered to the protocol. */
export interface RouteChangeStats {
  importUpdates: { received: number; rejected: number; filtered: number; ignored: number; accepted: number };
  importWithdraws: { received: number; rejected: number; ignored: number; accepted: number };
  exportUpdates: { received: number; rejected: number; filtered: number; accepted: number };
  exportWithdraws: { received: number; accepted: number };
}

export interface ProtocolView {
  /** Protocol name as Calico's BIRD config named it: Mesh_10_0_0_2, Node_fd00__3, device1. */
  name: string;
  kind: ProtocolKind;
  /** Routing table name; BIRD 1.6's default is "master". */
  table: string;
  state: ProtocolState;
  /** Time of the last protocol state change. */
  since: Date;
  description?: string;
  /** Settings of the datastore resources behind this session that are not applied ("BGPPeer x: spec.filters"). */
  notApplied?: string;
  /** Operator message given with disable/restart, if any. */
  message?: string;
  preference: number;
  /** Import/export policy names as BIRD prints them: "ACCEPT", "REJECT" or a filter name. */
  importFilter: string;
  exportFilter: string;
  routes: RouteCounts;
  stats: RouteChangeStats;
  /** Present for kind 'BGP'. */
  bgp?: BgpSessionView;
}

export interface StatusView {
  routerId: string;
  lastReboot: Date;
  lastReconfiguration: Date;
  phase: 'running' | 'reconfiguring' | 'shuttingDown';
  /**
   * What really runs (e.g. "calico-ts-route-reflector 0.1.0"), printed in brackets after BIRD's version on the
   * first line. bird_exporter (HEAD) takes the version from the first `BIRD (\S+)` match, so it still reads
   * "1.6.8" and keeps working; the Debian 1.4.1 exporter never asks for `show status`. Unset: BIRD's line as is.
   */
  software?: string;
}

/** Where packets for a route go; BIRD's `via`, `dev`, and the special destinations. */
export type RouteDestination =
  | { kind: 'router'; gateway: string; iface: string }
  | { kind: 'device'; iface: string }
  | { kind: 'blackhole' }
  | { kind: 'unreachable' }
  | { kind: 'prohibited' }
  | { kind: 'multipath'; hops: { gateway: string; iface: string; weight: number }[] };

/** Who put the route into the table (BIRD's route source, first word of `Type:`). */
export type RouteSource = 'BGP' | 'static' | 'device' | 'inherit' | 'static-device';

export interface AsPathSegment {
  type: 'AS_SEQUENCE' | 'AS_SET';
  asns: number[];
}

/** RFC 4360 extended community in its three common layouts; anything else is 'opaque' (8 raw bytes). */
export type ExtendedCommunity =
  | { layout: 'as2'; subtype: number; transitive: boolean; globalAdmin: number; localAdmin: number }
  | { layout: 'ipv4'; subtype: number; transitive: boolean; globalAdmin: string; localAdmin: number }
  | { layout: 'as4'; subtype: number; transitive: boolean; globalAdmin: number; localAdmin: number }
  | { layout: 'opaque'; bytes: Uint8Array };

export interface UnknownAttribute {
  typeCode: number;
  flags: number;
  value: Uint8Array;
}

/** Path attributes of a BGP route (RFC 4271 §5, RFC 1997, RFC 4456, RFC 4360, RFC 8092). */
export interface BgpRouteAttributes {
  origin: 'IGP' | 'EGP' | 'INCOMPLETE';
  asPath: AsPathSegment[];
  /** NEXT_HOP / MP_REACH next hop(s): one address, or global + link-local for IPv6. */
  nextHop: string[];
  multiExitDisc?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: { asn: number; address: string };
  communities?: Array<[number, number]>;
  originatorId?: string;
  clusterList?: string[];
  extendedCommunities?: ExtendedCommunity[];
  largeCommunities?: Array<[number, number, number]>;
  unknown?: UnknownAttribute[];
}

export interface RouteView {
  /**
   * Network in canonical text, host bits clear: dotted decimal for IPv4, RFC 5952 for IPv6 ("10.65.1.0/26",
   * "fd00:65::/122"). `show route for|PREFIX` compare this text, so other spellings would not be found.
   */
  prefix: string;
  destination: RouteDestination;
  /** Name of the protocol the route came from (a session name, static1, direct1). */
  protocol: string;
  since: Date;
  /** Address of the BGP neighbour the route was learned from. */
  fromAddress?: string;
  /** Selected as best route of its network. */
  best: boolean;
  preference: number;
  source: RouteSource;
  /** BGP routes only. */
  bgp?: {
    attributes: BgpRouteAttributes;
    /** Recursive next hop state: undefined when the next hop is direct (no resolution). */
    nextHopResolution?: { reachable: false } | { reachable: true; igpMetric?: number };
    suppressed?: boolean;
    stale?: boolean;
  };
}

export interface MemoryView {
  routingTables: number;
  routeAttributes: number;
  roaTables: number;
  protocols: number;
  total: number;
}

export interface InterfaceAddressView {
  /** Address with prefix length, "10.0.0.10/24". */
  prefix: string;
  primary: boolean;
  scope: 'host' | 'link' | 'site' | 'univ';
  peer?: string;
}

export interface InterfaceView {
  name: string;
  index: number;
  up: boolean;
  multiAccess: boolean;
  broadcast: boolean;
  multicast: boolean;
  adminUp: boolean;
  linkUp: boolean;
  loopback: boolean;
  ignored: boolean;
  mtu: number;
  addresses: InterfaceAddressView[];
}

/** Outcome of enable/disable/restart for one protocol. */
export type ProtocolActionResult = 'done' | 'already';

export type ConfigureResult = { ok: true } | { ok: false; error: string };

/**
 * The daemon as the control sockets see it. Reads are synchronous snapshots; actions may be async.
 * One model serves both sockets; `family` selects the IPv4 (bird.ctl) or IPv6 (bird6.ctl) view.
 */
export interface ControlModel {
  status(): StatusView;
  /** Protocols of this family in configuration order, including the Device row (see deviceProtocol()). */
  protocols(family: Family): ProtocolView[];
  /** The whole table of this family, grouped by network (all routes of one network adjacent, best first). */
  routes(family: Family): Iterable<RouteView>;
  /** Routes that protocol `name` exports (what we advertise to that peer); undefined if there is no such protocol. */
  exportedRoutes(family: Family, name: string): Iterable<RouteView> | undefined;
  /** 'already' when the protocol was already enabled/disabled. */
  enable(family: Family, name: string): ProtocolActionResult | Promise<ProtocolActionResult>;
  disable(family: Family, name: string): ProtocolActionResult | Promise<ProtocolActionResult>;
  restart(family: Family, name: string): void | Promise<void>;
  /**
   * Optional: re-run route exchange with a peer without resetting it (`reload [in|out] NAME`):
   * 'in' asks the peer for a ROUTE-REFRESH (RFC 2918), 'out' re-sends our routes, 'both' does both.
   */
  reload?(family: Family, name: string, direction: 'in' | 'out' | 'both'): void | Promise<void>;
  /** Re-read the datastore now; `check` only validates. */
  configure(mode: 'apply' | 'check'): Promise<ConfigureResult>;
  memory(): MemoryView;
  interfaces(family: Family): InterfaceView[];
}

const zeroStats = (): RouteChangeStats => ({
  importUpdates: { received: 0, rejected: 0, filtered: 0, ignored: 0, accepted: 0 },
  importWithdraws: { received: 0, rejected: 0, ignored: 0, accepted: 0 },
  exportUpdates: { received: 0, rejected: 0, filtered: 0, accepted: 0 },
  exportWithdraws: { received: 0, accepted: 0 },
});

/** Zeroed route change statistics, for protocols that have not exchanged routes. */
export function emptyRouteChangeStats(): RouteChangeStats {
  return zeroStats();
}

/**
 * The `device1` row BIRD always listed (Calico's config has `protocol device`); bird_exporter skips it,
 * but its presence keeps `show protocols all` non-empty (an empty reply would be 8003, hanging old exporters).
 */
export function deviceProtocol(since: Date): ProtocolView {
  return {
    name: 'device1',
    kind: 'Device',
    table: 'master',
    state: 'up',
    since,
    preference: 240,
    importFilter: 'ACCEPT',
    exportFilter: 'REJECT',
    routes: { imported: 0, exported: 0, preferred: 0 },
    stats: zeroStats(),
  };
}
