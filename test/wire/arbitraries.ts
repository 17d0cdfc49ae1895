// fast-check generators for well-formed BGP messages of every type, in the model of src/wire/types.ts.
// "Well-formed" means canonical: encode(m) decodes back to m exactly (no stray bits, fits the maximum).
import fc from 'fast-check';
import { encodeAttribute, encodeMessage } from '../../src/wire/index.js';
import type {
  AsPathSegment, Capability, CodecContext, OpenMessage, OptionalParameter, PathAttribute, Prefix, UpdateMessage,
  NotificationMessage, RouteRefreshMessage, BgpMessage,
} from '../../src/wire/index.js';

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));

export const ctxArb: fc.Arbitrary<CodecContext> = fc.record({
  as4: fc.boolean(),
  addPathV4: fc.boolean(),
  addPathV6: fc.boolean(),
  maxMessageLen: fc.constantFrom(4096, 4096, 65535),
});

function prefixArb(afi: 1 | 2, addPath: boolean): fc.Arbitrary<Prefix> {
  const width = afi === 1 ? 4 : 16;
  return fc.record({
    len: fc.integer({ min: 0, max: width * 8 }),
    bytes: fc.uint8Array({ minLength: width, maxLength: width }),
    pathId: u32,
  }).map(({ len, bytes, pathId }) => {
    const addr = new Uint8Array(width);
    const n = (len + 7) >> 3;
    addr.set(bytes.subarray(0, n));
    if (len & 7) addr[n - 1]! &= 0xff << (8 - (len & 7));
    const p: Prefix = { afi, len, addr };
    if (addPath) p.pathId = pathId;
    return p;
  });
}

function segmentsArb(maxAs: number, allowConfed: boolean): fc.Arbitrary<AsPathSegment[]> {
  return fc.array(fc.record({
    type: allowConfed ? fc.constantFrom(1, 2, 2, 3, 4) : fc.constantFrom(1, 2, 2),
    asns: fc.array(fc.integer({ min: 1, max: maxAs }), { minLength: 1, maxLength: 12 }),
  }), { maxLength: 4 }) as fc.Arbitrary<AsPathSegment[]>;
}

/** Flags with the required Optional/Transitive bits; Partial, Extended Length and the unused bits random. */
function flagsArb(ot: number): fc.Arbitrary<number> {
  return fc.record({ p: fc.boolean(), x: fc.boolean(), low: fc.nat(15) }).map(({ p, x, low }) => ot | (p ? 0x20 : 0) | (x ? 0x10 : 0) | low);
}

const KNOWN = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32]);
const unknownType = fc.integer({ min: 11, max: 255 }).filter((t) => !KNOWN.has(t));

/** One attribute of every kind the codec knows, keyed by type, for the given session. */
function attributeArbs(ctx: CodecContext): Record<number, fc.Arbitrary<PathAttribute>> {
  const maxAs = ctx.as4 ? 0xffffffff : 0xffff;
  const a: Record<number, fc.Arbitrary<PathAttribute>> = {
    1: fc.record({ type: fc.constant(1), flags: flagsArb(0x40), origin: fc.constantFrom(0, 1, 2) }),
    2: fc.record({ type: fc.constant(2), flags: flagsArb(0x40), segments: segmentsArb(maxAs, true) }),
    3: fc.record({ type: fc.constant(3), flags: flagsArb(0x40), nextHop: ipv4 }),
    4: fc.record({ type: fc.constant(4), flags: flagsArb(0x80), med: u32 }),
    5: fc.record({ type: fc.constant(5), flags: flagsArb(0x40), localPref: u32 }),
    6: fc.record({ type: fc.constant(6), flags: flagsArb(0x40) }),
    7: fc.record({ type: fc.constant(7), flags: flagsArb(0xc0), as: fc.integer({ min: 1, max: maxAs }), address: ipv4 }),
    8: fc.record({ type: fc.constant(8), flags: flagsArb(0xc0), communities: fc.array(u32, { minLength: 1, maxLength: 20 }) }),
    9: fc.record({ type: fc.constant(9), flags: flagsArb(0x80), originatorId: ipv4 }),
    10: fc.record({ type: fc.constant(10), flags: flagsArb(0x80), clusterList: fc.array(ipv4, { minLength: 1, maxLength: 6 }) }),
    16: fc.record({ type: fc.constant(16), flags: flagsArb(0xc0), communities: fc.array(fc.uint8Array({ minLength: 8, maxLength: 8 }), { maxLength: 6 }) }),
    32: fc.record({ type: fc.constant(32), flags: flagsArb(0xc0), communities: fc.array(fc.tuple(u32, u32, u32), { minLength: 1, maxLength: 6 }) }),
    14: fc.oneof(
      fc.record({ type: fc.constant(14), flags: flagsArb(0x80), afi: fc.constant(2), safi: fc.constantFrom(1, 2),
        nextHop: fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 32, maxLength: 32 })),
        reserved: fc.nat(255), nlri: fc.array(prefixArb(2, ctx.addPathV6), { maxLength: 20 }) }),
      fc.record({ type: fc.constant(14), flags: flagsArb(0x80), afi: fc.constant(1), safi: fc.constant(1),
        nextHop: fc.uint8Array({ minLength: 4, maxLength: 4 }), reserved: fc.constant(0), nlri: fc.array(prefixArb(1, ctx.addPathV4), { maxLength: 20 }) }),
      // A family the codec does not look into (IPv4 L3VPN, SAFI 128) stays raw.
      fc.record({ type: fc.constant(14), flags: flagsArb(0x80), nh: fc.uint8Array({ maxLength: 12 }), rest: fc.uint8Array({ maxLength: 30 }) })
        .map(({ type, flags, nh, rest }) => ({ type, flags, value: Uint8Array.from([0, 1, 128, nh.length, ...nh, 0, ...rest]), unknown: true as const })),
    ),
    15: fc.oneof(
      fc.record({ type: fc.constant(15), flags: flagsArb(0x80), afi: fc.constant(2), safi: fc.constant(1), withdrawn: fc.array(prefixArb(2, ctx.addPathV6), { maxLength: 20 }) }),
      fc.record({ type: fc.constant(15), flags: flagsArb(0x80), afi: fc.constant(1), safi: fc.constant(1), withdrawn: fc.array(prefixArb(1, ctx.addPathV4), { maxLength: 20 }) }),
    ),
  };
  if (!ctx.as4) {
    a[17] = fc.record({ type: fc.constant(17), flags: flagsArb(0xc0), segments: segmentsArb(0xffffffff, false) });
    a[18] = fc.record({ type: fc.constant(18), flags: flagsArb(0xc0), as: fc.integer({ min: 1, max: 0xffffffff }), address: ipv4 });
  }
  return a as Record<number, fc.Arbitrary<PathAttribute>>;
}

const unknownAttrArb: fc.Arbitrary<PathAttribute> = fc.record({
  type: unknownType,
  ot: fc.constantFrom(0x80, 0xc0),
  rest: fc.record({ p: fc.boolean(), x: fc.boolean() }),
  value: fc.oneof(fc.uint8Array({ maxLength: 16 }), fc.uint8Array({ minLength: 250, maxLength: 300 })),
}).map(({ type, ot, rest, value }) => ({ type, flags: ot | (rest.p ? 0x20 : 0) | (rest.x || value.length > 255 ? 0x10 : 0), value, unknown: true as const }));

/**
 * A well-formed UPDATE for ctx: ORIGIN, AS_PATH and NEXT_HOP always present (so no treat-as-withdraw), other
 * attributes a random distinct subset, all in random order; the whole message fits ctx.maxMessageLen.
 */
export function updateArb(ctx: CodecContext): fc.Arbitrary<UpdateMessage> {
  const arbs = attributeArbs(ctx);
  const optionalTypes = Object.keys(arbs).map(Number).filter((t) => t > 3);
  return fc.record({
    chosen: fc.subarray(optionalTypes),
    unknown: fc.uniqueArray(unknownAttrArb, { maxLength: 3, selector: (a) => a.type }),
    withdrawn: fc.array(prefixArb(1, ctx.addPathV4), { maxLength: 30 }),
    nlri: fc.array(prefixArb(1, ctx.addPathV4), { maxLength: 30 }),
    seed: fc.nat(),
  }).chain(({ chosen, unknown, withdrawn, nlri, seed }) =>
    fc.tuple(...[1, 2, 3, ...chosen].map((t) => arbs[t]!)).map((known) => {
      const attributes = [...known, ...unknown];
      // deterministic shuffle from the seed
      let s = seed;
      for (let i = attributes.length - 1; i > 0; i--) {
        s = (s * 1103515245 + 12345) >>> 0;
        const j = s % (i + 1);
        [attributes[i], attributes[j]] = [attributes[j]!, attributes[i]!];
      }
      // The encoder sets Extended Length when a value needs it; the model must say so too.
      for (const a of attributes) a.flags = encodeAttribute(a, ctx)[0]!;
      return { type: 2 as const, withdrawn, attributes, nlri } as UpdateMessage;
    })).filter((m) => fits(m, ctx));
}

function fits(m: BgpMessage, ctx: CodecContext): boolean {
  try {
    return encodeMessage(m, ctx).length <= ctx.maxMessageLen;
  } catch {
    return false;
  }
}

const capabilityArb: fc.Arbitrary<Capability> = fc.oneof(
  fc.record({ kind: fc.constant('multiprotocol' as const), code: fc.constant(1 as const), afi: u16, safi: fc.nat(255) }),
  fc.constant({ kind: 'route-refresh' as const, code: 2 as const }),
  fc.constant({ kind: 'extended-message' as const, code: 6 as const }),
  fc.constant({ kind: 'enhanced-route-refresh' as const, code: 70 as const }),
  fc.record({ kind: fc.constant('graceful-restart' as const), code: fc.constant(64 as const), restarting: fc.boolean(), notification: fc.boolean(),
    restartTime: fc.nat(4095), families: fc.array(fc.record({ afi: u16, safi: fc.nat(255), forwardingPreserved: fc.boolean() }), { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('as4' as const), code: fc.constant(65 as const), as: u32 }),
  fc.record({ kind: fc.constant('add-path' as const), code: fc.constant(69 as const),
    families: fc.array(fc.record({ afi: u16, safi: fc.nat(255), sendReceive: fc.constantFrom(1 as const, 2 as const, 3 as const) }), { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('long-lived-graceful-restart' as const), code: fc.constant(71 as const),
    families: fc.array(fc.record({ afi: u16, safi: fc.nat(255), flags: fc.nat(255), staleTime: fc.nat(0xffffff) }), { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('fqdn' as const), code: fc.constant(73 as const), hostname: fc.string({ maxLength: 30 }), domainName: fc.string({ maxLength: 30 }) }),
  fc.record({ kind: fc.constant('unknown' as const), code: fc.integer({ min: 0, max: 255 }).filter((c) => ![1, 2, 6, 64, 65, 69, 70, 71, 73].includes(c)), value: fc.uint8Array({ maxLength: 20 }) }),
);

export const openArb: fc.Arbitrary<OpenMessage> = fc.record({
  version: fc.constantFrom(4, 4, 4, 3),
  myAs: u16,
  holdTime: u16,
  bgpId: ipv4,
  extendedParameters: fc.boolean(),
  parameters: fc.array(fc.oneof(
    fc.record({ type: fc.constant(2 as const), capabilities: fc.array(capabilityArb, { maxLength: 6 }) }),
    fc.record({ type: fc.integer({ min: 1, max: 254 }).filter((t) => t !== 2), value: fc.uint8Array({ maxLength: 10 }) }),
  ), { maxLength: 4 }) as fc.Arbitrary<OptionalParameter[]>,
}).map((o) => ({ type: 1 as const, ...o }) as OpenMessage)
  // Without RFC 9072 a parameter list starting with type 255 would read as the extended form.
  .filter((o) => o.extendedParameters || o.parameters[0]?.type !== 255)
  .filter((o) => fits(o, { as4: true, addPathV4: false, addPathV6: false, maxMessageLen: 4096 }));

export const notificationArb: fc.Arbitrary<NotificationMessage> = fc.record({
  type: fc.constant(3 as const), code: fc.nat(255), subcode: fc.nat(255), data: fc.uint8Array({ maxLength: 40 }),
});

export const routeRefreshArb: fc.Arbitrary<RouteRefreshMessage> = fc.record({
  afi: u16, safi: fc.nat(255), subtype: fc.nat(255), orf: fc.option(fc.uint8Array({ minLength: 1, maxLength: 20 }), { nil: undefined }),
}).map(({ afi, safi, subtype, orf }) => {
  const m: RouteRefreshMessage = { type: 5, afi, safi, subtype };
  if (orf && subtype !== 1 && subtype !== 2) m.orf = orf;
  return m;
});

export function messageArb(ctx: CodecContext): fc.Arbitrary<BgpMessage> {
  return fc.oneof(
    { arbitrary: updateArb(ctx), weight: 6 },
    { arbitrary: openArb, weight: 2 },
    { arbitrary: notificationArb, weight: 1 },
    { arbitrary: routeRefreshArb, weight: 1 },
    { arbitrary: fc.constant({ type: 4 as const }), weight: 1 },
  );
}
