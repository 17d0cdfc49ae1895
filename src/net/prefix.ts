// IPv4/IPv6 prefixes for the whole program (pure, no I/O), in the two forms the program needs:
// - PrefixKey: the compact key the RIB's sets, maps and logs hold (IPv4 as one number, IPv6 as a short string);
//   the hot tables index prefixes by (addr, len) directly (rib/prefix-index.ts).
// - ParsedPrefix: an address as a bigint with a length, so that the control socket's longest-prefix match
//   (`show route for ADDR`) is one mask and compare.
// The byte layout of prefixes in UPDATE messages is wire format and stays in src/wire/nlri.ts.
import { ipv6ToString, parseIPv4, parseIPv6, ipv4ToUint32, ipv6FromString, uint32ToIpv4 } from './address.js';

export type Family = 4 | 6;

// ---- PrefixKey ----

/** IPv4: addr * 64 + len (a safe integer < 2^38). IPv6: one char for len, then ceil(len/8) address bytes. */
export type PrefixKey = number | string;

export function v4Key(addr: number, len: number): number {
  return (addr >>> 0) * 64 + len;
}

export function v4KeyAddr(key: number): number {
  return Math.floor(key / 64) >>> 0;
}

/** key - 64 * floor(key / 64): the same as key % 64 for these keys, without V8's slow floating-point modulo. */
export function v4KeyLen(key: number): number {
  return key - Math.floor(key / 64) * 64;
}

/** Builds the IPv6 key from the significant bytes of a prefix (bits past len are cleared here). */
export function v6Key(buf: Uint8Array, off: number, len: number): string {
  const n = (len + 7) >> 3;
  let s = String.fromCharCode(len);
  for (let i = 0; i < n - 1; i++) s += String.fromCharCode(buf[off + i]);
  if (n > 0) s += String.fromCharCode(buf[off + n - 1] & ((0xff00 >> (len - (n - 1) * 8)) & 0xff));
  return s;
}

export function v6KeyLen(key: string): number {
  return key.charCodeAt(0);
}

/** Writes the 16-byte address of an IPv6 key into out (zero padded). */
export function v6KeyAddr(key: string, out: Uint8Array = new Uint8Array(16)): Uint8Array {
  out.fill(0);
  for (let i = 1; i < key.length; i++) out[i - 1] = key.charCodeAt(i);
  return out;
}

export function keyToString(key: PrefixKey): string {
  if (typeof key === 'number') return `${uint32ToIpv4(v4KeyAddr(key))}/${v4KeyLen(key)}`;
  return `${ipv6ToString(v6KeyAddr(key))}/${v6KeyLen(key)}`;
}

/** Parses "10.0.0.0/24" or "fd00::/64" into a key; throws when malformed or when host bits are set. */
export function parsePrefix(text: string): PrefixKey {
  const slash = text.indexOf('/');
  if (slash < 0) throw new Error(`not a prefix: ${text}`);
  const addrText = text.slice(0, slash);
  const len = Number(text.slice(slash + 1));
  if (addrText.includes(':')) {
    if (!Number.isInteger(len) || len < 0 || len > 128) throw new Error(`bad prefix length: ${text}`);
    const b = ipv6FromString(addrText);
    for (let bit = len; bit < 128; bit++) if (b[bit >> 3] & (0x80 >> (bit & 7))) throw new Error(`host bits set: ${text}`);
    return v6Key(b, 0, len);
  }
  if (!Number.isInteger(len) || len < 0 || len > 32) throw new Error(`bad prefix length: ${text}`);
  const a = ipv4ToUint32(addrText);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  if (((a & ~mask) >>> 0) !== 0) throw new Error(`host bits set: ${text}`);
  return v4Key(a, len);
}

// ---- ParsedPrefix (bigint) ----

export interface ParsedPrefix {
  family: Family;
  /** Network address as an integer (host bits kept as given). */
  value: bigint;
  length: number;
}

export function ipv4Value(s: string): bigint | undefined {
  const v = parseIPv4(s);
  return v === undefined ? undefined : BigInt(v);
}

export function ipv6Value(s: string): bigint | undefined {
  const b = parseIPv6(s);
  if (b === undefined) return undefined;
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

export function addressValue(s: string, family: Family): bigint | undefined {
  return family === 4 ? ipv4Value(s) : ipv6Value(s);
}

export const maxLength = (family: Family): number => (family === 4 ? 32 : 128);

/** "a.b.c.d/len" or "x::/len" as a ParsedPrefix; undefined when malformed or of the other family. */
export function parsePrefixValue(s: string, family: Family): ParsedPrefix | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const value = addressValue(s.slice(0, slash), family);
  const lenText = s.slice(slash + 1);
  if (value === undefined || !/^\d{1,3}$/.test(lenText)) return undefined;
  const length = Number(lenText);
  if (length > maxLength(family)) return undefined;
  return { family, value, length };
}

export function mask(family: Family, length: number): bigint {
  const bits = BigInt(maxLength(family));
  const all = (1n << bits) - 1n;
  return length === 0 ? 0n : (all >> (bits - BigInt(length))) << (bits - BigInt(length));
}

/** True when no host bit is set beyond the prefix length. */
export function isNetwork(p: ParsedPrefix): boolean {
  return (p.value & mask(p.family, p.length)) === p.value;
}

export function ipv4ValueToString(v: bigint): string {
  return uint32ToIpv4(Number(v & 0xffffffffn));
}

/** RFC 5952 text of a 128-bit value (see ipv6ToString). */
export function ipv6ValueToString(v: bigint): string {
  const b = new Uint8Array(16);
  for (let i = 15; i >= 0; i--) { b[i] = Number(v & 0xffn); v >>= 8n; }
  return ipv6ToString(b);
}

/** Canonical "network/length" text of a prefix (host bits cleared), as the RIB prints networks. */
export function canonicalPrefix(p: ParsedPrefix): string {
  const net = p.value & mask(p.family, p.length);
  return `${p.family === 4 ? ipv4ValueToString(net) : ipv6ValueToString(net)}/${p.length}`;
}
