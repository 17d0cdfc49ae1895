// Property: every well-formed message survives encode → decode unchanged (and decode → encode byte-exact),
// and scanUpdate agrees with decodeMessage on every well-formed UPDATE.
import test from 'ava';
import fc from 'fast-check';
import {
  ATTRIBUTES, attributesFromAs2, decodeAttributes, decodeMessage, encodeAttributes, encodeMessage, forEachPrefixV4,
  forEachPrefixV6, scanUpdate, ScannedUpdate, type CodecContext, type PathAttribute, type Prefix, type UpdateMessage,
} from '../../src/wire/index.js';
import { ctxArb, messageArb, updateArb } from './arbitraries.js';
import { expectSame } from './helpers.js';
import { fixedSeeds } from '../helpers/property.js';

fixedSeeds('test/wire/roundtrip.property.test.ts');

const RUNS = Number(process.env.WIRE_PROPERTY_RUNS ?? 1);

for (let chunk = 1; chunk <= 4; chunk++) test(`encode → decode is the identity on well-formed messages, all types and session kinds (${chunk}/4)`, (t) => {
  fc.assert(fc.property(ctxArb.chain((ctx) => fc.tuple(fc.constant(ctx), messageArb(ctx))), ([ctx, m]) => {
    const bytes = encodeMessage(m, ctx);
    const back = decodeMessage(bytes, ctx);
    expectSame(back, m, 'decode(encode(m))');
    expectSame(encodeMessage(back, ctx), bytes, 'encode(decode(bytes))');
  }), { numRuns: 1250 * RUNS });
  t.pass();
});

function v4List(msg: Uint8Array, s: number, e: number, addPath: boolean): string[] {
  const out: string[] = [];
  forEachPrefixV4(msg, s, e, addPath, (a, l, id) => out.push(`${a}/${l}#${id}`));
  return out;
}
function v4Objects(ps: Prefix[]): string[] {
  return ps.map((p) => `${((p.addr[0]! << 24) | (p.addr[1]! << 16) | (p.addr[2]! << 8) | p.addr[3]!) >>> 0}/${p.len}#${p.pathId ?? 0}`);
}
function v6List(msg: Uint8Array, s: number, e: number, addPath: boolean): string[] {
  const out: string[] = [];
  forEachPrefixV6(msg, s, e, addPath, (b, off, l, id) => out.push(`${Buffer.from(b.subarray(off, off + ((l + 7) >> 3))).toString('hex')}/${l}#${id}`));
  return out;
}
function v6Objects(ps: Prefix[]): string[] {
  return ps.map((p) => `${Buffer.from(p.addr.subarray(0, (p.len + 7) >> 3)).toString('hex')}/${p.len}#${p.pathId ?? 0}`);
}

/** What scanUpdate's attrs must be, computed from the structured decoding. */
function expectedPassOn(attrs: PathAttribute[], ctx: CodecContext): PathAttribute[] {
  const kept = attrs
    .filter((a) => a.type !== 14 && a.type !== 15)
    .filter((a) => !('unknown' in a) || (a.flags & 0x40) !== 0)
    .map((a) => ('unknown' in a ? { ...a, flags: a.flags | 0x20 } : a));
  return ctx.as4 ? kept : attributesFromAs2(kept);
}

let checks = 0;
function eq(a: unknown, b: unknown): void {
  checks++;
  expectSame(a, b, `check ${checks}`);
}

for (let chunk = 1; chunk <= 4; chunk++) test(`scanUpdate agrees with decodeMessage on well-formed UPDATEs (${chunk}/4)`, (t) => {
  const out = new ScannedUpdate();
  const as4ctx = (c: CodecContext) => ({ ...c, as4: true });
  fc.assert(fc.property(ctxArb.chain((ctx) => fc.tuple(fc.constant(ctx), updateArb(ctx))), ([ctx, m]) => {
    const bytes = encodeMessage(m, ctx);
    const d = decodeMessage(bytes, ctx) as UpdateMessage;
    const s = scanUpdate(bytes, ctx, out);
    eq(s.treatAsWithdraw, undefined);
    eq(d.treatAsWithdraw, undefined);
    eq(s.discarded, undefined);
    eq(v4List(bytes, s.withdrawnStart, s.withdrawnEnd, ctx.addPathV4), v4Objects(d.withdrawn));
    eq(v4List(bytes, s.nlriStart, s.nlriEnd, ctx.addPathV4), v4Objects(d.nlri));
    const reach = d.attributes.find((a) => a.type === 14 && !('unknown' in a)) as Extract<PathAttribute, { nlri: Prefix[] }> | undefined;
    const unreach = d.attributes.find((a) => a.type === 15 && !('unknown' in a)) as Extract<PathAttribute, { withdrawn: Prefix[] }> | undefined;
    if (reach) {
      eq(s.mpReachAfi, reach.afi);
      eq([...s.mpNextHop!], [...reach.nextHop]);
      if (reach.afi === 1) eq(v4List(bytes, s.mpReachStart, s.mpReachEnd, ctx.addPathV4), v4Objects(reach.nlri));
      else eq(v6List(bytes, s.mpReachStart, s.mpReachEnd, ctx.addPathV6), v6Objects(reach.nlri));
    }
    if (unreach) {
      eq(s.mpUnreachAfi, unreach.afi);
      if (unreach.afi === 1) eq(v4List(bytes, s.mpUnreachStart, s.mpUnreachEnd, ctx.addPathV4), v4Objects(unreach.withdrawn));
      else eq(v6List(bytes, s.mpUnreachStart, s.mpUnreachEnd, ctx.addPathV6), v6Objects(unreach.withdrawn));
    }
    const nh = d.attributes.find((a) => a.type === 3) as Extract<PathAttribute, { nextHop: string }>;
    eq(s.nextHopV4, nh.nextHop.split('.').reduce((x, o) => x * 256 + Number(o), 0));
    eq(s.hasOriginatorId, d.attributes.some((a) => a.type === 9));
    eq(s.hasClusterList, d.attributes.some((a) => a.type === 10));
    eq(decodeAttributes(s.attrs, as4ctx(ctx)), expectedPassOn(d.attributes, ctx));
    if (ctx.as4) eq(Buffer.from(s.attrs), encodeAttributes(expectedPassOn(d.attributes, ctx), ctx));
    eq(s.attrCount, d.attributes.length);
    eq(s.isEndOfRib, false);
  }), { numRuns: 1000 * RUNS });
  t.pass();
});

test('registry covers every attribute type of the model', (t) => {
  for (const type of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32]) t.truthy(ATTRIBUTES[type], `type ${type}`);
});
