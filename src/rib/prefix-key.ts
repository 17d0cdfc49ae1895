// Compact prefix keys for the RIB: IPv4 as one number (addr * 64 + len), IPv6 as a short latin1 string.
// Keys are what sets and logs hold; the hot tables index prefixes by (addr, len) directly (prefix-index.ts).
import { AFI_IPV4, AFI_IPV6, type Afi } from '../wire/types.js';

/** IPv4: addr * 64 + len (a safe integer < 2^38). IPv6: one char for len, then ceil(len/8) address bytes. */
export type PrefixKey = number | string;

export function v4Key(addr: number, len: number): number {
  return (addr >>> 0) * 64 + len;
}

export function v4KeyAddr(key: number): number {
  return Math.floor(key / 64) >>> 0;
}

export function v4KeyLen(key: number): number {
  return key % 64;
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

export function ipv4ToString(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

export function ipv4FromString(s: string): number {
  const p = s.split('.');
  if (p.length !== 4) throw new Error(`not an IPv4 address: ${s}`);
  let v = 0;
  for (const x of p) {
    const n = Number(x);
    if (!/^\d{1,3}$/.test(x) || n > 255) throw new Error(`not an IPv4 address: ${s}`);
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** RFC 5952 text of a 16-byte IPv6 address (lowercase, longest zero run compressed). */
export function ipv6ToString(b: Uint8Array, off = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

export function ipv6FromString(s: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = s;
  let tailV4: number | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) > 0) {
    tailV4 = ipv4FromString(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) throw new Error(`not an IPv6 address: ${s}`);
  const parse = (h: string) => (h === '' ? [] : h.split(':').map((w) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) throw new Error(`not an IPv6 address: ${s}`);
    return parseInt(w, 16);
  }));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 2 && fill < 1) || (halves.length === 1 && fill !== 0)) throw new Error(`not an IPv6 address: ${s}`);
  const words = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  for (let i = 0; i < 8; i++) { out[2 * i] = words[i] >> 8; out[2 * i + 1] = words[i] & 255; }
  if (tailV4 !== null) {
    out[12] = tailV4 >>> 24; out[13] = (tailV4 >>> 16) & 255; out[14] = (tailV4 >>> 8) & 255; out[15] = tailV4 & 255;
  }
  return out;
}

export function keyToString(key: PrefixKey): string {
  if (typeof key === 'number') return `${ipv4ToString(v4KeyAddr(key))}/${v4KeyLen(key)}`;
  return `${ipv6ToString(v6KeyAddr(key))}/${v6KeyLen(key)}`;
}

export function keyAfi(key: PrefixKey): Afi {
  return typeof key === 'number' ? AFI_IPV4 : AFI_IPV6;
}

/** Parses "10.0.0.0/24" or "fd00::/64" into a key; host bits must be zero. */
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
  const a = ipv4FromString(addrText);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  if (((a & ~mask) >>> 0) !== 0) throw new Error(`host bits set: ${text}`);
  return v4Key(a, len);
}

export { AFI_IPV4, AFI_IPV6 };
