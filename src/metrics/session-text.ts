// Prometheus text for the per-session metric families (bgp_rr_session_*, prefixes, counters): one series per
// session, so this is where a reflector with a thousand peers spends its scrape time.
//
// Why not prom-client for these: its per-series label hashing and formatting cost ~7 µs a series, and at 1,000
// sessions × 19 series one scrape blocked the event loop for 120–170 ms (bench/soak.ts --cpu-prof). Here each
// session's label string is built once and reused until its labels change, and one pass over the sessions
// feeds every family; the output follows the text exposition format 0.0.4 exactly as prom-client writes it.
import type { SessionMetricsView } from './model.js';

const FSM_STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const;

interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  pick: (s: SessionMetricsView) => number;
}

const FAMILIES: Family[] = [
  { name: 'bgp_rr_session_up', help: '1 when the session is Established', type: 'gauge', pick: (s) => (s.state === 'Established' ? 1 : 0) },
  { name: 'bgp_rr_session_uptime_seconds', help: 'Seconds in the current state (Established: since it came up)', type: 'gauge', pick: (s) => s.uptimeSeconds },
  { name: 'bgp_rr_prefixes_received', help: 'Prefixes in the Adj-RIB-In of the session', type: 'gauge', pick: (s) => s.prefixesReceived },
  { name: 'bgp_rr_prefixes_accepted', help: 'Received prefixes accepted (not dropped by loop checks or RFC 7606)', type: 'gauge', pick: (s) => s.prefixesAccepted },
  { name: 'bgp_rr_prefixes_advertised', help: 'Prefixes currently advertised to the session', type: 'gauge', pick: (s) => s.prefixesAdvertised },
  { name: 'bgp_rr_write_queue_bytes', help: 'Bytes queued for the peer socket but not yet sent', type: 'gauge', pick: (s) => s.writeQueueBytes },
  { name: 'bgp_rr_updates_received_total', help: 'UPDATE messages received', type: 'counter', pick: (s) => s.updatesIn },
  { name: 'bgp_rr_updates_sent_total', help: 'UPDATE messages sent', type: 'counter', pick: (s) => s.updatesOut },
  { name: 'bgp_rr_withdraws_received_total', help: 'Prefixes withdrawn by the peer', type: 'counter', pick: (s) => s.withdrawsIn },
  { name: 'bgp_rr_withdraws_sent_total', help: 'Prefixes withdrawn towards the peer', type: 'counter', pick: (s) => s.withdrawsOut },
  { name: 'bgp_rr_notifications_received_total', help: 'NOTIFICATION messages received', type: 'counter', pick: (s) => s.notificationsIn },
  { name: 'bgp_rr_notifications_sent_total', help: 'NOTIFICATION messages sent', type: 'counter', pick: (s) => s.notificationsOut },
  { name: 'bgp_rr_session_flaps_total', help: 'Times the session left Established', type: 'counter', pick: (s) => s.flaps },
];

/** A label value as the exposition format wants it: backslash, double quote and newline escaped. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value: integers and decimals as JavaScript prints them, and the format's spelling of the specials. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

interface CachedLabels {
  /** What the labels were built from, to notice a change (address or AS of a reconfigured peer). */
  source: string;
  /** `name="…",family="…",neighbor="…",peer_as="…"` without braces. */
  text: string;
  /** One `{…,state="…"}` per FSM state, in FSM_STATES order. */
  states: string[];
}

/** Writes the per-session families; keeps each session's label text between scrapes. */
export class SessionExposition {
  private readonly cache = new Map<string, CachedLabels>();

  text(sessions: readonly SessionMetricsView[]): string {
    const labels: CachedLabels[] = new Array<CachedLabels>(sessions.length);
    const seen = new Set<string>();
    for (let i = 0; i < sessions.length; i++) {
      const s = sessions[i]!;
      const id = `${s.name}\u0000${s.family}`;
      const source = `${s.neighborAddress}\u0000${s.peerAs}`;
      let c = this.cache.get(id);
      if (c === undefined || c.source !== source) {
        const text = `name="${escapeLabelValue(s.name)}",family="ipv${s.family}",neighbor="${escapeLabelValue(s.neighborAddress)}",peer_as="${s.peerAs}"`;
        c = { source, text, states: FSM_STATES.map((st) => `{${text},state="${st}"}`) };
        this.cache.set(id, c);
      }
      seen.add(id);
      labels[i] = c;
    }
    // Sessions that are gone take their label text with them.
    if (this.cache.size > seen.size) for (const id of this.cache.keys()) if (!seen.has(id)) this.cache.delete(id);

    const out: string[] = [];
    out.push('# HELP bgp_rr_session_state BGP FSM state of each session: 1 for the current state, 0 for the others');
    out.push('# TYPE bgp_rr_session_state gauge');
    for (let i = 0; i < sessions.length; i++) {
      const st = sessions[i]!.state;
      const c = labels[i]!;
      for (let k = 0; k < FSM_STATES.length; k++) out.push(`bgp_rr_session_state${c.states[k]} ${st === FSM_STATES[k] ? 1 : 0}`);
    }
    for (const f of FAMILIES) {
      out.push(`# HELP ${f.name} ${f.help}`);
      out.push(`# TYPE ${f.name} ${f.type}`);
      for (let i = 0; i < sessions.length; i++) out.push(`${f.name}{${labels[i]!.text}} ${formatValue(f.pick(sessions[i]!))}`);
    }
    return `${out.join('\n')}\n`;
  }
}
