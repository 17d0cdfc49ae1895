// What this reflector does with every field of BGPPeer, BGPConfiguration and Node, end to end: FIELD_TABLE (what
// calico-node's computation in peerings.ts carries) narrowed by what our sessions can apply (calico-sessions.ts).
// src/datastore/calico/README.md holds this table as rendered by renderFieldTable(); test/datastore/calico/field-table.test.ts
// checks that the two agree.
import { FIELD_TABLE } from './resources.js';

export type Verdict = 'honoured' | 'reported';

/**
 * Fields FIELD_TABLE calls honoured that our sessions cannot apply: named as not applied when set (see
 * desiredSessions). Conditional ones (nextHopMode Self, sourceAddress None) are named only in that case.
 */
export const NOT_APPLIED_BY_SESSIONS: Readonly<Record<string, string>> = {
  'BGPPeer.keepaliveTime': 'the keepalive time follows the negotiated hold time (HOLD_TIME)',
  'BGPPeer.numAllowedLocalASNumbers': 'routes learned over eBGP are not reflected, so no AS_PATH loop check to relax',
  'BGPConfiguration.logSeverityScreen': 'LOG_LEVEL sets the log level',
};

/** How an honoured field is applied (or, for a reported one, why not), for the table. */
const HOW: Readonly<Record<string, string>> = {
  'BGPPeer.node': 'local side of the peering (NODENAME / host name / IP find our Node)',
  'BGPPeer.nodeSelector': 'local side, Calico selector language',
  'BGPPeer.peerIP': 'neighbour; `IP:port` / `[IPv6]:port` is the port dialled',
  'BGPPeer.asNumber': 'peer AS',
  'BGPPeer.peerSelector': 'each selected Node is a neighbour (its AS, its listenPort, its cluster ID)',
  'BGPPeer.localASNumber': 'our AS in the OPEN of that session',
  'BGPPeer.keepOriginalNextHop': 'the reflector never rewrites NEXT_HOP',
  'BGPPeer.nextHopMode': '`Keep`/`Auto`: NEXT_HOP unchanged; `Self` is reported',
  'BGPPeer.password': 'TCP-MD5 from the Secret (NAMESPACE); never started without it',
  'BGPPeer.sourceAddress': '`UseNodeIP`: our IP; `None` is reported (we always use IP / IP6)',
  'BGPPeer.maxRestartTime': 'restart time of our graceful restart capability',
  'BGPPeer.ttlSecurity': 'GTSM: TTL 255 out, at least 256 − N accepted',
  'BGPPeer.reversePeering': '`Manual`: no automatic reverse peering',
  'BGPConfiguration.asNumber': 'global AS (64512 when unset)',
  'BGPConfiguration.nodeToNodeMeshEnabled': 'mesh sessions when on and neither end has a cluster ID',
  'BGPConfiguration.listenPort': 'port dialled to a Node (`node.<name>` over `default`); ours is BGP_PORT, warned when different',
  'BGPConfiguration.nodeMeshPassword': 'TCP-MD5 of mesh sessions',
  'BGPConfiguration.nodeMeshMaxRestartTime': 'restart time of mesh sessions',
  'Node.metadata.labels': 'what selectors match (KDD: Kubernetes labels over `projectcalico.org/labels`)',
  'Node.bgp.ipv4Address': 'the Node\'s IPv4 neighbour address (KDD: annotation)',
  'Node.bgp.ipv6Address': 'the Node\'s IPv6 neighbour address (KDD: annotation)',
  'Node.bgp.asNumber': 'the Node\'s AS (KDD: annotation)',
  'Node.bgp.routeReflectorClusterID': 'cluster ID: client vs non-client at both ends; ours unless RR_CLUSTER_ID or our rr_v4 entry sets one',
};

export interface FieldRow {
  resource: keyof typeof FIELD_TABLE;
  field: string;
  verdict: Verdict;
  note: string;
}

export function fieldRows(): FieldRow[] {
  const rows: FieldRow[] = [];
  for (const resource of Object.keys(FIELD_TABLE) as Array<keyof typeof FIELD_TABLE>) {
    for (const [field, v] of Object.entries(FIELD_TABLE[resource])) {
      const id = `${resource}.${field}`;
      const notApplied = NOT_APPLIED_BY_SESSIONS[id];
      const verdict: Verdict = v === 'honoured' && notApplied === undefined ? 'honoured' : 'reported';
      rows.push({ resource, field, verdict, note: notApplied ?? HOW[id] ?? (resource === 'Node' ? 'dataplane, not BGP' : 'not implemented') });
    }
  }
  return rows;
}

/** The Markdown table for src/datastore/calico/README.md. */
export function renderFieldTable(): string {
  const lines = ['| Resource | Field | | How / why not |', '|---|---|---|---|'];
  for (const r of fieldRows()) lines.push(`| ${r.resource} | \`${r.field}\` | ${r.verdict} | ${r.note} |`);
  return `${lines.join('\n')}\n`;
}
