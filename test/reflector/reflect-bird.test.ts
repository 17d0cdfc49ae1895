// End to end: our reflector (src/main.ts) between real BIRD 2 and BIRD 1.6 Calico nodes on a claimed loopback /24, checked
// from the receiving nodes' own `birdc show route all`.
import test from 'ava';
import { bgpRoutes, birdc, reconfigure, sleep, startBird16Node, startBird2Node, startReflector, waitFor, type BirdNode, type BirdRoute, type Proc } from './e2e-lab.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();

const RR = NET.host(1);
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
  '/calico/bgp/v1/host/d/ip_addr_v4': NET.host(104),
};

let a: BirdNode;
let b: BirdNode;
let c: BirdNode;
let d: BirdNode;
const dConf = { ip: NET.host(104), rr: RR, blocks: ['10.60.4.0/26'], rejectImport: ['10.60.2.0/26'] };

test.before(async () => {
  procs.push(startReflector(RR, keys));
  a = startBird2Node({ ip: NET.host(101), rr: RR, blocks: ['10.60.1.0/26', '10.60.1.64/26', '10.96.0.10/32'], med: 77, localPref: 250, community: [64512, 100], largeCommunity: [64512, 1, 2] });
  b = startBird16Node({ ip: NET.host(102), rr: RR, blocks: ['10.60.2.0/26', '10.96.0.10/32'], community: [64512, 200], largeCommunity: [64512, 3, 4] });
  c = startBird2Node({ ip: NET.host(103), rr: RR, blocks: ['10.60.3.0/26'] });
  d = startBird2Node(dConf);
  procs.push(a, b, c, d);
  await waitFor('every node to hold the other nodes\' blocks', () => {
    const has = (n: BirdNode, ps: string[]) => ps.every((p) => bgpRoutes(n).some((r) => r.prefix === p));
    return has(d, ['10.60.1.0/26']) && has(c, ['10.60.1.0/26', '10.60.1.64/26', '10.60.2.0/26', '10.96.0.10/32']) && has(b, ['10.60.1.0/26', '10.60.3.0/26']) && has(a, ['10.60.2.0/26', '10.60.3.0/26']);
  }, 60_000);
});

function route(n: BirdNode, prefix: string): BirdRoute[] {
  return bgpRoutes(n).filter((r) => r.prefix === prefix);
}

test.serial('BIRD 2 receiver: next hop, ORIGINATOR_ID, CLUSTER_LIST, MED, LOCAL_PREF, communities exactly as the source sent them', (t) => {
  const [r] = route(c, '10.60.1.0/26');
  t.is(r.attrs.get('BGP.next_hop'), NET.host(101));
  t.is(r.attrs.get('BGP.originator_id'), NET.host(101));
  t.is(r.attrs.get('BGP.cluster_list'), RR);
  t.is(r.attrs.get('BGP.med'), '77');
  t.is(r.attrs.get('BGP.local_pref'), '250');
  t.is(r.attrs.get('BGP.community'), '(64512,100)');
  t.is(r.attrs.get('BGP.large_community'), '(64512, 1, 2)');
  t.is(r.attrs.get('BGP.as_path'), '');
  t.is(r.attrs.get('BGP.origin'), 'IGP');
  const [fromB] = route(c, '10.60.2.0/26');
  t.is(fromB.attrs.get('BGP.next_hop'), NET.host(102));
  t.is(fromB.attrs.get('BGP.originator_id'), NET.host(102));
  t.is(fromB.attrs.get('BGP.large_community'), '(64512, 3, 4)');
});

test.serial('BIRD 1.6 receiver sees the BIRD 2 node\'s route with the same attributes', (t) => {
  const [r] = route(b, '10.60.1.64/26');
  t.is(r.attrs.get('BGP.next_hop'), NET.host(101));
  t.is(r.attrs.get('BGP.originator_id'), NET.host(101));
  t.is(r.attrs.get('BGP.cluster_list'), RR);
  t.is(r.attrs.get('BGP.med'), '77');
  t.is(r.attrs.get('BGP.local_pref'), '250');
  t.is(r.attrs.get('BGP.community'), '(64512,100)');
  t.is(r.attrs.get('BGP.large_community'), '(64512, 1, 2)');
});

test.serial('no route goes back to the node it came from', (t) => {
  t.deepEqual(route(a, '10.60.1.0/26'), []);
  t.deepEqual(route(b, '10.60.2.0/26'), []);
  t.deepEqual(route(c, '10.60.3.0/26'), []);
});

test.serial('anycast /32 from two nodes: receivers get exactly one path, the best (LOCAL_PREF 250 from a)', (t) => {
  const rs = route(c, '10.96.0.10/32');
  t.is(rs.length, 1);
  t.is(rs[0].attrs.get('BGP.next_hop'), NET.host(101));
  // b's own announcement loses, so b receives a's path from us.
  t.is(route(b, '10.96.0.10/32')[0]?.attrs.get('BGP.next_hop'), NET.host(101));
});

test.serial('a withdrawal reaches the others at once; re-announcement too', async (t) => {
  t.regex(birdc(a, 'disable', 'static1'), /disabled/);
  const t0 = Date.now();
  await waitFor('withdrawal at c and b', () => route(c, '10.60.1.0/26').length === 0 && route(b, '10.60.1.0/26').length === 0, 30_000, 20);
  const withdrawMs = Date.now() - t0;
  // The anycast /32 falls back to b's path.
  await waitFor('anycast fallback', () => route(c, '10.96.0.10/32')[0]?.attrs.get('BGP.next_hop') === NET.host(102), 10_000, 20);
  t.is(route(c, '10.96.0.10/32').length, 1);
  t.regex(birdc(a, 'enable', 'static1'), /enabled/);
  await waitFor('re-announcement', () => route(c, '10.60.1.0/26').length === 1, 10_000, 20);
  t.log(`withdrawal seen at the other nodes after ${withdrawMs} ms (birdc polling included)`);
  // How fast is a figure (flap_withdraw_ms of `npm run bench -- --workload calico`, against BIRD in the same run).
  t.true(withdrawMs < 30_000);
});

test.serial('route refresh: a node that drops its import filter asks again and gets the full table, session kept', async (t) => {
  t.deepEqual(route(d, '10.60.2.0/26'), [], 'filtered at first');
  const since = birdc(d, 'show', 'protocols', `Global_${NET.under(1)}`);
  t.regex(reconfigure(d, { ...dConf, rejectImport: [] }), /Reconfigur/);
  // BIRD re-imports through ROUTE-REFRESH (the session supports it) instead of restarting the session.
  await waitFor('the refreshed route', () => route(d, '10.60.2.0/26').length === 1, 15_000);
  t.is(route(d, '10.60.2.0/26')[0].attrs.get('BGP.originator_id'), NET.host(102));
  t.is(birdc(d, 'show', 'protocols', `Global_${NET.under(1)}`), since, 'same session (no restart)');
  t.regex(birdc(d, 'reload', 'in', `Global_${NET.under(1)}`), /reload/i);
  await sleep(1000);
  t.is(route(d, '10.60.2.0/26').length, 1);
});
