import test from 'ava';
import {
  AFI_IPV4, AFI_IPV6, DEFAULT_CONTEXT, decodeAttributes, decodeMessage, encodeMessage, forEachPrefixV4,
  forEachPrefixV6, prefixToString, scanUpdate, ScannedUpdate, clusterListIncludes, buildEndOfRib,
  type CodecContext, type UpdateMessage, type PathAttribute,
} from '../../src/wire/index.js';
import { attr, BASIC_ATTRS, cat, h, toHex, update } from './helpers.js';

const ctx = DEFAULT_CONTEXT;

const fullAttrs = cat(
  '40 01 01 00',
  '40 02 0a 02 02 0000fde9 0000fdea',
  '40 03 04 0a000001',
  '80 04 04 00000064',
  '40 05 04 000000c8',
  '40 06 00',
  'c0 07 08 0000fde9 0a000009',
  'c0 08 08 fde80064 ffffff01',
  '80 09 04 0a0000fe',
  '80 0a 08 0a000063 0a000064',
  'c0 10 08 0002fde800000064',
  'c0 20 0c 0000fde8 00000001 00000002',
  'e0 63 02 abcd', // unknown optional transitive, partial already set
);

test('UPDATE: every IPv4 attribute decodes and re-encodes byte-exact', (t) => {
  const bytes = update('10 0a02', fullAttrs, '10 0a01 18 c0a801');
  const m = decodeMessage(bytes, ctx) as UpdateMessage;
  t.is(m.type, 2);
  t.deepEqual(m.withdrawn.map(prefixToString), ['10.2.0.0/16']);
  t.deepEqual(m.nlri.map(prefixToString), ['10.1.0.0/16', '192.168.1.0/24']);
  t.is(m.treatAsWithdraw, undefined);
  t.is(m.discarded, undefined);
  const byType = new Map(m.attributes.map((a) => [a.type, a]));
  t.deepEqual(byType.get(1), { type: 1, flags: 0x40, origin: 0 });
  t.deepEqual(byType.get(2), { type: 2, flags: 0x40, segments: [{ type: 2, asns: [65001, 65002] }] });
  t.deepEqual(byType.get(3), { type: 3, flags: 0x40, nextHop: '10.0.0.1' });
  t.deepEqual(byType.get(4), { type: 4, flags: 0x80, med: 100 });
  t.deepEqual(byType.get(5), { type: 5, flags: 0x40, localPref: 200 });
  t.deepEqual(byType.get(6), { type: 6, flags: 0x40 });
  t.deepEqual(byType.get(7), { type: 7, flags: 0xc0, as: 65001, address: '10.0.0.9' });
  t.deepEqual(byType.get(8), { type: 8, flags: 0xc0, communities: [0xfde80064, 0xffffff01] });
  t.deepEqual(byType.get(9), { type: 9, flags: 0x80, originatorId: '10.0.0.254' });
  t.deepEqual(byType.get(10), { type: 10, flags: 0x80, clusterList: ['10.0.0.99', '10.0.0.100'] });
  t.deepEqual(byType.get(16), { type: 16, flags: 0xc0, communities: [h('0002fde800000064')] });
  t.deepEqual(byType.get(32), { type: 32, flags: 0xc0, communities: [[65000, 1, 2]] });
  t.deepEqual(byType.get(99), { type: 99, flags: 0xe0, value: h('abcd'), unknown: true });
  t.is(toHex(encodeMessage(m, ctx)), toHex(bytes));
});

test('scanUpdate: locates every part without decoding', (t) => {
  const bytes = update('10 0a02', fullAttrs, '10 0a01 18 c0a801');
  const s = scanUpdate(bytes, ctx);
  t.is(s.withdrawnStart, 21);
  t.is(s.withdrawnEnd, 24);
  t.is(s.attrStart, 26);
  t.is(s.attrEnd, 26 + fullAttrs.length);
  t.is(s.nlriEnd, bytes.length);
  t.is(toHex(s.attrs), toHex(fullAttrs)); // nothing to drop: same bytes
  t.is(s.attrs.buffer, bytes.buffer); // and no copy
  t.is(toHex(s.nextHop!), '0a000001');
  t.is(s.nextHopV4, 0x0a000001);
  t.true(s.hasOriginatorId);
  t.is(s.originatorId, 0x0a0000fe);
  t.true(s.hasClusterList);
  t.true(clusterListIncludes(bytes, s, 0x0a000064));
  t.false(clusterListIncludes(bytes, s, 0x0a000065));
  t.false(s.isEndOfRib);
  t.true(s.hasReach);
  const seen: string[] = [];
  forEachPrefixV4(bytes, s.nlriStart, s.nlriEnd, false, (a, l, id) => seen.push(`${a >>> 24}.${(a >> 16) & 255}.${(a >> 8) & 255}.${a & 255}/${l}#${id}`));
  forEachPrefixV4(bytes, s.withdrawnStart, s.withdrawnEnd, false, (a, l) => seen.push(`w ${a.toString(16)}/${l}`));
  t.deepEqual(seen, ['10.1.0.0/16#0', '192.168.1.0/24#0', 'w a020000/16']);
});

test('forEachPrefixV4 clears host bits and handles /0 and /32', (t) => {
  const field = h('00 20 0a000001 17 0a01ff 09 ffff');
  const got: [number, number][] = [];
  forEachPrefixV4(field, 0, field.length, false, (a, l) => got.push([a, l]));
  t.deepEqual(got, [[0, 0], [0x0a000001, 32], [0x0a01fe00, 23], [0xff800000, 9]]);
});

const nh32 = '20010db8000000000000000000000001' + 'fe800000000000000000000000000001';

test('UPDATE: IPv6 MP_REACH (global + link-local next hop) and MP_UNREACH', (t) => {
  const reach = attr(0x90, 14, `0002 01 20 ${nh32} 00 40 20010db800010000 30 20010db80002`);
  const unreach = attr(0x80, 15, '0002 01 20 20010db8');
  const bytes = update('', cat(reach, unreach, '40 01 01 02', '40 02 00'), '');
  const m = decodeMessage(bytes, ctx) as UpdateMessage;
  const mp = m.attributes[0] as Extract<PathAttribute, { type: 14; nlri: unknown }>;
  t.is(mp.afi, 2);
  t.is(mp.flags, 0x90);
  t.is(toHex(mp.nextHop), nh32);
  t.deepEqual(mp.nlri.map(prefixToString), ['2001:db8:1::/64', '2001:db8:2::/48']);
  const un = m.attributes[1] as Extract<PathAttribute, { type: 15; withdrawn: unknown }>;
  t.deepEqual(un.withdrawn.map(prefixToString), ['2001:db8::/32']);
  t.is(toHex(encodeMessage(m, ctx)), toHex(bytes));

  const s = scanUpdate(bytes, ctx);
  t.is(s.mpReachAfi, AFI_IPV6);
  t.is(toHex(s.mpNextHop!), nh32);
  t.is(s.mpUnreachAfi, AFI_IPV6);
  t.is(toHex(s.attrs), '40010102' + '400200');
  const v6: string[] = [];
  forEachPrefixV6(bytes, s.mpReachStart, s.mpReachEnd, false, (b, off, len) => v6.push(`${toHex(b.subarray(off, off + ((len + 7) >> 3)))}/${len}`));
  forEachPrefixV6(bytes, s.mpUnreachStart, s.mpUnreachEnd, false, (b, off, len) => v6.push(`w ${toHex(b.subarray(off, off + ((len + 7) >> 3)))}/${len}`));
  t.deepEqual(v6, ['20010db800010000/64', '20010db80002/48', 'w 20010db8/32']);
});

test('UPDATE: ADD-PATH path identifiers in IPv4 fields and MP_REACH', (t) => {
  const ap: CodecContext = { ...ctx, addPathV4: true, addPathV6: true };
  const reach = attr(0x80, 14, `0002 01 10 20010db8000000000000000000000001 00 00000007 40 20010db800010000`);
  const bytes = update('00000003 18 0a0102', cat(reach, BASIC_ATTRS), '00000001 18 0a0101 00000002 18 0a0101');
  const m = decodeMessage(bytes, ap) as UpdateMessage;
  t.deepEqual(m.nlri.map(prefixToString), ['10.1.1.0/24#1', '10.1.1.0/24#2']);
  t.deepEqual(m.withdrawn.map(prefixToString), ['10.1.2.0/24#3']);
  const mp = m.attributes[0] as Extract<PathAttribute, { type: 14; nlri: unknown }>;
  t.deepEqual(mp.nlri.map(prefixToString), ['2001:db8:1::/64#7']);
  t.is(toHex(encodeMessage(m, ap)), toHex(bytes));
  const ids: number[] = [];
  const s = scanUpdate(bytes, ap);
  forEachPrefixV4(bytes, s.nlriStart, s.nlriEnd, true, (_a, _l, id) => ids.push(id));
  forEachPrefixV6(bytes, s.mpReachStart, s.mpReachEnd, true, (_b, _o, _l, id) => ids.push(id));
  t.deepEqual(ids, [1, 2, 7]);
});

test('End-of-RIB: IPv4 empty UPDATE and IPv6 empty MP_UNREACH', (t) => {
  const v4 = buildEndOfRib(AFI_IPV4);
  t.is(toHex(v4), 'ff'.repeat(16) + '0017020000' + '0000');
  const s4 = scanUpdate(v4, ctx);
  t.true(s4.isEndOfRib);
  t.is(s4.endOfRibAfi, 1);
  const v6 = buildEndOfRib(AFI_IPV6);
  t.is(toHex(v6), 'ff'.repeat(16) + '001d02' + '0000' + '0006' + '800f03000201');
  const s6 = scanUpdate(v6, ctx);
  t.true(s6.isEndOfRib);
  t.is(s6.endOfRibAfi, 2);
  t.is(s6.endOfRibSafi, 1);
  const m = decodeMessage(v6, ctx) as UpdateMessage;
  t.is(toHex(encodeMessage(m, ctx)), toHex(v6));
  // An MP_UNREACH with prefixes is not an End-of-RIB, nor is an empty one next to other attributes.
  t.false(scanUpdate(update('', attr(0x80, 15, '0002 01 20 20010db8'), ''), ctx).isEndOfRib);
  t.false(scanUpdate(update('', cat(attr(0x80, 15, '0002 01'), '40 01 01 00'), ''), ctx).isEndOfRib);
});

test('extended length flag is kept on input and output', (t) => {
  const bytes = update('', cat('50 01 0001 00', '50 02 0006 02 01 0000fde9', NEXT_HOP()), '08 0a');
  const m = decodeMessage(bytes, ctx) as UpdateMessage;
  t.is(m.attributes[0]!.flags, 0x50);
  t.is(toHex(encodeMessage(m, ctx)), toHex(bytes));
});

function NEXT_HOP(): string {
  return '40 03 04 0a000001';
}

test('2-octet AS session: AS_PATH with AS_TRANS + AS4_PATH merged into the 4-octet attrs block', (t) => {
  const as2: CodecContext = { ...ctx, as4: false };
  // AS_PATH (2-octet): 65001 23456 23456; AS4_PATH: 4200000001 4200000002; AGGREGATOR 23456 + AS4_AGGREGATOR.
  const bytes = update('', cat('40 01 01 00', '40 02 08 02 03 fde9 5ba0 5ba0', NEXT_HOP(),
    'c0 07 06 5ba0 0a000009', 'c0 11 0a 02 02 fa56ea01 fa56ea02', 'c0 12 08 fa56ea03 0a000009'), '08 0a');
  const m = decodeMessage(bytes, as2) as UpdateMessage;
  t.is(toHex(encodeMessage(m, as2)), toHex(bytes));
  const s = scanUpdate(bytes, as2);
  t.deepEqual(decodeAttributes(s.attrs, ctx), [
    { type: 1, flags: 0x40, origin: 0 },
    { type: 2, flags: 0x40, segments: [{ type: 2, asns: [65001, 4200000001, 4200000002] }] },
    { type: 3, flags: 0x40, nextHop: '10.0.0.1' },
    { type: 7, flags: 0xc0, as: 4200000003, address: '10.0.0.9' },
  ]);
  // On a 4-octet session AS4_PATH/AS4_AGGREGATOR are discarded (RFC 6793).
  const b4 = update('', cat(BASIC_ATTRS, 'c0 11 06 02 01 fa56ea01'), '08 0a');
  const m4 = decodeMessage(b4, ctx) as UpdateMessage;
  t.is(m4.discarded?.length, 1);
  t.false(m4.attributes.some((a) => a.type === 17));
});

test('scanUpdate reuses its result object', (t) => {
  const out = new ScannedUpdate();
  const a = scanUpdate(update('', BASIC_ATTRS, '08 0a'), ctx, out);
  t.is(a, out);
  const b = scanUpdate(update('08 0b', '', ''), ctx, out);
  t.is(b, out);
  t.is(b.nextHop, undefined);
  t.is(b.withdrawnEnd - b.withdrawnStart, 2);
});

test('unknown attributes: optional transitive gets Partial in attrs, non-transitive is not passed on', (t) => {
  const bytes = update('', cat(BASIC_ATTRS, 'c0 63 01 01', '80 64 01 02'), '08 0a');
  const s = scanUpdate(bytes, ctx);
  t.is(toHex(s.attrs), toHex(cat(BASIC_ATTRS, 'e0 63 01 01')));
  t.is(bytes[23 + h(BASIC_ATTRS).length], 0xc0); // the message itself is untouched
  const m = decodeMessage(bytes, ctx) as UpdateMessage;
  t.is(toHex(encodeMessage(m, ctx)), toHex(bytes));
});
