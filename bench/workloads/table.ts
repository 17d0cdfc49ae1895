// Workload 1, "Table": one source announces N IPv4 prefixes in 1,000 attribute sets, M clients
// receive them; converge, then withdraw all; reflector CPU seconds, peak RSS and RSS per route.
import { buildPlan, prefixText, type PlanSpec } from '../load/plan.js';
import type { ReflectorDriver } from '../reflectors/types.js';
import { waitBeforeUpdates, withRun, type Env, type Measurement } from './common.js';

export interface TableParams {
  n: number;
  m: number;
  sets: number;
  seed: number;
}

export async function runTable(driver: ReflectorDriver, env: Env, p: TableParams, run: number): Promise<Measurement> {
  const spec: PlanSpec = { kind: 'table', n: p.n, sets: p.sets, seed: p.seed, clients: p.m };
  const faultPrefix = env.fault ? prefixText(buildPlan(spec), 0) : undefined;
  const res = await withRun(driver, env, spec, faultPrefix, async (ctx) => {
    const conn = await ctx.sp.connect(env.connectTimeoutMs);
    if (!conn.ok) throw new Error(`not every session reached Established: ${conn.errors.slice(0, 5).join('; ')}; redials ${JSON.stringify(conn.redialCauses)}`);
    const waited = await waitBeforeUpdates(ctx, env);
    const idle = ctx.stats();
    const up = await ctx.sp.announce([0], env.timeoutMs);
    if (!up.ok) ctx.errors.push(...up.errors.map((e) => `converge: ${e}`));
    const afterUp = ctx.stats();
    const down = await ctx.sp.withdraw([0], env.timeoutMs);
    if (!down.ok) ctx.errors.push(...down.errors.map((e) => `withdraw: ${e}`));
    const end = ctx.stats();
    return {
      establish_ms: conn.ms,
      ...waited,
      converge_ms: up.ms,
      withdraw_ms: down.ms,
      cpu_s: end.cpuSec - idle.cpuSec,
      cpu_converge_s: afterUp.cpuSec - idle.cpuSec,
      idle_rss_kib: idle.rssKb,
      peak_rss_kib: end.hwmKb,
      bytes_per_route: ((afterUp.hwmKb - idle.rssKb) * 1024) / p.n,
      updates_received: up.updatesReceived,
      speaker_cpu_ms: up.speakerCpuMs,
      speaker_elu: up.speakerElu,
    };
  });
  return { workload: 'table', reflector: driver.name, case: `N=${p.n} M=${p.m}`, params: { n: p.n, m: p.m }, run, ...res };
}
