// NLRI encoding (RFC 4271 §4.3, RFC 4760 §5, RFC 7911 path identifiers): validation, allocation-free
// iteration for the hot path (forEachPrefixV4/V6), and Prefix objects for the structured decoder/encoder.
import { BgpError } from './errors.js';
import { AFI_IPV4, ErrorCode, UpdateSubcode } from './types.js';
import type { Afi, Prefix } from './types.js';
import { ipv6ToMixedString } from '../net/address.js';

/**
 * Checks that [start, end) holds a whole number of well-formed prefixes (length <= maxBits, no overrun).
 * Returns the offset of the first bad prefix, or -1 when the field is well formed. Never allocates.
 */
export function findBadPrefix(msg: Uint8Array, start: number, end: number, maxBits: number, addPath: boolean): number {
  let o = start;
  while (o < end) {
    const at = o;
    if (addPath) {
      o += 4;
      if (o >= end) return at;
    }
    const len = msg[o]!;
    if (len > maxBits) return at;
    o += 1 + ((len + 7) >>> 3);
    if (o > end) return at;
  }
  return -1;
}

/** Number of prefixes in a field already validated by findBadPrefix. */
export function countPrefixes(msg: Uint8Array, start: number, end: number, addPath: boolean): number {
  let n = 0;
  let o = start;
  const skip = addPath ? 4 : 0;
  while (o < end) {
    o += skip;
    o += 1 + ((msg[o]! + 7) >>> 3);
    n++;
  }
  return n;
}

function overrun(at: number): BgpError {
  return new BgpError(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.INVALID_NETWORK_FIELD,
    `prefix at offset ${at} overruns its field or has an invalid length`, { offset: at });
}

/**
 * Calls cb(addr, len, pathId) for every IPv4 prefix in msg[start, end): addr is the network as an unsigned
 * 32-bit integer with host bits cleared, pathId is 0 without ADD-PATH. No allocation per prefix.
 * The range should come from scanUpdate (already validated); a malformed range throws BgpError.
 */
export function forEachPrefixV4(msg: Uint8Array, start: number, end: number, addPath: boolean,
  cb: (addr: number, len: number, pathId: number) => void): void {
  let o = start;
  while (o < end) {
    let pathId = 0;
    if (addPath) {
      if (o + 5 > end) throw overrun(o);
      pathId = ((msg[o]! << 24) | (msg[o + 1]! << 16) | (msg[o + 2]! << 8) | msg[o + 3]!) >>> 0;
      o += 4;
    }
    const len = msg[o]!;
    const n = (len + 7) >>> 3;
    if (len > 32 || o + 1 + n > end) throw overrun(o);
    let a = 0;
    if (n > 0) {
      a = msg[o + 1]! << 24;
      if (n > 1) {
        a |= msg[o + 2]! << 16;
        if (n > 2) {
          a |= msg[o + 3]! << 8;
          if (n > 3) a |= msg[o + 4]!;
        }
      }
    }
    // Host bits past len are irrelevant on the wire (RFC 4271 §4.3) and cleared here.
    a = len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0;
    cb(a, len, pathId);
    o += 1 + n;
  }
}

/**
 * Calls cb(buf, off, len, pathId) for every IPv6 prefix in msg[start, end): the prefix octets are
 * buf[off, off + ceil(len/8)) (buf is msg; bits past len are as on the wire), pathId is 0 without ADD-PATH.
 */
export function forEachPrefixV6(msg: Uint8Array, start: number, end: number, addPath: boolean,
  cb: (buf: Uint8Array, off: number, len: number, pathId: number) => void): void {
  let o = start;
  while (o < end) {
    let pathId = 0;
    if (addPath) {
      if (o + 5 > end) throw overrun(o);
      pathId = ((msg[o]! << 24) | (msg[o + 1]! << 16) | (msg[o + 2]! << 8) | msg[o + 3]!) >>> 0;
      o += 4;
    }
    const len = msg[o]!;
    const n = (len + 7) >>> 3;
    if (len > 128 || o + 1 + n > end) throw overrun(o);
    cb(msg, o + 1, len, pathId);
    o += 1 + n;
  }
}

/** Prefix objects for msg[start, end) (validated). Host bits past len are cleared. */
export function decodePrefixes(msg: Uint8Array, start: number, end: number, afi: Afi, addPath: boolean): Prefix[] {
  const out: Prefix[] = [];
  const width = afi === AFI_IPV4 ? 4 : 16;
  const maxBits = width * 8;
  let o = start;
  while (o < end) {
    let pathId: number | undefined;
    if (addPath) {
      if (o + 5 > end) throw overrun(o);
      pathId = ((msg[o]! << 24) | (msg[o + 1]! << 16) | (msg[o + 2]! << 8) | msg[o + 3]!) >>> 0;
      o += 4;
    }
    const len = msg[o]!;
    const n = (len + 7) >>> 3;
    if (len > maxBits || o + 1 + n > end) throw overrun(o);
    const addr = new Uint8Array(width);
    addr.set(msg.subarray(o + 1, o + 1 + n));
    if (len & 7) addr[n - 1]! &= 0xff << (8 - (len & 7));
    const p: Prefix = { afi, len, addr };
    if (pathId !== undefined) p.pathId = pathId;
    out.push(p);
    o += 1 + n;
  }
  return out;
}

export function encodedPrefixesLength(prefixes: readonly Prefix[], addPath: boolean): number {
  let n = 0;
  for (const p of prefixes) n += (addPath ? 5 : 1) + ((p.len + 7) >>> 3);
  return n;
}

/** Writes prefixes at buf[o]; returns the offset after them. Path identifier 0 when a prefix has none. */
export function writePrefixes(buf: Uint8Array, o: number, prefixes: readonly Prefix[], addPath: boolean): number {
  for (const p of prefixes) {
    if (addPath) {
      const id = p.pathId ?? 0;
      buf[o] = id >>> 24; buf[o + 1] = (id >>> 16) & 0xff; buf[o + 2] = (id >>> 8) & 0xff; buf[o + 3] = id & 0xff;
      o += 4;
    }
    const n = (p.len + 7) >>> 3;
    buf[o] = p.len;
    for (let i = 0; i < n; i++) buf[o + 1 + i] = p.addr[i] ?? 0;
    if (p.len & 7) buf[o + n]! &= 0xff << (8 - (p.len & 7));
    o += 1 + n;
  }
  return o;
}

export function encodePrefixes(prefixes: readonly Prefix[], addPath: boolean): Uint8Array {
  const b = new Uint8Array(encodedPrefixesLength(prefixes, addPath));
  writePrefixes(b, 0, prefixes, addPath);
  return b;
}

/** "10.0.0.0/24", "2001:db8::/32", with "#<id>" under ADD-PATH: for logs and tools. */
export function prefixToString(p: Prefix): string {
  let s: string;
  if (p.afi === AFI_IPV4) s = `${p.addr[0]}.${p.addr[1]}.${p.addr[2]}.${p.addr[3]}/${p.len}`;
  else s = `${ipv6ToMixedString(p.addr, 0)}/${p.len}`;
  return p.pathId !== undefined ? `${s}#${p.pathId}` : s;
}
