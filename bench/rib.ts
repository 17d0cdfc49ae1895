// In-process micro-benchmark of the RIB hot loop: UPDATEs in, decision, update groups, packed UPDATEs out to
// M fake members (send() only counts bytes). Usage: node --expose-gc --import=tsx bench/rib.ts [table|big|calico]
import { Reflector } from '../src/reflector/reflector.js';
import type { RibPeer } from '../src/rib/types.js';
import type { PeerSpec } from '../src/peers/peer-spec.js';
import { DEFAULT_CONTEXT } from '../src/wire/types.js';
import { attrs, updateV4 } from '../test/rib/helpers.js';

class CountingPeer implements RibPeer {
  readonly spec: PeerSpec;
  bytes = 0;
  writes = 0;
  constructor(readonly name: string, addr: string) {
    this.spec = {
      name, kind: 'global', family: 4, neighborAddress: addr, localAddress: '10.0.0.10', port: 179, localAs: 64512,
      peerAs: 64512, routeReflectorClient: true, clusterId: '10.0.0.10', routerId: '10.0.0.10', sourceKeys: [],
    };
  }
  send(buf: Buffer): boolean {
    this.bytes += buf.length;
    this.writes++;
    return true;
  }
}

function neg(id: string) {
  return {
    as4: true, families: [1], addPath: { rx: {}, tx: {} }, extendedMessage: false, routeRefresh: true,
    enhancedRouteRefresh: false, gracefulRestart: null, peerBgpId: id, recvCtx: DEFAULT_CONTEXT, sendCtx: DEFAULT_CONTEXT,
  };
}

function ip(i: number): string {
  return `${(i >>> 24) & 255}.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
}

async function idle(r: Reflector): Promise<void> {
  for (let i = 0; i < 1e6; i++) {
    await new Promise((res) => setImmediate(res));
    if (r.idle) return;
  }
}

/** One source announces n prefixes in 1000 attribute sets; m clients receive them. */
async function table(n: number, m: number): Promise<void> {
  const r = new Reflector({ routerId: '10.0.0.10' });
  const src = new CountingPeer('Global_10_1_0_1', '10.1.0.1');
  r.peerUp(src, neg('10.1.0.1'));
  const clients = Array.from({ length: m }, (_, i) => new CountingPeer(`Global_10_2_${i >> 8}_${i & 255}`, `10.2.${i >> 8}.${i & 255}`));
  for (const [i, c] of clients.entries()) r.peerUp(c, neg(`10.2.${i >> 8}.${i & 255}`));
  await idle(r);
  const sets = 1000;
  const per = Math.ceil(n / sets);
  const msgs: Buffer[] = [];
  let k = 0;
  for (let s = 0; s < sets && k < n; s++) {
    const a = attrs({ asPath: [65000 + (s % 5), 4200000000 + s], nextHop: '100.64.0.1', localPref: s % 2 ? 200 : 100, med: s % 3 === 0 ? s : undefined, communities: [0xfde80000 + s] });
    const nlri: string[] = [];
    for (let j = 0; j < per && k < n; j++, k++) nlri.push(`${ip(0x0b000000 + k * 256)}/24`);
    msgs.push(updateV4({ attrs: a, nlri }));
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heap0 = process.memoryUsage();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  // Feed like a session would: many messages per turn of the event loop.
  for (let i = 0; i < msgs.length; i += 50) {
    for (const msg of msgs.slice(i, i + 50)) r.handleUpdate(src, msg);
    await new Promise((res) => setImmediate(res));
  }
  await idle(r);
  const dt = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  gc?.();
  const heap1 = process.memoryUsage();
  const bytes = clients.reduce((x, c) => x + c.bytes, 0);
  console.log(`table N=${n} M=${m}: ${dt.toFixed(0)} ms (cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms), ${((n * m) / dt / 1000).toFixed(2)} M deliveries/s, ${(bytes / 1e6).toFixed(1)} MB out, ` +
    `rss +${((heap1.rss - heap0.rss) / n).toFixed(0)} B/route, heap +${((heap1.heapUsed - heap0.heapUsed) / n).toFixed(0)} B/route, max slice ${r.maxSliceMs.toFixed(1)} ms`);
  // Withdraw everything.
  const wmsgs: Buffer[] = [];
  for (let i = 0; i < n; i += 1000) {
    const wd: string[] = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) wd.push(`${ip(0x0b000000 + j * 256)}/24`);
    wmsgs.push(updateV4({ withdrawn: wd }));
  }
  const w0 = performance.now();
  for (let i = 0; i < wmsgs.length; i++) {
    r.handleUpdate(src, wmsgs[i]);
    if (i % 50 === 49) await new Promise((res) => setImmediate(res));
  }
  await idle(r);
  console.log(`  withdraw all: ${(performance.now() - w0).toFixed(0)} ms`);
  r.close();
}

/** C clients each announce 4 /26 (own next hop); everyone receives everyone's; then one flap. */
async function calico(c: number): Promise<void> {
  const r = new Reflector({ routerId: '10.0.0.10' });
  const clients = Array.from({ length: c }, (_, i) => new CountingPeer(`Global_10_2_${i >> 8}_${i & 255}`, `10.2.${i >> 8}.${i & 255}`));
  for (const [i, p] of clients.entries()) r.peerUp(p, neg(`10.2.${i >> 8}.${i & 255}`));
  await idle(r);
  const msgs = clients.map((_, i) => updateV4({
    attrs: attrs({ asPath: [], nextHop: `100.64.${i >> 8}.${i & 255}`, localPref: 100 }),
    nlri: [0, 1, 2, 3].map((b) => `${ip(0x0a000000 + i * 256 + b * 64)}/26`),
  }));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < c; i++) {
    r.handleUpdate(clients[i], msgs[i]);
    if (i % 100 === 99) await new Promise((res) => setImmediate(res));
  }
  await idle(r);
  const dt = performance.now() - t0;
  const writes = clients.reduce((x, p) => x + p.writes, 0);
  const cpuMs = (u: NodeJS.CpuUsage) => ((u.user + u.system) / 1000).toFixed(0);
  console.log(`calico C=${c}: converge ${dt.toFixed(0)} ms (cpu ${cpuMs(process.cpuUsage(cpu0))} ms, ${writes} socket writes, max slice ${r.maxSliceMs.toFixed(1)} ms)`);
  const f0 = performance.now();
  r.handleUpdate(clients[7], updateV4({ withdrawn: [0, 1, 2, 3].map((b) => `${ip(0x0a000000 + 7 * 256 + b * 64)}/26`) }));
  await idle(r);
  r.handleUpdate(clients[7], msgs[7]);
  await idle(r);
  console.log(`  flap (withdraw + re-announce of one client): ${(performance.now() - f0).toFixed(1)} ms`);
  // C more clients join at once (e.g. nodes reconnecting): each needs the whole table.
  const late = Array.from({ length: c }, (_, i) => new CountingPeer(`Global_10_3_${i >> 8}_${i & 255}`, `10.3.${i >> 8}.${i & 255}`));
  const j0 = performance.now();
  const jc = process.cpuUsage();
  for (const [i, p] of late.entries()) r.peerUp(p, neg(`10.3.${i >> 8}.${i & 255}`));
  await idle(r);
  console.log(`  ${c} clients joining at once get the full table: ${(performance.now() - j0).toFixed(0)} ms (cpu ${cpuMs(process.cpuUsage(jc))} ms, ${(late.reduce((x, p) => x + p.bytes, 0) / 1e6).toFixed(1)} MB)`);
  r.close();
}

const what = process.argv[2] ?? 'all';
if (what === 'table' || what === 'all') {
  await table(20_000, 4); // warm-up
  await table(100_000, 1);
  await table(100_000, 4);
  await table(100_000, 16);
}
if (what === 'big' || what === 'all') await table(500_000, 4);
if (what === 'calico' || what === 'all') {
  await calico(100);
  await calico(1000);
}
