// Test helper: records KeySource events and folds them into the current key set, with bounded waits.
import type { KeySourceEvents } from '../../src/datastore/source.js';

export type Recorded =
  | { type: 'snapshot'; keys: Map<string, string> }
  | { type: 'change'; key: string; value: string | undefined }
  | { type: 'problem'; message: string };

export class Recorder implements KeySourceEvents {
  readonly events: Recorded[] = [];
  /** The key set as a consumer would hold it: last snapshot plus later changes. */
  readonly state = new Map<string, string>();
  snapshots = 0;
  private waiters: (() => void)[] = [];

  snapshot(keys: ReadonlyMap<string, string>): void {
    this.snapshots++;
    this.state.clear();
    for (const [k, v] of keys) this.state.set(k, v);
    this.events.push({ type: 'snapshot', keys: new Map(keys) });
    this.wake();
  }
  change(key: string, value: string | undefined): void {
    if (value === undefined) this.state.delete(key);
    else this.state.set(key, value);
    this.events.push({ type: 'change', key, value });
    this.wake();
  }
  problem(message: string): void {
    this.events.push({ type: 'problem', message });
    this.wake();
  }
  problems(): string[] {
    return this.events.flatMap((e) => (e.type === 'problem' ? [e.message] : []));
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  /** Resolves once `cond()` holds; rejects with `what` after `timeoutMs`. */
  async waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; state=${JSON.stringify([...this.state])}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
