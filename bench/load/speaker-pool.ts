// The load side split over K speaker processes (`--load-workers K`): worker w drives the sessions with
// idx % K === w. The coordinator (this module, in the runner) sends every step to all workers and merges
// their replies: timing from the workers' CLOCK_MONOTONIC stamps, validation is each worker's exact check of
// its own clients, and errors, counters, CPU and event-loop utilisation are collected per worker.
//
// Child processes, not worker_threads: the speaker already is a child process with an IPC protocol, so each
// worker is the same program (no second code path to keep exact); IPv6 runs must enter a network namespace
// (`ip netns exec`), which is per process; and each worker's CPU time and event loop are its own, measurable
// apart from the runner's, and one worker's GC or crash does not stall the others.
import { SpeakerClient } from './speaker-client.js';
import type { ChurnResult, ConnectResult, SettleResult, SetupResult, SpeakerConfig, StepResult } from './protocol.js';

/** What a workload needs from the load side: one speaker process or a pool of them. */
export interface LoadSpeaker {
  readonly pids: number[];
  readonly workers: number;
  setup(config: SpeakerConfig): Promise<SetupResult>;
  connect(timeoutMs: number, sessions?: number[]): Promise<ConnectResult>;
  settle(timeoutMs: number): Promise<SettleResult>;
  announce(sessions: number[] | 'all', timeoutMs: number, quietMs?: number): Promise<StepResult>;
  withdraw(sessions: number[] | 'all', timeoutMs: number, quietMs?: number): Promise<StepResult>;
  churn(sessions: number[], intervalMs: number, durationMs: number, timeoutMs: number): Promise<ChurnResult>;
  close(): Promise<void>;
}

const MAX_ERRORS = 20;

/** The workers' errors, taken in turn (worker 0's first, worker 1's first, ...) so no worker's are crowded out. */
function mergeErrors(lists: string[][]): string[] {
  const out: string[] = [];
  for (let k = 0; out.length < MAX_ERRORS && lists.some((l) => k < l.length); k++) {
    lists.forEach((l, w) => { if (k < l.length && out.length < MAX_ERRORS) out.push(lists.length > 1 ? `worker ${w}: ${l[k]}` : l[k]!); });
  }
  return out;
}

/**
 * Default number of load workers: one up to 999 clients (one event loop keeps up there: ELU < 0.9 at C=1000
 * in the 2026-12-03 runs), then one per 1,000 clients, 2 to 4. More than 4 only adds context switches on a
 * 2-core machine that also runs the reflector.
 */
export function defaultLoadWorkers(clients: number): number {
  return clients < 1000 ? 1 : Math.min(4, Math.max(2, Math.ceil(clients / 1000)));
}

/** Merges the workers' replies to one step into one result on the shared monotonic clock. */
export function mergeSteps(parts: StepResult[]): StepResult {
  const writers = parts.filter((p) => p.wrote);
  const startMono = Math.min(...(writers.length ? writers : parts).map((p) => p.startMono));
  const endMono = Math.max(...parts.map((p) => p.endMono));
  const errors = mergeErrors(parts.map((p) => p.errors));
  const out: StepResult = {
    ok: parts.every((p) => p.ok),
    ms: Math.max(0, endMono - startMono),
    timedOut: parts.some((p) => p.timedOut),
    errors,
    updatesReceived: parts.reduce((a, p) => a + p.updatesReceived, 0),
    prefixesReceived: parts.reduce((a, p) => a + p.prefixesReceived, 0),
    speakerCpuMs: parts.reduce((a, p) => a + p.speakerCpuMs, 0),
    speakerElu: Math.max(...parts.map((p) => p.speakerElu)),
    speakerElus: parts.map((p) => p.speakerElu),
    speakerCpuMsEach: parts.map((p) => p.speakerCpuMs),
    startMono,
    endMono,
    wrote: writers.length > 0,
  };
  // ADD-PATH plans: paths per prefix seen (each worker's mean over its receivers; min over all of them).
  const seen = parts.filter((p) => p.pathsPerPrefix !== undefined);
  if (seen.length > 0) {
    const sessions = seen.reduce((a, p) => a + (p.addPathSessions ?? 0), 0);
    out.pathsPerPrefix = seen.reduce((a, p) => a + (p.pathsPerPrefix as number), 0) / seen.length;
    out.pathsPerPrefixMin = Math.min(...seen.map((p) => p.pathsPerPrefixMin ?? Infinity));
    out.addPathSessions = sessions;
  }
  return out;
}

export function mergeConnects(parts: ConnectResult[]): ConnectResult {
  const causes: Record<string, number> = {};
  for (const p of parts) for (const [k, n] of Object.entries(p.redialCauses)) causes[k] = (causes[k] ?? 0) + n;
  const startMono = Math.min(...parts.map((p) => p.startMono));
  const endMono = Math.max(...parts.map((p) => p.endMono));
  return {
    ok: parts.every((p) => p.ok),
    ms: Math.max(0, endMono - startMono),
    timedOut: parts.some((p) => p.timedOut),
    redials: parts.reduce((a, p) => a + p.redials, 0),
    redialCauses: causes,
    errors: mergeErrors(parts.map((p) => p.errors)),
    startMono,
    endMono,
    speakerElu: Math.max(...parts.map((p) => p.speakerElu)),
    speakerElus: parts.map((p) => p.speakerElu),
  };
}

export class SpeakerPool implements LoadSpeaker {
  private readonly clients: SpeakerClient[];

  constructor(readonly workers: number, netns?: string) {
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new Error(`load workers must be an integer 1..64, got ${workers}`);
    this.clients = Array.from({ length: workers }, () => new SpeakerClient(netns));
  }

  get pids(): number[] {
    return this.clients.map((c) => c.pid).filter((p): p is number => p !== undefined);
  }

  private all<T>(f: (c: SpeakerClient) => Promise<T>): Promise<T[]> {
    return Promise.all(this.clients.map(f));
  }

  async setup(config: SpeakerConfig): Promise<SetupResult> {
    const parts = await this.all((c) => c.setup(this.workers > 1 ? { ...config, shard: { index: this.clients.indexOf(c), count: this.workers } } : config));
    return { ...parts[0]!, buildMs: Math.max(...parts.map((p) => p.buildMs)) };
  }

  /**
   * One establish burst over all workers: it ends when every worker's sessions are up at the same time. A worker
   * done early keeps re-dialling a session the reflector closes while others are still connecting (as one
   * process would); the coordinator re-checks and resumes until all are up together, then ends the burst.
   */
  async connect(timeoutMs: number, sessions?: number[]): Promise<ConnectResult> {
    const deadline = Date.now() + timeoutMs;
    let parts = await this.all((c) => c.connect(timeoutMs, sessions));
    const causes: Record<string, number>[] = parts.map((p) => p.redialCauses);
    if (this.workers > 1) {
      for (let round = 0; round < 50 && !parts.some((p) => p.timedOut); round++) {
        const st = await this.all((c) => c.connectState());
        if (st.every((x) => x.allUp)) break;
        const left = deadline - Date.now();
        if (left <= 0) break;
        parts = await this.all((c) => c.connect(left, sessions, true)); // redials and errors are cumulative per worker
        causes.push(...parts.map((p) => p.redialCauses));
      }
      await this.all((c) => c.endConnect());
    }
    const merged = mergeConnects(parts);
    const all: Record<string, number> = {};
    for (const c of causes) for (const [k, n] of Object.entries(c)) all[k] = (all[k] ?? 0) + n;
    return { ...merged, redialCauses: all };
  }

  async settle(timeoutMs: number): Promise<SettleResult> {
    const parts = await this.all((c) => c.settle(timeoutMs));
    return { ms: Math.max(...parts.map((p) => p.ms)), endOfRib: parts.reduce((a, p) => a + p.endOfRib, 0), sessions: parts.reduce((a, p) => a + p.sessions, 0) };
  }

  async announce(sessions: number[] | 'all', timeoutMs: number, quietMs?: number): Promise<StepResult> {
    return mergeSteps(await this.all((c) => c.announce(sessions, timeoutMs, quietMs)));
  }

  async withdraw(sessions: number[] | 'all', timeoutMs: number, quietMs?: number): Promise<StepResult> {
    return mergeSteps(await this.all((c) => c.withdraw(sessions, timeoutMs, quietMs)));
  }

  churn(sessions: number[], intervalMs: number, durationMs: number, timeoutMs: number): Promise<ChurnResult> {
    if (this.workers > 1) return Promise.reject(new Error('churn runs in one load process (--load-workers 1)'));
    return this.clients[0]!.churn(sessions, intervalMs, durationMs, timeoutMs);
  }

  async close(): Promise<void> {
    await this.all((c) => c.close());
  }
}
