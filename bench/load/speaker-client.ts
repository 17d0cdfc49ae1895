// Runner side of the load speaker: forks bench/load/speaker.ts and turns its IPC replies into promises.
// Every speaker started here is killed when the runner exits, however it exits.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChurnResult, ConnectResult, SettleResult, SetupResult, SpeakerConfig, SpeakerReply, SpeakerRequest, StepResult } from './protocol.js';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

const live = new Set<ChildProcess>();
process.on('exit', () => { for (const c of live) c.kill('SIGKILL'); });

export class SpeakerClient {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited = false;
  private stderrTail = '';

  /** netns: run the speaker inside that network namespace (IPv6 runs), via ip netns exec. */
  constructor(netns?: string) {
    const script = fileURLToPath(new URL('./speaker.ts', import.meta.url));
    const execArgv = ['--import=tsx', '--max-old-space-size=8192', ...(process.env.BENCH_SPEAKER_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SPEAKER_PROF}`] : [])];
    this.child = netns
      ? spawn('ip', ['netns', 'exec', netns, process.execPath, ...execArgv, script], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] })
      : fork(script, [], { execArgv, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-2000);
      process.stderr.write(d);
    });
    live.add(this.child);
    this.child.on('message', (m: unknown) => {
      const r = m as SpeakerReply;
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.ok) p.resolve(r.result);
      else p.reject(new Error(`speaker: ${r.error}`));
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      live.delete(this.child);
      for (const p of this.pending.values()) p.reject(new Error(`speaker exited (${code ?? signal}): ${this.stderrTail.slice(-1500)}`));
      this.pending.clear();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private request<T>(req: WithoutId<SpeakerRequest>): Promise<T> {
    if (this.exited) return Promise.reject(new Error('speaker has exited'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...req, id });
    });
  }

  setup(config: SpeakerConfig): Promise<SetupResult> {
    return this.request({ op: 'setup', config });
  }

  connect(timeoutMs: number, sessions?: number[], resume = false): Promise<ConnectResult> {
    return this.request({ op: 'connect', timeoutMs, ...(sessions ? { sessions } : {}), ...(resume ? { resume } : {}) });
  }

  connectState(): Promise<{ allUp: boolean }> {
    return this.request({ op: 'connectState' });
  }

  endConnect(): Promise<void> {
    return this.request({ op: 'endConnect' });
  }

  /** Waits (at most timeoutMs) until the reflector sent End-of-RIB on every session. */
  settle(timeoutMs: number): Promise<SettleResult> {
    return this.request({ op: 'settle', timeoutMs });
  }

  /** quietMs: stop waiting once nothing arrived for that long (the step is then not ok). */
  announce(sessions: number[] | 'all', timeoutMs: number, quietMs?: number): Promise<StepResult> {
    return this.request(quietMs ? { op: 'announce', sessions, timeoutMs, quietMs } : { op: 'announce', sessions, timeoutMs });
  }

  withdraw(sessions: number[] | 'all', timeoutMs: number, quietMs?: number): Promise<StepResult> {
    return this.request(quietMs ? { op: 'withdraw', sessions, timeoutMs, quietMs } : { op: 'withdraw', sessions, timeoutMs });
  }

  churn(sessions: number[], intervalMs: number, durationMs: number, timeoutMs: number): Promise<ChurnResult> {
    return this.request({ op: 'churn', sessions, intervalMs, durationMs, timeoutMs });
  }

  /** Closes every session and ends the child; kills it if it does not go within a second. */
  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.request({ op: 'close' }).catch(() => undefined);
    const t = setTimeout(() => this.child.kill('SIGKILL'), 1000);
    await gone;
    clearTimeout(t);
  }
}
