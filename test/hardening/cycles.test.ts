// Endurance: 200 connect / establish / receive the table / abrupt disconnect (RST) cycles of one raw client
// while two BIRD 2 nodes stay up. RSS of the reflector after the loop is within 20 MiB of RSS after cycle 20,
// every cycle gets the whole table, and neither BIRD session is reset.
import test from 'ava';
import type { Daemon } from '../session/daemons.js';
import { birdc2, protocols, rssBytes, sleep, startBird2Node, startReflector, until, type Reflector } from './lab.js';
import { announce, endOfRib, ip4, rawPeer, TableClient } from './raw.js';

const RR = '127.100.4.1';
const A = '127.100.4.2';
const B = '127.100.4.3';
const CLIENT = '127.100.4.10';
const CYCLES = Number(process.env.CYCLES ?? 200);
const ROUTES_PER_NODE = 250;
const daemons: Daemon[] = [];
let rr: Reflector | undefined;

test.after.always(async () => {
  await Promise.all([...daemons.map((d) => d.stop()), rr?.stop()]);
});

const statics = (second: number): string[] => Array.from({ length: ROUTES_PER_NODE }, (_, i) => `10.${second}.${i}.0/24`);

test(`${CYCLES} abrupt-disconnect cycles of one client: RSS flat, full table each time, BIRD sessions untouched`, async (t) => {
  t.timeout(150_000 + CYCLES * 500);
  const P = '/calico/bgp/v1';
  rr = startReflector(RR, {
    [`${P}/global/as_num`]: '64512',
    [`${P}/global/peer_v4/${RR}`]: { ip: RR, as_num: '64512' },
    [`${P}/host/a/ip_addr_v4`]: A,
    [`${P}/host/b/ip_addr_v4`]: B,
    [`${P}/host/client/ip_addr_v4`]: CLIENT,
  }, { IDLE_HOLD_CAP: '0', LOG_LEVEL: 'warn' });
  const a = startBird2Node({ ip: A, rr: RR, block: '10.140.0.0/24', statics: statics(141) });
  const b = startBird2Node({ ip: B, rr: RR, block: '10.150.0.0/24', statics: statics(151) });
  daemons.push(a, b);
  const sock = rr.sock;
  await until('both BIRD nodes Established', () => {
    const p = protocols(sock);
    return p.get('Global_127_100_4_2')?.info === 'Established' && p.get('Global_127_100_4_3')?.info === 'Established' ? true : undefined;
  }, 30_000);
  const expected = 2 * (ROUTES_PER_NODE + 1);
  const before = protocols(sock);
  const birdBefore = [birdc2(a, 'show', 'protocols'), birdc2(b, 'show', 'protocols')];

  const rss: number[] = [];
  let retries = 0;
  const started = Date.now();
  for (let i = 0; i < CYCLES; i++) {
    let client: TableClient | undefined;
    for (let attempt = 0; attempt < 50 && client === undefined; attempt++) {
      // Until the reflector has seen the RST of the previous cycle, a new connection is a collision: retry.
      const sp = await rawPeer(CLIENT, RR, 90, false);
      const c = new TableClient(sp);
      await sp.waitFor(() => sp.established || sp.closed, 5000, 'Established or refused').catch(() => undefined);
      if (sp.established) client = c;
      else {
        retries++;
        sp.destroy();
        await sleep(20);
      }
    }
    if (client === undefined) throw new Error(`cycle ${i}: the client could not get a session`);
    announce(client.sp, CLIENT, ip4(10, 160, 0, 0), 20);
    endOfRib(client.sp);
    const c = client;
    // The first cycle also waits for the reflector's RFC 4724 deferral to end (every peer's End-of-RIB).
    await until(`cycle ${i}: the table`, () => ((c.eor && c.table.size >= expected) || c.sp.closed ? true : undefined), i === 0 ? 30_000 : 10_000, 5).catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}: ${c.table.size} prefixes, End-of-RIB ${c.eor}, closed ${c.sp.closed}, ${c.updates} UPDATEs`);
    });
    t.is(c.table.size, expected, `cycle ${i}: the whole table`);
    c.sp.stopKeepalives();
    c.sp.socket.resetAndDestroy();
    if (process.env.CYCLES_TRACE !== undefined && i % 50 === 49) t.log(`cycle ${i + 1}: RSS ${(rssBytes(rr.proc.pid ?? 0) / 2 ** 20).toFixed(1)} MiB`);
    if (i === 19) {
      await sleep(1000);
      rss.push(rssBytes(rr.proc.pid ?? 0));
    }
  }
  const secs = (Date.now() - started) / 1000;
  // After the loop the process is left alone for up to 12 s (V8's memory reducer collects an idle heap), and
  // the lowest reading counts: the GC sawtooth is not growth (see bench/RESULTS.md, Soak).
  const settled: number[] = [];
  for (let k = 0; k < 12; k++) {
    await sleep(1000);
    settled.push(rssBytes(rr.proc.pid ?? 0));
    if (settled[settled.length - 1]! < (rss[0] ?? 0)) break;
  }
  rss.push(Math.min(...settled));
  const [rss20, rssEnd] = rss as [number, number];
  const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
  t.log(`${CYCLES} cycles in ${secs.toFixed(1)} s (${retries} collision retries); RSS after 20: ${mib(rss20)} MiB, after ${CYCLES}: ${mib(settled[0] ?? 0)} MiB at once, ${mib(rssEnd)} MiB at the lowest within ${settled.length} s`);
  t.true(rssEnd - rss20 < 20 * 2 ** 20, `RSS grew ${mib(rssEnd - rss20)} MiB`);
  const after = protocols(sock);
  for (const name of ['Global_127_100_4_2', 'Global_127_100_4_3']) {
    t.is(after.get(name)?.info, 'Established', `${name} up`);
    t.is(after.get(name)?.since, before.get(name)?.since, `${name} never reset`);
  }
  t.deepEqual([birdc2(a, 'show', 'protocols'), birdc2(b, 'show', 'protocols')], birdBefore, 'the BIRD nodes saw no reset either');
  t.true(rr.proc.exitCode === null, 'the reflector is still running');
});
