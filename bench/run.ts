// `npm run bench`: runs the selected workloads against the selected reflectors on loopback, prints one
// JSON line per measurement and a table with ours/BIRD ratios, and writes results + chart to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DRIVERS } from './reflectors/index.js';
import { newestProfile, renderTop, topFunctions } from './profile.js';
import { renderSvg, renderTable, summarise } from './report.js';
import { addPathCase, runAddPath } from './workloads/addpath.js';
import { runCalico, runChurn } from './workloads/calico.js';
import { BARE_NODE, idleCase, runBareNode, runIdle } from './workloads/idle.js';
import { DEFAULT_ENV, type Env, type Measurement } from './workloads/common.js';
import { runTable } from './workloads/table.js';

export const USAGE = `npm run bench -- [options]
  --preset issue18 | issue18-quick          the cells of issue 18 (ours,bird2; table N=100k M=1,4,16, 500k M=4,
                                            1M M=4; calico IPv4 C=1000,3000,5000; addpath; idle), 3 runs and a
                                            10-minute cut-off; -quick: 1 run, 120 s cut-off. Options given
                                            beside a preset override it
  --reflectors ours,bird2,bird1,gobgp,frr   which reflectors (not installed ones are reported as skipped)
  --workload table,calico,churn,addpath,idle  which workloads (default: all five)
  --n 100000,500000 --m 1,4,16              table: prefixes x clients (cross product; default cases
                                            N=100k M=1,4,16, N=500k M=4 and N=1M M=4)
  --ap-n 100000 --ap-paths 4 --ap-m 16      addpath: prefixes, speakers announcing each (= paths per prefix),
                                            clients offering ADD-PATH receive (ours runs with ADD_PATHS=all)
  --quiet-ms 3000                           addpath: a step ends as failed once nothing arrived for this long
  --idle-wait 2000                          idle: ms with two quiet sessions before RSS is read (ours, BIRD,
                                            and a bare \`node -e 'setInterval(()=>{},1e9)'\` beside them)
  --cutoff 600                              s: time limit of each step (establish, converge, ...); a step that
                                            hits it is reported "did not finish in S s" (sets --timeout and
                                            --connect-timeout unless those are given)
  --sets 1000 --seed 1                      table: attribute sets, PRNG seed
  --c 100,500,1000 --r 4                    calico: clients, /26 blocks per client
  --load-workers K                          calico: split the simulated clients over K speaker processes
                                            (client i in worker i % K; default 1 below C=1000, else
                                            ceil(C/1000) within 2..4); churn always uses 1
  --churn-c 500 --churn-fraction 0.1 --churn-interval 1000 --churn-duration 30
                                            churn: clients, share flapping, ms between one client's toggles, s
  --runs 3                                  runs per cell (the table shows medians; the default)
  --port 179 --timeout 600 --connect-timeout 120   BGP port; per-step and connect timeouts in s
  --updates-after 1000                      table/calico: start the updates this many ms after every session is
                                            up (default: once every session got End-of-RIB, at most 15 s)
  --quick                                   small N/C, 1 run: a smoke run that ends in well under a minute
  --ipv4-only                               calico/churn without the IPv6 sessions (by default each client also
                                            has an IPv6 session with R /122 blocks, run in a network namespace
                                            the harness makes; BIRD 1.6 then runs as bird + bird6)
  --out bench/results                       where the JSON lines, table and SVG chart go ('' = nowhere)
  --fault drop-one                          self-test: BIRD drops one prefix towards one client; runs must be invalid
  --profile-ours DIR                        run our reflector with --cpu-prof into DIR and print its top 10 functions
                                            per run (Node writes the profile when the reflector exits on SIGTERM)`;

export interface Options {
  reflectors: string[];
  workloads: ('table' | 'calico' | 'churn' | 'addpath' | 'idle')[];
  tableCases: { n: number; m: number }[];
  sets: number;
  seed: number;
  calicoCases: number[];
  r: number;
  churnCases: number[];
  churnFraction: number;
  churnIntervalMs: number;
  churnDurationMs: number;
  ipv6: boolean;
  addPath: { n: number; speakers: number; m: number; quietMs: number };
  idleWaitMs: number;
  runs: number;
  env: Env;
  out: string;
  profileOurs?: string;
}

const list = (s: string | undefined): number[] | undefined => s?.split(',').filter(Boolean).map(Number);

export function parseOptions(argv: string[]): Options {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      reflectors: { type: 'string' }, workload: { type: 'string' }, n: { type: 'string' }, m: { type: 'string' },
      sets: { type: 'string' }, seed: { type: 'string' }, c: { type: 'string' }, r: { type: 'string' },
      'churn-c': { type: 'string' }, 'churn-fraction': { type: 'string' }, 'churn-interval': { type: 'string' },
      'churn-duration': { type: 'string' }, runs: { type: 'string' }, port: { type: 'string' }, timeout: { type: 'string' },
      'connect-timeout': { type: 'string' }, quick: { type: 'boolean' }, 'ipv4-only': { type: 'boolean' },
      out: { type: 'string' }, fault: { type: 'string' }, help: { type: 'boolean' }, 'profile-ours': { type: 'string' },
      'updates-after': { type: 'string' }, preset: { type: 'string' }, 'ap-n': { type: 'string' }, 'ap-paths': { type: 'string' },
      'ap-m': { type: 'string' }, 'quiet-ms': { type: 'string' }, 'idle-wait': { type: 'string' }, cutoff: { type: 'string' },
      'load-workers': { type: 'string' },
    },
  });
  if (v.preset !== undefined) {
    if (v.preset !== 'issue18' && v.preset !== 'issue18-quick') throw new Error('--preset takes issue18 or issue18-quick');
    const quickPreset = v.preset === 'issue18-quick';
    v.reflectors ??= 'ours,bird2';
    v.workload ??= 'table,calico,addpath,idle';
    v.c ??= '1000,3000,5000';
    v['ipv4-only'] ??= true; // the issue's Calico figures are IPv4 sessions
    v.runs ??= quickPreset ? '1' : '3';
    v.cutoff ??= quickPreset ? '120' : '600';
  }
  if (v.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const q = v.quick === true;
  const ns = list(v.n);
  const mList = list(v.m);
  let tableCases: { n: number; m: number }[];
  if (ns || mList) tableCases = (ns ?? [q ? 10000 : 100000]).flatMap((n) => (mList ?? (q ? [4] : [1, 4, 16])).map((m) => ({ n, m })));
  else tableCases = q ? [{ n: 10000, m: 4 }] : [{ n: 100000, m: 1 }, { n: 100000, m: 4 }, { n: 100000, m: 16 }, { n: 500000, m: 4 }, { n: 1000000, m: 4 }];
  const reflectors = (v.reflectors ?? 'ours,bird2,bird1,gobgp,frr').split(',').filter(Boolean);
  for (const r of reflectors) if (!DRIVERS[r]) throw new Error(`unknown reflector ${r} (known: ${Object.keys(DRIVERS).join(', ')})`);
  const workloads = (v.workload ?? 'table,calico,churn,addpath,idle').split(',').filter(Boolean) as Options['workloads'];
  for (const w of workloads) if (!['table', 'calico', 'churn', 'addpath', 'idle'].includes(w)) throw new Error(`unknown workload ${w}`);
  const cutoffS = v.cutoff !== undefined ? Number(v.cutoff) : undefined;
  if (v.fault !== undefined && v.fault !== 'drop-one') throw new Error('--fault takes drop-one');
  return {
    reflectors,
    workloads,
    tableCases,
    sets: Number(v.sets ?? 1000),
    seed: Number(v.seed ?? 1),
    calicoCases: list(v.c) ?? (q ? [20] : [100, 500, 1000]),
    r: Number(v.r ?? 4),
    churnCases: list(v['churn-c']) ?? (q ? [20] : [500]),
    churnFraction: Number(v['churn-fraction'] ?? 0.1),
    churnIntervalMs: Number(v['churn-interval'] ?? 1000),
    churnDurationMs: Number(v['churn-duration'] ?? (q ? 1 : 30)) * 1000,
    ipv6: v['ipv4-only'] !== true,
    addPath: {
      n: Number(v['ap-n'] ?? (q ? 10000 : 100000)),
      speakers: Number(v['ap-paths'] ?? 4),
      m: Number(v['ap-m'] ?? (q ? 4 : 16)),
      quietMs: Number(v['quiet-ms'] ?? 3000),
    },
    idleWaitMs: Number(v['idle-wait'] ?? (q ? 1000 : 2000)),
    runs: Number(v.runs ?? (q ? 1 : 3)),
    env: {
      ...DEFAULT_ENV,
      port: Number(v.port ?? DEFAULT_ENV.port),
      timeoutMs: Number(v.timeout ?? cutoffS ?? (q ? 30 : 600)) * 1000,
      connectTimeoutMs: Number(v['connect-timeout'] ?? cutoffS ?? (q ? 30 : 120)) * 1000,
      settleTimeoutMs: q ? 2000 : DEFAULT_ENV.settleTimeoutMs,
      ...(v.fault ? { fault: 'drop-one' as const } : {}),
      ...(v['updates-after'] !== undefined ? { updatesAfterMs: Number(v['updates-after']) } : {}),
      ...(v['load-workers'] !== undefined ? { loadWorkers: Number(v['load-workers']) } : {}),
    },
    out: v.out ?? fileURLToPath(new URL('./results', import.meta.url)),
    ...(v['profile-ours'] ? { profileOurs: resolve(v['profile-ours']) } : {}),
  };
}

export function machine(reflectors: string[]): Record<string, string> {
  const info: Record<string, string> = {
    cpu: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    'load average at start (1/5/15 min)': os.loadavg().map((x) => x.toFixed(1)).join(' '),
  };
  for (const r of reflectors) {
    const d = DRIVERS[r]!;
    info[d.label] = d.unavailable() ? `not installed (${d.unavailable()})` : d.version();
  }
  return info;
}

/** Runs everything; reflectors alternate inside each run so ratios compare neighbours in time. */
export async function runBench(o: Options, emit: (m: Measurement) => void = () => undefined, log: (s: string) => void = () => undefined): Promise<Measurement[]> {
  const all: Measurement[] = [];
  if (o.profileOurs) {
    mkdirSync(o.profileOurs, { recursive: true });
    process.env.BENCH_OURS_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${o.profileOurs}`;
  }
  const push = (m: Measurement): void => { all.push(m); emit(m); };
  const skip = (w: Measurement['workload'], caseName: string, params: Record<string, number>): string[] => {
    const ok: string[] = [];
    for (const r of o.reflectors) {
      const why = DRIVERS[r]!.unavailable();
      if (why) push({ workload: w, reflector: r, case: caseName, params, run: 0, valid: false, skipped: why, errors: [], metrics: {} });
      else ok.push(r);
    }
    return ok;
  };
  const runCells = async (w: Measurement['workload'], caseName: string, params: Record<string, number>,
    fn: (r: string, run: number) => Promise<Measurement>): Promise<void> => {
    const ok = skip(w, caseName, params);
    for (let run = 1; run <= o.runs; run++) {
      for (const r of ok) {
        const t = Date.now();
        const m = await fn(r, run);
        log(`${w} ${caseName} ${r} run ${run}/${o.runs}: ${m.valid ? 'valid' : 'INVALID'} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
        if (r === 'ours' && o.profileOurs) {
          const prof = newestProfile(o.profileOurs);
          if (prof) log(`top 10 functions of ours (${prof}):\n${renderTop(topFunctions(prof))}`);
        }
        push(m);
      }
    }
  };
  for (const w of o.workloads) {
    if (w === 'table') {
      for (const c of o.tableCases) {
        await runCells(w, `N=${c.n} M=${c.m}`, { n: c.n, m: c.m }, (r, run) => runTable(DRIVERS[r]!, o.env, { n: c.n, m: c.m, sets: o.sets, seed: o.seed }, run));
      }
    } else if (w === 'calico') {
      for (const c of o.calicoCases) {
        const fam = o.ipv6 ? 'v4+v6' : 'v4';
        await runCells(w, `C=${c} R=${o.r} ${fam}`, { c, r: o.r, ipv6: o.ipv6 ? 1 : 0 }, (r, run) => runCalico(DRIVERS[r]!, o.env, { c, r: o.r, ipv6: o.ipv6 }, run));
      }
    } else if (w === 'addpath') {
      const p = { ...o.addPath, sets: o.sets, seed: o.seed };
      const params = { n: p.n, paths: p.speakers, m: p.m };
      // Only drivers that can configure ADD-PATH take part; the others are listed as skipped.
      for (const r of o.reflectors.filter((x) => !DRIVERS[x]!.addPath)) {
        push({ workload: w, reflector: r, case: addPathCase(p), params, run: 0, valid: false, skipped: 'no ADD-PATH configuration in its bench driver', errors: [], metrics: {} });
      }
      const ok: string[] = [];
      for (const r of o.reflectors.filter((x) => DRIVERS[x]!.addPath)) {
        const why = DRIVERS[r]!.unavailable();
        if (why) push({ workload: w, reflector: r, case: addPathCase(p), params, run: 0, valid: false, skipped: why, errors: [], metrics: {} });
        else ok.push(r);
      }
      for (let run = 1; run <= o.runs; run++) {
        for (const r of ok) {
          const t = Date.now();
          const m = await runAddPath(DRIVERS[r]!, o.env, p, run);
          log(`${w} ${m.case} ${r} run ${run}/${o.runs}: ${m.valid ? 'valid' : 'INVALID'} in ${((Date.now() - t) / 1000).toFixed(1)} s, paths/prefix seen ${m.metrics.paths_per_prefix?.toFixed(2) ?? '?'}`);
          push(m);
        }
      }
    } else if (w === 'idle') {
      const p = { clients: 2, waitMs: o.idleWaitMs };
      const ok = skip(w, idleCase(p), { c: p.clients, wait_ms: p.waitMs });
      for (let run = 1; run <= o.runs; run++) {
        for (const r of ok) push(await runIdle(DRIVERS[r]!, o.env, p, run));
        push(await runBareNode(p, run)); // the same run: what Node alone costs on this machine now
        log(`idle run ${run}/${o.runs} done`);
      }
    } else {
      for (const c of o.churnCases) {
        const p = { c, r: o.r, ipv6: o.ipv6, fraction: o.churnFraction, intervalMs: o.churnIntervalMs, durationMs: o.churnDurationMs };
        await runCells(w, `C=${c} R=${o.r} ${o.ipv6 ? 'v4+v6' : 'v4'} churn=${Math.round(o.churnFraction * 100)}% every ${o.churnIntervalMs} ms`,
          { c, r: o.r, ipv6: o.ipv6 ? 1 : 0, interval_ms: o.churnIntervalMs, duration_ms: o.churnDurationMs }, (r, run) => runChurn(DRIVERS[r]!, o.env, p, run));
      }
    }
  }
  return all;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const started = new Date();
  const info = machine(o.reflectors);
  const labels: Record<string, string> = { ...Object.fromEntries(Object.values(DRIVERS).map((d) => [d.name, d.label])), [BARE_NODE]: 'bare node' };
  console.error(`bench: ${o.workloads.join(',')} against ${o.reflectors.join(',')}, ${o.runs} run(s) per cell`);
  const lines: string[] = [];
  const all = await runBench(o, (m) => {
    const line = JSON.stringify(m);
    lines.push(line);
    console.log(line);
  }, (s) => console.error(`bench: ${s}`));
  const rows = summarise(all);
  const table = renderTable(rows, labels);
  info['load average at end (1/5/15 min)'] = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  const header = [`Measured ${started.toISOString()} with: npm run bench -- ${process.argv.slice(2).join(' ')}`, '',
    ...Object.entries(info).map(([k, val]) => `- ${k}: ${val}`), ''];
  console.log(['', ...header, table].join('\n'));
  if (o.out) {
    mkdirSync(o.out, { recursive: true });
    const stamp = started.toISOString().replace(/[:.]/g, '-');
    writeFileSync(join(o.out, `${stamp}.jsonl`), lines.join('\n') + '\n');
    writeFileSync(join(o.out, `${stamp}.md`), [...header, table].join('\n'));
    writeFileSync(join(o.out, 'convergence.svg'), renderSvg(rows, labels));
    console.error(`bench: wrote ${join(o.out, `${stamp}.{jsonl,md}`)} and convergence.svg`);
  }
  const invalid = all.filter((m) => !m.skipped && !m.valid).length;
  process.exitCode = invalid ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(2);
  });
}
