// Per-key log throttling for lines that a remote end can cause once per TCP connection (refused connects,
// collisions, idle-hold refusals, NOTIFICATIONs on connections that never came up): a flood of connects must
// not become a flood of log lines. The first event of a key is logged; later ones within the interval are
// only counted, and the next line logged for that key says how many were left out and over how long.

export interface ThrottleVerdict {
  /** Log this event now. */
  log: boolean;
  /** Events of this key not logged since the last line (only meaningful when log is true). */
  suppressed: number;
  /** Seconds those suppressed events spanned (since the last logged line). */
  overSeconds: number;
}

export class LogThrottle {
  private readonly keys = new Map<string, { lastLogged: number; suppressed: number }>();

  constructor(
    private readonly intervalMs: number,
    /** Keys remembered at most; beyond that, events of new keys are counted in `dropped` and not logged. */
    private readonly maxKeys = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Events not logged because the key table was full (a flood from more addresses than maxKeys). */
  dropped = 0;

  note(key: string): ThrottleVerdict {
    const now = this.now();
    const k = this.keys.get(key);
    if (k !== undefined) {
      if (now - k.lastLogged < this.intervalMs) {
        k.suppressed++;
        return { log: false, suppressed: 0, overSeconds: 0 };
      }
      const v = { log: true, suppressed: k.suppressed, overSeconds: Math.round((now - k.lastLogged) / 1000) };
      k.lastLogged = now;
      k.suppressed = 0;
      return v;
    }
    if (this.keys.size >= this.maxKeys) {
      for (const [key2, v] of this.keys) if (now - v.lastLogged >= this.intervalMs && v.suppressed === 0) this.keys.delete(key2);
      if (this.keys.size >= this.maxKeys) {
        this.dropped++;
        return { log: false, suppressed: 0, overSeconds: 0 };
      }
    }
    this.keys.set(key, { lastLogged: now, suppressed: 0 });
    return { log: true, suppressed: 0, overSeconds: 0 };
  }

  /**
   * Keys whose interval is over with events still not logged: returned (for one summary line each) and reset,
   * so a flood that stopped is still reported once.
   */
  drainDue(): Array<{ key: string; suppressed: number; overSeconds: number }> {
    const now = this.now();
    const out: Array<{ key: string; suppressed: number; overSeconds: number }> = [];
    for (const [key, k] of this.keys) {
      if (now - k.lastLogged < this.intervalMs) continue;
      if (k.suppressed > 0) out.push({ key, suppressed: k.suppressed, overSeconds: Math.round((now - k.lastLogged) / 1000) });
      this.keys.delete(key);
    }
    return out;
  }

  /** The text appended to a logged line when earlier events were left out ("" when none were). */
  static suffix(v: ThrottleVerdict): string {
    return v.suppressed > 0 ? ` (${v.suppressed} more in the last ${v.overSeconds} s not logged)` : '';
  }
}
