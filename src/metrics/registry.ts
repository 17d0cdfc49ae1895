// The prom-client registry of the reflector's own metrics, filled from a MetricsModel at scrape time.
// Metric names use the bgp_rr_ prefix. The per-session families (one series per peer) are written by
// session-text.ts instead, which the HTTP endpoint appends: prom-client is too slow for a thousand peers.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { MetricsModel } from './model.js';

/** Process, RIB, update-group and datastore metrics (low cardinality). */
export function createMetricsRegistry(model: MetricsModel): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });

  if (model.build !== undefined) {
    // The usual *_build_info convention: always 1, the facts are the labels (join on them in queries).
    new Gauge({
      name: 'bgp_rr_build_info',
      help: 'Version of the reflector and of Node.js it runs on (always 1)',
      labelNames: ['version', 'node_version'],
      registers: [registry],
    }).set({ version: model.build.version, node_version: model.build.nodeVersion }, 1);
  }
  new Counter({
    name: 'bgp_rr_connections_refused_total',
    help: 'Incoming BGP connections refused by the listener: unknown_address (Cease sent, closed at once), refused_budget (reset at once: too many refusals in flight), max_pending (MAX_PENDING_CONNECTIONS reached), per_address (too many pending from one configured address)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const counts = model.connectionsRefused?.();
      if (counts === undefined) return;
      this.reset();
      for (const [reason, n] of Object.entries(counts)) this.inc({ reason }, n);
    },
  });
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
