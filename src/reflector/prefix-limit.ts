// Import policy, last step: per-peer maximum prefixes per AFI (RFC 4486 Cease subcode 1, data = AFI/SAFI/limit as RFC 4486 §4 asks):
// checked after each UPDATE against the Adj-RIB-In count; a warning level first, then Cease + idle hold.
import type { PeerSpec } from '../peers/peer-spec.js';
import type { Logger } from '../log.js';
import { CeaseSubcode } from '../wire/types.js';

export interface PrefixLimitSettings {
  /** Default limit per AFI when the peer entry has no max_prefixes; 0 = no limit. */
  maxPrefixes: number;
  /** Warn at this percentage of the limit. */
  maxPrefixesWarningPercent: number;
  /** Seconds the session stays in Idle after the Cease. */
  maxPrefixesIdleHoldSeconds: number;
}

/** What the limiter reads: the reflector's per-peer route counts (Reflector satisfies it). */
export interface PrefixCountSource {
  routeStats(name: string, family: 4 | 6): { imported: number };
}

/** What the limiter acts on (BgpSession satisfies it). */
export interface LimitedSession {
  readonly spec: PeerSpec;
  readonly log: Logger;
  ceaseAndHold(subcode: number, data: Uint8Array, idleHoldSeconds: number, reason: string): boolean;
}

/** One peer's view for metrics and `show protocols all`. */
export interface PrefixLimitStatus {
  /** The limit in force (per AFI); 0 = none. */
  limit: number;
  /** The count at which the warning is logged. */
  warnAt: number;
  /** Imported prefixes per family at the last check. */
  imported: { 4: number; 6: number };
  /** True while a family is at or above warnAt (the metric's "warning" field). */
  warning: boolean;
  /** How many times the limit closed the session. */
  exceeded: number;
  lastExceededAt: Date | undefined;
}

export type PrefixLimitOutcome = 'ok' | 'warning' | 'exceeded';

const AFI_OF: Record<4 | 6, number> = { 4: 1, 6: 2 };
const SAFI_UNICAST = 1;

/** RFC 4486 §4: AFI (2 octets), SAFI (1), upper bound (4). */
export function maxPrefixesData(afi: number, safi: number, limit: number): Uint8Array {
  const b = Buffer.alloc(7);
  b.writeUInt16BE(afi, 0);
  b.writeUInt8(safi, 2);
  b.writeUInt32BE(Math.min(limit, 0xffffffff), 3);
  return new Uint8Array(b);
}

/** The limit for one peer: its entry's max_prefixes, else the environment default. */
export function limitFor(spec: PeerSpec, settings: PrefixLimitSettings): number {
  return spec.maxPrefixes ?? settings.maxPrefixes;
}

export function warnLevel(limit: number, percent: number): number {
  return limit === 0 ? 0 : Math.max(1, Math.floor((limit * percent) / 100));
}

export class PrefixLimiter {
  private readonly status = new Map<string, PrefixLimitStatus>();

  constructor(private readonly counts: PrefixCountSource, private readonly settings: PrefixLimitSettings) {}

  /** Call after the reflector took in one UPDATE from this session. */
  afterUpdate(session: LimitedSession): PrefixLimitOutcome {
    const spec = session.spec;
    const limit = limitFor(spec, this.settings);
    if (limit === 0) return 'ok';
    const st = this.statusOf(spec.name, limit);
    const warnAt = st.warnAt;
    let outcome: PrefixLimitOutcome = 'ok';
    for (const family of [4, 6] as const) {
      const n = this.counts.routeStats(spec.name, family).imported;
      st.imported[family] = n;
      if (n > limit) {
        st.exceeded++;
        st.lastExceededAt = new Date();
        st.warning = true;
        const reason = `maximum number of prefixes reached: ${n} IPv${family} prefixes, limit ${limit}`;
        session.ceaseAndHold(CeaseSubcode.MAXIMUM_PREFIXES_REACHED, maxPrefixesData(AFI_OF[family], SAFI_UNICAST, limit), this.settings.maxPrefixesIdleHoldSeconds, reason);
        return 'exceeded';
      }
      if (n >= warnAt) outcome = 'warning';
    }
    if (outcome === 'warning' && !st.warning) {
      session.log.warn({ imported: st.imported, limit, warnAt }, `prefix count at ${Math.max(st.imported[4], st.imported[6])} of the limit ${limit} (warning at ${this.settings.maxPrefixesWarningPercent} %)`);
    }
    st.warning = outcome === 'warning';
    return outcome;
  }

  /** The status of one peer (undefined when no limit applies to it or it has sent nothing yet). */
  statusOf(name: string, limit?: number): PrefixLimitStatus {
    let st = this.status.get(name);
    if (limit !== undefined && (st === undefined || st.limit !== limit)) {
      st = { limit, warnAt: warnLevel(limit, this.settings.maxPrefixesWarningPercent), imported: { 4: 0, 6: 0 }, warning: false, exceeded: st?.exceeded ?? 0, lastExceededAt: st?.lastExceededAt };
      this.status.set(name, st);
    }
    return st ?? { limit: 0, warnAt: 0, imported: { 4: 0, 6: 0 }, warning: false, exceeded: 0, lastExceededAt: undefined };
  }

  /**
   * For metrics and `show protocols all`: the limit in force for this peer (its entry's max_prefixes, else
   * MAX_PREFIXES), the counts of the last check and whether the warning level is reached. Zeros before the
   * first UPDATE.
   */
  view(spec: PeerSpec): PrefixLimitStatus {
    const limit = limitFor(spec, this.settings);
    const st = this.status.get(spec.name);
    if (st !== undefined && st.limit === limit) return st;
    return {
      limit, warnAt: warnLevel(limit, this.settings.maxPrefixesWarningPercent), imported: { 4: 0, 6: 0 }, warning: false,
      exceeded: st?.exceeded ?? 0, lastExceededAt: st?.lastExceededAt,
    };
  }

  /** Every peer with a limit that has sent an UPDATE. */
  all(): ReadonlyMap<string, PrefixLimitStatus> {
    return this.status;
  }

  forget(name: string): void {
    this.status.delete(name);
  }
}
