// End to end, graceful restart (RFC 4724) both ways with real BIRD nodes: a node killed with SIGKILL keeps its
// routes at the others until its End-of-RIB; our reflector killed and restarted: the nodes never lose routes.
import test from 'ava';
import { bgpRoutes, birdc, sleep, startBird16Node, startBird2Node, startReflector, waitFor, type BirdNode, type NodeConf, type Proc, type ReflectorProc } from './e2e-lab.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();

const RR = NET.host(4);
const procs: Proc[] = [];
test.after.always(async () => {
  for (const p of procs) await p.stop();
});

const keys = {
  '/calico/bgp/v1/global/as_num': '64512',
  [`/calico/bgp/v1/global/peer_v4/${RR}`]: { ip: RR, as_num: '64512' },
  '/calico/bgp/v1/host/a/ip_addr_v4': NET.host(101),
  '/calico/bgp/v1/host/b/ip_addr_v4': NET.host(102),
  '/calico/bgp/v1/host/c/ip_addr_v4': NET.host(103),
};
const aConf: NodeConf = { ip: NET.host(101), rr: RR, blocks: ['10.62.1.0/26', '10.62.1.64/26'] };
let r: ReflectorProc;
let a: BirdNode;
let b: BirdNode;
let c: BirdNode;

const has = (n: BirdNode, p: string) => bgpRoutes(n).some((x) => x.prefix === p);
/** BIRD's `show protocols all` for its session to us (BGP state, graceful restart lines). */
const grState = (n: BirdNode): string => birdc(n, 'show', 'protocols', 'all', `Global_${RR.replaceAll('.', '_')}`);

test.before(async () => {
  r = startReflector(RR, keys);
  a = startBird2Node(aConf);
  b = startBird2Node({ ip: NET.host(102), rr: RR, blocks: ['10.62.2.0/26'] });
  c = startBird16Node({ ip: NET.host(103), rr: RR, blocks: ['10.62.3.0/26'] });
  procs.push(r, a, b, c);
  await waitFor('full mesh of routes', () => has(c, '10.62.1.0/26') && has(c, '10.62.1.64/26') && has(c, '10.62.2.0/26') && has(b, '10.62.3.0/26') && has(a, '10.62.3.0/26'), 60_000);
});

/** Polls while `during` runs and records every moment a prefix was missing at a node. */
async function watchRoutes(nodes: BirdNode[], prefixes: string[], during: () => Promise<void>): Promise<string[]> {
  const gaps: string[] = [];
  let on = true;
  const poll = (async () => {
    while (on) {
      for (const n of nodes) for (const p of prefixes) if (!has(n, p)) gaps.push(`${n.name} lacked ${p} at ${new Date().toISOString()}`);
      await sleep(100);
    }
  })();
  try {
    await during();
  } finally {
    on = false;
    await poll;
  }
  return gaps;
}

test.serial('a node killed with SIGKILL: its routes stay at the others, re-sent ones kept, the rest swept at its End-of-RIB', async (t) => {
  const gaps = await watchRoutes([b, c], ['10.62.1.64/26'], async () => {
    await a.stop('SIGKILL');
    await sleep(3000);
    t.true(has(c, '10.62.1.0/26') && has(b, '10.62.1.0/26'), 'kept as stale while the node is away');
    // The node comes back announcing only one of its two blocks.
    a = a.restart({ ...aConf, blocks: ['10.62.1.64/26'] });
    procs.push(a);
    await waitFor('the dropped block swept at End-of-RIB', () => !has(c, '10.62.1.0/26') && !has(b, '10.62.1.0/26'), 60_000);
  });
  t.deepEqual(gaps, [], 'the re-sent block never disappeared');
  t.regex(birdc(a, 'show', 'protocols'), /Established/);
  t.true(has(a, '10.62.3.0/26'), 'the restarted node got the table again');
});

test.serial('our reflector killed and restarted: nodes keep every route throughout, then get fresh ones', async (t) => {
  const prefixesAt = (n: BirdNode) => bgpRoutes(n).map((x) => x.prefix).sort();
  const before = { a: prefixesAt(a), b: prefixesAt(b), c: prefixesAt(c) };
  t.true(before.c.includes('10.62.1.64/26') && before.c.includes('10.62.2.0/26'));
  const lost = await watchRoutes([c], before.c, async () => {
    await r.stop('SIGKILL');
    await sleep(2000);
    // BIRD's own view while we are away: it holds our routes as a graceful-restart helper (RFC 4724 §4.2).
    for (const n of [a, b, c]) t.regex(grState(n), /Neighbor graceful restart active/, `${n.name} in graceful restart while we are down`);
    r = r.restart();
    procs.push(r);
    await waitFor('nodes re-established with the new reflector', () => [a, b, c].every((n) => /Established/.test(birdc(n, 'show', 'protocols'))), 60_000);
    // Our End-of-RIB goes once every configured node is back with its own: then nothing is stale any more.
    await waitFor('our End-of-RIB at every node', () => [a, b, c].every((n) => !/stale/i.test(birdc(n, 'show', 'route', 'all'))), 30_000);
    await sleep(1000);
  });
  t.deepEqual(lost, [], 'no route lost at c during the reflector restart');
  for (const n of [a, b]) for (const p of n === a ? before.a : before.b) t.true(has(n, p), `${n.name} kept ${p}`);
  // Our End-of-RIB ended BIRD's graceful restart (its stale routes were swept or refreshed): BIRD 2 and 1.6
  // print "Neighbor graceful restart active" only until then.
  for (const n of [a, b, c]) t.notRegex(grState(n), /graceful restart active/, `${n.name} left graceful restart after our End-of-RIB`);
  for (const n of [a, b, c]) t.regex(grState(n), /BGP state:\s+Established/);
});
