// Glue between a KeySource and the peer manager: folds snapshots and changes into the current key set, coalesces
// bursts, runs the pure Calico mapping and hands over the desired sessions; each mapping problem is logged once.
import { log, type Logger } from '../log.js';
import type { MappingProblem } from './calico-mapping.js';
import { desiredSessions, SECRETS_PREFIX, type SessionsEnv, type SessionsResult } from './calico-sessions.js';
import { loggableValue } from './safe-value.js';
import type { KeySnapshot, KeySource } from './source.js';
import type { PeerSpec } from '../peers/peer-spec.js';

export interface DesiredPeersFeedOptions {
  /** Quiet time after a change before the mapping runs, so a burst (a re-list, a script of curl calls) is one update. */
  debounceMs?: number;
  logger?: Logger;
  /** Told of every problem the source reports (backend lost, bad value), after it is logged. */
  onProblem?: (message: string) => void;
}

export class DesiredPeersFeed {
  private readonly keys = new Map<string, string>();
  private synced = false;
  private timer: NodeJS.Timeout | undefined;
  private reported = new Set<string>();
  private reportedNotApplied = new Set<string>();
  /** The last computation (sessions, problems, fields not applied, our identity), for show protocols and metrics. */
  lastResult: SessionsResult | undefined;
  private readonly debounceMs: number;
  private readonly logger: Logger;
  private stopped = false;
  private readonly onProblem: (message: string) => void;
  /** When the last snapshot or change arrived (undefined before the first). */
  lastUpdate: Date | undefined;

  /**
   * `onDesired` receives the complete desired session list after the first snapshot and after every change
   * (never before the first snapshot: with the datastore unreachable at start, no session is invented).
   */
  constructor(
    private readonly source: KeySource,
    private readonly env: SessionsEnv,
    private readonly onDesired: (peers: PeerSpec[], problems: MappingProblem[]) => void,
    options: DesiredPeersFeedOptions = {},
  ) {
    this.debounceMs = options.debounceMs ?? 50;
    this.logger = options.logger ?? log.child({ datastore: source.name });
    this.onProblem = options.onProblem ?? (() => undefined);
  }

  /** True once the first complete snapshot arrived. */
  get isSynced(): boolean {
    return this.synced;
  }

  /** The key set as last received (for diagnostics and tests). */
  get current(): KeySnapshot {
    return this.keys;
  }

  start(): Promise<void> {
    return this.source.start({
      snapshot: (keys) => {
        this.keys.clear();
        for (const [k, v] of keys) this.keys.set(k, v);
        this.synced = true;
        this.lastUpdate = new Date();
        this.logger.info({ keys: keys.size }, `datastore snapshot: ${keys.size} keys`);
        this.schedule();
      },
      change: (key, value) => {
        if (value === undefined) this.keys.delete(key);
        else this.keys.set(key, value);
        this.lastUpdate = new Date();
        // The value as logged has its secrets (a peer's TCP-MD5 password) redacted and is cut short; a Secret's
        // value is never logged.
        if (key.startsWith(`${SECRETS_PREFIX}/`)) this.logger.debug({ key: logText(key) }, value === undefined ? 'secret forgotten' : 'secret read');
        else if (value === undefined) this.logger.debug({ key: logText(key) }, 'datastore key deleted');
        else if (this.logger.isLevelEnabled('debug')) this.logger.debug({ key: logText(key), value: loggableValue(value) }, 'datastore key written');
        if (this.synced) this.schedule();
      },
      problem: (message, detail) => {
        const text = logText(message);
        const d = detail !== undefined && typeof detail.key === 'string' ? { ...detail, key: logText(detail.key) } : (detail ?? {});
        this.logger.warn(d, text);
        this.onProblem(text);
      },
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.source.stop();
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.emit();
    }, this.debounceMs);
  }

  /** Runs the mapping now (also usable by tests instead of waiting for the debounce). */
  emit(): void {
    if (!this.synced || this.stopped) return;
    const result = desiredSessions(this.keys, this.env);
    const { peers, problems } = result;
    this.lastResult = result;
    // Each bad entry is logged once while it stays bad, not on every unrelated change.
    const now = new Set<string>();
    for (const p of problems) {
      const id = `${p.key}\u0000${p.reason}`;
      now.add(id);
      if (this.reported.has(id)) continue;
      if (p.kind === 'warning') this.logger.warn({ key: logText(p.key) }, logText(`datastore: ${p.key}: ${p.reason}`));
      else this.logger.warn({ key: logText(p.key) }, logText(`datastore entry skipped: ${p.key}: ${p.reason}`));
    }
    this.reported = now;
    // Fields of Calico resources that are not applied: one line per resource (again only when its list changes).
    const na = new Set<string>();
    for (const n of result.notApplied) {
      const id = `${n.resource}\u0000${n.fields.join(',')}`;
      na.add(id);
      if (!this.reportedNotApplied.has(id)) this.logger.warn({ resource: logText(n.resource), fields: n.fields }, logText(`not applied: ${n.resource}: ${n.fields.join(', ')}`));
    }
    this.reportedNotApplied = na;
    this.onDesired(peers, problems);
  }
}

/** Longest message or key logged: a datastore key can be megabytes long, and so can a message naming it. */
const MAX_LOGGED = 1000;

function logText(text: string): string {
  return text.length > MAX_LOGGED ? `${text.slice(0, MAX_LOGGED)}… (${text.length} characters)` : text;
}
