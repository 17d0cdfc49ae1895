// What every workload shares: one measurement record, a fresh reflector + speaker per run, and the
// guarantee that both are stopped and the temporary directory removed whatever happens.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultLoadWorkers, SpeakerPool, type LoadSpeaker } from '../load/speaker-pool.js';
import { planAddresses, planAddresses6, REFLECTOR6, type PlanSpec } from '../load/plan.js';
import { createNetns, deleteNetns } from '../reflectors/netns.js';
import { procStatsAll, type ProcStats } from '../reflectors/proc.js';
import type { ReflectorDriver, RrFault, RunningReflector } from '../reflectors/types.js';

export interface Measurement {
  workload: 'table' | 'calico' | 'churn' | 'addpath' | 'idle';
  reflector: string;
  case: string; // e.g. "N=100000 M=4"
  params: Record<string, number>;
  run: number;
  valid: boolean;
  skipped?: string;
  errors: string[];
  metrics: Record<string, number>; // ms, seconds, KiB, bytes; names carry the unit
}

export interface Env {
  address: string;
  port: number;
  asn: number;
  clusterId: string;
  holdTime: number;
  timeoutMs: number;
  connectTimeoutMs: number;
  settleTimeoutMs: number; // how long to wait for End-of-RIB on every session before measuring
  // Start the updates this long after every session is up instead of after End-of-RIB on every session (an
  // operator's view: nodes announce as soon as they are up; a reflector that holds routes shows it here).
  updatesAfterMs?: number;
  fault?: 'drop-one'; // harness self-test: the reflector drops one prefix towards one client
  // Calico plan: speaker processes the clients are split over (undefined: defaultLoadWorkers(C)); other plans: 1.
  loadWorkers?: number;
}

export const DEFAULT_ENV: Env = {
  address: '127.70.0.1',
  port: 179,
  asn: 64512,
  clusterId: '127.70.0.1',
  holdTime: 90, // the same for every reflector; short enough that a dead session is noticed within a run
  timeoutMs: 600_000,
  connectTimeoutMs: 120_000,
  settleTimeoutMs: 15_000,
};

/** Waits before the first update: `updatesAfterMs` when set, else End-of-RIB on every session (+200 ms). */
export async function waitBeforeUpdates(ctx: Ctx, env: Env): Promise<Record<string, number>> {
  if (env.updatesAfterMs !== undefined) {
    await new Promise((r) => setTimeout(r, env.updatesAfterMs));
    return { updates_after_ms: env.updatesAfterMs };
  }
  const settled = await ctx.sp.settle(env.settleTimeoutMs);
  await new Promise((r) => setTimeout(r, 200));
  return { settle_eor_ms: settled.ms, sessions_without_eor: settled.sessions - settled.endOfRib };
}

export interface Ctx {
  rr: RunningReflector;
  sp: LoadSpeaker;
  base: ProcStats; // the reflector right after start-up, no sessions
  stats(): ProcStats;
  errors: string[];
  workDir: string; // the reflector's folder: its control socket is bird.ctl in it (every driver)
}

let netnsSeq = 0;

/** Runs `body` against a fresh reflector and speaker; always tears both down. */
export async function withRun(driver: ReflectorDriver, env: Env, spec: PlanSpec, faultPrefix: string | undefined,
  body: (ctx: Ctx) => Promise<Record<string, number>>,
  /** Clients configured beyond the plan's (probes the runner itself connects, e.g. bench/responsiveness.ts). */
  extraClients: string[] = []): Promise<{ valid: boolean; errors: string[]; metrics: Record<string, number> }> {
  const workDir = mkdtempSync(join(tmpdir(), `bench-${driver.name}-`));
  const clients = [...planAddresses(spec), ...extraClients];
  const clients6 = planAddresses6(spec);
  const receiver = spec.kind === 'table' ? clients[1]! : spec.kind === 'addpath' ? clients[spec.speakers]! : clients[0]!;
  const fault: RrFault | undefined = env.fault && faultPrefix ? { client: receiver, dropPrefix: faultPrefix } : undefined;
  // IPv6 needs many IPv6 addresses: the whole run moves into a namespace of its own (loopback only).
  const netns = clients6.length ? `bench-rr-${process.pid}-${++netnsSeq}` : undefined;
  if (netns) createNetns(netns, [REFLECTOR6, ...clients6]);
  let rr: RunningReflector | undefined;
  const sp = new SpeakerPool(spec.kind === 'calico' ? env.loadWorkers ?? defaultLoadWorkers(spec.clients) : 1, netns);
  const errors: string[] = [];
  try {
    rr = await driver.start({
      address: env.address, port: env.port, asn: env.asn, clusterId: env.clusterId, holdTime: env.holdTime, clients, workDir,
      ...(fault ? { fault } : {}), ...(netns ? { netns, address6: REFLECTOR6, clients6 } : {}),
      ...(spec.kind === 'addpath' ? { addPath: { send: clients.slice(spec.speakers), receive: clients.slice(0, spec.speakers) } } : {}),
    });
    await new Promise((r) => setTimeout(r, 300)); // let start-up work finish before the idle sample
    const pids = rr.pids;
    const ctx: Ctx = { rr, sp, base: procStatsAll(pids), stats: () => procStatsAll(pids), errors, workDir };
    await sp.setup({ plan: spec, remote: env.address, ...(netns ? { remote6: REFLECTOR6 } : {}), port: env.port, asn: env.asn, clusterId: env.clusterId, holdTime: env.holdTime });
    const metrics = await body(ctx);
    return { valid: errors.length === 0, errors, metrics };
  } catch (e) {
    errors.push(e instanceof Error ? e.message : String(e));
    if (rr) errors.push(`reflector log: ${rr.logTail().slice(-800)}`);
    return { valid: false, errors, metrics: {} };
  } finally {
    await sp.close();
    await rr?.stop();
    rmSync(workDir, { recursive: true, force: true });
    if (netns) deleteNetns(netns);
  }
}
