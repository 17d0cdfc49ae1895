import test from 'ava';
import {
  AFI_IPV4, AFI_IPV6, DEFAULT_CONTEXT, buildUpdates, decodeAttributes, decodeMessage, frameLength, forEachPrefixV4,
  forEachPrefixV6, removeRawAttribute, scanUpdate, setRawAttribute, findRawAttribute,
  attributeBlockToAs2, mergeAs4Path, attributesToAs2, attributesFromAs2, encodeAttributes,
  type CodecContext, type UpdateMessage,
} from '../../src/wire/index.js';
import { BASIC_ATTRS, cat, h, toHex } from './helpers.js';

const ctx = DEFAULT_CONTEXT;
const attrs = h(BASIC_ATTRS);

function v4Set(n: number) {
  const addrs = new Uint32Array(n);
  const lens = new Uint8Array(n);
  for (let i = 0; i < n; i++) { lens[i] = 16 + (i % 17); addrs[i] = ((0x0a000000 + i * 256) & (0xffffffff << (32 - lens[i]!))) >>> 0; }
  return { addrs, lens };
}

test('buildUpdates IPv4: packs to the maximum, every prefix once, in order', (t) => {
  const p = v4Set(5000);
  const msgs = buildUpdates({ attrs, afi: AFI_IPV4, prefixes: p, ctx });
  t.true(msgs.length > 1);
  const seen: [number, number][] = [];
  for (const m of msgs) {
    t.true(m.length <= 4096);
    t.is(frameLength(m, 0, 4096), m.length);
    const s = scanUpdate(m, ctx);
    t.is(s.treatAsWithdraw, undefined);
    t.is(toHex(s.attrs), toHex(attrs));
    forEachPrefixV4(m, s.nlriStart, s.nlriEnd, false, (a, l) => seen.push([a, l]));
  }
  // Full: adding the next prefix to any message but the last would overflow.
  for (const m of msgs.slice(0, -1)) t.true(m.length > 4096 - 9);
  t.deepEqual(seen, [...p.addrs].map((a, i) => [a, p.lens[i]!]));
});

test('buildUpdates IPv4 withdrawals and ADD-PATH, 65535 maximum', (t) => {
  const c: CodecContext = { ...ctx, addPathV4: true, maxMessageLen: 65535 };
  const p = { ...v4Set(20000), pathIds: Uint32Array.from({ length: 20000 }, (_, i) => i + 1) };
  const msgs = buildUpdates({ afi: AFI_IPV4, withdrawals: p, ctx: c });
  t.true(msgs.length >= 2);
  let n = 0;
  for (const m of msgs) {
    t.true(m.length <= 65535);
    const u = decodeMessage(m, c) as UpdateMessage;
    t.is(u.attributes.length, 0);
    for (const w of u.withdrawn) t.is(w.pathId, ++n);
  }
  t.is(n, 20000);
});

test('buildUpdates IPv6: MP_REACH first, then the attributes; MP_UNREACH for withdrawals', (t) => {
  const n = 3000;
  const addrs = new Uint8Array(16 * n);
  const lens = new Uint8Array(n).fill(64);
  for (let i = 0; i < n; i++) { addrs.set(h('20010db8'), 16 * i); addrs[16 * i + 6] = i >> 8; addrs[16 * i + 7] = i & 0xff; }
  const nextHop = h('20010db8000000000000000000000001fe800000000000000000000000000001');
  const v6attrs = h('40 01 01 00 40 02 06 02 01 0000fde9');
  const msgs = buildUpdates({ attrs: v6attrs, afi: AFI_IPV6, nextHop, prefixes: { addrs, lens }, withdrawals: { addrs: addrs.subarray(0, 160), lens, count: 10 }, ctx });
  const first = scanUpdate(msgs[0]!, ctx);
  t.is(first.mpUnreachAfi, 2);
  t.is(first.mpReachAfi, 0);
  let withdrawn = 0;
  forEachPrefixV6(msgs[0]!, first.mpUnreachStart, first.mpUnreachEnd, false, () => withdrawn++);
  t.is(withdrawn, 10);
  let i = 0;
  for (const m of msgs.slice(1)) {
    t.true(m.length <= 4096);
    t.is(m[23], 0x90); // MP_REACH_NLRI, extended length, is the first attribute
    t.is(m[24], 14);
    const s = scanUpdate(m, ctx);
    t.is(s.treatAsWithdraw, undefined);
    t.is(toHex(s.mpNextHop!), toHex(nextHop));
    t.is(toHex(s.attrs), toHex(v6attrs));
    forEachPrefixV6(m, s.mpReachStart, s.mpReachEnd, false, (b, off, len) => {
      t.is(len, 64);
      t.is(toHex(b.subarray(off, off + 8)), toHex(addrs.subarray(16 * i, 16 * i + 8)));
      i++;
    });
  }
  t.is(i, n);
});

test('buildUpdates for a 2-octet peer adds AS4_PATH and AS_TRANS', (t) => {
  const block = h('40 01 01 00 40 02 0a 02 02 0000fde9 fa56ea01 40 03 04 0a000001');
  const c2: CodecContext = { ...ctx, as4: false };
  const [m] = buildUpdates({ attrs: block, afi: AFI_IPV4, prefixes: { addrs: [0x0a000000], lens: [8] }, ctx: c2 });
  const u = decodeMessage(m!, c2) as UpdateMessage;
  t.deepEqual(u.attributes.find((a) => a.type === 2), { type: 2, flags: 0x40, segments: [{ type: 2, asns: [65001, 23456] }] });
  t.deepEqual(u.attributes.find((a) => a.type === 17), { type: 17, flags: 0xc0, segments: [{ type: 2, asns: [65001, 4200000001] }] });
  // And back: scanning on the 2-octet session gives the original 4-octet block.
  t.is(toHex(scanUpdate(m!, c2).attrs), toHex(block));
  // No AS above 65535: no AS4_PATH.
  t.is(findRawAttribute(attributeBlockToAs2(h(BASIC_ATTRS)), 17), undefined);
});

test('mergeAs4Path: RFC 6793 §4.2.3 cases', (t) => {
  const seq = (...asns: number[]) => ({ type: 2 as const, asns });
  // AS_PATH longer than AS4_PATH: leading ASes of AS_PATH kept.
  t.deepEqual(mergeAs4Path([seq(65001, 23456, 23456)], [seq(4200000001, 4200000002)]), [seq(65001, 4200000001, 4200000002)]);
  // AS4_PATH longer than AS_PATH: ignored.
  t.deepEqual(mergeAs4Path([seq(23456)], [seq(4200000001, 4200000002)]), [seq(23456)]);
  // Confederation segment at the head is kept; AS_SET counts as one.
  const confed = { type: 3 as const, asns: [64512] };
  const set = { type: 1 as const, asns: [23456, 65010] };
  t.deepEqual(mergeAs4Path([confed, seq(65001, 23456), set], [seq(4200000001), { type: 1, asns: [4200000002, 65010] }]),
    [confed, seq(65001, 4200000001), { type: 1, asns: [4200000002, 65010] }]);
});

test('attributesFromAs2: AGGREGATOR with a real AS makes AS4_* stale', (t) => {
  const out = attributesFromAs2([
    { type: 2, flags: 0x40, segments: [{ type: 2, asns: [23456] }] },
    { type: 7, flags: 0xc0, as: 65001, address: '10.0.0.1' },
    { type: 17, flags: 0xc0, segments: [{ type: 2, asns: [4200000001] }] },
    { type: 18, flags: 0xc0, as: 4200000009, address: '10.0.0.2' },
  ]);
  t.deepEqual(out, [
    { type: 2, flags: 0x40, segments: [{ type: 2, asns: [23456] }] },
    { type: 7, flags: 0xc0, as: 65001, address: '10.0.0.1' },
  ]);
  const back = attributesToAs2([{ type: 7, flags: 0xc0, as: 4200000009, address: '10.0.0.2' }, { type: 32, flags: 0xc0, communities: [] }]);
  t.deepEqual(back.map((a) => a.type), [7, 18, 32]);
  t.is(toHex(encodeAttributes(back.slice(0, 1), { ...ctx, as4: false })), 'c007065ba00a000002');
});

// The RFC 4456 rewrite built on these edits is route policy: test/reflector/policy.test.ts.
test('raw attribute edits: remove, replace in place', (t) => {
  const reflected = cat(BASIC_ATTRS, '80 09 04 0a000001', '80 0a 08 0a0000fd 0a0000fe');
  t.is(toHex(removeRawAttribute(reflected, 9)), toHex(cat(BASIC_ATTRS, '80 0a 08 0a0000fd 0a0000fe')));
  const block = h(BASIC_ATTRS);
  t.is(toHex(setRawAttribute(block, 3, 0x40, h('0a000002'))), toHex(h(BASIC_ATTRS.replace('0a000001', '0a000002'))));
});

