// End to end, IPv6 and IPv4 in one reflector process: BIRD 2 (ipv6 channel) and BIRD 1.6 (bird6) Calico nodes
// over IPv6, plus IPv4 nodes, all inside a network namespace this test creates (fd60:: addresses on its lo).
import test from 'ava';
import { bgpRoutes, birdc, createNetns, deleteNetns, startBird16Node, startBird2Node, startBird2Node6, startBird6Node, startReflector6, waitFor, type BirdNode, type Proc } from './e2e-lab.js';
import { netnsName } from '../helpers/net.js';

// Inside its own namespace the 127.60.5.x addresses (and port 179) are this run's alone.
const NS = netnsName('rr60v6');
const RR = '127.60.5.1';
const RR6 = 'fd60::1';
const procs: Proc[] = [];
test.after.always(async () => {
  for (const p of procs) await p.stop();
  deleteNetns(NS);
});

const keys = {
  '/calico/bgp/v1/global/as_num': '64512',
  [`/calico/bgp/v1/global/peer_v6/${RR6}`]: { ip: RR6, as_num: '64512' },
  [`/calico/bgp/v1/global/peer_v4/${RR}`]: { ip: RR, as_num: '64512' },
  '/calico/bgp/v1/host/a/ip_addr_v6': 'fd60::11',
  '/calico/bgp/v1/host/b/ip_addr_v6': 'fd60::12',
  '/calico/bgp/v1/host/c/ip_addr_v6': 'fd60::13',
  '/calico/bgp/v1/host/d/ip_addr_v4': '127.60.5.21',
  '/calico/bgp/v1/host/e/ip_addr_v4': '127.60.5.22',
};

let a: BirdNode;
let b: BirdNode;
let c: BirdNode;
let d: BirdNode;
let e: BirdNode;
const has = (n: BirdNode, p: string) => bgpRoutes(n).find((x) => x.prefix === p);

test.before(async () => {
  createNetns(NS, [RR6, 'fd60::11', 'fd60::12', 'fd60::13']);
  procs.push(startReflector6(RR, RR6, NS, keys));
  const base = { rr: RR, rr6: RR6, netns: NS };
  a = startBird2Node6({ ...base, ip: '127.60.5.11', ip6: 'fd60::11', blocks: ['fd60:a::/122'], community: [64512, 6], largeCommunity: [64512, 6, 6], med: 9 });
  b = startBird6Node({ ...base, ip: '127.60.5.12', ip6: 'fd60::12', blocks: ['fd60:b::/122'] });
  c = startBird2Node6({ ...base, ip: '127.60.5.13', ip6: 'fd60::13', blocks: ['fd60:c::/122'] });
  d = startBird2Node({ ip: '127.60.5.21', rr: RR, netns: NS, blocks: ['10.65.1.0/26'] });
  e = startBird16Node({ ip: '127.60.5.22', rr: RR, netns: NS, blocks: ['10.65.2.0/26'] });
  procs.push(a, b, c, d, e);
  await waitFor('IPv6 and IPv4 routes everywhere', () => has(c, 'fd60:a::/122') && has(c, 'fd60:b::/122') && has(b, 'fd60:a::/122') && has(a, 'fd60:c::/122') && has(e, '10.65.1.0/26') && has(d, '10.65.2.0/26'), 60_000);
});

test.serial('IPv6: next hop, ORIGINATOR_ID, CLUSTER_LIST and attributes unchanged, at BIRD 2 and at bird6', (t) => {
  for (const n of [b, c]) {
    const r = has(n, 'fd60:a::/122');
    t.is(r?.attrs.get('BGP.next_hop'), 'fd60::11', n.name);
    t.is(r?.attrs.get('BGP.originator_id'), '127.60.5.11');
    t.is(r?.attrs.get('BGP.cluster_list'), RR);
    t.is(r?.attrs.get('BGP.med'), '9');
    t.is(r?.attrs.get('BGP.community'), '(64512,6)');
    t.is(r?.attrs.get('BGP.large_community'), '(64512, 6, 6)');
  }
  t.is(has(c, 'fd60:b::/122')?.attrs.get('BGP.next_hop'), 'fd60::12', 'from bird6 to BIRD 2');
  t.is(has(a, 'fd60:a::/122'), undefined, 'not back to the source');
});

test.serial('IPv4 in the same process: routes between the IPv4 nodes, no IPv4 route to IPv6 sessions', (t) => {
  t.is(has(e, '10.65.1.0/26')?.attrs.get('BGP.next_hop'), '127.60.5.21');
  t.is(has(d, '10.65.2.0/26')?.attrs.get('BGP.originator_id'), '127.60.5.22');
  t.false(bgpRoutes(c).some((r) => r.prefix.startsWith('10.')));
  t.false(bgpRoutes(d).some((r) => r.prefix.includes(':')));
});

test.serial('IPv6 withdrawal and re-announcement reach the others', async (t) => {
  t.regex(birdc(c, 'disable', 'static1'), /disabled/);
  await waitFor('IPv6 withdrawal', () => has(a, 'fd60:c::/122') === undefined && has(b, 'fd60:c::/122') === undefined, 10_000, 50);
  t.regex(birdc(c, 'enable', 'static1'), /enabled/);
  await waitFor('IPv6 re-announcement', () => has(a, 'fd60:c::/122') !== undefined && has(b, 'fd60:c::/122') !== undefined, 10_000, 50);
  t.pass();
});
