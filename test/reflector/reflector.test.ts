import test from 'ava';
import { Reflector, type ReflectorOptions } from '../../src/reflector/reflector.js';
import { attrs, quad, updateV4, updateV6, walkAttrs } from '../rib/helpers.js';
import { FakePeer, neg, settle, summary, ROUTER_ID, CLUSTER } from './fake-peer.js';

interface Lab {
  r: Reflector;
  a: FakePeer; b: FakePeer; c: FakePeer; m: FakePeer; m2: FakePeer;
}

async function lab(opts: Partial<ReflectorOptions> = {}): Promise<Lab> {
  const r = new Reflector({ routerId: ROUTER_ID, ...opts });
  const a = new FakePeer('Global_10_0_1_1', '10.0.1.1', true);
  const b = new FakePeer('Global_10_0_1_2', '10.0.1.2', true);
  const c = new FakePeer('Global_10_0_1_3', '10.0.1.3', true);
  const m = new FakePeer('Mesh_10_0_0_11', '10.0.0.11', false);
  const m2 = new FakePeer('Mesh_10_0_0_12', '10.0.0.12', false);
  r.peerUp(a, neg('10.0.1.1'));
  r.peerUp(b, neg('10.0.1.2'));
  r.peerUp(c, neg('10.0.1.3'));
  r.peerUp(m, neg('10.0.0.11'));
  r.peerUp(m2, neg('10.0.0.12'));
  await settle(r);
  for (const p of [a, b, c, m, m2]) {
    const s = summary(p.updates());
    if (s.eor !== 1 || s.announced.length !== 0) throw new Error(`${p.name}: expected only End-of-RIB`);
  }
  return { r, a, b, c, m, m2 };
}

const nodeAttrs = (nh: string) => attrs({ asPath: [], nextHop: nh, localPref: 100, med: 5, communities: [0xfc000001], largeCommunities: [[64512, 7, 9]] });

test('client route goes to the other clients and the mesh, with ORIGINATOR_ID and CLUSTER_LIST, never back', async (t) => {
  const { r, a, b, c, m, m2 } = await lab();
  const input = nodeAttrs('100.64.1.1');
  r.handleUpdate(a, updateV4({ attrs: input, nlri: ['10.60.1.0/26', '10.60.1.64/26'] }));
  await settle(r);
  t.deepEqual(a.updates(), []);
  for (const p of [b, c, m, m2]) {
    const us = p.updates();
    t.is(us.length, 1, p.name);
    t.deepEqual(us[0].nlri.sort(), ['10.60.1.0/26', '10.60.1.64/26']);
    const got = walkAttrs(us[0].attrs);
    for (const x of walkAttrs(input)) t.deepEqual(got.find((g) => g.type === x.type), x, `attribute ${x.type} unchanged`);
    t.deepEqual(got.find((g) => g.type === 9)?.value, Buffer.from([10, 0, 1, 1]));
    t.deepEqual(got.find((g) => g.type === 10)?.value, Buffer.from([1, 0, 0, 1]));
  }
  t.deepEqual(r.routeStats(a.name, 4), { imported: 2, exported: 0, preferred: 2, filtered: 0 });
  t.is(r.routeStats(b.name, 4).exported, 2);
  const routes = [...r.routes(4)];
  t.is(routes.length, 2);
  t.is(routes[0].nextHop, '100.64.1.1');
  t.is(routes[0].from, a.name);
  t.true(routes[0].primary);
  r.close();
});

test('non-client (mesh) route goes to clients only', async (t) => {
  const { r, a, b, c, m, m2 } = await lab();
  r.handleUpdate(m, updateV4({ attrs: attrs({ nextHop: '100.64.9.9', originatorId: '10.0.9.9', clusterList: ['2.0.0.2'] }), nlri: ['10.60.9.0/26'] }));
  await settle(r);
  t.deepEqual(m.updates(), []);
  t.deepEqual(m2.updates(), []);
  for (const p of [a, b, c]) {
    const us = p.updates();
    t.deepEqual(summary(us).announced, ['10.60.9.0/26']);
    const got = walkAttrs(us[0].attrs);
    t.deepEqual(got.find((g) => g.type === 9)?.value, Buffer.from([10, 0, 9, 9]), 'existing ORIGINATOR_ID kept');
    t.deepEqual(got.find((g) => g.type === 10)?.value, Buffer.from([1, 0, 0, 1, 2, 0, 0, 2]), 'our cluster prepended');
  }
  r.close();
});

test('anycast /32 from two clients: one best; best change and withdraw go out at once, source gets no echo', async (t) => {
  const { r, a, b, c } = await lab();
  r.handleUpdate(b, updateV4({ attrs: attrs({ nextHop: '100.64.1.2' }), nlri: ['10.96.0.10/32'] }));
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1' }), nlri: ['10.96.0.10/32'] }));
  await settle(r);
  // Best = a (lower BGP id): c and b get a's route, a gets nothing.
  const nhOf = (p: FakePeer) => p.updates().map((u) => walkAttrs(u.attrs).find((x) => x.type === 3)?.value.join('.'));
  t.deepEqual(nhOf(c), ['100.64.1.1']);
  t.deepEqual(nhOf(b), ['100.64.1.1']);
  t.deepEqual(a.updates(), []);
  // a withdraws: best = b. c and a get b's route, b gets a withdrawal of a's copy.
  r.handleUpdate(a, updateV4({ withdrawn: ['10.96.0.10/32'] }));
  await settle(r);
  t.deepEqual(nhOf(c), ['100.64.1.2']);
  t.deepEqual(nhOf(a), ['100.64.1.2']);
  t.deepEqual(summary(b.updates()), { announced: [], withdrawn: ['10.96.0.10/32'], eor: 0 });
  // b withdraws too: everyone but b is told.
  r.handleUpdate(b, updateV4({ withdrawn: ['10.96.0.10/32'] }));
  await settle(r);
  t.deepEqual(summary(c.updates()).withdrawn, ['10.96.0.10/32']);
  t.deepEqual(summary(a.updates()).withdrawn, ['10.96.0.10/32']);
  t.deepEqual(b.updates(), []);
  t.is(r.tableStats(4).prefixes, 0, 'slot released');
  r.close();
});

test('loop checks: our ORIGINATOR_ID dropped; our CLUSTER_ID dropped from clients, kept from mesh but not reflected', async (t) => {
  const { r, a, b, m } = await lab();
  r.handleUpdate(m, updateV4({ attrs: attrs({ nextHop: '1.1.1.1', originatorId: ROUTER_ID }), nlri: ['10.1.0.0/24'] }));
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '1.1.1.1', clusterList: [CLUSTER] }), nlri: ['10.2.0.0/24'] }));
  r.handleUpdate(m, updateV4({ attrs: attrs({ nextHop: '1.1.1.1', originatorId: '10.0.7.7', clusterList: [CLUSTER] }), nlri: ['10.3.0.0/24'] }));
  await settle(r);
  t.deepEqual(b.updates(), []);
  t.deepEqual(a.updates(), []);
  t.deepEqual([...r.routes(4)].map((x) => x.prefix), ['10.3.0.0/24']);
  t.is(r.peerCounters(m.name)?.loopsRejected, 1);
  t.is(r.peerCounters(a.name)?.loopsRejected, 1);
  r.close();
});

test('coalescing: changes before a flush go out once, with the latest attributes, packed', async (t) => {
  const { r, a, b } = await lab();
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1', localPref: 100 }), nlri: ['10.0.0.0/24', '10.0.1.0/24'] }));
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1', localPref: 300 }), nlri: ['10.0.0.0/24', '10.0.1.0/24'] }));
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1' }), nlri: ['10.0.2.0/24'] }));
  r.handleUpdate(a, updateV4({ withdrawn: ['10.0.2.0/24'] }));
  await settle(r);
  const us = b.updates();
  t.is(us.length, 1);
  t.deepEqual(us[0].nlri.sort(), ['10.0.0.0/24', '10.0.1.0/24']);
  t.is(walkAttrs(us[0].attrs).find((x) => x.type === 5)?.value.readUInt32BE(0), 300);
  // 3000 prefixes with one attribute set pack into few full messages.
  const many = Array.from({ length: 3000 }, (_, i) => `10.${100 + (i >> 8)}.${i & 255}.0/24`);
  for (let i = 0; i < many.length; i += 500) r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1' }), nlri: many.slice(i, i + 500) }));
  await settle(r);
  const raw = b.take();
  t.true(raw.length <= Math.ceil((3000 * 4) / (4096 - 60)) + 1, `${raw.length} messages`);
  t.true(raw.every((x) => x.raw.length <= 4096));
  t.is(raw.reduce((n, x) => n + (x.update?.nlri.length ?? 0), 0), 3000);
  r.close();
});

test('backpressure: a blocked member is left out, then catches up to the exact state', async (t) => {
  const { r, a, b, c } = await lab({ lagLimitBytes: 0 });
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1' }), nlri: ['10.0.0.0/24', '10.0.1.0/24'] }));
  b.blocked = true;
  await settle(r);
  t.is(summary(b.updates()).announced.length, 2); // accepted, but send() said stop
  c.take();
  r.handleUpdate(a, updateV4({ withdrawn: ['10.0.0.0/24'] }));
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1', med: 1 }), nlri: ['10.0.2.0/24'] }));
  await settle(r);
  t.deepEqual(b.updates(), [], 'nothing while blocked');
  const cs = summary(c.updates());
  t.deepEqual(cs, { announced: ['10.0.2.0/24'], withdrawn: ['10.0.0.0/24'], eor: 0 }, 'others not stalled');
  b.blocked = false;
  r.handleDrain(b);
  await settle(r);
  t.deepEqual(summary(b.updates()), { announced: ['10.0.2.0/24'], withdrawn: ['10.0.0.0/24'], eor: 0 });
  r.close();
});

test('a peer joining later gets the table without its own routes, then End-of-RIB; route refresh resends it', async (t) => {
  const { r, a, b } = await lab();
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1' }), nlri: ['10.0.0.0/24'] }));
  r.handleUpdate(b, updateV4({ attrs: attrs({ nextHop: '100.64.1.2' }), nlri: ['10.0.1.0/24'] }));
  await settle(r);
  a.take(); b.take();
  r.peerDown(a, { graceful: false });
  const a2 = new FakePeer(a.name, '10.0.1.1', true);
  r.peerUp(a2, neg('10.0.1.1', { enhancedRouteRefresh: true }));
  r.handleUpdate(a2, updateV4({ attrs: attrs({ nextHop: '100.64.1.1' }), nlri: ['10.0.0.0/24'] }));
  await settle(r);
  t.deepEqual(summary(a2.updates()), { announced: ['10.0.1.0/24'], withdrawn: [], eor: 1 });
  r.handleRouteRefresh(a2, { afi: 1, safi: 1, subtype: 0 });
  await settle(r);
  const msgs = a2.take();
  t.deepEqual(msgs.map((x) => x.type), [5, 2, 5], 'BoRR, table, EoRR');
  t.is(msgs[0].raw[21], 1);
  t.is(msgs[2].raw[21], 2);
  t.deepEqual(msgs[1].update?.nlri, ['10.0.1.0/24']);
  r.close();
});

test('graceful restart helper: routes kept as stale, replaced as re-sent, rest swept at End-of-RIB', async (t) => {
  const { r, a, b } = await lab();
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1' }), nlri: ['10.0.0.0/24', '10.0.1.0/24'] }));
  await settle(r);
  b.take();
  r.peerDown(a, { graceful: true });
  await settle(r);
  t.deepEqual(b.updates(), [], 'no withdrawal on a graceful restart');
  t.true([...r.routes(4)].every((x) => x.stale));
  const a2 = new FakePeer(a.name, '10.0.1.1', true);
  r.peerUp(a2, neg('10.0.1.1'));
  r.handleUpdate(a2, updateV4({ attrs: attrs({ nextHop: '100.64.1.1' }), nlri: ['10.0.0.0/24'] }));
  await settle(r);
  t.deepEqual(b.updates(), [], 'unchanged re-sent route is not re-advertised');
  r.handleUpdate(a2, updateV4({}));
  await settle(r);
  t.deepEqual(summary(b.updates()), { announced: [], withdrawn: ['10.0.1.0/24'], eor: 0 });
  t.deepEqual([...r.routes(4)].map((x) => [x.prefix, x.stale]), [['10.0.0.0/24', false]]);
  r.close();
});

test('session down without graceful restart withdraws everything it announced', async (t) => {
  const { r, a, b, m } = await lab();
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1' }), nlri: ['10.0.0.0/24'] }));
  await settle(r);
  b.take(); m.take();
  r.peerDown(a, { graceful: false });
  await settle(r);
  t.deepEqual(summary(b.updates()).withdrawn, ['10.0.0.0/24']);
  t.deepEqual(summary(m.updates()).withdrawn, ['10.0.0.0/24']);
  r.close();
});

test('RFC 7606: a bad ORIGIN is treat-as-withdraw, counted, other peers see a withdrawal only', async (t) => {
  const { r, a, b } = await lab();
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1' }), nlri: ['10.0.0.0/24'] }));
  await settle(r);
  b.take();
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1', origin: 7 }), nlri: ['10.0.0.0/24'] }));
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1', origin: 7 }), nlri: ['10.0.0.0/24'] }));
  await settle(r);
  t.deepEqual(summary(b.updates()), { announced: [], withdrawn: ['10.0.0.0/24'], eor: 0 });
  t.is(r.peerCounters(a.name)?.malformed['treat-as-withdraw'], 2);
  r.close();
});

// RFC 4724 §4.2: a helper keeps our pre-restart routes as stale until our End-of-RIB. So after our restart a
// route may go out at once (it replaces the stale copy), but End-of-RIB must wait for the peers still away.
test('our own restart: routes flow at once, End-of-RIB waits for every configured peer', async (t) => {
  const r = new Reflector({ routerId: ROUTER_ID, restarting: true });
  r.setExpectedPeers(['Global_10_0_1_1', 'Global_10_0_1_2', 'Global_10_0_1_3']);
  const a = new FakePeer('Global_10_0_1_1', '10.0.1.1', true);
  const b = new FakePeer('Global_10_0_1_2', '10.0.1.2', true);
  r.peerUp(a, neg('10.0.1.1'));
  r.peerUp(b, neg('10.0.1.2'));
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1' }), nlri: ['10.0.0.0/24'] }));
  r.handleUpdate(a, updateV4({}));
  r.handleUpdate(b, updateV4({}));
  await settle(r);
  t.deepEqual(summary(b.updates()), { announced: ['10.0.0.0/24'], withdrawn: [], eor: 0 }, 'the route at once, no End-of-RIB while c is away');
  t.deepEqual(summary(a.updates()), { announced: [], withdrawn: [], eor: 0 });
  t.true(r.deferringEndOfRib);
  const c = new FakePeer('Global_10_0_1_3', '10.0.1.3', true);
  r.peerUp(c, neg('10.0.1.3'));
  r.handleUpdate(c, updateV4({ attrs: attrs({ nextHop: '100.64.1.3' }), nlri: ['10.0.3.0/24'] }));
  await settle(r);
  t.deepEqual(summary(b.updates()), { announced: ['10.0.3.0/24'], withdrawn: [], eor: 0 }, 'c is up but has not sent End-of-RIB');
  t.deepEqual(summary(c.updates()), { announced: ['10.0.0.0/24'], withdrawn: [], eor: 0 });
  r.handleUpdate(c, updateV4({}));
  await settle(r);
  t.false(r.deferringEndOfRib);
  for (const p of [a, b, c]) t.is(summary(p.updates()).eor, 1, `${p.name} got End-of-RIB once every configured peer sent its own`);
  // After the deferral a new session gets its End-of-RIB right after its table.
  const d = new FakePeer('Global_10_0_1_4', '10.0.1.4', true);
  r.peerUp(d, neg('10.0.1.4'));
  await settle(r);
  t.deepEqual(summary(d.updates()), { announced: ['10.0.0.0/24', '10.0.3.0/24'], withdrawn: [], eor: 1 });
  r.close();
});

test('our own restart: End-of-RIB at once to a peer that restarted too (R bit) or has no graceful restart', async (t) => {
  const r = new Reflector({ routerId: ROUTER_ID, restarting: true });
  r.setExpectedPeers(['Global_10_0_1_1', 'Mesh_10_0_0_11', 'Global_10_0_1_9', 'Global_10_0_1_8']);
  const a = new FakePeer('Global_10_0_1_1', '10.0.1.1', true);
  const m = new FakePeer('Mesh_10_0_0_11', '10.0.0.11', false);
  const n = new FakePeer('Global_10_0_1_9', '10.0.1.9', true);
  r.peerUp(a, neg('10.0.1.1'));
  r.peerUp(m, neg('10.0.0.11', { gracefulRestart: { peerRestartTime: 120, peerRestarting: true, peerNotification: false, afis: [] } }));
  r.peerUp(n, neg('10.0.1.9', { gracefulRestart: null }));
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1' }), nlri: ['10.0.0.0/24'] }));
  r.handleUpdate(a, updateV4({}));
  await settle(r);
  t.true(r.deferringEndOfRib, 'Global_10_0_1_8 is configured and away');
  t.deepEqual(summary(m.updates()), { announced: ['10.0.0.0/24'], withdrawn: [], eor: 1 }, 'R bit: it holds nothing of ours and waits for our marker');
  t.deepEqual(summary(n.updates()), { announced: ['10.0.0.0/24'], withdrawn: [], eor: 1 }, 'no graceful restart: nothing stale to flush');
  t.is(summary(a.updates()).eor, 0, 'a helper: its stale routes from the away peer must stay');
  r.close();
});

test('our own restart: a configured peer that never comes delays End-of-RIB by the deferral time only', async (t) => {
  const r = new Reflector({ routerId: ROUTER_ID, restarting: true, restartDeferralMs: 300 });
  const started = Date.now();
  r.setExpectedPeers(['Global_10_0_1_1', 'Global_10_0_1_2']);
  const a = new FakePeer('Global_10_0_1_1', '10.0.1.1', true);
  r.peerUp(a, neg('10.0.1.1'));
  r.handleUpdate(a, updateV4({}));
  await settle(r);
  t.is(summary(a.updates()).eor, 0);
  for (let i = 0; i < 100 && r.deferringEndOfRib; i++) await new Promise((res) => setTimeout(res, 20));
  t.false(r.deferringEndOfRib);
  t.true(Date.now() - started >= 290, 'not before the deferral time');
  await settle(r);
  t.is(summary(a.updates()).eor, 1);
  r.close();
});

test('our own restart: a peer removed from the datastore is no longer waited for', async (t) => {
  const r = new Reflector({ routerId: ROUTER_ID, restarting: true });
  r.setExpectedPeers(['Global_10_0_1_1', 'Global_10_0_1_2']);
  const a = new FakePeer('Global_10_0_1_1', '10.0.1.1', true);
  r.peerUp(a, neg('10.0.1.1'));
  r.handleUpdate(a, updateV4({}));
  await settle(r);
  t.true(r.deferringEndOfRib);
  r.setExpectedPeers(['Global_10_0_1_1']);
  await settle(r);
  t.false(r.deferringEndOfRib);
  t.is(summary(a.updates()).eor, 1);
  r.close();
});

test('export cache: one transformed attribute set per (input set, source, group)', async (t) => {
  const { r, a } = await lab();
  const before = r.attrs.size;
  for (let i = 0; i < 50; i++) r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1' }), nlri: [`10.0.${i}.0/24`] }));
  await settle(r);
  // 1 input set + 1 exported set: the client group and the mesh group produce the same bytes, so one entry.
  t.is(r.attrs.size - before, 2);
  const input = [...r.attrs.entries()].find((e) => e.exportCount > 0);
  t.is(input?.exportCount, 2, 'one cached export per group');
  t.is(quad('1.0.0.1'), 0x01000001);
  r.close();
});

test('an UPDATE error that needs a session reset is returned and passed to resetSession, never thrown', async (t) => {
  const { r, a, b } = await lab();
  const resets: number[] = [];
  a.resetSession = (e) => resets.push(e.code);
  const bad = updateV4({ attrs: attrs({ nextHop: '1.1.1.1' }), nlri: ['10.0.0.0/24'] });
  bad.writeUInt16BE(0xffff, 21); // total path attribute length overruns the message
  const err = r.handleUpdate(a, bad);
  t.is(err?.code, 3);
  t.deepEqual(resets, [3]);
  t.is(r.peerCounters(a.name)?.malformed['session-reset'], 1);
  await settle(r);
  t.deepEqual(b.updates(), []);
  r.close();
});

test('IPv6: a 32-byte next hop (global + link-local) is reflected byte-exact in MP_REACH_NLRI; withdrawals in MP_UNREACH', async (t) => {
  const r = new Reflector({ routerId: ROUTER_ID });
  const v6 = { families: [2], recvCtx: { as4: true, addPathV4: false, addPathV6: false, maxMessageLen: 4096 } };
  const a = new FakePeer('Global_fd00__11', 'fd00::11', true, 6);
  const b = new FakePeer('Global_fd00__12', 'fd00::12', true, 6);
  r.peerUp(a, neg('10.0.1.1', v6));
  r.peerUp(b, neg('10.0.1.2', v6));
  await settle(r);
  t.deepEqual(summary(b.updates()), { announced: [], withdrawn: [], eor: 1 });
  const nh = Buffer.from('fd000000000000000000000000000011fe800000000000000000000000000011', 'hex');
  r.handleUpdate(a, updateV6({ attrs: attrs({ localPref: 100, communities: [0xfde80001] }), nextHop: nh, nlri: ['fd00:1::/122', 'fd00:1::40/122'] }));
  await settle(r);
  const us = b.updates();
  t.is(us.length, 1);
  t.deepEqual(us[0].mpReach?.nextHop, nh);
  t.deepEqual(us[0].mpReach?.nlri.sort(), ['fd00:1:0:0:0:0:0:0/122', 'fd00:1:0:0:0:0:0:40/122']);
  const got = walkAttrs(us[0].attrs);
  t.deepEqual(got.find((x) => x.type === 9)?.value, Buffer.from([10, 0, 1, 1]));
  t.is(got.find((x) => x.type === 3), undefined, 'no IPv4 NEXT_HOP on IPv6');
  t.deepEqual([...r.routes(6)].map((x) => [x.prefix, x.nextHop]), [
    ['fd00:1::/122', 'fd00::11 fe80::11'], ['fd00:1::40/122', 'fd00::11 fe80::11'],
  ]);
  r.handleUpdate(a, updateV6({ withdrawn: ['fd00:1::40/122'] }));
  await settle(r);
  t.deepEqual(summary(b.updates()).withdrawn, ['fd00:1:0:0:0:0:0:40/122']);
  r.handleUpdate(a, updateV6({}));
  r.peerDown(a, { graceful: false });
  await settle(r);
  t.deepEqual(summary(b.updates()).withdrawn, ['fd00:1:0:0:0:0:0:0/122']);
  r.close();
});

test('a 2-octet-AS peer gets AS_TRANS in AS_PATH plus AS4_PATH (its own update group)', async (t) => {
  const { r, a } = await lab();
  const old = new FakePeer('Global_10_0_1_9', '10.0.1.9', true);
  r.peerUp(old, neg('10.0.1.9', { as4: false, sendCtx: { as4: false, addPathV4: false, addPathV6: false, maxMessageLen: 4096 } }));
  await settle(r);
  old.take();
  r.handleUpdate(a, updateV4({ attrs: attrs({ asPath: [4200000000, 65001], nextHop: '100.64.1.1' }), nlri: ['10.9.0.0/24'] }));
  await settle(r);
  const us = old.updates();
  t.is(us.length, 1);
  const got = walkAttrs(us[0].attrs);
  t.deepEqual(got.find((x) => x.type === 2)?.value, Buffer.from([2, 2, 0x5b, 0xa0, 0xfd, 0xe9]));
  t.deepEqual(got.find((x) => x.type === 17)?.value, Buffer.from([2, 2, 0xfa, 0x56, 0xea, 0x00, 0, 0, 0xfd, 0xe9]));
  t.deepEqual(got.find((x) => x.type === 9)?.value, Buffer.from([10, 0, 1, 1]));
  t.is(r.updateGroups().filter((g) => g.family === 4).length, 3, 'clients (4-octet), clients (2-octet), mesh');
  r.close();
});

test('backpressure: a full socket keeps the shared stream until the lag limit, then leaves it', async (t) => {
  const { r, a, b, c } = await lab({ lagLimitBytes: 200 });
  b.blocked = true;
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1' }), nlri: ['10.0.0.0/24'] }));
  await settle(r);
  t.is(summary(b.updates()).announced.length, 1);
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1', med: 3 }), nlri: ['10.0.1.0/24'] }));
  await settle(r);
  t.is(summary(b.updates()).announced.length, 1, 'still in the stream below the limit');
  const many = Array.from({ length: 100 }, (_, i) => `10.1.${i}.0/24`);
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1', med: 4 }), nlri: many }));
  await settle(r);
  t.is(summary(b.updates()).announced.length, 100, 'this one went out, and passed the limit');
  r.handleUpdate(a, updateV4({ withdrawn: ['10.0.0.0/24'] }));
  await settle(r);
  t.deepEqual(b.updates(), [], 'out of the stream now');
  t.deepEqual(summary(c.updates()).withdrawn.slice(-1), ['10.0.0.0/24']);
  b.blocked = false;
  r.handleDrain(b);
  await settle(r);
  t.deepEqual(summary(b.updates()), { announced: [], withdrawn: ['10.0.0.0/24'], eor: 0 });
  r.close();
});

test('enhanced route refresh from a peer: BoRR marks its routes stale, EoRR drops what it did not repeat', async (t) => {
  const { r, a, b } = await lab();
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1' }), nlri: ['10.0.0.0/24', '10.0.1.0/24'] }));
  await settle(r);
  b.take();
  r.handleRouteRefresh(a, { afi: 1, safi: 1, subtype: 1 });
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1' }), nlri: ['10.0.1.0/24'] }));
  await settle(r);
  t.deepEqual(b.updates(), [], 'nothing changes during the re-advertisement');
  r.handleRouteRefresh(a, { afi: 1, safi: 1, subtype: 2 });
  await settle(r);
  t.deepEqual(summary(b.updates()), { announced: [], withdrawn: ['10.0.0.0/24'], eor: 0 });
  r.close();
});

test('ADD-PATH receive: several paths of one peer for a prefix compete; withdrawing one by path id', async (t) => {
  const { r, a, b } = await lab();
  const ap = { addPath: { rx: { 1: true }, tx: {} }, recvCtx: { as4: true, addPathV4: true, addPathV6: false, maxMessageLen: 4096 } };
  r.peerDown(a, { graceful: false });
  const a2 = new FakePeer(a.name, '10.0.1.1', true);
  r.peerUp(a2, neg('10.0.1.1', ap));
  await settle(r);
  a2.take(); b.take();
  const withPathId = (m: Buffer, id: number): Buffer => {
    // Rewrite a one-prefix plain UPDATE's NLRI (or withdrawn) field with a 4-octet path identifier in front.
    const wl = m.readUInt16BE(19);
    const al = m.readUInt16BE(21 + wl);
    const hasW = wl > 0;
    const start = hasW ? 21 : 23 + wl + al;
    const end = hasW ? 21 + wl : m.length;
    const pid = Buffer.alloc(4);
    pid.writeUInt32BE(id);
    const out = Buffer.concat([m.subarray(0, start), pid, m.subarray(start, end), m.subarray(end)]);
    out.writeUInt16BE(out.length, 16);
    if (hasW) out.writeUInt16BE(wl + 4, 19);
    return out;
  };
  r.handleUpdate(a2, withPathId(updateV4({ attrs: attrs({ nextHop: '100.64.1.1', localPref: 100 }), nlri: ['10.7.0.0/24'] }), 1));
  r.handleUpdate(a2, withPathId(updateV4({ attrs: attrs({ nextHop: '100.64.1.9', localPref: 200 }), nlri: ['10.7.0.0/24'] }), 2));
  await settle(r);
  const nh = (p: FakePeer) => p.updates().map((u) => walkAttrs(u.attrs).find((x) => x.type === 3)?.value.join('.'));
  t.deepEqual(nh(b), ['100.64.1.9']);
  t.is([...r.routes(4)].length, 2);
  r.handleUpdate(a2, withPathId(updateV4({ withdrawn: ['10.7.0.0/24'] }), 2));
  await settle(r);
  t.deepEqual(nh(b), ['100.64.1.1']);
  r.close();
});

test('export counters: each member is counted exactly what it received, its own routes excluded', async (t) => {
  const { r, a, b, c } = await lab();
  const before = { a: r.exportCounters(a.name, 4), b: r.exportCounters(b.name, 4) };
  r.handleUpdate(a, updateV4({ attrs: attrs({ nextHop: '100.64.1.1' }), nlri: ['10.61.0.0/24', '10.61.1.0/24'] }));
  r.handleUpdate(b, updateV4({ attrs: attrs({ nextHop: '100.64.1.2' }), nlri: ['10.62.0.0/24'] }));
  await settle(r);
  r.handleUpdate(a, updateV4({ withdrawn: ['10.61.1.0/24'] }));
  await settle(r);
  for (const [p, b0] of [[a, before.a], [b, before.b]] as const) {
    const got = p.take().filter((x) => x.update !== undefined).map((x) => x.update!);
    const s = summary(got);
    const now = r.exportCounters(p.name, 4);
    t.is(now.updates - b0.updates, got.length, `${p.name}: UPDATE messages`);
    t.is(now.withdrawn - b0.withdrawn, s.withdrawn.length, `${p.name}: withdrawn prefixes`);
    t.is(now.prefixes - b0.prefixes, s.announced.length + s.withdrawn.length, `${p.name}: prefixes`);
  }
  // a never gets its own routes or their withdrawal; b gets a's two, then the withdrawal.
  t.is(r.exportCounters(a.name, 4).withdrawn - before.a.withdrawn, 0);
  t.is(r.exportCounters(b.name, 4).withdrawn - before.b.withdrawn, 1);
  t.true(r.exportCounters(c.name, 4).prefixes >= 4);
  t.deepEqual(r.exportCounters('nobody', 4), { updates: 0, prefixes: 0, withdrawn: 0 });
  r.close();
});
