// Turns a source's successive full key sets into KeySource events: a snapshot first (and after each resync),
// then one change() per key that differs, so every source can keep plain maps and still emit minimal changes.
import type { KeySnapshot, KeySourceEvents } from './source.js';

export class KeyPublisher {
  private current: Map<string, string> | undefined;

  constructor(private readonly events: KeySourceEvents) {}

  /** True once a snapshot was emitted. */
  get synced(): boolean {
    return this.current !== undefined;
  }

  /** The last state emitted (empty before the first snapshot). */
  get state(): KeySnapshot {
    return this.current ?? new Map();
  }

  /** Emits the whole set as a snapshot (first time, or after a re-list), replacing earlier state. */
  snapshot(keys: KeySnapshot): void {
    this.current = new Map(keys);
    this.events.snapshot(new Map(keys));
  }

  /**
   * After a re-list: a snapshot when anything differs from what consumers hold, nothing when it is identical
   * (a retry loop that re-lists an unchanged keyspace does not wake the reconciler each time).
   */
  resync(keys: KeySnapshot): void {
    const cur = this.current;
    if (cur !== undefined && cur.size === keys.size && [...keys].every(([k, v]) => cur.get(k) === v)) return;
    this.snapshot(keys);
  }

  /** Emits change() for every difference to the last emitted state; a snapshot if none was emitted yet. */
  update(keys: KeySnapshot): void {
    const cur = this.current;
    if (cur === undefined) {
      this.snapshot(keys);
      return;
    }
    for (const [k, v] of keys) {
      if (cur.get(k) !== v) {
        cur.set(k, v);
        this.events.change(k, v);
      }
    }
    for (const k of [...cur.keys()]) {
      if (!keys.has(k)) {
        cur.delete(k);
        this.events.change(k, undefined);
      }
    }
  }
}
