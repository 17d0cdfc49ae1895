// Soak: the reflector (src/main.ts, a child process) with N raw client sessions (default 1,000), 10 % of them
// flapping (withdraw / re-announce their block, and now and then a session reset) for --minutes (default 10).
// Prints the reflector's event-loop lag p99 per window (its own /metrics) and its RSS curve, then checks that no
// steady client lost its session and that every client's final view is complete and correct.
//
//   node --import=tsx bench/soak.ts [--minutes 10] [--clients 1000] [--flap 0.1] [--sample 10] [--markdown] [--built]
//
// --built runs dist/main.js (npm run build first), as the image does: without tsx's compiler in the process,
// so its RSS is the figure the manifests' requests and limits come from.
//
// Loopback only (127.100.6.0/22); everything it starts is killed when it ends.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  AFI_IPV4, AttrType, ATTR_FLAG_TRANSITIVE, AsPathSegmentType, buildEndOfRib, buildUpdates, DEFAULT_CONTEXT, encodeAttributes,
  encodeKeepalive, encodeMessage, MessageType, SAFI_UNICAST,
} from '../src/wire/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const AS = 64512;
const RR = '127.100.6.1';
const METRICS_PORT = 9186;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: a positive number`);
  return v;
}
const MINUTES = arg('minutes', 10);
const CLIENTS = Math.floor(arg('clients', 1000));
const FLAP = arg('flap', 0.1);
const SAMPLE_S = arg('sample', 10);
const MARKDOWN = process.argv.includes('--markdown');
/** --cpu-prof DIR: run the reflector under V8's sampling profiler and leave its .cpuprofile in DIR. */
const PROF_DIR = process.argv.includes('--cpu-prof') ? path.resolve(process.argv[process.argv.indexOf('--cpu-prof') + 1] ?? '.') : null;
const HOLD = 30;
/** A flapping client resets its session at most this often, so each reset meets a fresh backoff (stableAfter 60 s). */
const RESET_EVERY_MS = 65_000;

const clientIp = (i: number): string => `127.100.${6 + Math.floor((i + 10) / 256)}.${(i + 10) % 256}`;
const blockOf = (i: number): [number, number] => [((10 << 24) | ((200 + Math.floor(i / 256)) << 16) | ((i % 256) << 8)) >>> 0, 24];
const blockText = (i: number): string => `10.${200 + Math.floor(i / 256)}.${i % 256}.0/24`;

const KEEPALIVE = encodeKeepalive();
const OPEN = (ip: string): Buffer => encodeMessage({
  type: MessageType.OPEN, version: 4, myAs: AS, holdTime: HOLD, bgpId: ip, extendedParameters: false,
  parameters: [{ type: 2, capabilities: [{ kind: 'multiprotocol', code: 1, afi: AFI_IPV4, safi: SAFI_UNICAST }, { kind: 'as4', code: 65, as: AS }] }],
}, DEFAULT_CONTEXT);

function announceMsg(i: number): Buffer {
  const ip = clientIp(i);
  const attrs = encodeAttributes([
    { type: AttrType.ORIGIN, flags: ATTR_FLAG_TRANSITIVE, origin: 0 },
    { type: AttrType.AS_PATH, flags: ATTR_FLAG_TRANSITIVE, segments: [] as { type: AsPathSegmentType; asns: number[] }[] },
    { type: AttrType.NEXT_HOP, flags: ATTR_FLAG_TRANSITIVE, nextHop: ip },
    { type: AttrType.LOCAL_PREF, flags: ATTR_FLAG_TRANSITIVE, localPref: 100 },
  ], DEFAULT_CONTEXT);
  const [a, l] = blockOf(i);
  return Buffer.concat(buildUpdates({ attrs, afi: AFI_IPV4, prefixes: { addrs: [a], lens: [l] }, ctx: DEFAULT_CONTEXT }));
}
function withdrawMsg(i: number): Buffer {
  const [a, l] = blockOf(i);
  return Buffer.concat(buildUpdates({ afi: AFI_IPV4, withdrawals: { addrs: [a], lens: [l] }, ctx: DEFAULT_CONTEXT }));
}
const EOR = buildEndOfRib(AFI_IPV4);

/** One raw client: its view is prefix text -> next hop text, kept from the UPDATEs it receives. */
class Client {
  sock: net.Socket | null = null;
  established = false;
  view = new Map<string, string>();
  buf: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  ka: NodeJS.Timeout | null = null;
  announced = false;
  /** Closes we did not ask for (the reflector dropped us). */
  unintendedDrops = 0;
  refusals = 0;
  sessions = 0;
  lastReset = Date.now();
  private closing = false;
  constructor(readonly i: number, readonly flapping: boolean) {}

  connect(): void {
    this.closing = false;
    this.view.clear();
    this.buf = Buffer.alloc(0);
    const s = net.connect({ host: RR, port: 179, localAddress: clientIp(this.i) });
    this.sock = s;
    s.setNoDelay(true);
    s.on('connect', () => s.write(OPEN(clientIp(this.i))));
    s.on('data', (d: Buffer) => this.onData(d));
    s.on('error', () => undefined);
    s.on('close', () => {
      if (this.ka) clearInterval(this.ka);
      this.ka = null;
      const was = this.established;
      this.established = false;
      if (this.sock !== s) return;
      this.sock = null;
      if (this.closing) return;
      if (was) this.unintendedDrops++;
      else this.refusals++;
      // Like a BGP speaker's connect retry: try again shortly.
      setTimeout(() => this.connect(), 1000 + Math.random() * 1000).unref();
    });
  }

  /** A session reset on purpose (flapping): close abruptly, come back after a short pause. */
  reset(): void {
    if (this.sock === null) return;
    this.closing = true;
    this.lastReset = Date.now();
    const s = this.sock;
    this.sock = null;
    this.established = false;
    if (this.ka) clearInterval(this.ka);
    s.resetAndDestroy();
    setTimeout(() => this.connect(), 500).unref();
  }

  flapRoute(): void {
    if (!this.established || this.sock === null) return;
    this.sock.write(withdrawMsg(this.i));
    this.announced = false;
    setTimeout(() => {
      if (this.established && this.sock !== null) {
        this.sock.write(announceMsg(this.i));
        this.announced = true;
      }
    }, 500).unref();
  }

  close(): void {
    this.closing = true;
    this.sock?.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    let o = 0;
    while (this.buf.length - o >= 19) {
      const len = this.buf.readUInt16BE(o + 16);
      if (len < 19 || this.buf.length - o < len) break;
      const type = this.buf[o + 18];
      if (type === MessageType.OPEN) this.sock?.write(KEEPALIVE);
      else if (type === MessageType.KEEPALIVE && !this.established) this.onEstablished();
      else if (type === MessageType.UPDATE) this.onUpdate(this.buf.subarray(o, o + len));
      o += len;
    }
    this.buf = o === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(o);
  }

  private onEstablished(): void {
    this.established = true;
    this.sessions++;
    this.ka = setInterval(() => this.sock?.write(KEEPALIVE), (HOLD / 3) * 1000);
    this.ka.unref();
    this.sock?.write(Buffer.concat([announceMsg(this.i), EOR]));
    this.announced = true;
  }

  /** Classic IPv4 UPDATE fields only (what the reflector sends to an IPv4 unicast session without ADD-PATH). */
  private onUpdate(m: Buffer): void {
    const wlen = m.readUInt16BE(19);
    let o = 21;
    const end = o + wlen;
    while (o < end) {
      const l = m[o]!;
      const n = (l + 7) >> 3;
      this.view.delete(prefixText(m, o + 1, n, l));
      o += 1 + n;
    }
    const alen = m.readUInt16BE(o);
    o += 2;
    const aend = o + alen;
    let nh = '';
    while (o < aend) {
      const flags = m[o]!;
      const type = m[o + 1]!;
      const ext = (flags & 0x10) !== 0;
      const len = ext ? m.readUInt16BE(o + 2) : m[o + 2]!;
      const v = o + (ext ? 4 : 3);
      if (type === AttrType.NEXT_HOP) nh = `${m[v]}.${m[v + 1]}.${m[v + 2]}.${m[v + 3]}`;
      o = v + len;
    }
    while (o < m.length) {
      const l = m[o]!;
      const n = (l + 7) >> 3;
      this.view.set(prefixText(m, o + 1, n, l), nh);
      o += 1 + n;
    }
  }
}

function prefixText(m: Buffer, at: number, n: number, l: number): string {
  const b = [0, 0, 0, 0];
  for (let k = 0; k < n; k++) b[k] = m[at + k]!;
  return `${b.join('.')}/${l}`;
}

function rss(pid: number): number {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(s);
  return m ? Number(m[1]) * 1024 : 0;
}

async function scrape(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    const res = await fetch(`http://${RR}:${METRICS_PORT}/metrics`);
    const text = await res.text();
    for (const line of text.split('\n')) {
      const m = /^(nodejs_eventloop_lag_(?:p99|max|mean)_seconds|nodejs_heap_size_used_bytes) ([0-9.e+-]+)$/.exec(line);
      if (m) out[m[1]!] = Number(m[2]);
    }
  } catch {
    // metrics not up yet
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-soak-'));
  const ds = path.join(dir, 'datastore.json');
  const keys: Record<string, unknown> = {
    '/calico/bgp/v1/global/as_num': String(AS),
    [`/calico/bgp/v1/global/peer_v4/${RR}`]: { ip: RR, as_num: String(AS) },
  };
  for (let i = 0; i < CLIENTS; i++) keys[`/calico/bgp/v1/host/node${i}/ip_addr_v4`] = clientIp(i);
  writeFileSync(ds, JSON.stringify(keys));
  const profArgs = PROF_DIR !== null ? ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`, '--cpu-prof-interval=500'] : [];
  const entry = process.argv.includes('--built') ? ['dist/main.js'] : ['--import=tsx', 'src/main.ts'];
  const rr = spawn(process.execPath, [...profArgs, ...entry], {
    cwd: ROOT,
    env: { ...process.env, IP: RR, DATASTORE_TYPE: 'file', DATASTORE_FILE: ds, SOCKET_DIR: dir, METRICS_LISTEN: `${RR}:${METRICS_PORT}`, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  rr.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const cleanup = (): void => {
    if (rr.exitCode === null) rr.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  // Ready = datastore applied and BGP listening (/readyz 200): clients that dial earlier would be refused.
  const ready = async (): Promise<boolean> => {
    try {
      return (await fetch(`http://${RR}:${METRICS_PORT}/readyz`)).status === 200;
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 150 && !(await ready()); i++) await sleep(200);

  const ownLag = monitorEventLoopDelay({ resolution: 10 });
  ownLag.enable();
  const clients = Array.from({ length: CLIENTS }, (_, i) => new Client(i, i < Math.round(CLIENTS * FLAP)));
  const t0 = Date.now();
  for (const c of clients) c.connect();
  for (let i = 0; i < 600 && clients.some((c) => !c.established); i++) await sleep(100);
  const upMs = Date.now() - t0;
  const upCount = clients.filter((c) => c.established).length;
  console.log(`${upCount}/${CLIENTS} sessions Established in ${upMs} ms; ${clients.filter((c) => c.flapping).length} flapping; ${MINUTES} min`);

  const samples: { t: number; rssMiB: number; heapMiB: number; p99ms: number; maxms: number; up: number }[] = [];
  await scrape(); // start a fresh lag window
  let flaps = 0;
  let resets = 0;
  const flappers = clients.filter((c) => c.flapping);
  const timers = flappers.map((c) => {
    const tick = (): void => {
      if (Date.now() - c.lastReset > RESET_EVERY_MS && Math.random() < 0.2) {
        c.reset();
        resets++;
      } else {
        c.flapRoute();
        flaps++;
      }
      timer = setTimeout(tick, 3000 + Math.random() * 3000);
      timer.unref();
    };
    let timer = setTimeout(tick, Math.random() * 3000);
    timer.unref();
    return () => clearTimeout(timer);
  });
  const end = Date.now() + MINUTES * 60_000;
  while (Date.now() < end) {
    await sleep(Math.min(SAMPLE_S * 1000, Math.max(0, end - Date.now())));
    const m = await scrape();
    const s = {
      t: Math.round((Date.now() - t0) / 1000),
      rssMiB: Math.round((rss(rr.pid ?? 0) / 2 ** 20) * 10) / 10,
      heapMiB: Math.round(((m.nodejs_heap_size_used_bytes ?? NaN) / 2 ** 20) * 10) / 10,
      p99ms: Math.round((m.nodejs_eventloop_lag_p99_seconds ?? NaN) * 10000) / 10,
      maxms: Math.round((m.nodejs_eventloop_lag_max_seconds ?? NaN) * 10000) / 10,
      up: clients.filter((c) => c.established).length,
    };
    samples.push(s);
    console.log(`t=${s.t}s rss=${s.rssMiB} MiB heap=${s.heapMiB} MiB lag p99=${s.p99ms} ms max=${s.maxms} ms up=${s.up}/${CLIENTS} flaps=${flaps} resets=${resets}`);
    if (rr.exitCode !== null) break;
  }
  for (const stop of timers) stop();
  // Settle: every flapping client announced and up again, then every view must be the full table.
  for (const c of flappers) if (c.established && !c.announced) c.sock?.write(announceMsg(c.i));
  const expected = (c: Client): boolean => {
    if (c.view.size !== CLIENTS - 1) return false;
    for (let j = 0; j < CLIENTS; j++) {
      if (j === c.i) continue;
      if (c.view.get(blockText(j)) !== clientIp(j)) return false;
    }
    return true;
  };
  const settleStart = Date.now();
  let complete = 0;
  for (let k = 0; k < 240; k++) {
    await sleep(500);
    for (const c of flappers) if (c.established && !c.announced) {
      c.sock?.write(announceMsg(c.i));
      c.announced = true;
    }
    complete = clients.filter((c) => c.established && expected(c)).length;
    if (complete === CLIENTS) break;
  }
  const settleMs = Date.now() - settleStart;
  const steady = clients.filter((c) => !c.flapping);
  const steadyDrops = steady.reduce((a, c) => a + c.unintendedDrops, 0);
  const flapperDrops = flappers.reduce((a, c) => a + c.unintendedDrops, 0);
  const refusals = clients.reduce((a, c) => a + c.refusals, 0);
  const warm = samples.filter((s) => s.t >= 60);
  const p99s = samples.map((s) => s.p99ms).filter((x) => Number.isFinite(x));
  const worstP99 = p99s.length ? Math.max(...p99s) : NaN;
  const rssWarm = warm.map((s) => s.rssMiB);
  const rssSpread = rssWarm.length ? Math.max(...rssWarm) - Math.min(...rssWarm) : NaN;
  // Flat = the last window's RSS is no higher than the first post-warm-up window's plus 20 MiB (GC is a sawtooth).
  const rssFirst = rssWarm[0] ?? NaN;
  const rssLast = rssWarm[rssWarm.length - 1] ?? NaN;
  ownLag.disable();
  const verdict = {
    sessionsUpMs: upMs,
    worstWindowLagP99Ms: worstP99,
    rssAfterWarmupMinMiB: rssWarm.length ? Math.min(...rssWarm) : NaN,
    rssAfterWarmupMaxMiB: rssWarm.length ? Math.max(...rssWarm) : NaN,
    rssFirstAfterWarmupMiB: rssFirst,
    rssLastMiB: rssLast,
    steadyClientDrops: steadyDrops,
    flappingClientDrops: flapperDrops,
    refusedConnects: refusals,
    routeFlaps: flaps,
    sessionResets: resets,
    completeViews: `${complete}/${CLIENTS}`,
    settleMs,
    reflectorAlive: rr.exitCode === null,
    soakClientLagP99Ms: Math.round(ownLag.percentile(99) / 1e5) / 10,
  };
  console.log(JSON.stringify(verdict));
  const rssFlat = !(rssLast > rssFirst + 20);
  const pass = rr.exitCode === null && steadyDrops === 0 && complete === CLIENTS && worstP99 < 50 && rssFlat;
  console.log(pass ? 'SOAK PASS' : 'SOAK FAIL');
  if (rr.exitCode !== null) console.log(`reflector exited: ${stderr}`);
  if (MARKDOWN) {
    const lines = [
      '',
      `### Soak run: ${CLIENTS} clients, ${Math.round(FLAP * 100)} % flapping, ${MINUTES} min (${new Date().toISOString().slice(0, 16)}Z, \`node --import=tsx bench/soak.ts --minutes ${MINUTES}\`)`,
      '',
      `- ${upCount}/${CLIENTS} sessions Established in ${upMs} ms; ${flaps} route flaps (withdraw + re-announce) and ${resets} session resets by the flapping clients.`,
      `- Reflector event-loop lag p99 per ${SAMPLE_S} s window: worst ${worstP99} ms (target < 50 ms).`,
      `- RSS after the first minute: ${verdict.rssAfterWarmupMinMiB}–${verdict.rssAfterWarmupMaxMiB} MiB (spread ${Math.round(rssSpread * 10) / 10} MiB, the GC sawtooth); first window after warm-up ${rssFirst} MiB, last ${rssLast} MiB (${rssFlat ? 'flat' : 'GROWING'}).`,
      `- Unintended session drops: ${steadyDrops} among steady clients, ${flapperDrops} among flapping ones; ${refusals} connects refused (idle hold after a reset).`,
      `- Final views complete and correct (every other client's block, next hop = its owner): ${complete}/${CLIENTS}, ${settleMs} ms after the flapping stopped.`,
      `- Verdict: ${pass ? 'PASS' : 'FAIL'}.`,
      '',
      '| t (s) | RSS (MiB) | JS heap used (MiB) | lag p99 (ms) | lag max (ms) | sessions up |',
      '| ---: | ---: | ---: | ---: | ---: | ---: |',
      ...samples.map((s) => `| ${s.t} | ${s.rssMiB} | ${s.heapMiB} | ${s.p99ms} | ${s.maxms} | ${s.up} |`),
      '',
    ];
    console.log(lines.join('\n'));
  }
  for (const c of clients) c.close();
  if (PROF_DIR !== null && rr.exitCode === null) {
    // The profile is written on a normal exit: SIGTERM (our graceful stop), bounded wait.
    rr.kill('SIGTERM');
    for (let i = 0; i < 100 && rr.exitCode === null; i++) await sleep(100);
    console.log(`cpu profile in ${PROF_DIR}`);
  }
  cleanup();
  process.exit(pass ? 0 : 1);
}

void main();
