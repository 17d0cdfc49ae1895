// The pure reconciliation plan: desired sessions against running ones, keyed by family + session name, so that
// only new sessions start, removed ones stop, and only sessions whose parameters changed are restarted.
import { sessionParametersEqual, type PeerSpec } from './peer-spec.js';

export interface ReconcilePlan {
  start: PeerSpec[];
  stop: PeerSpec[];
  restart: { from: PeerSpec; to: PeerSpec }[];
  /** The desired specs of sessions that keep running (their sourceKeys may be newer than the running ones). */
  unchanged: PeerSpec[];
}

/** The identity of a session across reconciliations: "4/Mesh_10_0_0_2", "6/Global_fd00__5". */
export function peerKey(spec: Pick<PeerSpec, 'family' | 'name'>): string {
  return `${spec.family}/${spec.name}`;
}

/**
 * `running` is read by its values (the map's own keys are not trusted); a desired spec that repeats an
 * earlier key is ignored, since the mapping never produces two sessions with one name.
 */
export function planReconcile(running: ReadonlyMap<string, PeerSpec>, desired: readonly PeerSpec[]): ReconcilePlan {
  const plan: ReconcilePlan = { start: [], stop: [], restart: [], unchanged: [] };
  const current = new Map<string, PeerSpec>();
  for (const spec of running.values()) current.set(peerKey(spec), spec);
  const wanted = new Set<string>();
  for (const spec of desired) {
    const key = peerKey(spec);
    if (wanted.has(key)) continue;
    wanted.add(key);
    const now = current.get(key);
    if (now === undefined) plan.start.push(spec);
    else if (sessionParametersEqual(now, spec)) plan.unchanged.push(spec);
    else plan.restart.push({ from: now, to: spec });
  }
  for (const [key, spec] of current) if (!wanted.has(key)) plan.stop.push(spec);
  return plan;
}
