// RFC 7606 error handling: each malformed input and the action both decodeMessage and scanUpdate must take.
import test from 'ava';
import { BgpError, DEFAULT_CONTEXT, decodeMessage, scanUpdate, type CodecContext, type UpdateMessage } from '../../src/wire/index.js';
import { attr, cat, update } from './helpers.js';

const ctx = DEFAULT_CONTEXT;
const ORIGIN = '40 01 01 00';
const AS_PATH = '40 02 06 02 01 0000fde9';
const NH = '40 03 04 0a000001';
const NLRI = '08 0a';

type Outcome = ['ok'] | ['taw' | 'discard' | 'reset', number];

const cases: [string, Uint8Array, Outcome, CodecContext?][] = [
  ['well-formed', update('', cat(ORIGIN, AS_PATH, NH), NLRI), ['ok']],
  ['ORIGIN length 2', update('', cat('40 01 02 0000', AS_PATH, NH), NLRI), ['taw', 5]],
  ['ORIGIN value 3', update('', cat('40 01 01 03', AS_PATH, NH), NLRI), ['taw', 6]],
  ['ORIGIN flagged optional', update('', cat('c0 01 01 00', AS_PATH, NH), NLRI), ['taw', 4]],
  ['AS_PATH segment type 5', update('', cat(ORIGIN, '40 02 06 05 01 0000fde9', NH), NLRI), ['taw', 11]],
  ['AS_PATH empty segment', update('', cat(ORIGIN, '40 02 02 02 00', NH), NLRI), ['taw', 11]],
  ['AS_PATH segment overrun', update('', cat(ORIGIN, '40 02 06 02 02 0000fde9', NH), NLRI), ['taw', 11]],
  ['AS_PATH with AS 0 (RFC 7607)', update('', cat(ORIGIN, '40 02 0a 02 02 0000fde9 00000000', NH), NLRI), ['taw', 11]],
  ['AGGREGATOR with AS 0 (RFC 7607)', update('', cat(ORIGIN, AS_PATH, NH, 'c0 07 08 00000000 0a000001'), NLRI), ['discard', 9]],
  ['AS_PATH 2-octet on a 4-octet session', update('', cat(ORIGIN, '40 02 04 02 01 fde9', NH), NLRI), ['taw', 11]],
  ['NEXT_HOP length 5', update('', cat(ORIGIN, AS_PATH, '40 03 05 0a00000100'), NLRI), ['taw', 5]],
  ['MED length 3', update('', cat(ORIGIN, AS_PATH, NH, '80 04 03 000001'), NLRI), ['taw', 5]],
  ['LOCAL_PREF length 2', update('', cat(ORIGIN, AS_PATH, NH, '40 05 02 0001'), NLRI), ['taw', 5]],
  ['ATOMIC_AGGREGATE length 1', update('', cat(ORIGIN, AS_PATH, NH, '40 06 01 00'), NLRI), ['discard', 5]],
  ['AGGREGATOR length 6 on a 4-octet session', update('', cat(ORIGIN, AS_PATH, NH, 'c0 07 06 fde9 0a000001'), NLRI), ['discard', 5]],
  ['COMMUNITIES length 5', update('', cat(ORIGIN, AS_PATH, NH, 'c0 08 05 0000000100'), NLRI), ['taw', 9]],
  ['COMMUNITIES length 0', update('', cat(ORIGIN, AS_PATH, NH, 'c0 08 00'), NLRI), ['taw', 9]],
  ['ORIGINATOR_ID length 3', update('', cat(ORIGIN, AS_PATH, NH, '80 09 03 0a0000'), NLRI), ['taw', 5]],
  ['CLUSTER_LIST length 6', update('', cat(ORIGIN, AS_PATH, NH, '80 0a 06 0a0000010000'), NLRI), ['taw', 5]],
  ['EXTENDED_COMMUNITIES length 7', update('', cat(ORIGIN, AS_PATH, NH, 'c0 10 07 00000000000000'), NLRI), ['taw', 9]],
  ['LARGE_COMMUNITY length 8', update('', cat(ORIGIN, AS_PATH, NH, 'c0 20 08 0000000000000000'), NLRI), ['taw', 9]],
  ['AS4_AGGREGATOR length 6 (2-octet session)', update('', cat(ORIGIN, '40 02 04 02 01 fde9', NH, 'c0 12 06 000000010000'), NLRI), ['discard', 5], { ...ctx, as4: false }],
  ['AS4_PATH malformed (2-octet session)', update('', cat(ORIGIN, '40 02 04 02 01 fde9', NH, 'c0 11 03 020100'), NLRI), ['discard', 9], { ...ctx, as4: false }],
  ['duplicate ORIGIN', update('', cat(ORIGIN, AS_PATH, NH, '40 01 01 01'), NLRI), ['discard', 1]],
  ['duplicate MP_UNREACH', update('', cat(attr(0x80, 15, '000201'), attr(0x80, 15, '000201')), ''), ['reset', 1]],
  ['MP_REACH too short', update('', cat(attr(0x80, 14, '0002'), ORIGIN, AS_PATH), ''), ['reset', 5]],
  ['MP_REACH next hop length 4 for IPv6', update('', cat(attr(0x80, 14, '0002 01 04 0a000001 00'), ORIGIN, AS_PATH), ''), ['reset', 9]],
  ['MP_REACH prefix length 129', update('', cat(attr(0x80, 14, '0002 01 10 20010db8000000000000000000000001 00 81 00'), ORIGIN, AS_PATH), ''), ['reset', 9]],
  ['MP_UNREACH prefix overrun', update('', attr(0x80, 15, '0002 01 40 20010db8'), ''), ['reset', 9]],
  ['MP_REACH flagged transitive', update('', cat(attr(0xc0, 14, '0002 01 10 20010db8000000000000000000000001 00'), ORIGIN, AS_PATH), ''), ['reset', 4]],
  ['MP_REACH overruns the attributes', update('', cat(ORIGIN, AS_PATH, '80 0e 30 0002'), ''), ['reset', 5]],
  ['attribute overruns the attributes', update('', cat(ORIGIN, AS_PATH, NH, 'c0 08 08 00000001'), NLRI), ['taw', 1]],
  ['two stray octets after the attributes', update('', cat(ORIGIN, AS_PATH, NH, '4001'), NLRI), ['taw', 1]],
  ['missing ORIGIN', update('', cat(AS_PATH, NH), NLRI), ['taw', 3]],
  ['missing AS_PATH', update('', cat(ORIGIN, NH), NLRI), ['taw', 3]],
  ['missing NEXT_HOP with IPv4 NLRI', update('', cat(ORIGIN, AS_PATH), NLRI), ['taw', 3]],
  ['no NEXT_HOP needed for MP_REACH only', update('', cat(attr(0x80, 14, '0002 01 10 20010db8000000000000000000000001 00 20 20010db8'), ORIGIN, AS_PATH), ''), ['ok']],
  ['missing attributes without NLRI is fine', update('08 0a', '', ''), ['ok']],
  ['NLRI with no attributes at all', update('', '', NLRI), ['taw', 3]],
  ['unrecognized well-known attribute', update('', cat(ORIGIN, AS_PATH, NH, '40 63 00'), NLRI), ['taw', 2]],
  ['NLRI prefix length 33', update('', cat(ORIGIN, AS_PATH, NH), '21 0a000000 00'), ['reset', 10]],
  ['NLRI overrun', update('', cat(ORIGIN, AS_PATH, NH), '18 0a00'), ['reset', 10]],
  ['withdrawn prefix overrun', update('18 0a', '', ''), ['reset', 10]],
  ['withdrawn length overruns the message', (() => { const b = update('', '', ''); b[20] = 9; return b; })(), ['reset', 1]],
  ['total attribute length overruns the message', (() => { const b = update('', ORIGIN, ''); b[22] = 9; return b; })(), ['reset', 1]],
];

for (const [name, bytes, outcome, c] of cases) {
  test(`RFC 7606: ${name}`, (t) => {
    const cx = c ?? ctx;
    const [kind, subcode] = outcome;
    if (kind === 'reset') {
      const e1 = t.throws(() => decodeMessage(bytes, cx), { instanceOf: BgpError });
      const e2 = t.throws(() => scanUpdate(bytes, cx), { instanceOf: BgpError });
      t.is(e1?.code, 3);
      t.is(e1?.subcode, subcode);
      t.is(e1?.action, 'session-reset');
      t.is(e2?.subcode, subcode);
      t.is(e1?.message, e2?.message);
      t.true((e1?.message.length ?? 0) > 10);
      return;
    }
    const m = decodeMessage(bytes, cx) as UpdateMessage;
    const s = scanUpdate(bytes, cx);
    if (kind === 'ok') {
      t.is(m.treatAsWithdraw, undefined);
      t.is(m.discarded, undefined);
      t.is(s.treatAsWithdraw, undefined);
      t.is(s.discarded, undefined);
    } else if (kind === 'taw') {
      t.is(m.treatAsWithdraw?.action, 'treat-as-withdraw');
      t.is(m.treatAsWithdraw?.subcode, subcode);
      t.is(s.treatAsWithdraw?.subcode, subcode);
      t.is(m.discarded, undefined);
    } else {
      t.is(m.treatAsWithdraw, undefined);
      t.is(m.discarded?.length, 1);
      t.is(m.discarded?.[0]?.action, 'attribute-discard');
      t.is(m.discarded?.[0]?.subcode, subcode);
      t.is(s.discarded?.[0]?.subcode, subcode);
      // The discarded attribute is gone from both views.
      t.is(m.attributes.length, s.attrCount);
    }
  });
}

test('attribute errors carry the whole attribute as NOTIFICATION data', (t) => {
  const m = decodeMessage(update('', cat(ORIGIN, AS_PATH, '40 03 05 0a00000100'), NLRI), ctx) as UpdateMessage;
  t.deepEqual([...m.treatAsWithdraw!.data], [0x40, 3, 5, 10, 0, 0, 1, 0]);
});
