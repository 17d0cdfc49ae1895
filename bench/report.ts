// Turns measurements into the human outputs: medians per (workload, case, reflector), the table with
// ours/BIRD ratios from the same run, and an SVG chart of convergence time against M and C.
import type { Measurement } from './workloads/common.js';

export interface Row {
  workload: Measurement['workload'];
  case: string;
  params: Record<string, number>;
  reflector: string;
  runs: number;
  validRuns: number;
  skipped?: string;
  median: Record<string, number>;
  errors: string[];
}

function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Medians over the valid runs (over all runs, flagged, when none was valid). */
export function summarise(ms: Measurement[]): Row[] {
  const groups = new Map<string, Measurement[]>();
  for (const m of ms) {
    const k = `${m.workload}\u0000${m.case}\u0000${m.reflector}`;
    groups.set(k, [...(groups.get(k) ?? []), m]);
  }
  return [...groups.values()].map((g) => {
    const valid = g.filter((m) => m.valid);
    const use = valid.length ? valid : g;
    const keys = new Set(use.flatMap((m) => Object.keys(m.metrics)));
    const med: Record<string, number> = {};
    for (const k of keys) med[k] = median(use.map((m) => m.metrics[k]!).filter((x) => Number.isFinite(x)));
    const first = g[0]!;
    return {
      workload: first.workload, case: first.case, params: first.params, reflector: first.reflector,
      runs: g.filter((m) => !m.skipped).length, validRuns: valid.length,
      ...(first.skipped ? { skipped: first.skipped } : {}),
      median: med, errors: [...new Set(g.flatMap((m) => m.errors))].slice(0, 3),
    };
  });
}

const f = (x: number | undefined, digits = 3): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
const s = (ms: number | undefined): string => f(ms === undefined ? undefined : ms / 1000, 3);

/** A step cut off at its limit in every run (no valid run): "did not finish in S s" instead of a number. */
function dnf(r: Row, key: string): string | undefined {
  const lim = r.median[key];
  return r.validRuns === 0 && lim !== undefined && Number.isFinite(lim) ? `did not finish in ${lim >= 120 ? `${lim / 60} min` : `${lim} s`}` : undefined;
}
const mib = (kib: number | undefined): string => f((kib ?? NaN) / 1024, 1);

interface Col { head: string; cell: (r: Row) => string }

const COLUMNS: Record<Row['workload'], { cols: Col[]; ratio: string[] }> = {
  table: {
    cols: [
      { head: 'converge s', cell: (r) => s(r.median.converge_ms) },
      { head: 'withdraw s', cell: (r) => s(r.median.withdraw_ms) },
      { head: 'CPU s (converge + withdraw)', cell: (r) => f(r.median.cpu_s, 2) },
      { head: 'idle/peak RSS MiB', cell: (r) => `${mib(r.median.idle_rss_kib)} / ${mib(r.median.peak_rss_kib)}` },
      { head: 'B/route', cell: (r) => f(r.median.bytes_per_route, 0) },
    ],
    ratio: ['converge_ms', 'withdraw_ms', 'cpu_s', 'bytes_per_route'],
  },
  calico: {
    cols: [
      { head: 'establish s', cell: (r) => dnf(r, 'dnf_establish_s') ?? s(r.median.establish_ms) },
      { head: 'converge s', cell: (r) => dnf(r, 'dnf_establish_s') ?? dnf(r, 'dnf_converge_s') ?? s(r.median.converge_ms) },
      { head: 'flap ms (w/a)', cell: (r) => `${f(r.median.flap_withdraw_ms, 1)} / ${f(r.median.flap_ms, 1)}` },
      { head: 'CPU s', cell: (r) => f(r.median.cpu_s, 2) },
      { head: 'peak RSS MiB', cell: (r) => mib(r.median.peak_rss_kib) },
      { head: 'KiB/client', cell: (r) => f(r.median.kib_per_client, 1) },
    ],
    ratio: ['establish_ms', 'converge_ms', 'flap_withdraw_ms', 'flap_ms', 'cpu_s', 'kib_per_client'],
  },
  addpath: {
    cols: [
      { head: 'converge s', cell: (r) => s(r.median.converge_ms) },
      { head: 'withdraw s', cell: (r) => s(r.median.withdraw_ms) },
      { head: 'paths/prefix seen (mean, min; expected)', cell: (r) => `${f(r.median.paths_per_prefix, 2)}, ${f(r.median.paths_per_prefix_min, 2)}; ${f(r.median.paths_expected, 0)}` },
      { head: 'ADD-PATH sessions', cell: (r) => f(r.median.addpath_sessions, 0) },
      { head: 'CPU s', cell: (r) => f(r.median.cpu_s, 2) },
      { head: 'idle/peak RSS MiB', cell: (r) => `${mib(r.median.idle_rss_kib)} / ${mib(r.median.peak_rss_kib)}` },
      { head: 'B/path', cell: (r) => f(r.median.bytes_per_path, 0) },
    ],
    ratio: ['converge_ms', 'withdraw_ms', 'cpu_s'],
  },
  idle: {
    cols: [
      { head: 'RSS at start MiB', cell: (r) => mib(r.median.start_rss_kib) },
      { head: 'idle RSS MiB', cell: (r) => mib(r.median.idle_rss_kib) },
      { head: 'peak RSS MiB', cell: (r) => mib(r.median.peak_rss_kib) },
      { head: 'CPU s while idle', cell: (r) => f(r.median.cpu_idle_s, 2) },
    ],
    ratio: ['idle_rss_kib'],
  },
  churn: {
    cols: [
      { head: 'routes/s delivered', cell: (r) => f(r.median.updates_per_s, 0) },
      { head: 'p50 ms', cell: (r) => f(r.median.p50_ms, 1) },
      { head: 'p99 ms', cell: (r) => f(r.median.p99_ms, 1) },
      { head: 'CPU s', cell: (r) => f(r.median.cpu_s, 2) },
    ],
    ratio: ['p99_ms'],
  },
};

/**
 * The load speaker's CPU time over the measured wall time (per worker when the load is split): near 1.0 means
 * the speaker, not the reflector, may have set the pace (its event-loop utilisation is also in the JSON, but a busy machine inflates it).
 */
function speakerShare(r: Row): string {
  if (r.workload === 'idle') return '–';
  const wall = r.workload === 'churn' ? (r.median.window_ms ?? NaN) + (r.median.settle_ms ?? NaN) : r.median.converge_ms;
  // (event-loop utilisation): on a loaded machine CPU/wall stays low while the speaker's loop is saturated
  // Split load (K workers): CPU per worker over wall, the busiest worker's ELU, and "×K".
  const k = r.median.load_workers ?? 1;
  return `${f((r.median.speaker_cpu_ms ?? NaN) / k / (wall ?? NaN), 2)} (${f(r.median.speaker_elu, 2)})${k > 1 ? ` ×${k}` : ''}`;
}

function ratio(rows: Row[], r: Row, base: string, keys: string[]): string {
  if (r.reflector !== 'ours') return '';
  const b = rows.find((x) => x.workload === r.workload && x.case === r.case && x.reflector === base);
  if (!b || b.skipped || r.skipped) return '–';
  // No valid run on a side that was not cut off: its figures are not the workload's, a ratio would mislead.
  if (r.validRuns === 0 && r.median.dnf_establish_s === undefined && r.median.dnf_converge_s === undefined) return 'ours invalid';
  // The baseline cut off in every run: ours's time over the cut-off is an upper bound of the ratio, for the
  // step that was cut off (a cut-off establish leaves converge unmeasured too); later steps did not run.
  const cutEst = b.validRuns === 0 ? b.median.dnf_establish_s : undefined;
  const cutConv = b.validRuns === 0 ? b.median.dnf_converge_s ?? cutEst : undefined;
  return keys.map((k) => {
    const cut = k === 'establish_ms' ? cutEst : k === 'converge_ms' ? cutConv : undefined;
    if (cut !== undefined && Number.isFinite(cut) && !Number.isFinite(b.median[k] ?? NaN)) {
      if (!Number.isFinite(r.median[k] ?? NaN)) return '–';
      return `< ${f((r.median[k] ?? NaN) / (cut * 1000), 3)} (${b.reflector} did not finish)`;
    }
    return f((r.median[k] ?? NaN) / (b.median[k] ?? NaN), 2);
  }).join(' / ');
}

/** One Markdown table per workload; ratios are ours ÷ BIRD measured in this same invocation. */
export function renderTable(rows: Row[], labels: Record<string, string>): string {
  const out: string[] = [];
  for (const w of ['table', 'calico', 'churn', 'addpath', 'idle'] as const) {
    const rs = rows.filter((r) => r.workload === w);
    if (!rs.length) continue;
    const spec = COLUMNS[w];
    const ratioHead = spec.ratio.map((k) => k.replace(/_(ms|s|kib)$/, '').replace(/_/g, ' ')).join(' / ');
    const head = ['case', 'reflector', ...spec.cols.map((c) => c.head), 'valid', 'speaker CPU/wall (ELU)', `ours/BIRD2 (${ratioHead})`, `ours/BIRD1.6 (${ratioHead})`];
    out.push(`### ${w}`, '', `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
    for (const r of rs) {
      const cells = r.skipped
        ? [r.case, labels[r.reflector] ?? r.reflector, `skipped: ${r.skipped}`, ...spec.cols.slice(1).map(() => ''), '', '', '', '']
        : [r.case, labels[r.reflector] ?? r.reflector, ...spec.cols.map((c) => c.cell(r)), `${r.validRuns}/${r.runs}`, speakerShare(r),
          ratio(rows, r, 'bird2', spec.ratio), ratio(rows, r, 'bird1', spec.ratio)];
      out.push(`| ${cells.join(' | ')} |`);
    }
    const bad = rs.filter((r) => !r.skipped && r.validRuns < r.runs);
    for (const r of bad) out.push('', `- ${r.reflector} ${r.case}: ${r.runs - r.validRuns} invalid run(s): ${r.errors.join('; ').replace(/\s+/g, ' ').slice(0, 300)}`);
    out.push('');
  }
  return out.join('\n');
}

const COLORS: Record<string, string> = { ours: '#d62728', bird2: '#1f77b4', bird1: '#17becf', gobgp: '#2ca02c', frr: '#ff7f0e' };

/** Two log-scale panels: table convergence vs M (one line per reflector and N), Calico convergence vs C. */
export function renderSvg(rows: Row[], labels: Record<string, string>): string {
  const W = 460;
  const H = 320;
  const panels: { title: string; xKey: string; series: Map<string, [number, number][]> }[] = [];
  const add = (title: string, xKey: string, rs: Row[], seriesName: (r: Row) => string): void => {
    const series = new Map<string, [number, number][]>();
    for (const r of rs) {
      const y = r.median.converge_ms;
      if (r.skipped || r.validRuns === 0 || y === undefined || !Number.isFinite(y)) continue;
      const k = seriesName(r);
      series.set(k, [...(series.get(k) ?? []), [r.params[xKey]!, y / 1000]]);
    }
    for (const v of series.values()) v.sort((a, b) => a[0] - b[0]);
    panels.push({ title, xKey, series });
  };
  add('Table: convergence vs M clients', 'm', rows.filter((r) => r.workload === 'table'), (r) => `${r.reflector} N=${r.params.n}`);
  add('Calico: full-mesh convergence vs C clients', 'c', rows.filter((r) => r.workload === 'calico'), (r) => r.reflector);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W * 2 + 40}" height="${H + 40}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`];
  panels.forEach((p, pi) => {
    const ox = 20 + pi * (W + 20);
    const oy = 20;
    const pts = [...p.series.values()].flat();
    parts.push(`<text x="${ox + W / 2}" y="${oy + 4}" text-anchor="middle" font-size="13">${p.title}</text>`);
    if (!pts.length) return;
    const xs = pts.map((q) => q[0]);
    const ys = pts.map((q) => q[1]);
    const lx0 = Math.log10(Math.min(...xs)) - 0.1;
    const lx1 = Math.log10(Math.max(...xs)) + 0.1;
    const ly0 = Math.floor(Math.log10(Math.min(...ys)));
    const ly1 = Math.ceil(Math.log10(Math.max(...ys)));
    const L = ox + 50;
    const R = ox + W - 130;
    const T = oy + 20;
    const B = oy + H - 30;
    const X = (x: number): number => L + ((Math.log10(x) - lx0) / (lx1 - lx0 || 1)) * (R - L);
    const Y = (y: number): number => B - ((Math.log10(y) - ly0) / (ly1 - ly0 || 1)) * (B - T);
    parts.push(`<rect x="${L}" y="${T}" width="${R - L}" height="${B - T}" fill="none" stroke="#999"/>`);
    for (let e = ly0; e <= ly1; e++) {
      parts.push(`<line x1="${L}" x2="${R}" y1="${Y(10 ** e)}" y2="${Y(10 ** e)}" stroke="#eee"/>`,
        `<text x="${L - 4}" y="${Y(10 ** e) + 4}" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)} s</text>`);
    }
    for (const x of [...new Set(xs)]) parts.push(`<text x="${X(x)}" y="${B + 14}" text-anchor="middle">${x}</text>`);
    parts.push(`<text x="${(L + R) / 2}" y="${B + 27}" text-anchor="middle">${p.xKey.toUpperCase()} (log)</text>`);
    let li = 0;
    for (const [name, line] of p.series) {
      const refl = name.split(' ')[0]!;
      const dash = name.includes('N=') && !name.endsWith('N=100000') ? ' stroke-dasharray="4 3"' : '';
      const c = COLORS[refl] ?? '#555';
      parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2"${dash} points="${line.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ')}"/>`);
      for (const [x, y] of line) parts.push(`<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="3" fill="${c}"/>`);
      parts.push(`<line x1="${R + 8}" x2="${R + 24}" y1="${T + 8 + li * 14}" y2="${T + 8 + li * 14}" stroke="${c}" stroke-width="2"${dash}/>`,
        `<text x="${R + 28}" y="${T + 12 + li * 14}">${(labels[refl] ?? refl) + name.slice(refl.length)}</text>`);
      li++;
    }
  });
  parts.push('</svg>');
  return parts.join('\n');
}
