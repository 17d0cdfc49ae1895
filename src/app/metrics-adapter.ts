// The MetricsModel the Prometheus endpoint reads: session counters, RIB sizes and datastore state of the
// running reflector, read fresh on every scrape.
import type { DatastoreMetricsView, MetricsModel, RibMetricsView, SessionMetricsView, UpdateGroupMetricsView } from '../metrics/model.js';
import type { Reflector } from '../reflector/reflector.js';
import type { SessionBook } from './session-book.js';

export interface MetricsAdapterDeps {
  reflector: Reflector;
  book: SessionBook;
  datastore(): DatastoreMetricsView;
  listening(): boolean;
  connectionsRefused?(): Record<string, number>;
  build?: { version: string; nodeVersion: string };
}

export class MetricsAdapter implements MetricsModel {
  readonly build: { version: string; nodeVersion: string } | undefined;

  constructor(private readonly d: MetricsAdapterDeps) {
    this.build = d.build;
  }

  sessions(): SessionMetricsView[] {
    const now = Date.now();
    return this.d.book.all().map((rec) => {
      const s = rec.session;
      const spec = s.spec;
      const stats = this.d.reflector.routeStats(spec.name, spec.family);
      const c = this.d.reflector.peerCounters(spec.name);
      // What the update group sent this session (UPDATE messages, withdrawn prefixes), counted once per flush.
      const sent = this.d.reflector.exportCounters(spec.name, spec.family);
      const since = s.state === 'Established' && s.establishedSince !== null ? s.establishedSince : rec.since;
      return {
        name: spec.name,
        family: spec.family,
        neighborAddress: spec.neighborAddress,
        peerAs: spec.peerAs,
        state: rec.disabled ? 'Idle' : s.state,
        uptimeSeconds: Math.max(0, (now - since.getTime()) / 1000),
        prefixesReceived: stats.imported,
        prefixesAccepted: Math.max(0, stats.imported - stats.filtered),
        prefixesAdvertised: stats.exported,
        updatesIn: s.counters.updatesIn,
        updatesOut: sent.updates,
        withdrawsIn: c?.prefixesWithdrawn ?? 0,
        withdrawsOut: sent.withdrawn,
        notificationsIn: s.counters.notificationsIn,
        notificationsOut: s.counters.notificationsOut,
        flaps: rec.flaps,
        writeQueueBytes: s.outboundQueueBytes,
      };
    });
  }

  ribs(): RibMetricsView[] {
    return ([4, 6] as const).map((family) => {
      const t = this.d.reflector.tableStats(family);
      return { family, adjRibInRoutes: t.paths, locRibPrefixes: t.prefixes, attributeSets: t.attributeSets };
    });
  }

  updateGroups(): UpdateGroupMetricsView[] {
    return this.d.reflector.updateGroups().map((g) => ({ family: g.family, id: g.signature, members: g.members }));
  }

  datastore(): DatastoreMetricsView {
    return this.d.datastore();
  }

  listening(): boolean {
    return this.d.listening();
  }

  connectionsRefused(): Record<string, number> {
    return this.d.connectionsRefused?.() ?? {};
  }
}
