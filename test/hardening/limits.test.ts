// Limits on one reflector process with a BIRD 2 node that must stay untouched: maximum prefixes (warning,
// Cease 1 with RFC 4486 data, idle hold, back after it), the AS_PATH length limit (treat-as-withdraw), a peer
// that stops reading (outbound queue bound, Cease 8 after its hold time), and the pending-connection bound.
import test from 'ava';
import { sameInstant } from '../helpers/bird-time.js';
import net from 'node:net';
import type { Daemon } from '../session/daemons.js';
import { MessageType } from '../../src/wire/types.js';
import { birdc2, protocols, rssBytes, sleep, startBird2Node, startReflector, until, type Reflector } from './lab.js';
import { announce, announceDistinct, endOfRib, ip4, rawPeer, withdraw } from './raw.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();

const RR = NET.host(1);
const P1 = NET.host(2);
const FEEDER = NET.host(3);
const STUCK = NET.host(4);
const BIRD = NET.host(5);
const OUT_LIMIT = 1024 * 1024;
/** Configured nodes that connect and never send an OPEN (the pending-connection bound). */
const PENDERS = Array.from({ length: 8 }, (_, i) => NET.host(50 + i));
const daemons: Daemon[] = [];
let rr: Reflector;
let bird: Daemon;
let birdSince = '';

test.before(async () => {
  const P = '/calico/bgp/v1';
  rr = startReflector(RR, {
    [`${P}/global/as_num`]: '64512',
    [`${P}/global/peer_v4/${RR}`]: { ip: RR, as_num: '64512' },
    [`${P}/host/p1/ip_addr_v4`]: P1,
    [`${P}/host/feeder/ip_addr_v4`]: FEEDER,
    [`${P}/host/feeder/peer_v4/${RR}`]: { ip: RR, as_num: '64512', max_prefixes: 0 },
    [`${P}/host/stuck/ip_addr_v4`]: STUCK,
    [`${P}/host/bird/ip_addr_v4`]: BIRD,
    ...Object.fromEntries(PENDERS.map((a, i) => [`${P}/host/pend${i}/ip_addr_v4`, a])),
  }, {
    MAX_PREFIXES: '100', MAX_PREFIXES_WARNING_PERCENT: '50', MAX_PREFIXES_IDLE_HOLD: '3', MAX_AS_PATH_LENGTH: '10',
    OUTBOUND_QUEUE_LIMIT: String(OUT_LIMIT), MAX_PENDING_CONNECTIONS: '6',
  });
  bird = startBird2Node({ ip: BIRD, rr: RR, block: '10.100.35.0/24' });
  daemons.push(bird);
  await until('the BIRD node Established', () => (protocols(rr.sock).get(`Global_${NET.under(5)}`)?.info === 'Established' ? true : undefined), 30_000);
  birdSince = protocols(rr.sock).get(`Global_${NET.under(5)}`)?.since ?? '';
});

test.after.always(async () => {
  if (process.env.HARDENING_LOG !== undefined && rr !== undefined) (await import('node:fs')).writeFileSync(process.env.HARDENING_LOG, rr.log());
  await Promise.all([...daemons.map((d) => d.stop()), rr?.stop()]);
});

test.afterEach.always(() => {
  // Whatever a test did, the BIRD node's session was never reset.
  const p = protocols(rr.sock).get(`Global_${NET.under(5)}`);
  if (p?.info !== 'Established' || !sameInstant(p.since, birdSince)) throw new Error(`BIRD node session disturbed: ${JSON.stringify(p)}`);
});

test.serial('maximum prefixes: warning, Cease 1 with AFI/SAFI/limit, idle hold, then back', async (t) => {
  const sp = await rawPeer(P1, RR);
  t.true(sp.established);
  announce(sp, P1, ip4(10, 101, 0, 0), 60);
  await until('the warning', () => (/prefix count at 60 of the limit 100 \(warning at 50 %\)/.test(rr.log()) ? true : undefined), 10_000);
  announce(sp, P1, ip4(10, 102, 0, 0), 41);
  await sp.waitFor(() => sp.closed, 10_000, 'the session closed');
  const n = sp.notifications();
  t.is(n.length, 1);
  t.is(n[0]?.code, 6);
  t.is(n[0]?.subcode, 1);
  t.deepEqual([...(n[0]?.data ?? [])], [0, 1, 1, 0, 0, 0, 100], 'RFC 4486: AFI 1, SAFI 1, limit 100');
  // The log line travels on the reflector's stdout pipe, the NOTIFICATION on the TCP connection: which one this
  // process reads first is not ordered, so wait for the line (a missing line still fails, after 10 s).
  const ceaseLine = /maximum number of prefixes reached: 101 IPv4 prefixes, limit 100: Cease 1, idle hold 3 s/;
  await until('the Cease 1 log line', () => (ceaseLine.test(rr.log()) ? true : undefined), 10_000).catch(() => undefined);
  t.regex(rr.log(), ceaseLine);

  // During the idle hold the peer is refused (Cease 5, connection rejected).
  const again = await rawPeer(P1, RR, 90, false);
  await again.waitFor(() => again.closed, 5000, 'refused during the idle hold');
  t.deepEqual(again.notifications().map((m) => `${m.code}/${m.subcode}`), ['6/5']);
  await sleep(3500);
  const back = await until('the peer back after the idle hold', async () => {
    const s = await rawPeer(P1, RR);
    if (s.established) return s;
    s.destroy();
    return undefined;
  }, 10_000, 500);
  t.true(back.established);
  back.destroy();
});

test.serial('AS_PATH longer than MAX_AS_PATH_LENGTH is treated as withdraw', async (t) => {
  const sp = await rawPeer(FEEDER, RR);
  const long = Array.from({ length: 11 }, (_, i) => 65001 + i);
  announce(sp, FEEDER, ip4(10, 110, 0, 0), 1, long.slice(0, 10));
  endOfRib(sp);
  const seen = await until('BIRD to get the 10-AS route', () => {
    const r = birdc2(bird, 'show', 'route', '10.110.0.0/24', 'all');
    return /BGP\.as_path: 65001/.test(r) ? r : undefined;
  });
  t.regex(seen, /65010/);
  announce(sp, FEEDER, ip4(10, 110, 0, 0), 1, long);
  await until('BIRD to lose the route once its path is 11 ASes', () => (/10\.110\.0\.0\/24/.test(birdc2(bird, 'show', 'route', '10.110.0.0/24')) ? undefined : true));
  await until('the log line', () => (/AS_PATH of 11 ASes is longer than MAX_AS_PATH_LENGTH 10: UPDATE treated as withdraw/.test(rr.log()) ? true : undefined), 5000);
  t.false(sp.closed, 'treat-as-withdraw does not reset the session');
  sp.destroy();
});

test.serial('a peer that stops reading: queue bounded, Cease 8 after its hold time; others unaffected', async (t) => {
  const stuck = await rawPeer(STUCK, RR, 3);
  t.true(stuck.established);
  stuck.socket.pause(); // stop reading; its keepalives still go out, so only the queue can take it down
  const feeder = await rawPeer(FEEDER, RR);
  endOfRib(feeder);
  const rssBefore = rssBytes(rr.proc.pid ?? 0);
  let rounds = 0;
  let rssPeak = rssBefore;
  const start = Date.now();
  while (!/Cease 8 \(out of resources\)/.test(rr.log()) && Date.now() - start < 60_000 && rounds < 400) {
    announceDistinct(feeder, FEEDER, ip4(10, 120, 0, 0), 4000, rounds * 4000);
    await sleep(150);
    withdraw(feeder, ip4(10, 120, 0, 0), 4000);
    await sleep(150);
    rounds++;
    rssPeak = Math.max(rssPeak, rssBytes(rr.proc.pid ?? 0));
  }
  await until('the Cease 8 log line', () => (/Cease 8 \(out of resources\)/.test(rr.log()) ? true : undefined), 5000).catch(() => undefined);
  const log = rr.log();
  const watched = /outbound queue at (\d+) bytes \(bound (\d+)\)/.exec(log);
  const closed = /outbound queue stuck at (\d+) bytes for (\d+) s \(bound (\d+)\): Cease 8/.exec(log);
  t.truthy(watched, 'the queue reached the bound and was watched');
  t.truthy(closed, 'the stuck peer was closed with Cease 8');
  const queued = Number(closed?.[1] ?? 0);
  t.true(queued >= OUT_LIMIT && queued < OUT_LIMIT + 512 * 1024, `queue held at the bound: ${queued} bytes`);
  t.true(Number(closed?.[2] ?? 0) >= 3, 'not before its hold time');
  stuck.socket.resume();
  await stuck.waitFor(() => stuck.closed, 10_000, 'stuck peer closed');
  t.false(feeder.closed, 'the feeder is untouched');
  t.log(`rounds ${rounds}; queue when watched ${watched?.[1]} B, at Cease ${queued} B (bound ${OUT_LIMIT}); reflector RSS ${(rssBefore / 2 ** 20).toFixed(1)} -> peak ${(rssPeak / 2 ** 20).toFixed(1)} MiB`);
  feeder.destroy();
});

test.serial('connections not yet in OpenConfirm are bounded (MAX_PENDING_CONNECTIONS); refused ones do not count', async (t) => {
  await sleep(1500); // let earlier connections finish lingering
  // Clients that keep their side open (allowHalfOpen) and never send an OPEN, as a flood would.
  const connect = (local: string): Promise<'answered' | 'dropped' | 'rejected'> => new Promise((resolve) => {
    const s = net.connect({ host: RR, port: 179, localAddress: local, allowHalfOpen: true });
    let data = Buffer.alloc(0);
    s.on('data', (d: Buffer) => (data = Buffer.concat([data, d])));
    s.on('error', () => undefined);
    s.on('close', () => {
      if (data.length < 19) resolve('dropped');
      else resolve(data[18] === MessageType.NOTIFICATION && data[19] === 6 && data[20] === 5 ? 'rejected' : 'answered');
    });
    setTimeout(() => s.destroy(), 4000).unref();
  });
  // 14 unknown addresses and the 8 configured nodes at once: the unknown ones get Cease 5 and take no slot; six
  // configured connections are served (our OPEN, or a Cease of their own session), two are dropped at once.
  const unknown = Array.from({ length: 14 }, (_, i) => connect(NET.host(100 + i)));
  const configured = PENDERS.map((a) => connect(a));
  const u = await Promise.all(unknown);
  const c = await Promise.all(configured);
  t.deepEqual(u, Array.from({ length: 14 }, () => 'rejected'), 'every unknown address got Cease "connection rejected"');
  t.is(c.filter((r) => r === 'dropped').length, PENDERS.length - 6, `configured: ${c.join(', ')}`);
  const pendingLine = /connections before OpenConfirm already: new connections dropped \(MAX_PENDING_CONNECTIONS=6\)/;
  await until('the pending-connections log line', () => (pendingLine.test(rr.log()) ? true : undefined), 10_000).catch(() => undefined);
  t.regex(rr.log(), pendingLine);
});
