// The timer adapter: named one-shot timers that turn an expiry into a callback (which the driver turns into an
// FSM event), with restart at the armed interval and the remaining time for display (BIRD's "Hold timer: x/y").
// The FSM says when and how long; only this module touches setTimeout.

export class TimerSet<N extends string> {
  private readonly handles = new Map<N, NodeJS.Timeout>();
  private readonly armedMs = new Map<N, number>();
  private readonly deadlines = new Map<N, number>();

  /** unref: timers that must not keep the process alive on their own. */
  constructor(private readonly fire: (name: N) => void, private readonly unref: readonly N[] = []) {}

  /** (Re)starts a timer to fire once after ms. */
  start(name: N, ms: number): void {
    this.stop(name);
    const h = setTimeout(() => {
      this.handles.delete(name);
      this.fire(name);
    }, ms);
    if (this.unref.includes(name)) h.unref();
    this.handles.set(name, h);
    this.armedMs.set(name, ms);
    this.deadlines.set(name, Date.now() + ms);
  }

  /** Restarts a running timer with the interval it was armed with; nothing when it is not running. */
  restart(name: N): void {
    const h = this.handles.get(name);
    if (h === undefined) return;
    h.refresh();
    this.deadlines.set(name, Date.now() + (this.armedMs.get(name) ?? 0));
  }

  stop(name: N): void {
    const h = this.handles.get(name);
    if (h !== undefined) clearTimeout(h);
    this.handles.delete(name);
  }

  stopAll(): void {
    for (const h of this.handles.values()) clearTimeout(h);
    this.handles.clear();
  }

  running(name: N): boolean {
    return this.handles.has(name);
  }

  /** Seconds until the timer fires, or undefined when it is not running. */
  remaining(name: N): number | undefined {
    if (!this.handles.has(name)) return undefined;
    return Math.max(0, ((this.deadlines.get(name) ?? 0) - Date.now()) / 1000);
  }
}
