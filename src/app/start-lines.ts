// The two lines an operator looks for first: what the datastore turned into (after every applied
// configuration) and that the reflector is up (once, when BGP listens). Their texts are fixed so that
// `grep 'configuration applied'` / `grep 'ready:'` find them.
import type { MappingProblem } from '../datastore/calico-mapping.js';
import type { PeerSpec } from '../peers/peer-spec.js';

export interface SummaryLine {
  text: string;
  fields: { sessions: number; mesh: number; global: number; node: number; skipped: number; problems: number };
}

/**
 * A problem whose entry gave no session (the mapping ends such reasons with "skipped" or "no session"); the others
 * only corrected a value (a default used, a field ignored) and the entry still counts.
 */
export function isSkip(p: MappingProblem): boolean {
  return /; (skipped|no session)$/.test(p.reason);
}

/** "configuration applied: 12 sessions (mesh 10 / global 1 / node 1), 2 entries skipped". */
export function applySummary(peers: readonly PeerSpec[], problems: readonly MappingProblem[]): SummaryLine {
  const count = (k: PeerSpec['kind']): number => peers.filter((p) => p.kind === k).length;
  const mesh = count('mesh');
  const global = count('global');
  const node = count('node');
  const skipped = new Set(problems.filter(isSkip).map((p) => p.key)).size;
  const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
  return {
    text: `configuration applied: ${plural(peers.length, 'session', 'sessions')} (mesh ${mesh} / global ${global} / node ${node}), ${plural(skipped, 'entry', 'entries')} skipped`,
    fields: { sessions: peers.length, mesh, global, node, skipped, problems: problems.length },
  };
}

/** "ready: listening on 10.0.0.5:179, [fd00::5]:179, 12 sessions configured". */
export function readyLine(addresses: readonly string[], port: number, peers: readonly PeerSpec[]): string {
  const where = addresses.map((a) => (a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`)).join(', ');
  return `ready: listening on ${where}, ${peers.length} ${peers.length === 1 ? 'session' : 'sessions'} configured`;
}
