// Workload "addpath" (RFC 7911): S speakers announce the same N prefixes, each with its own NEXT_HOP, and
// M clients that offer ADD-PATH receive must each see S paths per prefix (speakers receive nothing, so
// the expectation is exactly S for every client); then every speaker withdraws everything.
import { buildPlan, prefixText, type PlanSpec } from '../load/plan.js';
import type { ReflectorDriver } from '../reflectors/types.js';
import { waitBeforeUpdates, withRun, type Env, type Measurement } from './common.js';

export interface AddPathParams {
  n: number;
  speakers: number; // paths per prefix
  m: number; // clients with ADD-PATH receive
  sets: number;
  seed: number;
  quietMs: number; // stop waiting when nothing arrived for this long (a reflector sending fewer paths)
}

export function addPathCase(p: AddPathParams): string {
  return `N=${p.n} paths=${p.speakers} M=${p.m}`;
}

export async function runAddPath(driver: ReflectorDriver, env: Env, p: AddPathParams, run: number): Promise<Measurement> {
  const spec: PlanSpec = { kind: 'addpath', n: p.n, sets: p.sets, seed: p.seed, speakers: p.speakers, clients: p.m };
  const speakers = Array.from({ length: p.speakers }, (_, k) => k);
  // --fault drop-one: the reflector drops the first prefix (all its paths) towards the first client.
  const faultPrefix = env.fault ? prefixText(buildPlan(spec), 0) : undefined;
  const res = await withRun(driver, env, spec, faultPrefix, async (ctx) => {
    const conn = await ctx.sp.connect(env.connectTimeoutMs);
    if (!conn.ok) throw new Error(`not every session reached Established: ${conn.errors.slice(0, 5).join('; ')}; redials ${JSON.stringify(conn.redialCauses)}`);
    const waited = await waitBeforeUpdates(ctx, env);
    const idle = ctx.stats();
    const up = await ctx.sp.announce(speakers, env.timeoutMs, p.quietMs);
    if (!up.ok) ctx.errors.push(...up.errors.map((e) => `converge: ${e}`));
    const afterUp = ctx.stats();
    const down = await ctx.sp.withdraw(speakers, env.timeoutMs, p.quietMs);
    if (!down.ok) ctx.errors.push(...down.errors.map((e) => `withdraw: ${e}`));
    const end = ctx.stats();
    return {
      establish_ms: conn.ms,
      ...waited,
      converge_ms: up.ms,
      withdraw_ms: down.ms,
      paths_expected: p.speakers,
      paths_per_prefix: up.pathsPerPrefix ?? NaN,
      paths_per_prefix_min: up.pathsPerPrefixMin ?? NaN,
      addpath_sessions: up.addPathSessions ?? NaN,
      cpu_s: end.cpuSec - idle.cpuSec,
      cpu_converge_s: afterUp.cpuSec - idle.cpuSec,
      idle_rss_kib: idle.rssKb,
      peak_rss_kib: end.hwmKb,
      // RSS growth per path the reflector holds (N prefixes x S paths in its RIB)
      bytes_per_path: ((afterUp.hwmKb - idle.rssKb) * 1024) / (p.n * p.speakers),
      updates_received: up.updatesReceived,
      speaker_cpu_ms: up.speakerCpuMs,
      speaker_elu: up.speakerElu,
    };
  });
  return { workload: 'addpath', reflector: driver.name, case: addPathCase(p), params: { n: p.n, paths: p.speakers, m: p.m }, run, ...res };
}
