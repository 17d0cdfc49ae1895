// What the native Prometheus metrics read at scrape time. main.ts adapts sessions, RIB and datastore to it,
// so src/metrics knows nothing of their internals and every value is read fresh on each scrape.

export interface SessionMetricsView {
  name: string;
  family: 4 | 6;
  neighborAddress: string;
  peerAs: number;
  /** FSM state name: Idle, Connect, Active, OpenSent, OpenConfirm, Established. */
  state: string;
  /** Seconds since the session reached Established, or since it last changed state when not Established. */
  uptimeSeconds: number;
  prefixesReceived: number;
  prefixesAccepted: number;
  prefixesAdvertised: number;
  updatesIn: number;
  updatesOut: number;
  withdrawsIn: number;
  withdrawsOut: number;
  notificationsIn: number;
  notificationsOut: number;
  /** Times the session left Established. */
  flaps: number;
  /** Bytes written to the socket but not yet sent (Node's writableLength). */
  writeQueueBytes: number;
}

export interface RibMetricsView {
  family: 4 | 6;
  /** Sum over peers of their Adj-RIB-In entries. */
  adjRibInRoutes: number;
  /** Prefixes in the Loc-RIB (one best path each). */
  locRibPrefixes: number;
  /** Distinct interned attribute sets. */
  attributeSets: number;
}

export interface UpdateGroupMetricsView {
  family: 4 | 6;
  id: string;
  members: number;
}

export interface DatastoreMetricsView {
  source: string;
  synced: boolean;
  lastError?: string;
  lastSyncUnixSeconds?: number;
}

export interface MetricsModel {
  /** bgp_rr_build_info's labels (constant for the process); absent: no build_info series. */
  build?: { version: string; nodeVersion: string };
  sessions(): SessionMetricsView[];
  ribs(): RibMetricsView[];
  updateGroups(): UpdateGroupMetricsView[];
  datastore(): DatastoreMetricsView;
  /** True once the BGP listeners are bound. */
  listening(): boolean;
  /** Incoming BGP connections the listener refused so far, by reason (unknown_address, refused_budget, max_pending, per_address). */
  connectionsRefused?(): Record<string, number>;
}
