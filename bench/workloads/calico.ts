// Workloads 2 and 3, "Calico" and "Churn": C clients each announce R /26 blocks and receive all the
// others'; establish burst, full-mesh convergence, one client's flap, then (churn) 10% of clients flapping.
import { buildPlan, prefixText, type PlanSpec } from '../load/plan.js';
import type { ReflectorDriver } from '../reflectors/types.js';
import { waitBeforeUpdates, withRun, type Env, type Measurement } from './common.js';

export interface CalicoParams {
  c: number;
  r: number;
  ipv6: boolean; // also one IPv6 session per client with R /122 blocks (in a namespace the harness makes)
}

/** Session indexes of client i: its IPv4 session, and its IPv6 session (C + i) when there is one. */
function clientSessions(p: CalicoParams, i: number): number[] {
  return p.ipv6 ? [i, p.c + i] : [i];
}

function familyText(p: CalicoParams): string {
  return p.ipv6 ? 'v4+v6' : 'v4';
}

export interface ChurnParams extends CalicoParams {
  fraction: number; // share of clients that flap, 0.1 = 10%
  intervalMs: number; // each flapping client toggles withdraw/announce this often
  durationMs: number;
}

export async function runCalico(driver: ReflectorDriver, env: Env, p: CalicoParams, run: number): Promise<Measurement> {
  const spec: PlanSpec = { kind: 'calico', clients: p.c, blocks: p.r, ipv6: p.ipv6 };
  const faultPrefix = env.fault ? prefixText(buildPlan(spec), p.r) : undefined; // a block of client 1, dropped towards client 0
  const res = await withRun(driver, env, spec, faultPrefix, async (ctx): Promise<Record<string, number>> => {
    const conn = await ctx.sp.connect(env.connectTimeoutMs);
    // A step cut off at its time limit is a result ("did not finish in S s", the 10-minute cut-off), not only an error.
    if (!conn.ok && conn.timedOut) {
      ctx.errors.push(`establish: did not finish in ${env.connectTimeoutMs / 1000} s: ${conn.errors.slice(0, 3).join('; ')}`);
      return { dnf_establish_s: env.connectTimeoutMs / 1000, redials: conn.redials, peak_rss_kib: ctx.stats().hwmKb };
    }
    if (!conn.ok) throw new Error(`not every session reached Established: ${conn.errors.slice(0, 5).join('; ')}; redials ${JSON.stringify(conn.redialCauses)}`);
    const waited = await waitBeforeUpdates(ctx, env);
    const idle = ctx.stats();
    const up = await ctx.sp.announce('all', env.timeoutMs);
    if (!up.ok) ctx.errors.push(...up.errors.map((e) => `converge: ${e}`));
    if (up.timedOut) {
      const end = ctx.stats();
      ctx.errors.push(`converge: did not finish in ${env.timeoutMs / 1000} s`);
      return {
        establish_ms: conn.ms, ...waited, redials: conn.redials, dnf_converge_s: env.timeoutMs / 1000, cpu_s: end.cpuSec - ctx.base.cpuSec, peak_rss_kib: end.hwmKb,
        speaker_elu: up.speakerElu, load_workers: ctx.sp.workers, ...perWorker('speaker_elu_w', up.speakerElus ?? [up.speakerElu]),
      };
    }
    const flapper = clientSessions(p, Math.floor(p.c / 2));
    const fw = await ctx.sp.withdraw(flapper, env.timeoutMs);
    if (!fw.ok) ctx.errors.push(...fw.errors.map((e) => `flap withdraw: ${e}`));
    const fa = await ctx.sp.announce(flapper, env.timeoutMs);
    if (!fa.ok) ctx.errors.push(...fa.errors.map((e) => `flap announce: ${e}`));
    const end = ctx.stats();
    return {
      establish_ms: conn.ms,
      ...waited,
      redials: conn.redials,
      converge_ms: up.ms,
      flap_withdraw_ms: fw.ms,
      flap_ms: fa.ms,
      cpu_s: end.cpuSec - ctx.base.cpuSec,
      cpu_converge_s: end.cpuSec - idle.cpuSec,
      idle_rss_kib: ctx.base.rssKb,
      peak_rss_kib: end.hwmKb,
      kib_per_client: (end.hwmKb - ctx.base.rssKb) / p.c,
      updates_received: up.updatesReceived,
      speaker_cpu_ms: up.speakerCpuMs,
      speaker_elu: up.speakerElu,
      load_workers: ctx.sp.workers,
      // per load worker (w0, w1, ...): event-loop utilisation while establishing and converging, CPU ms converging
      ...perWorker('speaker_elu_establish_w', conn.speakerElus ?? [conn.speakerElu]),
      ...perWorker('speaker_elu_w', up.speakerElus ?? [up.speakerElu]),
      ...perWorker('speaker_cpu_ms_w', up.speakerCpuMsEach ?? [up.speakerCpuMs]),
      speaker_elu_establish: conn.speakerElu,
    };
  });
  return { workload: 'calico', reflector: driver.name, case: `C=${p.c} R=${p.r} ${familyText(p)}`, params: { c: p.c, r: p.r, ipv6: p.ipv6 ? 1 : 0 }, run, ...res };
}

function perWorker(prefix: string, xs: number[]): Record<string, number> {
  return Object.fromEntries(xs.map((x, w) => [`${prefix}${w}`, x]));
}

export async function runChurn(driver: ReflectorDriver, envIn: Env, p: ChurnParams, run: number): Promise<Measurement> {
  const env: Env = { ...envIn, loadWorkers: 1 }; // the churn schedule and its delay percentiles live in one process
  const spec: PlanSpec = { kind: 'calico', clients: p.c, blocks: p.r, ipv6: p.ipv6 };
  const faultPrefix = env.fault ? prefixText(buildPlan(spec), p.r) : undefined;
  const res = await withRun(driver, env, spec, faultPrefix, async (ctx) => {
    const conn = await ctx.sp.connect(env.connectTimeoutMs);
    if (!conn.ok) throw new Error(`not every session reached Established: ${conn.errors.slice(0, 5).join('; ')}; redials ${JSON.stringify(conn.redialCauses)}`);
    await ctx.sp.settle(env.settleTimeoutMs);
    const up = await ctx.sp.announce('all', env.timeoutMs);
    if (!up.ok) ctx.errors.push(...up.errors.map((e) => `converge: ${e}`));
    const before = ctx.stats();
    const k = Math.max(1, Math.round(p.c * p.fraction));
    const churners = Array.from({ length: k }, (_, i) => clientSessions(p, Math.floor((i * p.c) / k))).flat();
    const ch = await ctx.sp.churn(churners, p.intervalMs, p.durationMs, env.timeoutMs);
    if (!ch.ok) ctx.errors.push(...ch.errors.map((e) => `churn: ${e}`));
    const end = ctx.stats();
    return {
      churners: k,
      toggles: ch.toggles,
      delivered: ch.delivered,
      updates_per_s: ch.deliveredPerSec,
      p50_ms: ch.p50Ms,
      p99_ms: ch.p99Ms,
      max_ms: ch.maxMs,
      settle_ms: ch.ms,
      cpu_s: end.cpuSec - before.cpuSec,
      peak_rss_kib: end.hwmKb,
      window_ms: ch.windowMs,
      speaker_cpu_ms: ch.speakerCpuMs,
      speaker_elu: ch.speakerElu,
    };
  });
  return {
    workload: 'churn', reflector: driver.name, case: `C=${p.c} R=${p.r} ${familyText(p)} churn=${Math.round(p.fraction * 100)}% every ${p.intervalMs} ms`,
    params: { c: p.c, r: p.r, ipv6: p.ipv6 ? 1 : 0, interval_ms: p.intervalMs, duration_ms: p.durationMs }, run, ...res,
  };
}
