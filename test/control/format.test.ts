// Formatter and framing details the lab captures do not exercise: error texts, attributes, time formats, limits.

import test from 'ava';
import {
  bgpAttributeLines,
  interfacesReply,
  interfacesSummaryReply,
  memoryReply,
  protocolInfo,
  routeRow,
  sessionErrorText,
  type FormatContext,
} from '../../src/control/format.js';
import { deviceProtocol, type ProtocolView, type RouteView } from '../../src/control/model.js';
import { ReplyEncoder, final, line } from '../../src/control/reply.js';
import { DEFAULT_TIME_FORMATS, formatTime, ISO_SHORT, OLD_SHORT, strftime, timeFormatsFromSetting } from '../../src/control/timefmt.js';

const at = (y: number, mo: number, d: number, h: number, mi: number, s: number): Date => new Date(y, mo - 1, d, h, mi, s);
const ctx: FormatContext = { timeFormats: DEFAULT_TIME_FORMATS, now: at(2026, 11, 27, 10, 0, 0) };

test('framing: continuation only while the code repeats; final line always has the space', (t) => {
  const e = new ReplyEncoder();
  t.is(e.encodeAll([line(2002, 'h'), line(1002, 'a'), line(1002, 'b'), line(1006, ''), line(1006, ''), final(0, '')]), '2002-h\n1002-a\n b\n1006-\n \n0000 \n');
  // the previous reply's last code does not make the next reply's first line a continuation
  t.is(e.encodeAll([final(0, 'x')]), '0000 x\n');
  t.is(e.encodeAll([line(1, 'again'), final(0, '')]), '0001-again\n0000 \n');
});

test('framing: a line over 512 bytes becomes <line overflow> with code 8000', (t) => {
  const e = new ReplyEncoder();
  const out = e.encodeAll([line(1007, 'x'.repeat(600)), line(1007, 'ok'), final(0, '')]);
  t.is(out, '8000-<line overflow>\n1007-ok\n0000 \n');
  t.is(new ReplyEncoder().encodeAll([line(1007, 'y'.repeat(505)), final(0, '')]), `1007-${'y'.repeat(505)}\n0000 \n`);
});

test('session error texts', (t) => {
  t.is(sessionErrorText({ kind: 'socket', message: 'Connection refused' }), 'Socket: Connection refused');
  t.is(sessionErrorText({ kind: 'notificationReceived', code: 6, subcode: 2 }), 'Received: Administrative shutdown');
  t.is(sessionErrorText({ kind: 'notificationSent', code: 4, subcode: 0 }), 'BGP Error: Hold timer expired');
  t.is(sessionErrorText({ kind: 'notificationReceived', code: 2, subcode: 2 }), 'Received: Bad peer AS');
  t.is(sessionErrorText({ kind: 'notificationReceived', code: 6, subcode: 99 }), 'Received: Cease');
  t.is(sessionErrorText({ kind: 'notificationReceived', code: 42, subcode: 1 }), 'Received: Unknown error 42.1');
  t.is(sessionErrorText({ kind: 'misc', message: 'Neighbor lost' }), 'Error: Neighbor lost');
  t.is(sessionErrorText({ kind: 'automaticShutdown', message: 'Route limit exceeded' }), 'Automatic shutdown: Route limit exceeded');
});

test('info column: state padded to 14 plus the error; only the error when down; empty for non-BGP', (t) => {
  const base = deviceProtocol(ctx.now);
  t.is(protocolInfo(base), '');
  const p: ProtocolView = { ...base, kind: 'BGP', state: 'start', bgp: { state: 'Connect', neighborAddress: '10.0.0.2', neighborAs: 1 } };
  t.is(protocolInfo(p), 'Connect       ');
  const down: ProtocolView = { ...p, state: 'down', bgp: { state: 'Down', neighborAddress: '10.0.0.2', neighborAs: 1, lastError: { kind: 'notificationSent', code: 4, subcode: 0 } } };
  t.is(protocolInfo(down), 'BGP Error: Hold timer expired');
});

const bgpRoute = (over: Partial<RouteView> = {}): RouteView => ({
  prefix: '192.0.2.0/24',
  destination: { kind: 'router', gateway: '10.0.0.2', iface: 'eth0' },
  protocol: 'Node_10_0_0_2',
  since: at(2026, 11, 27, 9, 59, 0),
  fromAddress: '10.0.0.2',
  best: false,
  preference: 100,
  source: 'BGP',
  bgp: { attributes: { origin: 'EGP', asPath: [{ type: 'AS_SEQUENCE', asns: [65001, 65002] }], nextHop: ['10.0.0.2'] }, nextHopResolution: { reachable: true, igpMetric: 10 }, stale: true },
  ...over,
});

test('route rows: gateway equal to the peer hides `from`; last AS, origin, metric, flags', (t) => {
  t.is(routeRow(bgpRoute(), true, ctx), '192.0.2.0/24       via 10.0.0.2 on eth0 [Node_10_0_0_2 09:59:00] (100s/10) [AS65002e]');
  const set = bgpRoute({ best: true, fromAddress: '10.0.0.9', bgp: { attributes: { origin: 'INCOMPLETE', asPath: [{ type: 'AS_SEQUENCE', asns: [1] }, { type: 'AS_SET', asns: [2, 3] }], nextHop: ['10.0.0.9'] }, suppressed: true } });
  t.is(routeRow(set, false, ctx), '                   via 10.0.0.2 on eth0 [Node_10_0_0_2 09:59:00 from 10.0.0.9] * (100-) [?]');
  const old = bgpRoute({ since: at(2026, 11, 26, 9, 0, 0) });
  t.regex(routeRow(old, true, ctx), /\[Node_10_0_0_2 2026-11-26\]/);
});

test('show route all: attributes in type-code order with BIRD value formats', (t) => {
  const lines = bgpAttributeLines({
    origin: 'IGP',
    asPath: [{ type: 'AS_SEQUENCE', asns: [65001] }, { type: 'AS_SET', asns: [65002, 65003] }],
    nextHop: ['fd00::2', 'fe80::2'],
    multiExitDisc: 50,
    localPref: 200,
    atomicAggregate: true,
    aggregator: { asn: 65001, address: '10.0.0.1' },
    communities: [[64512, 1], [64512, 2]],
    originatorId: '10.0.0.12',
    clusterList: ['1.0.0.1', '1.0.0.2'],
    extendedCommunities: [
      { layout: 'as2', subtype: 2, transitive: true, globalAdmin: 64512, localAdmin: 7 },
      { layout: 'ipv4', subtype: 3, transitive: true, globalAdmin: '10.0.0.1', localAdmin: 9 },
      { layout: 'as4', subtype: 2, transitive: true, globalAdmin: 4200000000, localAdmin: 1 },
      { layout: 'as2', subtype: 9, transitive: false, globalAdmin: 1, localAdmin: 2 },
      { layout: 'opaque', bytes: Uint8Array.from([0x80, 0, 0, 0, 0, 0, 0, 1]) },
    ],
    largeCommunities: [[64512, 1, 2]],
    unknown: [{ typeCode: 30, flags: 0xc0, value: Uint8Array.from([1, 2, 0xab]) }],
  });
  t.deepEqual(lines, [
    'BGP.origin: IGP',
    'BGP.as_path: 65001 { 65002 65003 }',
    'BGP.next_hop: fd00::2 fe80::2',
    'BGP.med: 50',
    'BGP.local_pref: 200',
    'BGP.atomic_aggr: ',
    'BGP.aggregator: 10.0.0.1 AS65001',
    'BGP.community: (64512,1) (64512,2)',
    'BGP.originator_id: 10.0.0.12',
    'BGP.cluster_list: 1.0.0.1 1.0.0.2',
    'BGP.ext_community: (rt, 64512, 7) (ro, 10.0.0.1, 9) (rt, 4200000000, 1) (unknown 0x4009, 1, 2) (generic, 0x80000000, 0x1)',
    'BGP.1e [t]: 01 02 ab',
    'BGP.large_community: (64512, 1, 2)',
  ]);
});

test('time formats', (t) => {
  const now = at(2026, 11, 27, 10, 0, 0);
  t.is(formatTime(ISO_SHORT, at(2026, 11, 26, 14, 0, 1), now), '14:00:01'); // 19h59m59s ago
  t.is(formatTime(ISO_SHORT, at(2026, 11, 26, 14, 0, 0), now), '2026-11-26'); // exactly 20 h
  t.is(formatTime(OLD_SHORT, at(2026, 11, 27, 9, 5, 7), now), '09:05');
  t.is(formatTime(OLD_SHORT, at(2026, 3, 4, 9, 5, 7), now), 'Mar04');
  t.is(formatTime(OLD_SHORT, at(2025, 11, 1, 9, 5, 7), now), '2025');
  const f = timeFormatsFromSetting('old long');
  t.is(f && formatTime(f.protocol, at(2026, 1, 2, 3, 4, 5), now), '02-01-2026 03:04:05');
  const custom = timeFormatsFromSetting('"%d.%m. %R"');
  t.is(custom && formatTime(custom.route, at(2026, 1, 2, 3, 4, 5), now), '02.01. 03:04');
  t.is(timeFormatsFromSetting('bogus'), undefined);
  t.is(strftime('%s %j %b %e %a %y %%', at(2026, 2, 3, 0, 0, 0)), `${Math.floor(at(2026, 2, 3, 0, 0, 0).getTime() / 1000)} 034 Feb  3 Tue 26 %`);
});

test('memory sizes switch units at 10000', (t) => {
  const r = new ReplyEncoder().encodeAll(memoryReply({ routingTables: 9999, routeAttributes: 10000, roaTables: 50 * 1024 * 1024, protocols: 0, total: 20 * 1024 * 1024 * 1024 }));
  t.is(r, '1018-BIRD memory usage\n Routing tables:   9999  B\n Route attributes:   10 kB\n ROA tables:         50 MB\n Protocols:           0  B\n Total:              20 GB\n0000 \n');
});

test('interfaces: point-to-point, down, no address', (t) => {
  const i = { name: 'tunl0', index: 7, up: false, multiAccess: false, broadcast: false, multicast: false, adminUp: false, linkUp: false, loopback: false, ignored: false, mtu: 1480, addresses: [] };
  t.is(new ReplyEncoder().encodeAll(interfacesReply([i])), '1001-tunl0 DOWN (index=7)\n1004-\tPtP AdminDown LinkDown MTU=1480\n0000 \n');
  t.is(new ReplyEncoder().encodeAll(interfacesSummaryReply([i])), '2005-interface state address\n1005-tunl0     DOWN  \n0000 \n');
});
