// Workload "idle": the resident memory of a reflector that has two Established, quiet sessions and no
// routes, beside what a bare Node process costs on the same machine in the same invocation.
import { spawn } from 'node:child_process';
import { procStats } from '../reflectors/proc.js';
import type { ReflectorDriver } from '../reflectors/types.js';
import { withRun, type Env, type Measurement } from './common.js';

export interface IdleParams {
  clients: number;
  waitMs: number; // sessions up and quiet this long before the sample
}

export function idleCase(p: IdleParams): string {
  return `C=${p.clients} idle ${p.waitMs / 1000} s`;
}

export async function runIdle(driver: ReflectorDriver, env: Env, p: IdleParams, run: number): Promise<Measurement> {
  const res = await withRun(driver, env, { kind: 'calico', clients: p.clients, blocks: 1, ipv6: false }, undefined, async (ctx) => {
    const conn = await ctx.sp.connect(env.connectTimeoutMs);
    if (!conn.ok) throw new Error(`not every session reached Established: ${conn.errors.slice(0, 5).join('; ')}`);
    await ctx.sp.settle(env.settleTimeoutMs);
    const before = ctx.stats();
    await new Promise((r) => setTimeout(r, p.waitMs));
    const st = ctx.stats();
    return { start_rss_kib: ctx.base.rssKb, idle_rss_kib: st.rssKb, peak_rss_kib: st.hwmKb, cpu_idle_s: st.cpuSec - before.cpuSec };
  });
  return { workload: 'idle', reflector: driver.name, case: idleCase(p), params: { c: p.clients, wait_ms: p.waitMs }, run, ...res };
}

export const BARE_NODE = 'node-bare';
export const BARE_NODE_ARGS = ['-e', 'setInterval(()=>{},1e9)'];

/** `node -e 'setInterval(()=>{},1e9)'` (this runner's node binary, PATH only): RSS after the same wait. */
export async function runBareNode(p: IdleParams, run: number): Promise<Measurement> {
  const child = spawn(process.execPath, BARE_NODE_ARGS, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: 'ignore' });
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  const base: Measurement = { workload: 'idle', reflector: BARE_NODE, case: idleCase(p), params: { c: p.clients, wait_ms: p.waitMs }, run, valid: false, errors: [], metrics: {} };
  try {
    await new Promise((r) => setTimeout(r, 300)); // the reflectors' start-up allowance (withRun)
    if (child.exitCode !== null || !child.pid) return { ...base, errors: [`bare node exited (${child.exitCode})`] };
    const start = procStats(child.pid);
    await new Promise((r) => setTimeout(r, p.waitMs));
    if (child.exitCode !== null) return { ...base, errors: [`bare node exited during the wait`] };
    const st = procStats(child.pid);
    return { ...base, valid: true, metrics: { start_rss_kib: start.rssKb, idle_rss_kib: st.rssKb, peak_rss_kib: st.hwmKb, cpu_idle_s: st.cpuSec - start.cpuSec } };
  } finally {
    child.kill('SIGKILL');
    await gone;
  }
}
