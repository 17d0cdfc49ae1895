// The timer adapter: named one-shot timers that turn an expiry into a callback (which the driver turns into an
// FSM event), with restart at the armed interval and the remaining time for display (BIRD's "Hold timer: x/y").
// The FSM says when and how long; only this module touches setTimeout.

/** One armed timer: its handle, the interval it was armed with, and when it fires (epoch ms). */
interface Armed {
  handle: NodeJS.Timeout;
  ms: number;
  deadline: number;
}

export class TimerSet<N extends string> {
  // One Map of small records rather than a Map per field: every session and connection has a TimerSet, and each
  // Map costs about 200 bytes even when empty (issue 18, memory per session).
  private readonly armed = new Map<N, Armed>();

  /** unref: timers that must not keep the process alive on their own. */
  constructor(private readonly fire: (name: N) => void, private readonly unref: readonly N[] = []) {}

  /** (Re)starts a timer to fire once after ms. */
  start(name: N, ms: number): void {
    this.stop(name);
    const h = setTimeout(() => {
      this.armed.delete(name);
      this.fire(name);
    }, ms);
    if (this.unref.includes(name)) h.unref();
    this.armed.set(name, { handle: h, ms, deadline: Date.now() + ms });
  }

  /** Restarts a running timer with the interval it was armed with; nothing when it is not running. */
  restart(name: N): void {
    const a = this.armed.get(name);
    if (a === undefined) return;
    a.handle.refresh();
    a.deadline = Date.now() + a.ms;
  }

  stop(name: N): void {
    const a = this.armed.get(name);
    if (a === undefined) return;
    clearTimeout(a.handle);
    this.armed.delete(name);
  }

  stopAll(): void {
    for (const a of this.armed.values()) clearTimeout(a.handle);
    this.armed.clear();
  }

  running(name: N): boolean {
    return this.armed.has(name);
  }

  /** Seconds until the timer fires, or undefined when it is not running. */
  remaining(name: N): number | undefined {
    const a = this.armed.get(name);
    if (a === undefined) return undefined;
    return Math.max(0, (a.deadline - Date.now()) / 1000);
  }
}
