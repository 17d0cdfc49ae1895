// Outbound UPDATEs built once for many peers (FRR's update-group packet building): as many NLRI per message as
// fit the session maximum, IPv4 in the classic fields, IPv6 in MP_REACH_NLRI/MP_UNREACH_NLRI; End-of-RIB.
import { attributeBlockToAs2, setRawAttribute } from './attribute-block.js';
import { writeHeader } from './header.js';
import {
  AFI_IPV4, AttrType, ATTR_FLAG_EXTENDED_LENGTH, ATTR_FLAG_OPTIONAL, ATTR_FLAG_TRANSITIVE, HEADER_LEN,
  MessageType, SAFI_UNICAST,
} from './types.js';
import type { Afi, CodecContext } from './types.js';

/** IPv4 prefixes without per-prefix objects: addrs[i] (uint32 network), lens[i], optional pathIds[i]. */
export interface PrefixesV4 {
  count?: number; // default lens.length
  addrs: ArrayLike<number>;
  lens: ArrayLike<number>;
  pathIds?: ArrayLike<number>;
}

/** IPv6 prefixes packed: prefix i is addrs[16*i, 16*i+16) (full 16 octets), lens[i], optional pathIds[i]. */
export interface PrefixesV6 {
  count?: number;
  addrs: Uint8Array;
  lens: ArrayLike<number>;
  pathIds?: ArrayLike<number>;
}

export interface BuildUpdatesOptions {
  /** Path attributes in 4-octet AS form, without MP_REACH/MP_UNREACH (a scanUpdate `attrs` block). */
  attrs?: Uint8Array;
  afi: Afi;
  safi?: number; // default unicast
  /** IPv6: the MP_REACH_NLRI next hop (16 or 32 octets). IPv4: when given, replaces NEXT_HOP in attrs. */
  nextHop?: Uint8Array;
  prefixes?: PrefixesV4 | PrefixesV6;
  withdrawals?: PrefixesV4 | PrefixesV6;
  ctx: CodecContext;
}

function count(p: PrefixesV4 | PrefixesV6 | undefined): number {
  return p === undefined ? 0 : p.count ?? p.lens.length;
}

function prefixSize(len: number, addPath: boolean): number {
  return (addPath ? 5 : 1) + ((len + 7) >>> 3);
}

/** Splits prefixes [0, n) into runs whose encoded size fits `room` octets; returns [end index, octets] pairs. */
function pack(p: PrefixesV4 | PrefixesV6, n: number, addPath: boolean, room: number, maxBits: number): number[] {
  const runs: number[] = [];
  let bytes = 0;
  if (p.lens.length < n || (maxBits === 128 && (p as PrefixesV6).addrs.length < 16 * n)) throw new RangeError(`buildUpdates: fewer than ${n} prefixes given`);
  for (let i = 0; i < n; i++) {
    const len = p.lens[i]!;
    if (!(len >= 0 && len <= maxBits)) throw new RangeError(`buildUpdates: prefix length ${len} is not 0..${maxBits}`);
    const sz = prefixSize(len, addPath);
    if (sz > room) throw new RangeError(`a /${len} prefix does not fit in a message with ${room} octets left for NLRI`);
    if (bytes + sz > room) { runs.push(i, bytes); bytes = 0; }
    bytes += sz;
  }
  if (bytes > 0) runs.push(n, bytes);
  return runs;
}

function writePrefix(buf: Uint8Array, o: number, p: PrefixesV4 | PrefixesV6, i: number, afi: Afi, addPath: boolean): number {
  if (addPath) {
    const id = p.pathIds ? p.pathIds[i]! : 0;
    buf[o] = id >>> 24; buf[o + 1] = (id >>> 16) & 0xff; buf[o + 2] = (id >>> 8) & 0xff; buf[o + 3] = id & 0xff;
    o += 4;
  }
  const len = p.lens[i]!;
  const nb = (len + 7) >>> 3;
  buf[o++] = len;
  if (afi === AFI_IPV4) {
    const a = (p as PrefixesV4).addrs[i]!;
    for (let k = 0; k < nb; k++) buf[o + k] = (a >>> (24 - 8 * k)) & 0xff;
  } else {
    const src = (p as PrefixesV6).addrs;
    const base = 16 * i;
    for (let k = 0; k < nb; k++) buf[o + k] = src[base + k]!;
  }
  if (len & 7) buf[o + nb - 1]! &= 0xff << (8 - (len & 7));
  return o + nb;
}

interface Plan { kind: 'withdraw' | 'announce'; from: number; to: number; bytes: number; size: number }

/**
 * UPDATE messages carrying `withdrawals` then `prefixes` of one address family, each message as full as
 * ctx.maxMessageLen allows. IPv4 uses the Withdrawn Routes and NLRI fields; other families use
 * MP_UNREACH_NLRI / MP_REACH_NLRI, encoded as the first path attribute (RFC 7606 §5.1) followed by attrs.
 * With ctx.as4 false the attributes are rewritten for a 2-octet peer (RFC 6793). All messages share one
 * underlying buffer (one allocation), so they can also be written as one chunk.
 */
export function buildUpdates(opts: BuildUpdatesOptions): Buffer[] {
  const { afi, ctx } = opts;
  const safi = opts.safi ?? SAFI_UNICAST;
  const classic = afi === AFI_IPV4 && safi === SAFI_UNICAST;
  const addPath = afi === AFI_IPV4 ? ctx.addPathV4 : ctx.addPathV6;
  const max = ctx.maxMessageLen;
  const maxBits = afi === AFI_IPV4 ? 32 : 128;
  const nW = count(opts.withdrawals);
  const nA = count(opts.prefixes);
  let attrs: Uint8Array = opts.attrs ?? new Uint8Array(0);
  if (nA > 0) {
    if (!ctx.as4) attrs = attributeBlockToAs2(attrs);
    if (afi === AFI_IPV4 && opts.nextHop) attrs = setRawAttribute(attrs, AttrType.NEXT_HOP, ATTR_FLAG_TRANSITIVE, opts.nextHop);
  }
  const nh = classic ? undefined : opts.nextHop;
  if (nA > 0 && !classic && (nh === undefined || nh.length === 0 || nh.length > 255)) {
    throw new RangeError('buildUpdates: MP_REACH_NLRI needs a next hop (16 or 32 octets for IPv6)');
  }
  const fixed = HEADER_LEN + 4; // header, withdrawn length, total path attribute length
  const plans: Plan[] = [];
  if (nW > 0) {
    const room = classic ? max - fixed : max - fixed - 4 - 3;
    const runs = pack(opts.withdrawals!, nW, addPath, room, maxBits);
    for (let r = 0, from = 0; r < runs.length; r += 2) {
      const bytes = runs[r + 1]!;
      const size = classic ? fixed + bytes : fixed + mpHeader(3 + bytes) + 3 + bytes;
      plans.push({ kind: 'withdraw', from, to: runs[r]!, bytes, size });
      from = runs[r]!;
    }
  }
  if (nA > 0) {
    const mpFixed = classic ? 0 : 4 + 5 + nh!.length;
    const room = max - fixed - attrs.length - mpFixed;
    const runs = pack(opts.prefixes!, nA, addPath, room, maxBits);
    for (let r = 0, from = 0; r < runs.length; r += 2) {
      const bytes = runs[r + 1]!;
      const size = classic ? fixed + attrs.length + bytes : fixed + mpHeader(5 + nh!.length + bytes) + 5 + nh!.length + attrs.length + bytes;
      plans.push({ kind: 'announce', from, to: runs[r]!, bytes, size });
      from = runs[r]!;
    }
  }
  let total = 0;
  for (const p of plans) total += p.size;
  const all = Buffer.allocUnsafe(total);
  const out: Buffer[] = [];
  let base = 0;
  for (const p of plans) {
    const m = all.subarray(base, base + p.size);
    base += p.size;
    writeHeader(m, MessageType.UPDATE);
    let o = HEADER_LEN;
    const src = p.kind === 'withdraw' ? opts.withdrawals! : opts.prefixes!;
    if (classic) {
      const wl = p.kind === 'withdraw' ? p.bytes : 0;
      m[o] = wl >>> 8; m[o + 1] = wl & 0xff;
      o += 2;
      if (p.kind === 'withdraw') {
        for (let i = p.from; i < p.to; i++) o = writePrefix(m, o, src, i, afi, addPath);
        m[o] = 0; m[o + 1] = 0;
        o += 2;
      } else {
        m[o] = attrs.length >>> 8; m[o + 1] = attrs.length & 0xff;
        m.set(attrs, o + 2);
        o += 2 + attrs.length;
        for (let i = p.from; i < p.to; i++) o = writePrefix(m, o, src, i, afi, addPath);
      }
    } else {
      m[o] = 0; m[o + 1] = 0;
      const valueLen = p.kind === 'withdraw' ? 3 + p.bytes : 5 + nh!.length + p.bytes;
      const hdr = mpHeader(valueLen);
      const attrLen = hdr + valueLen + (p.kind === 'withdraw' ? 0 : attrs.length);
      m[o + 2] = attrLen >>> 8; m[o + 3] = attrLen & 0xff;
      o += 4;
      m[o] = ATTR_FLAG_OPTIONAL | (hdr === 4 ? ATTR_FLAG_EXTENDED_LENGTH : 0);
      m[o + 1] = p.kind === 'withdraw' ? AttrType.MP_UNREACH_NLRI : AttrType.MP_REACH_NLRI;
      if (hdr === 4) { m[o + 2] = valueLen >>> 8; m[o + 3] = valueLen & 0xff; } else m[o + 2] = valueLen;
      o += hdr;
      m[o] = afi >>> 8; m[o + 1] = afi & 0xff; m[o + 2] = safi;
      o += 3;
      if (p.kind === 'announce') {
        m[o++] = nh!.length;
        m.set(nh!, o);
        o += nh!.length;
        m[o++] = 0; // reserved
      }
      for (let i = p.from; i < p.to; i++) o = writePrefix(m, o, src, i, afi, addPath);
      if (p.kind === 'announce') { m.set(attrs, o); o += attrs.length; }
    }
    out.push(m);
  }
  return out;
}

function mpHeader(valueLen: number): number {
  return valueLen > 255 ? 4 : 3;
}

/** End-of-RIB for a family (RFC 4724 §2): an empty UPDATE for IPv4 unicast, else an empty MP_UNREACH_NLRI. */
export function buildEndOfRib(afi: number, safi: number = SAFI_UNICAST): Buffer {
  if (afi === AFI_IPV4 && safi === SAFI_UNICAST) {
    const b = Buffer.alloc(HEADER_LEN + 4);
    writeHeader(b, MessageType.UPDATE);
    return b;
  }
  const b = Buffer.alloc(HEADER_LEN + 4 + 6);
  writeHeader(b, MessageType.UPDATE);
  b[HEADER_LEN + 3] = 6;
  b[HEADER_LEN + 4] = ATTR_FLAG_OPTIONAL;
  b[HEADER_LEN + 5] = AttrType.MP_UNREACH_NLRI;
  b[HEADER_LEN + 6] = 3;
  b.writeUInt16BE(afi, HEADER_LEN + 7);
  b[HEADER_LEN + 9] = safi;
  return b;
}
