// End to end, issue 15: routes flow from the first session, and after our own restart (SIGKILL, then start)
// no node loses a route of a node that is not back yet. Oracles: what real BIRD 2 / BIRD 1.6 nodes hold
// (`birdc show route`), what a raw client receives on the wire, and RFC 4724 (helpers keep our old routes as
// stale until our End-of-RIB). A node "away" is a BIRD stopped with SIGSTOP: alive, unreachable, its session
// to the old reflector still open on its side, like a node behind a broken link.
import test from 'ava';
import { claimLoopbackNet } from '../helpers/net.js';
import { attrs, parseStream, updateV4 } from '../rib/helpers.js';
import { Speaker } from '../session/speaker.js';
import {
  bgpRoutes, birdc, reconfigure, sleep, startBird16Node, startBird2Node, startReflector, waitFor,
  type BirdNode, type NodeConf, type Proc, type ReflectorProc,
} from './e2e-lab.js';

const procs: Proc[] = [];
const speakers: Speaker[] = [];
const watchers: (() => Promise<void>)[] = [];
test.after.always(async () => {
  for (const stop of watchers) await stop();
  for (const s of speakers) s.destroy();
  for (const p of procs) {
    p.proc.kill('SIGCONT');
    await p.stop();
  }
});

const prefixesOf = (n: BirdNode): string[] => bgpRoutes(n).map((x) => x.prefix).sort();
const has = (n: BirdNode, p: string): boolean => bgpRoutes(n).some((x) => x.prefix === p);
const established = (n: BirdNode): boolean => /Established/.test(birdc(n, 'show', 'protocols'));

/** Polls `nodes` every 250 ms for `prefixes`; each miss is recorded with its time. stop() ends it. */
function watch(nodes: BirdNode[], prefixes: string[]): { misses: { node: string; prefix: string; at: number }[]; stop: () => Promise<void> } {
  const misses: { node: string; prefix: string; at: number }[] = [];
  let on = true;
  const loop = (async () => {
    for (let i = 0; on && i < 2000; i++) {
      for (const n of nodes) {
        const got = new Set(prefixesOf(n));
        for (const p of prefixes) if (!got.has(p)) misses.push({ node: n.name, prefix: p, at: Date.now() });
      }
      await sleep(250);
    }
  })();
  const stop = async (): Promise<void> => { on = false; await loop; };
  watchers.push(stop);
  return { misses, stop };
}

/** Epoch ms of the reflector's "starting route reflector" log line (its Reflector is built just before). */
function startedAt(r: ReflectorProc): number | undefined {
  for (const line of r.output().split('\n')) {
    if (!line.includes('starting route reflector')) continue;
    try {
      return (JSON.parse(line) as { time: number }).time;
    } catch {
      // not a JSON line
    }
  }
  return undefined;
}

test.serial('restart with a node away 12 s: no node lacks its routes; changes meanwhile arrive at once; exact tables at the end; never back: gone at RESTART_DEFERRAL_TIME', async (t) => {
  const net = await claimLoopbackNet();
  const RR = net.host(4);
  const keys = {
    '/calico/bgp/v1/global/as_num': '64512',
    [`/calico/bgp/v1/global/peer_v4/${RR}`]: { ip: RR, as_num: '64512' },
    '/calico/bgp/v1/host/a/ip_addr_v4': net.host(1),
    '/calico/bgp/v1/host/b/ip_addr_v4': net.host(2),
    '/calico/bgp/v1/host/late/ip_addr_v4': net.host(3),
  };
  const A = ['10.151.1.0/26'];
  const B0 = ['10.151.2.0/26', '10.151.2.64/26'];
  const B1 = ['10.151.2.0/26', '10.151.2.128/26']; // .64 withdrawn and .128 added while the reflector restarts
  const L = ['10.151.3.0/26', '10.151.3.64/26'];
  const bConf: NodeConf = { ip: net.host(2), rr: RR, blocks: B0 };
  let r = startReflector(RR, keys);
  const a = startBird2Node({ ip: net.host(1), rr: RR, blocks: A });
  const b = startBird16Node(bConf);
  const late = startBird2Node({ ip: net.host(3), rr: RR, blocks: L });
  procs.push(r, a, b, late);
  await waitFor('full mesh of routes', () => L.every((p) => has(a, p) && has(b, p)) && B0.every((p) => has(a, p) && has(late, p)) && has(late, A[0]), 60_000);

  // ---- the late node is away 12 s around our restart ----
  late.proc.kill('SIGSTOP');
  const w = watch([a, b], L);
  await r.stop('SIGKILL');
  const killedAt = Date.now();
  r = r.restart();
  procs.push(r);
  await waitFor('a and b back with the new reflector', () => established(a) && established(b), 30_000, 100);
  t.true(Date.now() - killedAt < 11_000, 'the late node is still away');
  // A change at b while the late node is away reaches a at once (no hold until the late one is back).
  reconfigure(b, { ...bConf, blocks: B1 });
  const sent = Date.now();
  await waitFor('b\'s new block at a', () => has(a, '10.151.2.128/26'), 5000, 50);
  const arrival = Date.now() - sent;
  t.log(`a route announced by b during the restart reached a in ${arrival} ms`);
  t.true(arrival <= 1000, `arrived in ${arrival} ms`);
  await sleep(Math.max(0, killedAt + 12_000 - Date.now()));
  late.proc.kill('SIGCONT');
  await waitFor('the late node back', () => established(late), 30_000, 100);
  const want = { a: [...B1, ...L].sort(), b: [...A, ...L].sort(), late: [...A, ...B1].sort() };
  await waitFor('exact tables everywhere (stale copies swept at our End-of-RIB)', () =>
    JSON.stringify(prefixesOf(a)) === JSON.stringify(want.a) && JSON.stringify(prefixesOf(b)) === JSON.stringify(want.b) && JSON.stringify(prefixesOf(late)) === JSON.stringify(want.late), 20_000, 100);
  await sleep(1000);
  await w.stop();
  t.deepEqual(w.misses, [], 'no node ever lacked a route of the late node');
  t.deepEqual({ a: prefixesOf(a), b: prefixesOf(b), late: prefixesOf(late) }, want);
  t.false(/stale/i.test(birdc(a, 'show', 'route', 'all')), 'nothing left stale at a');

  // ---- the late node never comes back: its routes go when RESTART_DEFERRAL_TIME (8 s) is up, not before ----
  const DEFERRAL_S = 8;
  late.proc.kill('SIGSTOP');
  const w2 = watch([a, b], L);
  const others = watch([a], B1);
  await r.stop('SIGKILL');
  r = startReflector(RR, keys, r.socketDir, { RESTART_DEFERRAL_TIME: String(DEFERRAL_S) });
  procs.push(r);
  await waitFor('the late node\'s routes gone at a and b', () => L.every((p) => !has(a, p) && !has(b, p)), (DEFERRAL_S + 20) * 1000, 100);
  await sleep(600); // let the 250 ms watch see it too
  await w2.stop();
  await others.stop();
  const t0 = startedAt(r);
  t.truthy(t0, 'the reflector logged its start');
  const firstMiss = Math.min(...w2.misses.map((m) => m.at));
  t.log(`late node's routes first missing ${firstMiss - (t0 as number)} ms after the reflector started (deferral ${DEFERRAL_S} s)`);
  t.true(firstMiss >= (t0 as number) + DEFERRAL_S * 1000, 'not before the deferral time');
  t.true(firstMiss <= (t0 as number) + DEFERRAL_S * 1000 + 2000, 'at the deferral time');
  t.deepEqual(others.misses, [], 'routes of nodes that are back never went');
  t.regex(r.output(), /sending End-of-RIB without these peers/);
});

test.serial('cold start, raw clients joining one every 3 s: the first one\'s route reaches a BIRD node within 1 s, and back', async (t) => {
  const net = await claimLoopbackNet();
  const RR = net.host(5);
  const D = net.host(6);
  const clients = [11, 12, 13, 14].map((i) => net.host(i));
  const keys: Record<string, unknown> = {
    '/calico/bgp/v1/global/as_num': '64512',
    [`/calico/bgp/v1/global/peer_v4/${RR}`]: { ip: RR, as_num: '64512' },
    '/calico/bgp/v1/host/d/ip_addr_v4': D,
  };
  clients.forEach((ip, i) => { keys[`/calico/bgp/v1/host/c${i}/ip_addr_v4`] = ip; });
  const r = startReflector(RR, keys);
  const d = startBird2Node({ ip: D, rr: RR, blocks: ['10.152.6.0/26'] });
  procs.push(r, d);
  await waitFor('the BIRD node up', () => established(d), 30_000, 100);
  const gr = { kind: 'graceful-restart' as const, code: 64 as const, restarting: false, notification: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingPreserved: false }] };
  const join = async (i: number): Promise<Speaker> => {
    const ip = clients[i] as string;
    const sp = await Speaker.connect(ip, RR, 179, {
      as: 64512, bgpId: ip, holdTime: 90, autoKeepalive: true, keepUpdates: true,
      capabilities: [{ kind: 'multiprotocol', code: 1, afi: 1, safi: 1 }, { kind: 'as4', code: 65, as: 64512 }, gr],
    });
    speakers.push(sp);
    await sp.waitFor(() => sp.established, 10_000, 'Established');
    return sp;
  };
  const first = await join(0);
  const upAt = Date.now();
  first.write(updateV4({ attrs: attrs({ nextHop: clients[0] as string, localPref: 100 }), nlri: ['10.152.11.0/26'] }));
  const sentAt = Date.now();
  first.write(updateV4({}));
  // The others join one every 3 s while we measure.
  const joining = (async () => {
    for (let i = 1; i < clients.length; i++) {
      await sleep(3000);
      const sp = await join(i);
      sp.write(updateV4({}));
    }
  })();
  await waitFor('the first client\'s route at the BIRD node', () => has(d, '10.152.11.0/26'), 15_000, 50);
  const toBird = Date.now() - sentAt;
  const gotD = (): number | undefined => first.updates.find((u) => parseStream(u.msg)[0]?.update?.nlri.includes('10.152.6.0/26'))?.at;
  await waitFor('the BIRD node\'s route at the first client', () => gotD() !== undefined, 15_000, 20);
  const toClient = (gotD() as number) - upAt;
  t.log(`first client -> BIRD node: ${toBird} ms; BIRD node's route at the first client ${toClient} ms after Established`);
  t.true(toBird <= 1000, `first client's route took ${toBird} ms`);
  t.true(toClient <= 1000, `BIRD node's route took ${toClient} ms`);
  await joining;
  // Every client ends up with both routes it should have and an End-of-RIB (the deferral ends once all are in).
  for (const sp of speakers.slice(-clients.length)) {
    await sp.waitFor(() => sp.updates.some((u) => u.msg.length === 23), 10_000, 'End-of-RIB');
  }
  const last = speakers[speakers.length - 1] as Speaker;
  const nlri = last.updates.flatMap((u) => parseStream(u.msg)[0]?.update?.nlri ?? []).sort();
  t.deepEqual(nlri, ['10.152.11.0/26', '10.152.6.0/26']);
});
