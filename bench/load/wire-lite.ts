// Bench-only BGP bytes: OPEN/KEEPALIVE/UPDATE writers and a minimal UPDATE reader for the load speaker.
// Used until the codec's hot path (src/wire) lands; nothing in src/ may depend on this file.

export const HEADER_LEN = 19;
export const MAX_MESSAGE_LEN = 4096;
export const TYPE_OPEN = 1;
export const TYPE_UPDATE = 2;
export const TYPE_NOTIFICATION = 3;
export const TYPE_KEEPALIVE = 4;

/** One IPv4 prefix as two numbers: the address as an unsigned 32-bit integer and the length. */
export interface Prefix4 {
  addr: number;
  len: number;
}

/** The attribute values the bench generates; names follow RFC 4271 / RFC 1997. */
export interface AttrSet {
  origin: 0 | 1 | 2;
  asPath: number[]; // one AS_SEQUENCE of four-octet ASNs (empty = locally originated)
  nextHop: number; // IPv4 as uint32
  med?: number;
  localPref: number;
  communities: number[];
}

export function ipv4ToUint32(s: string): number {
  const p = s.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`bad IPv4 address ${s}`);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

export function uint32ToIpv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

function header(buf: Buffer, type: number): void {
  buf.fill(0xff, 0, 16);
  buf.writeUInt16BE(buf.length, 16);
  buf[18] = type;
}

export const KEEPALIVE: Buffer = (() => {
  const b = Buffer.alloc(HEADER_LEN);
  header(b, TYPE_KEEPALIVE);
  return b;
})();

/** OPEN with the capabilities a Calico node sends: MP IPv4 unicast, route refresh, 4-octet AS. */
export function encodeOpenLite(asn: number, holdTime: number, bgpId: string): Buffer {
  const caps = Buffer.from([
    1, 4, 0, 1, 0, 1, // multiprotocol IPv4 unicast
    2, 0, // route refresh
    65, 4, (asn >>> 24) & 255, (asn >>> 16) & 255, (asn >>> 8) & 255, asn & 255, // 4-octet AS
  ]);
  const body = Buffer.alloc(10 + 2 + caps.length);
  body[0] = 4;
  body.writeUInt16BE(asn > 0xffff ? 23456 : asn, 1);
  body.writeUInt16BE(holdTime, 3);
  body.writeUInt32BE(ipv4ToUint32(bgpId), 5);
  body[9] = 2 + caps.length;
  body[10] = 2;
  body[11] = caps.length;
  caps.copy(body, 12);
  const msg = Buffer.alloc(HEADER_LEN + body.length);
  header(msg, TYPE_OPEN);
  body.copy(msg, HEADER_LEN);
  return msg;
}

/** Path attributes in type order (what most speakers send), four-octet AS_PATH (AS4 negotiated). */
export function encodeAttrs(a: AttrSet): Buffer {
  const parts: Buffer[] = [];
  const attr = (flags: number, type: number, value: Buffer): void => {
    if (value.length > 255) {
      const h = Buffer.from([flags | 0x10, type, value.length >> 8, value.length & 255]);
      parts.push(h, value);
    } else parts.push(Buffer.from([flags, type, value.length]), value);
  };
  attr(0x40, 1, Buffer.from([a.origin]));
  const ap = Buffer.alloc(a.asPath.length ? 2 + 4 * a.asPath.length : 0);
  if (a.asPath.length) {
    ap[0] = 2;
    ap[1] = a.asPath.length;
    a.asPath.forEach((as, i) => ap.writeUInt32BE(as, 2 + 4 * i));
  }
  attr(0x40, 2, ap);
  const nh = Buffer.alloc(4);
  nh.writeUInt32BE(a.nextHop);
  attr(0x40, 3, nh);
  if (a.med !== undefined) {
    const m = Buffer.alloc(4);
    m.writeUInt32BE(a.med);
    attr(0x80, 4, m);
  }
  const lp = Buffer.alloc(4);
  lp.writeUInt32BE(a.localPref);
  attr(0x40, 5, lp);
  if (a.communities.length) {
    const c = Buffer.alloc(4 * a.communities.length);
    a.communities.forEach((v, i) => c.writeUInt32BE(v >>> 0, 4 * i));
    attr(0xc0, 8, c);
  }
  return Buffer.concat(parts);
}

function prefixBytes(p: Prefix4): number {
  return 1 + ((p.len + 7) >> 3);
}

function writePrefix(buf: Buffer, o: number, p: Prefix4): number {
  buf[o++] = p.len;
  const n = (p.len + 7) >> 3;
  for (let i = 0; i < n; i++) buf[o++] = (p.addr >>> (24 - 8 * i)) & 255;
  return o;
}

/** UPDATEs announcing `prefixes` with one attribute set, each at most 4096 octets. */
export function packAnnounce(attrs: Buffer, prefixes: Prefix4[]): Buffer[] {
  const out: Buffer[] = [];
  const room = MAX_MESSAGE_LEN - HEADER_LEN - 4 - attrs.length;
  if (room < 5) throw new Error('attribute set too large for one UPDATE');
  let i = 0;
  while (i < prefixes.length) {
    let used = 0;
    let j = i;
    while (j < prefixes.length && used + prefixBytes(prefixes[j]!) <= room) used += prefixBytes(prefixes[j++]!);
    const msg = Buffer.alloc(HEADER_LEN + 4 + attrs.length + used);
    header(msg, TYPE_UPDATE);
    let o = HEADER_LEN;
    msg.writeUInt16BE(0, o);
    msg.writeUInt16BE(attrs.length, o + 2);
    attrs.copy(msg, o + 4);
    o += 4 + attrs.length;
    for (let k = i; k < j; k++) o = writePrefix(msg, o, prefixes[k]!);
    out.push(msg);
    i = j;
  }
  return out;
}

/** UPDATEs withdrawing `prefixes`, each at most 4096 octets. */
export function packWithdraw(prefixes: Prefix4[]): Buffer[] {
  const out: Buffer[] = [];
  const room = MAX_MESSAGE_LEN - HEADER_LEN - 4;
  let i = 0;
  while (i < prefixes.length) {
    let used = 0;
    let j = i;
    while (j < prefixes.length && used + prefixBytes(prefixes[j]!) <= room) used += prefixBytes(prefixes[j++]!);
    const msg = Buffer.alloc(HEADER_LEN + 4 + used);
    header(msg, TYPE_UPDATE);
    msg.writeUInt16BE(used, HEADER_LEN);
    let o = HEADER_LEN + 2;
    for (let k = i; k < j; k++) o = writePrefix(msg, o, prefixes[k]!);
    msg.writeUInt16BE(0, o);
    out.push(msg);
    i = j;
  }
  return out;
}

/**
 * Canonical text of a received attribute block, independent of attribute order, flags and of the
 * reflector's own additions; ORIGINATOR_ID and CLUSTER_LIST are returned apart so they can be checked.
 * Communities are sorted: RFC 1997 gives their order no meaning and some daemons reorder them.
 */
export function canonicalAttrs(buf: Uint8Array, start: number, end: number): { sig: string; originatorId: number; clusterList: number[]; error?: string } {
  let origin = -1;
  let asPath = '';
  let nextHop = -1;
  let med = '';
  let localPref = -1;
  let comms: number[] = [];
  let originatorId = -1;
  const clusterList: number[] = [];
  let o = start;
  const u32 = (p: number): number => ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
  while (o < end) {
    const flags = buf[o]!;
    const type = buf[o + 1]!;
    let len: number;
    if (flags & 0x10) {
      len = (buf[o + 2]! << 8) | buf[o + 3]!;
      o += 4;
    } else {
      len = buf[o + 2]!;
      o += 3;
    }
    if (o + len > end) return { sig: '', originatorId, clusterList, error: `attribute ${type} overruns the attribute block` };
    switch (type) {
      case 1: origin = buf[o]!; break;
      case 2: {
        const segs: string[] = [];
        let p = o;
        while (p < o + len) {
          const st = buf[p]!;
          const n = buf[p + 1]!;
          const asns: number[] = [];
          for (let k = 0; k < n; k++) asns.push(u32(p + 2 + 4 * k));
          segs.push(`${st}:${asns.join(' ')}`);
          p += 2 + 4 * n;
        }
        asPath = segs.join('|');
        break;
      }
      case 3: nextHop = u32(o); break;
      case 4: med = String(u32(o)); break;
      case 5: localPref = u32(o); break;
      case 8: comms = []; for (let p = o; p < o + len; p += 4) comms.push(u32(p)); break;
      case 9: originatorId = u32(o); break;
      case 10: for (let p = o; p < o + len; p += 4) clusterList.push(u32(p)); break;
      default: break;
    }
    o += len;
  }
  comms.sort((a, b) => a - b);
  const sig = `o=${origin};p=${asPath};nh=${uint32ToIpv4(nextHop >>> 0)};med=${med};lp=${localPref};c=${comms.join(',')}`;
  return { sig, originatorId, clusterList };
}
