// The prom-client registry of the reflector's own metrics, filled from a MetricsModel at scrape time.
// Metric names use the bgp_rr_ prefix; labels name the session as BIRD does (protocol name) plus family and neighbour.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { MetricsModel, SessionMetricsView } from './model.js';

const SESSION_LABELS = ['name', 'family', 'neighbor', 'peer_as'] as const;
type SessionLabel = (typeof SESSION_LABELS)[number];

const FSM_STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const;

function sessionLabels(s: SessionMetricsView): Record<SessionLabel, string> {
  return { name: s.name, family: `ipv${s.family}`, neighbor: s.neighborAddress, peer_as: String(s.peerAs) };
}

/**
 * A counter whose value is owned elsewhere (the session's own counters): on every scrape it is reset and set
 * to the current totals, so Prometheus sees a monotonic counter per live session.
 */
function sessionCounter(registry: Registry, model: MetricsModel, name: string, help: string, pick: (s: SessionMetricsView) => number): void {
  new Counter({
    name,
    help,
    labelNames: SESSION_LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of model.sessions()) this.inc(sessionLabels(s), pick(s));
    },
  });
}

function sessionGauge(registry: Registry, model: MetricsModel, name: string, help: string, pick: (s: SessionMetricsView) => number): void {
  new Gauge({
    name,
    help,
    labelNames: SESSION_LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of model.sessions()) this.set(sessionLabels(s), pick(s));
    },
  });
}

export function createMetricsRegistry(model: MetricsModel): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });

  new Gauge({
    name: 'bgp_rr_session_state',
    help: 'BGP FSM state of each session: 1 for the current state, 0 for the others',
    labelNames: [...SESSION_LABELS, 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of model.sessions()) {
        for (const state of FSM_STATES) this.set({ ...sessionLabels(s), state }, s.state === state ? 1 : 0);
      }
    },
  });
  sessionGauge(registry, model, 'bgp_rr_session_up', '1 when the session is Established', (s) => (s.state === 'Established' ? 1 : 0));
  sessionGauge(registry, model, 'bgp_rr_session_uptime_seconds', 'Seconds in the current state (Established: since it came up)', (s) => s.uptimeSeconds);
  sessionGauge(registry, model, 'bgp_rr_prefixes_received', 'Prefixes in the Adj-RIB-In of the session', (s) => s.prefixesReceived);
  sessionGauge(registry, model, 'bgp_rr_prefixes_accepted', 'Received prefixes accepted (not dropped by loop checks or RFC 7606)', (s) => s.prefixesAccepted);
  sessionGauge(registry, model, 'bgp_rr_prefixes_advertised', 'Prefixes currently advertised to the session', (s) => s.prefixesAdvertised);
  sessionGauge(registry, model, 'bgp_rr_write_queue_bytes', 'Bytes queued for the peer socket but not yet sent', (s) => s.writeQueueBytes);
  sessionCounter(registry, model, 'bgp_rr_updates_received_total', 'UPDATE messages received', (s) => s.updatesIn);
  sessionCounter(registry, model, 'bgp_rr_updates_sent_total', 'UPDATE messages sent', (s) => s.updatesOut);
  sessionCounter(registry, model, 'bgp_rr_withdraws_received_total', 'Prefixes withdrawn by the peer', (s) => s.withdrawsIn);
  sessionCounter(registry, model, 'bgp_rr_withdraws_sent_total', 'Prefixes withdrawn towards the peer', (s) => s.withdrawsOut);
  sessionCounter(registry, model, 'bgp_rr_notifications_received_total', 'NOTIFICATION messages received', (s) => s.notificationsIn);
  sessionCounter(registry, model, 'bgp_rr_notifications_sent_total', 'NOTIFICATION messages sent', (s) => s.notificationsOut);
  sessionCounter(registry, model, 'bgp_rr_session_flaps_total', 'Times the session left Established', (s) => s.flaps);

  new Gauge({
    name: 'bgp_rr_adj_rib_in_routes',
    help: 'Routes held in all Adj-RIBs-In of a family',
    labelNames: ['family'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of model.ribs()) this.set({ family: `ipv${r.family}` }, r.adjRibInRoutes);
    },
  });
  new Gauge({
    name: 'bgp_rr_loc_rib_prefixes',
    help: 'Prefixes in the Loc-RIB of a family',
    labelNames: ['family'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of model.ribs()) this.set({ family: `ipv${r.family}` }, r.locRibPrefixes);
    },
  });
  new Gauge({
    name: 'bgp_rr_attribute_sets',
    help: 'Distinct interned path attribute sets of a family',
    labelNames: ['family'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of model.ribs()) this.set({ family: `ipv${r.family}` }, r.attributeSets);
    },
  });
  new Gauge({
    name: 'bgp_rr_update_group_members',
    help: 'Members of each update group (peers sharing one encoded UPDATE stream)',
    labelNames: ['family', 'group'],
    registers: [registry],
    collect() {
      this.reset();
      for (const g of model.updateGroups()) this.set({ family: `ipv${g.family}`, group: g.id }, g.members);
    },
  });
  new Gauge({
    name: 'bgp_rr_update_groups',
    help: 'Number of update groups of a family',
    labelNames: ['family'],
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>([['ipv4', 0], ['ipv6', 0]]);
      for (const g of model.updateGroups()) counts.set(`ipv${g.family}`, (counts.get(`ipv${g.family}`) ?? 0) + 1);
      for (const [family, n] of counts) this.set({ family }, n);
    },
  });
  new Gauge({
    name: 'bgp_rr_datastore_synced',
    help: '1 when the datastore has delivered a complete snapshot and is being watched',
    labelNames: ['source'],
    registers: [registry],
    collect() {
      this.reset();
      const d = model.datastore();
      this.set({ source: d.source }, d.synced ? 1 : 0);
    },
  });
  new Gauge({
    name: 'bgp_rr_datastore_last_sync_timestamp_seconds',
    help: 'Unix time of the last datastore snapshot or change applied',
    labelNames: ['source'],
    registers: [registry],
    collect() {
      this.reset();
      const d = model.datastore();
      if (d.lastSyncUnixSeconds !== undefined) this.set({ source: d.source }, d.lastSyncUnixSeconds);
    },
  });
  new Gauge({
    name: 'bgp_rr_datastore_error',
    help: '1 with the last datastore error as a label while the datastore is in error',
    labelNames: ['source', 'error'],
    registers: [registry],
    collect() {
      this.reset();
      const d = model.datastore();
      if (d.lastError !== undefined) this.set({ source: d.source, error: d.lastError.slice(0, 200) }, 1);
    },
  });
  return registry;
}
