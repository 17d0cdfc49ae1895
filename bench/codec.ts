// Codec benchmark: builds a stream of UPDATEs (1,000,000 IPv4 + 200,000 IPv6 prefixes over ~1,000 attribute
// sets, packed into <= 4096-octet messages) and decodes it with the hot path and with full decodeMessage.
// Run: node --import=tsx bench/codec.ts   (prints one JSON line per measurement, then a table)
import v8 from 'node:v8';
import {
  AFI_IPV4, AFI_IPV6, AttrType, buildUpdates, decodeMessage, encodeAttributes, forEachPrefixV4, forEachPrefixV6,
  frameLength, scanUpdate, ScannedUpdate, type CodecContext, type PathAttribute,
} from '../src/wire/index.js';

const V4_PREFIXES = Number(process.env.BENCH_V4 ?? 1_000_000);
const V6_PREFIXES = Number(process.env.BENCH_V6 ?? 200_000);
const ATTR_SETS = 1000;
const ctx: CodecContext = { as4: true, addPathV4: false, addPathV6: false, maxMessageLen: 4096 };

/** Deterministic pseudo-random numbers so every run measures the same stream. */
let seed = 0x2545f491;
function rnd(n: number): number {
  seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
  return (seed >>> 0) % n;
}

/** A realistic attribute set: ORIGIN, AS_PATH of 1..6 ASes, NEXT_HOP, MED, LOCAL_PREF, communities, sometimes large communities. */
function attributeSet(i: number, v6: boolean): Uint8Array {
  const path = Array.from({ length: 1 + rnd(6) }, () => 64512 + rnd(1000));
  const attrs: PathAttribute[] = [
    { type: AttrType.ORIGIN, flags: 0x40, origin: rnd(3) },
    { type: AttrType.AS_PATH, flags: 0x40, segments: [{ type: 2, asns: path }] },
  ];
  if (!v6) attrs.push({ type: AttrType.NEXT_HOP, flags: 0x40, nextHop: `10.${(i >> 8) & 255}.${i & 255}.1` });
  attrs.push({ type: AttrType.MULTI_EXIT_DISC, flags: 0x80, med: rnd(1000) });
  attrs.push({ type: AttrType.LOCAL_PREF, flags: 0x40, localPref: 100 });
  attrs.push({ type: AttrType.COMMUNITIES, flags: 0xc0, communities: Array.from({ length: rnd(5) + 1 }, () => (65000 << 16) + rnd(1000)) });
  if (i % 4 === 0) attrs.push({ type: AttrType.LARGE_COMMUNITY, flags: 0xc0, communities: [[64512, rnd(100), rnd(100)]] });
  return encodeAttributes(attrs, ctx);
}

function buildStream(): { stream: Buffer; v4Messages: number; v6Messages: number; buildSeconds: number } {
  const t0 = process.hrtime.bigint();
  const parts: Buffer[] = [];
  let v4Messages = 0;
  let v6Messages = 0;
  const perSetV4 = Math.ceil(V4_PREFIXES / ATTR_SETS);
  const perSetV6 = Math.ceil(V6_PREFIXES / ATTR_SETS);
  let next4 = 0;
  let done4 = 0;
  let done6 = 0;
  for (let i = 0; i < ATTR_SETS; i++) {
    const n4 = Math.min(perSetV4, V4_PREFIXES - done4);
    const addrs = new Uint32Array(n4);
    const lens = new Uint8Array(n4);
    for (let k = 0; k < n4; k++) {
      // Mostly /24s, some /16../23 and /25../32, as in a real table.
      const r = rnd(100);
      const len = r < 60 ? 24 : r < 85 ? 16 + rnd(8) : 25 + rnd(8);
      next4 += 256;
      addrs[k] = (next4 & (0xffffffff << (32 - len))) >>> 0;
      lens[k] = len;
    }
    done4 += n4;
    const m4 = buildUpdates({ attrs: attributeSet(i, false), afi: AFI_IPV4, prefixes: { addrs, lens }, ctx });
    v4Messages += m4.length;
    parts.push(...m4);

    const n6 = Math.min(perSetV6, V6_PREFIXES - done6);
    const a6 = new Uint8Array(16 * n6);
    const l6 = new Uint8Array(n6);
    for (let k = 0; k < n6; k++) {
      const p = done6 + k;
      a6[16 * k] = 0x20; a6[16 * k + 1] = 0x01; a6[16 * k + 2] = 0x0d; a6[16 * k + 3] = 0xb8;
      a6[16 * k + 4] = p >> 16; a6[16 * k + 5] = (p >> 8) & 255; a6[16 * k + 6] = p & 255;
      l6[k] = rnd(10) < 7 ? 48 : 56 + rnd(9);
    }
    done6 += n6;
    const nh = new Uint8Array(32);
    nh.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i >> 8, i & 255], 0);
    nh.set([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i >> 8, i & 255], 16);
    const m6 = buildUpdates({ attrs: attributeSet(i, true), afi: AFI_IPV6, nextHop: nh, prefixes: { addrs: a6, lens: l6 }, ctx });
    v6Messages += m6.length;
    parts.push(...m6);
  }
  const stream = Buffer.concat(parts);
  return { stream, v4Messages, v6Messages, buildSeconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

interface Result { prefixesV4: number; prefixesV6: number; messages: number; checksum: number }

// Hot path: frameLength + scanUpdate + forEachPrefixV4/V6, one reused ScannedUpdate, no per-prefix objects.
let sum = 0;
let count4 = 0;
let count6 = 0;
const onV4 = (addr: number, len: number, pathId: number): void => { sum = (sum + addr + len + pathId) | 0; count4++; };
const onV6 = (buf: Uint8Array, off: number, len: number, pathId: number): void => { sum = (sum + buf[off]! + len + pathId) | 0; count6++; };

function hotPath(stream: Buffer): Result {
  const s = new ScannedUpdate();
  sum = 0; count4 = 0; count6 = 0;
  let messages = 0;
  let off = 0;
  while (off < stream.length) {
    const len = frameLength(stream, off, ctx.maxMessageLen);
    if (len === 0) break;
    const msg = stream.subarray(off, off + len);
    off += len;
    messages++;
    scanUpdate(msg, ctx, s);
    forEachPrefixV4(msg, s.withdrawnStart, s.withdrawnEnd, ctx.addPathV4, onV4);
    forEachPrefixV4(msg, s.nlriStart, s.nlriEnd, ctx.addPathV4, onV4);
    if (s.mpReachAfi === AFI_IPV6) forEachPrefixV6(msg, s.mpReachStart, s.mpReachEnd, ctx.addPathV6, onV6);
    if (s.mpUnreachAfi === AFI_IPV6) forEachPrefixV6(msg, s.mpUnreachStart, s.mpUnreachEnd, ctx.addPathV6, onV6);
  }
  return { prefixesV4: count4, prefixesV6: count6, messages, checksum: sum };
}

function fullPath(stream: Buffer): Result {
  let n4 = 0, n6 = 0, messages = 0, checksum = 0;
  let off = 0;
  while (off < stream.length) {
    const len = frameLength(stream, off, ctx.maxMessageLen);
    if (len === 0) break;
    const m = decodeMessage(stream.subarray(off, off + len), ctx);
    off += len;
    messages++;
    if (m.type !== 2) continue;
    n4 += m.nlri.length + m.withdrawn.length;
    for (const a of m.attributes) if (a.type === AttrType.MP_REACH_NLRI && 'nlri' in a) n6 += a.nlri.length;
    checksum = (checksum + m.attributes.length) | 0;
  }
  return { prefixesV4: n4, prefixesV6: n6, messages, checksum };
}

/** Wall time and bytes allocated (heap growth plus everything the collector freed meanwhile). */
function measure(f: () => Result): { r: Result; seconds: number; allocated: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const profiler = new v8.GCProfiler();
  const before = v8.getHeapStatistics().used_heap_size;
  profiler.start();
  const t0 = process.hrtime.bigint();
  const r = f();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = v8.getHeapStatistics().used_heap_size;
  const stats = profiler.stop();
  let freed = 0;
  for (const g of stats?.statistics ?? []) freed += g.beforeGC.heapStatistics.usedHeapSize - g.afterGC.heapStatistics.usedHeapSize;
  return { r, seconds, allocated: Math.max(0, after - before + freed) };
}

const rows: Record<string, string | number>[] = [];
function report(path: string, family: string, prefixes: number, messages: number, seconds: number, allocated: number | null, bytes: number): void {
  const line = {
    bench: 'codec', path, family, prefixes, messages, streamBytes: bytes, seconds: Number(seconds.toFixed(4)),
    prefixesPerSec: Math.round(prefixes / seconds), bytesAllocatedPerPrefix: allocated === null ? 'n/a' : Number((allocated / prefixes).toFixed(2)),
  };
  console.log(JSON.stringify(line));
  rows.push(line);
}

/** Splits the mixed stream into its IPv4-only and IPv6-only messages, to measure each family alone. */
function split(stream: Buffer): { v4: Buffer; v6: Buffer } {
  const a: Buffer[] = [];
  const b: Buffer[] = [];
  let off = 0;
  while (off < stream.length) {
    const len = frameLength(stream, off, ctx.maxMessageLen);
    const m = stream.subarray(off, off + len);
    (m[23] === 0x90 || m[23] === 0x80 ? b : a).push(m); // MP_REACH first marks IPv6 messages
    off += len;
  }
  return { v4: Buffer.concat(a), v6: Buffer.concat(b) };
}

function main(): void {
  const built = buildStream();
  const { stream } = built;
  report('build (generate input + buildUpdates)', 'ipv4+ipv6', V4_PREFIXES + V6_PREFIXES, built.v4Messages + built.v6Messages, built.buildSeconds, null, stream.length);
  const { v4, v6 } = split(stream);
  hotPath(stream); // warm up the JIT
  fullPath(stream.subarray(0, Math.min(stream.length, 2_000_000)));
  for (const [family, s] of [['ipv4', v4], ['ipv6', v6], ['ipv4+ipv6', stream]] as const) {
    let best = measure(() => hotPath(s));
    for (let i = 0; i < 2; i++) { const m = measure(() => hotPath(s)); if (m.seconds < best.seconds) best = m; }
    const n = best.r.prefixesV4 + best.r.prefixesV6;
    report('hot (frameLength+scanUpdate+forEachPrefix)', family, n, best.r.messages, best.seconds, best.allocated, s.length);
  }
  for (const [family, s] of [['ipv4', v4], ['ipv6', v6]] as const) {
    const m = measure(() => fullPath(s));
    report('full (decodeMessage)', family, m.r.prefixesV4 + m.r.prefixesV6, m.r.messages, m.seconds, m.allocated, s.length);
  }
  const check = hotPath(stream);
  if (check.prefixesV4 !== V4_PREFIXES || check.prefixesV6 !== V6_PREFIXES) {
    throw new Error(`stream holds ${check.prefixesV4} IPv4 / ${check.prefixesV6} IPv6 prefixes, expected ${V4_PREFIXES} / ${V6_PREFIXES}`);
  }
  console.log('');
  console.log(`stream: ${built.v4Messages} IPv4 + ${built.v6Messages} IPv6 UPDATEs, ${(stream.length / 1e6).toFixed(1)} MB, ${ATTR_SETS} attribute sets`);
  const hot4 = rows.find((r) => String(r.path).startsWith('hot') && r.family === 'ipv4');
  const target = 2_000_000;
  console.log(JSON.stringify({ bench: 'codec', target: 'hot-path IPv4 prefixes/s', required: target, measured: hot4?.prefixesPerSec, met: Number(hot4?.prefixesPerSec) >= target }));
  console.table(rows.map((r) => ({ path: r.path, family: r.family, prefixes: r.prefixes, 'prefixes/s': r.prefixesPerSec, 'bytes alloc/prefix': r.bytesAllocatedPerPrefix, seconds: r.seconds })));
}

main();
