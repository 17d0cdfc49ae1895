// The benchmark harness itself: quick mode against BIRD 2 validates every client's routes, and a run in
// which the reflector drops one prefix towards one client is reported invalid (the check can fail).
import test from 'ava';
import { buildPlan, loadAddress, planAddresses } from '../../bench/load/plan.js';
import { defaultLoadWorkers, mergeSteps } from '../../bench/load/speaker-pool.js';
import { parseOptions, runBench } from '../../bench/run.js';
import { summarise, renderTable } from '../../bench/report.js';
import { decodeMessage, DEFAULT_CONTEXT, MessageType, type UpdateMessage } from '../../src/wire/index.js';

// 127.70.0.1 is this helper's reflector address; a port of our own so a concurrent `npm run bench` (179) never clashes.
const PORT = '17971';

test('plans are deterministic, packed into UPDATEs of at most 4096 octets, and decode to the planned prefixes', (t) => {
  const spec = { kind: 'table' as const, n: 5000, sets: 100, seed: 7, clients: 2 };
  const a = buildPlan(spec);
  const b = buildPlan(spec);
  t.deepEqual(Array.from(a.addrs), Array.from(b.addrs));
  t.is(a.prefixCount, 5000);
  t.is(new Set(a.setSigs).size, 100);
  let seen = 0;
  const buf = a.announce[0]!;
  for (let o = 0; o < buf.length;) {
    const len = buf.readUInt16BE(o + 16);
    t.true(len <= 4096);
    const m = decodeMessage(buf.subarray(o, o + len), DEFAULT_CONTEXT) as UpdateMessage;
    t.is(m.type, MessageType.UPDATE);
    for (const p of m.nlri) {
      const addr = ((p.addr[0]! << 24) | (p.addr[1]! << 16) | (p.addr[2]! << 8) | p.addr[3]!) >>> 0;
      const idx = a.index.get(addr, p.len);
      t.true(idx >= 0, 'every announced prefix is in the plan');
      seen++;
    }
    o += len;
  }
  t.is(seen, 5000);
  t.is(a.announce[1]!.length, 0, 'receivers announce nothing in the table workload');
  t.deepEqual(planAddresses(spec), [loadAddress(0), loadAddress(1), loadAddress(2)]);
  t.is(loadAddress(253), '127.71.0.254');
  t.is(loadAddress(254), '127.71.1.1');
});

test.serial('quick mode against BIRD 2 validates every client of every workload', async (t) => {
  const o = parseOptions(['--quick', '--reflectors', 'bird2', '--port', PORT, '--out', '']);
  const all = await runBench(o);
  // + one addpath cell, + the idle cell for BIRD 2 and for a bare node
  t.is(all.length, o.tableCases.length + o.calicoCases.length + o.churnCases.length + 1 + 2);
  for (const m of all) {
    t.is(m.skipped, undefined);
    t.true(m.valid, `${m.workload} ${m.case}: ${m.errors.join('; ')}`);
  }
  const table = all.filter((m) => m.workload === 'table');
  for (const m of table) {
    t.true(m.metrics.converge_ms! > 0 && m.metrics.withdraw_ms! > 0);
    t.true(m.metrics.peak_rss_kib! >= m.metrics.idle_rss_kib!);
  }
  const churn = all.find((m) => m.workload === 'churn')!;
  t.true(churn.metrics.toggles! >= 2);
  t.true(churn.metrics.delivered! > 0 && Number.isFinite(churn.metrics.p99_ms));
  const ap = all.find((m) => m.workload === 'addpath')!;
  t.is(ap.metrics.paths_per_prefix, o.addPath.speakers, 'BIRD 2 with add paths tx: one path per speaker at every client');
  t.is(ap.metrics.paths_per_prefix_min, o.addPath.speakers);
  t.is(ap.metrics.addpath_sessions, o.addPath.m, 'every client negotiated ADD-PATH receive');
  const bare = all.find((m) => m.workload === 'idle' && m.reflector === 'node-bare')!;
  t.true(bare.valid && bare.metrics.idle_rss_kib! > 1024, 'a bare node process has a measurable RSS');
  const text = renderTable(summarise(all), { bird2: 'BIRD 2' });
  t.regex(text, /\| N=10000 M=4 \| BIRD 2 \|/);
});

test.serial('a reflector that drops one prefix towards one client makes the run invalid', async (t) => {
  const o = parseOptions(['--quick', '--reflectors', 'bird2', '--port', PORT, '--out', '', '--fault', 'drop-one',
    '--workload', 'table,calico,addpath', '--n', '2000', '--m', '2', '--c', '6', '--ap-n', '2000', '--ap-m', '2', '--timeout', '3']);
  const all = await runBench(o);
  t.is(all.length, 3);
  for (const m of all) {
    t.false(m.valid, `${m.workload} must be flagged invalid`);
    // addpath: the dropped prefix misses one path per speaker at that client
    const want = m.workload === 'addpath' ? new RegExp(`${o.addPath.speakers} paths missing`) : /1 missing/;
    t.true(m.errors.some((e) => want.test(e)), m.errors.join('; '));
  }
});

test('split load: one step is timed from the first writer to the last worker at target on the shared monotonic clock', (t) => {
  const base = { ok: true, timedOut: false, errors: [], updatesReceived: 10, prefixesReceived: 40, speakerCpuMs: 5, speakerElu: 0.5, ms: 0 };
  // worker 1 wrote nothing (its clients only receive): its earlier arrival must not start the clock
  const m = mergeSteps([
    { ...base, startMono: 1000, endMono: 1030, wrote: true },
    { ...base, startMono: 990, endMono: 1045, wrote: false, speakerElu: 0.9 },
    { ...base, startMono: 1002, endMono: 1020, wrote: true, ok: false, errors: ['127.71.0.3: 1 missing'] },
  ]);
  t.is(m.ms, 45);
  t.false(m.ok);
  t.deepEqual(m.errors, ['worker 2: 127.71.0.3: 1 missing']);
  t.is(m.updatesReceived, 30);
  t.is(m.speakerElu, 0.9);
  t.deepEqual(m.speakerElus, [0.5, 0.9, 0.5]);
  t.is(defaultLoadWorkers(999), 1);
  t.is(defaultLoadWorkers(1000), 2);
  t.is(defaultLoadWorkers(3000), 3);
  t.is(defaultLoadWorkers(20000), 4);
});

test.serial('split load over 3 workers: every client is checked (valid against BIRD 2; a dropped prefix is caught)', async (t) => {
  const args = ['--quick', '--reflectors', 'bird2', '--port', PORT, '--out', '', '--workload', 'calico', '--c', '7', '--load-workers', '3', '--ipv4-only'];
  const [good] = await runBench(parseOptions(args));
  t.true(good!.valid, good!.errors.join('; '));
  t.is(good!.metrics.load_workers, 3);
  t.true(good!.metrics.converge_ms! > 0 && good!.metrics.flap_withdraw_ms! > 0 && good!.metrics.flap_ms! > 0);
  for (const w of [0, 1, 2]) t.true(good!.metrics[`speaker_elu_w${w}`]! > 0, `worker ${w} reports its event-loop utilisation`);
  // 7 clients x 6 foreign clients x 4 blocks, plus the flap: every worker's clients counted
  t.true(good!.metrics.updates_received! >= 7, 'UPDATEs from every worker are summed');
  const [bad] = await runBench(parseOptions([...args, '--fault', 'drop-one', '--timeout', '3']));
  t.false(bad!.valid, 'the client that misses one prefix lives in worker 0: its check must fail the run');
  t.true(bad!.errors.some((e) => /worker 0: .*1 missing/.test(e)), bad!.errors.join('; '));
});
