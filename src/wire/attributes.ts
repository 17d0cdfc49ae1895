// The path attribute registry (one row per attribute, as in BIRD's attrs.c): expected flags, the RFC 7606
// action when malformed, a value check for the hot path, and structured decode/encode of the value.
import { asPathWellFormed, decodeAsPath, encodeAsPath } from './as-path.js';
import { decodePrefixes, encodePrefixes, findBadPrefix } from './nlri.js';
import {
  AFI_IPV4, AFI_IPV6, AS_TRANS, AttrType, ATTR_FLAG_EXTENDED_LENGTH, ATTR_FLAG_OPTIONAL, ATTR_FLAG_TRANSITIVE,
  UpdateSubcode,
} from './types.js';
import type { Afi, CodecContext, PathAttribute } from './types.js';
import type { UpdateErrorAction } from './errors.js';
import { putU16, putU32, u16, u32, copyBytes } from './util.js';
import { ipv4BytesToString, ipv4ToUint32 } from '../net/address.js';

export interface AttrProblem {
  subcode: number;
  reason: string;
}

export interface AttrDescriptor {
  name: string;
  /** Required Optional/Transitive bits (RFC 4271 §5; compared under mask 0xC0). */
  flags: number;
  /** RFC 7606 action for a malformed value or wrong Optional/Transitive bits. */
  action: UpdateErrorAction;
  /** Value check without allocation (except for the returned problem). */
  check(b: Uint8Array, s: number, e: number, ctx: CodecContext): AttrProblem | undefined;
  decode(b: Uint8Array, s: number, e: number, flags: number, ctx: CodecContext): PathAttribute;
  encode(a: PathAttribute, ctx: CodecContext): Uint8Array;
}

const WK = ATTR_FLAG_TRANSITIVE; // well-known: optional 0, transitive 1
const OPT_T = ATTR_FLAG_OPTIONAL | ATTR_FLAG_TRANSITIVE;
const OPT_NT = ATTR_FLAG_OPTIONAL;
const L = UpdateSubcode.ATTRIBUTE_LENGTH_ERROR;

function lenIs(n: number, name: string) {
  return (_b: Uint8Array, s: number, e: number): AttrProblem | undefined =>
    e - s === n ? undefined : { subcode: L, reason: `${name} must be ${n} octets, got ${e - s}` };
}

function multipleOf(n: number, name: string, allowEmpty: boolean, subcode: number) {
  return (_b: Uint8Array, s: number, e: number): AttrProblem | undefined =>
    (e - s) % n === 0 && (allowEmpty || e > s) ? undefined : { subcode, reason: `${name} length ${e - s} is not a ${allowEmpty ? '' : 'non-zero '}multiple of ${n}` };
}

function u8(n: number): Uint8Array {
  return Uint8Array.of(n);
}
function be32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  putU32(b, 0, n);
  return b;
}
function addr4(s: string): Uint8Array {
  return be32(ipv4ToUint32(s));
}

type A<T extends AttrType> = Exclude<Extract<PathAttribute, { type: T }>, { unknown: true }>;

/** The MP_REACH_NLRI next hop lengths accepted per AFI: IPv6 global (+ link-local); IPv4 or RFC 8950 IPv6. */
export function mpNextHopLengthOk(afi: number, len: number): boolean {
  if (afi === AFI_IPV6) return len === 16 || len === 32;
  if (afi === AFI_IPV4) return len === 4 || len === 16 || len === 32;
  return true;
}

/** AFI/SAFI whose NLRI are plain prefixes this codec understands (unicast and multicast of IPv4/IPv6). */
export function isPrefixFamily(afi: number, safi: number): afi is Afi {
  return (afi === AFI_IPV4 || afi === AFI_IPV6) && (safi === 1 || safi === 2);
}

export function addPathFor(ctx: CodecContext, afi: number): boolean {
  return afi === AFI_IPV4 ? ctx.addPathV4 : afi === AFI_IPV6 ? ctx.addPathV6 : false;
}

const ORIGIN: AttrDescriptor = {
  name: 'ORIGIN', flags: WK, action: 'treat-as-withdraw',
  check: (b, s, e) => e - s !== 1 ? { subcode: L, reason: `ORIGIN must be 1 octet, got ${e - s}` }
    : b[s]! > 2 ? { subcode: UpdateSubcode.INVALID_ORIGIN_ATTRIBUTE, reason: `ORIGIN value ${b[s]} is not IGP, EGP or INCOMPLETE` } : undefined,
  decode: (b, s, _e, flags) => ({ type: AttrType.ORIGIN, flags, origin: b[s]! }),
  encode: (a) => u8((a as A<AttrType.ORIGIN>).origin),
};

const AS_PATH: AttrDescriptor = {
  name: 'AS_PATH', flags: WK, action: 'treat-as-withdraw',
  check: (b, s, e, ctx) => asPathWellFormed(b, s, e, ctx.as4 ? 4 : 2) ? undefined
    : { subcode: UpdateSubcode.MALFORMED_AS_PATH, reason: `AS_PATH is malformed (bad segment type, empty segment, overrun or AS 0; ${ctx.as4 ? 4 : 2}-octet AS numbers)` },
  decode: (b, s, e, flags, ctx) => ({ type: AttrType.AS_PATH, flags, segments: decodeAsPath(b, s, e, ctx.as4 ? 4 : 2) }),
  encode: (a, ctx) => encodeAsPath((a as A<AttrType.AS_PATH>).segments, ctx.as4 ? 4 : 2),
};

const NEXT_HOP: AttrDescriptor = {
  name: 'NEXT_HOP', flags: WK, action: 'treat-as-withdraw',
  check: lenIs(4, 'NEXT_HOP'),
  decode: (b, s, _e, flags) => ({ type: AttrType.NEXT_HOP, flags, nextHop: ipv4BytesToString(b, s) }),
  encode: (a) => addr4((a as A<AttrType.NEXT_HOP>).nextHop),
};

const MED: AttrDescriptor = {
  name: 'MULTI_EXIT_DISC', flags: OPT_NT, action: 'treat-as-withdraw',
  check: lenIs(4, 'MULTI_EXIT_DISC'),
  decode: (b, s, _e, flags) => ({ type: AttrType.MULTI_EXIT_DISC, flags, med: u32(b, s) }),
  encode: (a) => be32((a as A<AttrType.MULTI_EXIT_DISC>).med),
};

const LOCAL_PREF: AttrDescriptor = {
  name: 'LOCAL_PREF', flags: WK, action: 'treat-as-withdraw',
  check: lenIs(4, 'LOCAL_PREF'),
  decode: (b, s, _e, flags) => ({ type: AttrType.LOCAL_PREF, flags, localPref: u32(b, s) }),
  encode: (a) => be32((a as A<AttrType.LOCAL_PREF>).localPref),
};

const ATOMIC_AGGREGATE: AttrDescriptor = {
  name: 'ATOMIC_AGGREGATE', flags: WK, action: 'attribute-discard',
  check: lenIs(0, 'ATOMIC_AGGREGATE'),
  decode: (_b, _s, _e, flags) => ({ type: AttrType.ATOMIC_AGGREGATE, flags }),
  encode: () => new Uint8Array(0),
};

function aggregatorCheck(name: string, size: (ctx: CodecContext) => number) {
  return (b: Uint8Array, s: number, e: number, ctx: CodecContext): AttrProblem | undefined => {
    const n = size(ctx);
    if (e - s !== n) return { subcode: L, reason: `${name} must be ${n} octets on this session, got ${e - s}` };
    const as = n === 6 ? u16(b, s) : u32(b, s);
    return as === 0 ? { subcode: UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, reason: `${name} carries AS 0 (RFC 7607)` } : undefined;
  };
}

const AGGREGATOR: AttrDescriptor = {
  name: 'AGGREGATOR', flags: OPT_T, action: 'attribute-discard',
  check: aggregatorCheck('AGGREGATOR', (ctx) => (ctx.as4 ? 8 : 6)),
  decode: (b, s, _e, flags, ctx) => ctx.as4
    ? { type: AttrType.AGGREGATOR, flags, as: u32(b, s), address: ipv4BytesToString(b, s + 4) }
    : { type: AttrType.AGGREGATOR, flags, as: u16(b, s), address: ipv4BytesToString(b, s + 2) },
  encode: (a, ctx) => {
    const g = a as A<AttrType.AGGREGATOR>;
    if (ctx.as4) return Buffer.concat([be32(g.as), addr4(g.address)]);
    const b = new Uint8Array(6);
    putU16(b, 0, g.as > 0xffff ? AS_TRANS : g.as);
    b.set(addr4(g.address), 2);
    return b;
  },
};

const COMMUNITIES: AttrDescriptor = {
  name: 'COMMUNITIES', flags: OPT_T, action: 'treat-as-withdraw',
  check: multipleOf(4, 'COMMUNITIES', false, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR),
  decode: (b, s, e, flags) => {
    const communities: number[] = [];
    for (let o = s; o < e; o += 4) communities.push(u32(b, o));
    return { type: AttrType.COMMUNITIES, flags, communities };
  },
  encode: (a) => {
    const c = (a as A<AttrType.COMMUNITIES>).communities;
    const b = new Uint8Array(4 * c.length);
    c.forEach((v, i) => putU32(b, 4 * i, v));
    return b;
  },
};

const ORIGINATOR_ID: AttrDescriptor = {
  name: 'ORIGINATOR_ID', flags: OPT_NT, action: 'treat-as-withdraw',
  check: lenIs(4, 'ORIGINATOR_ID'),
  decode: (b, s, _e, flags) => ({ type: AttrType.ORIGINATOR_ID, flags, originatorId: ipv4BytesToString(b, s) }),
  encode: (a) => addr4((a as A<AttrType.ORIGINATOR_ID>).originatorId),
};

const CLUSTER_LIST: AttrDescriptor = {
  name: 'CLUSTER_LIST', flags: OPT_NT, action: 'treat-as-withdraw',
  check: multipleOf(4, 'CLUSTER_LIST', false, L),
  decode: (b, s, e, flags) => {
    const clusterList: string[] = [];
    for (let o = s; o < e; o += 4) clusterList.push(ipv4BytesToString(b, o));
    return { type: AttrType.CLUSTER_LIST, flags, clusterList };
  },
  encode: (a) => Buffer.concat((a as A<AttrType.CLUSTER_LIST>).clusterList.map(addr4)),
};

/** Why MP_REACH_NLRI at b[s, e) is malformed, or undefined. Families other than IP unicast/multicast are not looked into. */
export function checkMpReach(b: Uint8Array, s: number, e: number, ctx: CodecContext): AttrProblem | undefined {
  if (e - s < 5) return { subcode: L, reason: `MP_REACH_NLRI of ${e - s} octets is too short` };
  const afi = u16(b, s);
  const safi = b[s + 2]!;
  const nhLen = b[s + 3]!;
  if (s + 5 + nhLen > e) return { subcode: L, reason: `MP_REACH_NLRI next hop length ${nhLen} overruns the attribute` };
  if (!isPrefixFamily(afi, safi)) return undefined;
  if (!mpNextHopLengthOk(afi, nhLen)) return { subcode: UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, reason: `MP_REACH_NLRI next hop length ${nhLen} is invalid for AFI ${afi}` };
  const bad = findBadPrefix(b, s + 5 + nhLen, e, afi === AFI_IPV4 ? 32 : 128, addPathFor(ctx, afi));
  return bad < 0 ? undefined : { subcode: UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, reason: `MP_REACH_NLRI prefix at offset ${bad} is malformed (AFI ${afi})` };
}

export function checkMpUnreach(b: Uint8Array, s: number, e: number, ctx: CodecContext): AttrProblem | undefined {
  if (e - s < 3) return { subcode: L, reason: `MP_UNREACH_NLRI of ${e - s} octets is too short` };
  const afi = u16(b, s);
  const safi = b[s + 2]!;
  if (!isPrefixFamily(afi, safi)) return undefined;
  const bad = findBadPrefix(b, s + 3, e, afi === AFI_IPV4 ? 32 : 128, addPathFor(ctx, afi));
  return bad < 0 ? undefined : { subcode: UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, reason: `MP_UNREACH_NLRI prefix at offset ${bad} is malformed (AFI ${afi})` };
}

const MP_REACH: AttrDescriptor = {
  name: 'MP_REACH_NLRI', flags: OPT_NT, action: 'session-reset',
  check: checkMpReach,
  decode: (b, s, e, flags, ctx) => {
    const afi = u16(b, s);
    const safi = b[s + 2]!;
    if (!isPrefixFamily(afi, safi)) return { type: AttrType.MP_REACH_NLRI, flags, value: copyBytes(b, s, e), unknown: true };
    const nhLen = b[s + 3]!;
    const nextHop = copyBytes(b, s + 4, s + 4 + nhLen);
    const reserved = b[s + 4 + nhLen]!;
    return { type: AttrType.MP_REACH_NLRI, flags, afi, safi, nextHop, reserved, nlri: decodePrefixes(b, s + 5 + nhLen, e, afi, addPathFor(ctx, afi)) };
  },
  encode: (a, ctx) => {
    const m = a as A<AttrType.MP_REACH_NLRI>;
    const nlri = encodePrefixes(m.nlri, addPathFor(ctx, m.afi));
    const b = new Uint8Array(5 + m.nextHop.length + nlri.length);
    putU16(b, 0, m.afi);
    b[2] = m.safi;
    b[3] = m.nextHop.length;
    b.set(m.nextHop, 4);
    b[4 + m.nextHop.length] = m.reserved;
    b.set(nlri, 5 + m.nextHop.length);
    return b;
  },
};

const MP_UNREACH: AttrDescriptor = {
  name: 'MP_UNREACH_NLRI', flags: OPT_NT, action: 'session-reset',
  check: checkMpUnreach,
  decode: (b, s, e, flags, ctx) => {
    const afi = u16(b, s);
    const safi = b[s + 2]!;
    if (!isPrefixFamily(afi, safi)) return { type: AttrType.MP_UNREACH_NLRI, flags, value: copyBytes(b, s, e), unknown: true };
    return { type: AttrType.MP_UNREACH_NLRI, flags, afi, safi, withdrawn: decodePrefixes(b, s + 3, e, afi, addPathFor(ctx, afi)) };
  },
  encode: (a, ctx) => {
    const m = a as A<AttrType.MP_UNREACH_NLRI>;
    const w = encodePrefixes(m.withdrawn, addPathFor(ctx, m.afi));
    const b = new Uint8Array(3 + w.length);
    putU16(b, 0, m.afi);
    b[2] = m.safi;
    b.set(w, 3);
    return b;
  },
};

const EXTENDED_COMMUNITIES: AttrDescriptor = {
  name: 'EXTENDED_COMMUNITIES', flags: OPT_T, action: 'treat-as-withdraw',
  check: multipleOf(8, 'EXTENDED_COMMUNITIES', true, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR),
  decode: (b, s, e, flags) => {
    const communities: Uint8Array[] = [];
    for (let o = s; o < e; o += 8) communities.push(copyBytes(b, o, o + 8));
    return { type: AttrType.EXTENDED_COMMUNITIES, flags, communities };
  },
  encode: (a) => Buffer.concat((a as A<AttrType.EXTENDED_COMMUNITIES>).communities),
};

// RFC 6793 §6: a malformed AS4_PATH or AS4_AGGREGATOR is discarded, the UPDATE is still used.
const AS4_PATH: AttrDescriptor = {
  name: 'AS4_PATH', flags: OPT_T, action: 'attribute-discard',
  check: (b, s, e) => asPathWellFormed(b, s, e, 4) ? undefined : { subcode: UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, reason: 'AS4_PATH is malformed (bad segment type, empty segment, overrun or AS 0)' },
  decode: (b, s, e, flags) => ({ type: AttrType.AS4_PATH, flags, segments: decodeAsPath(b, s, e, 4) }),
  encode: (a) => encodeAsPath((a as A<AttrType.AS4_PATH>).segments, 4),
};

const AS4_AGGREGATOR: AttrDescriptor = {
  name: 'AS4_AGGREGATOR', flags: OPT_T, action: 'attribute-discard',
  check: aggregatorCheck('AS4_AGGREGATOR', () => 8),
  decode: (b, s, _e, flags) => ({ type: AttrType.AS4_AGGREGATOR, flags, as: u32(b, s), address: ipv4BytesToString(b, s + 4) }),
  encode: (a) => {
    const g = a as A<AttrType.AS4_AGGREGATOR>;
    return Buffer.concat([be32(g.as), addr4(g.address)]);
  },
};

const LARGE_COMMUNITY: AttrDescriptor = {
  name: 'LARGE_COMMUNITY', flags: OPT_T, action: 'treat-as-withdraw',
  check: multipleOf(12, 'LARGE_COMMUNITY', false, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR),
  decode: (b, s, e, flags) => {
    const communities: [number, number, number][] = [];
    for (let o = s; o < e; o += 12) communities.push([u32(b, o), u32(b, o + 4), u32(b, o + 8)]);
    return { type: AttrType.LARGE_COMMUNITY, flags, communities };
  },
  encode: (a) => {
    const c = (a as A<AttrType.LARGE_COMMUNITY>).communities;
    const b = new Uint8Array(12 * c.length);
    c.forEach(([x, y, z], i) => { putU32(b, 12 * i, x); putU32(b, 12 * i + 4, y); putU32(b, 12 * i + 8, z); });
    return b;
  },
};

/** The registry, indexed by type code; undefined for attributes this codec does not know (kept raw). */
export const ATTRIBUTES: readonly (AttrDescriptor | undefined)[] = (() => {
  const t: (AttrDescriptor | undefined)[] = new Array<AttrDescriptor | undefined>(256).fill(undefined);
  t[AttrType.ORIGIN] = ORIGIN;
  t[AttrType.AS_PATH] = AS_PATH;
  t[AttrType.NEXT_HOP] = NEXT_HOP;
  t[AttrType.MULTI_EXIT_DISC] = MED;
  t[AttrType.LOCAL_PREF] = LOCAL_PREF;
  t[AttrType.ATOMIC_AGGREGATE] = ATOMIC_AGGREGATE;
  t[AttrType.AGGREGATOR] = AGGREGATOR;
  t[AttrType.COMMUNITIES] = COMMUNITIES;
  t[AttrType.ORIGINATOR_ID] = ORIGINATOR_ID;
  t[AttrType.CLUSTER_LIST] = CLUSTER_LIST;
  t[AttrType.MP_REACH_NLRI] = MP_REACH;
  t[AttrType.MP_UNREACH_NLRI] = MP_UNREACH;
  t[AttrType.EXTENDED_COMMUNITIES] = EXTENDED_COMMUNITIES;
  t[AttrType.AS4_PATH] = AS4_PATH;
  t[AttrType.AS4_AGGREGATOR] = AS4_AGGREGATOR;
  t[AttrType.LARGE_COMMUNITY] = LARGE_COMMUNITY;
  return t;
})();

export function attributeName(type: number): string {
  return ATTRIBUTES[type]?.name ?? `attribute ${type}`;
}

/** Header + value of one attribute. The extended-length bit is set when the value needs it, kept when given. */
export function encodeAttribute(a: PathAttribute, ctx: CodecContext): Uint8Array {
  let value: Uint8Array;
  if ('unknown' in a) value = a.value;
  else {
    const d = ATTRIBUTES[a.type];
    if (!d) throw new RangeError(`attribute type ${a.type} has no encoder`);
    value = d.encode(a, ctx);
  }
  if (value.length > 0xffff) throw new RangeError(`attribute ${a.type} value of ${value.length} octets exceeds 65535`);
  const ext = (a.flags & ATTR_FLAG_EXTENDED_LENGTH) !== 0 || value.length > 255;
  const hdr = ext ? 4 : 3;
  const b = new Uint8Array(hdr + value.length);
  b[0] = (a.flags & 0xff) | (ext ? ATTR_FLAG_EXTENDED_LENGTH : 0);
  b[1] = a.type;
  if (ext) putU16(b, 2, value.length);
  else b[2] = value.length;
  b.set(value, hdr);
  return b;
}
