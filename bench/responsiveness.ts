// Responsiveness figures that used to be time bounds in unit tests, measured against BIRD 2 in the same run:
// - burst: C sessions connecting at once until all are Established (test/session/load.test.ts's burst);
// - flood: one peer sends N prefixes (the table workload, M=1 receiver) while
//     · a hold-time-3 client (HoldProbe) records the longest silence of the reflector towards it
//       (keepalives under load: what that client's hold timer saw),
//     · a control-socket client (ControlProbe) sends `show status` back to back and times each reply
//       (`show status` beside a busy reflector: the same measure for ours and BIRD, over bird.ctl),
//     · ours only: the longest event-loop stall from its /metrics (nodejs_eventloop_lag_max_seconds);
// - idle hold (ours only, our session layer in this process): how much later than chosen the idle-hold timer
//   fires (test/session/manager.test.ts's backoff test checks the sequence, this measures its precision).
// Prints a table and one JSON line per figure; writes them to bench/results/<time>-responsiveness.{jsonl,md}.
// Usage (root: port 179): node --import=tsx bench/responsiveness.ts [--quick] [--reflectors ours,bird2]
//   [--c 1000] [--n 1000000] [--cycles 8] [--out bench/results]
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { log } from '../src/log.js';
import { BgpListener } from '../src/session/listener.js';
import { BgpSession } from '../src/session/session.js';
import type { PeerSpec } from '../src/peers/peer-spec.js';
import type { BgpState } from '../src/session/fsm.js';
import { ControlProbe, HoldProbe, quantile } from './load/probes.js';
import type { PlanSpec } from './load/plan.js';
import { DRIVERS, type ReflectorDriver } from './reflectors/index.js';
import { DEFAULT_ENV, withRun, type Env } from './workloads/common.js';

log.level = 'warn';

const { values: v } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reflectors: { type: 'string', default: 'ours,bird2' },
    c: { type: 'string' },
    n: { type: 'string' },
    cycles: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (v.help) {
  console.log('node --import=tsx bench/responsiveness.ts [--quick] [--reflectors ours,bird2] [--c 1000] [--n 1000000] [--cycles 8] [--out bench/results]');
  process.exit(0);
}
const C = Number(v.c ?? (v.quick ? 300 : 1000));
const N = Number(v.n ?? (v.quick ? 200_000 : 1_000_000));
const CYCLES = Number(v.cycles ?? (v.quick ? 4 : 8));
const OUT = v.out ?? fileURLToPath(new URL('./results', import.meta.url));
const PROBE = '127.70.1.3'; // the hold-3 client: outside the load range 127.71-127.79
const env: Env = { ...DEFAULT_ENV, connectTimeoutMs: 120_000 };
const METRICS = `${env.address}:${30000 + (env.port % 10000)}`; // where bench/reflectors/ours.ts puts /metrics

type Figures = Record<string, number>;

async function burst(driver: ReflectorDriver): Promise<{ valid: boolean; errors: string[]; metrics: Figures }> {
  const spec: PlanSpec = { kind: 'calico', clients: C, blocks: 1 };
  return withRun(driver, env, spec, undefined, async (ctx) => {
    const conn = await ctx.sp.connect(env.connectTimeoutMs);
    if (!conn.ok) throw new Error(`not every session reached Established: ${conn.errors.slice(0, 3).join('; ')}`);
    return { establish_ms: conn.ms, redials: conn.redials, cpu_s: ctx.stats().cpuSec - ctx.base.cpuSec };
  });
}

async function lagMaxMs(): Promise<number> {
  try {
    const text = await (await fetch(`http://${METRICS}/metrics`)).text();
    const m = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
    return m ? Number(m[1]) * 1000 : NaN;
  } catch {
    return NaN;
  }
}

async function flood(driver: ReflectorDriver): Promise<{ valid: boolean; errors: string[]; metrics: Figures }> {
  const spec: PlanSpec = { kind: 'table', n: N, sets: 1000, seed: 7, clients: 1 };
  return withRun(driver, env, spec, undefined, async (ctx) => {
    const hold = new HoldProbe(PROBE, env.address, env.port, env.asn);
    const ctl = new ControlProbe(join(ctx.workDir, 'bird.ctl'));
    try {
      await hold.connect(30_000);
      const conn = await ctx.sp.connect(env.connectTimeoutMs);
      if (!conn.ok) throw new Error(`not every session reached Established: ${conn.errors.slice(0, 3).join('; ')}`);
      await ctx.sp.settle(env.settleTimeoutMs);
      await ctl.connect();
      // Idle baseline: the same probes for two seconds before the flood.
      hold.startWindow();
      ctl.start();
      await new Promise((r) => setTimeout(r, 2000));
      const idleCtl = await ctl.stop();
      const idleGap = hold.endWindow();
      if (driver.name === 'ours') await lagMaxMs(); // prom-client resets the lag histogram at each scrape
      hold.startWindow();
      ctl.start();
      const step = await ctx.sp.announce([0], env.timeoutMs);
      const during = await ctl.stop();
      const gap = hold.endWindow();
      const lag = driver.name === 'ours' ? await lagMaxMs() : NaN;
      if (!step.ok) ctx.errors.push(...step.errors.slice(0, 3).map((e) => `flood: ${e}`));
      if (hold.down !== undefined) ctx.errors.push(`hold-3 probe session went down: ${hold.down}`);
      if (ctl.error !== undefined) ctx.errors.push(`control probe: ${ctl.error}`);
      const figures: Figures = {
        converge_ms: step.ms,
        hold3_max_silence_ms: gap,
        hold3_idle_max_silence_ms: idleGap,
        ctl_show_status_p50_ms: quantile(during, 0.5),
        ctl_show_status_max_ms: Math.max(...during),
        ctl_show_status_replies: during.length,
        ctl_idle_p50_ms: quantile(idleCtl, 0.5),
      };
      if (!Number.isNaN(lag)) figures.event_loop_lag_max_ms = lag;
      return figures;
    } finally {
      hold.close();
      ctl.close();
    }
  }, [PROBE]);
}

/** Our session layer in this process: a peer that sends garbage, CYCLES times; chosen vs measured idle hold. */
async function idleHold(): Promise<{ valid: boolean; errors: string[]; metrics: Figures }> {
  const rr = '127.70.1.1';
  const peer = '127.70.1.2';
  const listener = new BgpListener({ addresses: [rr], port: 0 });
  await listener.listen();
  const port = listener.ports()[0]!;
  const spec: PeerSpec = {
    name: 'idle_hold_probe', kind: 'node', family: 4, neighborAddress: peer, localAddress: rr, port,
    localAs: env.asn, peerAs: env.asn, routeReflectorClient: true, clusterId: rr, routerId: rr, sourceKeys: [],
  };
  const s = new BgpSession(spec, { passive: true, idleHoldBase: 0.2, idleHoldCap: 0.8 });
  listener.setPeers([s]);
  const late: number[] = [];
  const errors: string[] = [];
  let chosen = 0;
  let idleAt = 0;
  s.on('state', (from: BgpState, to: BgpState, reason: string) => {
    if (to === 'Idle') {
      idleAt = performance.now();
      chosen = Number(/idle hold ([\d.]+) s$/.exec(reason)?.[1] ?? NaN);
    }
    // The timer is jittered to 0.75..1.0 of the chosen hold: lateness is measured past the longest it may be.
    if (from === 'Idle' && idleAt > 0) late.push(performance.now() - idleAt - chosen * 1000);
  });
  s.start();
  try {
    for (let i = 0; i < CYCLES; i++) {
      const end = Date.now() + 30_000;
      while (s.state !== 'Active' && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      const sock = net.connect({ host: rr, port, localAddress: peer });
      sock.on('error', () => undefined);
      sock.resume(); // read (and drop) the NOTIFICATION, or 'close' never comes
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.write(Buffer.alloc(19, 0)); // no marker: the session answers 1/1 and goes to idle hold
      await new Promise<void>((r) => sock.once('close', () => r()));
    }
    const end = Date.now() + 30_000;
    while (late.length < CYCLES && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    if (late.length < CYCLES) errors.push(`only ${late.length} of ${CYCLES} idle holds ended`);
  } finally {
    await s.stop();
    await listener.close();
  }
  const early = late.filter((l, i) => l < -0.25 * 1000 * [0.2, 0.4, 0.8][Math.min(i, 2)]! - 20).length;
  if (early > 0) errors.push(`${early} idle holds ended before 0.75 of the chosen time`);
  return { valid: errors.length === 0, errors, metrics: { idle_hold_late_max_ms: Math.max(...late), idle_hold_late_p50_ms: quantile(late, 0.5), idle_hold_cycles: late.length } };
}

interface Row { measure: string; metric: string; unit: string; birdComparable: boolean }
const ROWS: Row[] = [
  { measure: `burst: ${C} sessions Established`, metric: 'burst.establish_ms', unit: 'ms', birdComparable: true },
  { measure: `flood ${N} prefixes: converge`, metric: 'flood.converge_ms', unit: 'ms', birdComparable: true },
  { measure: 'flood: longest silence towards a hold-3 client', metric: 'flood.hold3_max_silence_ms', unit: 'ms', birdComparable: true },
  { measure: 'idle: longest silence towards a hold-3 client', metric: 'flood.hold3_idle_max_silence_ms', unit: 'ms', birdComparable: true },
  { measure: 'flood: `show status` latency p50', metric: 'flood.ctl_show_status_p50_ms', unit: 'ms', birdComparable: true },
  { measure: 'flood: `show status` latency max', metric: 'flood.ctl_show_status_max_ms', unit: 'ms', birdComparable: true },
  { measure: 'flood: `show status` replies', metric: 'flood.ctl_show_status_replies', unit: '', birdComparable: true },
  { measure: 'idle: `show status` latency p50', metric: 'flood.ctl_idle_p50_ms', unit: 'ms', birdComparable: true },
  { measure: 'flood: longest event-loop stall (/metrics)', metric: 'flood.event_loop_lag_max_ms', unit: 'ms', birdComparable: false },
  { measure: `idle hold (${CYCLES} cycles): latest past the chosen time`, metric: 'idle.idle_hold_late_max_ms', unit: 'ms', birdComparable: false },
  { measure: 'idle hold: median past the chosen time', metric: 'idle.idle_hold_late_p50_ms', unit: 'ms', birdComparable: false },
];

const fmt = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(1));

async function main(): Promise<void> {
  const names = v.reflectors!.split(',').filter((n) => n === 'ours' || n === 'bird2');
  const drivers = names.map((n) => DRIVERS[n]!).filter((d) => {
    const why = d.unavailable();
    if (why) console.log(`${d.label}: skipped: ${why}`);
    return !why;
  });
  const started = new Date();
  const info = `load average at start ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, ${os.cpus().length} CPUs, ${drivers.map((d) => `${d.label}: ${d.version().split('\n')[0]}`).join('; ')}`;
  const results = new Map<string, Figures>(); // reflector -> "step.metric" -> value
  const valid = new Map<string, string[]>();
  const lines: string[] = [];
  const record = (reflector: string, step: string, r: { valid: boolean; errors: string[]; metrics: Figures }): void => {
    const all = results.get(reflector) ?? {};
    for (const [k, x] of Object.entries(r.metrics)) all[`${step}.${k}`] = x;
    results.set(reflector, all);
    if (!r.valid) valid.set(reflector, [...(valid.get(reflector) ?? []), ...r.errors.map((e) => `${step}: ${e}`)]);
    const line = JSON.stringify({ bench: 'responsiveness', step, reflector, valid: r.valid, ...(r.valid ? {} : { errors: r.errors.slice(0, 3) }), c: C, n: N, ...r.metrics });
    lines.push(line);
    console.log(line);
  };
  // Steps alternate between reflectors so that what is compared was measured close in time.
  for (const d of drivers) record(d.name, 'burst', await burst(d));
  for (const d of drivers) record(d.name, 'flood', await flood(d));
  if (drivers.some((d) => d.name === 'ours')) record('ours', 'idle', await idleHold());

  const ours = results.get('ours') ?? {};
  const bird = results.get('bird2') ?? {};
  const table = ['| measure | ours | BIRD 2 | ours/BIRD 2 |', '|---|---:|---:|---:|'];
  for (const row of ROWS) {
    const a = ours[row.metric];
    const b = row.birdComparable ? bird[row.metric] : undefined;
    const ratio = a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
    const u = row.unit ? ` ${row.unit}` : '';
    table.push(`| ${row.measure} | ${fmt(a)}${a !== undefined ? u : ''} | ${row.birdComparable ? `${fmt(b)}${b !== undefined ? u : ''}` : 'no comparable measure'} | ${ratio === undefined ? '—' : `**${ratio.toFixed(2)}**`} |`);
    if (ratio !== undefined) {
      const line = JSON.stringify({ bench: 'responsiveness', ratio: row.metric, ours: a, bird2: b, ours_over_bird2: Math.round(ratio * 1000) / 1000 });
      lines.push(line);
      console.log(line);
    }
  }
  const invalid = [...valid.entries()].map(([r, e]) => `INVALID ${r}: ${e.slice(0, 5).join('; ')}`);
  const text = [`responsiveness ${started.toISOString()} (${v.quick ? 'quick' : 'full'}; C=${C}, N=${N})`, info, '', ...table, '', ...invalid,
    `load average at end ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`].join('\n');
  console.log(`\n${text}`);
  if (OUT) {
    mkdirSync(OUT, { recursive: true });
    const stem = join(OUT, `${started.toISOString().replace(/[:.]/g, '-')}-responsiveness`);
    writeFileSync(`${stem}.jsonl`, lines.join('\n') + '\n');
    writeFileSync(`${stem}.md`, text + '\n');
  }
  process.exitCode = invalid.length ? 1 : 0;
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
