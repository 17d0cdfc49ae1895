// IPv4 and IPv6 addresses for the whole program (pure, no I/O): text <-> number/bytes, RFC 5952 text, and the
// checks the configuration and the datastore apply to untrusted text. Every layer (wire, rib, reflector,
// control, datastore, config) imports from here; this module imports nothing of the program.
//
// Two kinds of parser, on purpose:
// - parseIPv4/parseIPv6 (and the throwing ipv4ToUint32/ipv6FromString) turn text the program already holds
//   (router IDs, a `show route for` argument, a neighbour address from a PeerSpec) into a number or 16 bytes.
// - canonical* validate text from outside (environment, datastore) with the ip-address package and return one
//   canonical text per address, so that equal addresses compare equal as strings; they are stricter (no leading
//   zeros in an IPv4 octet, no surrounding spaces).
import { Address4, Address6 } from 'ip-address';

/** A dotted quad as an unsigned 32-bit number, or undefined (exactly four decimal octets of 1-3 digits, <= 255). */
export function parseIPv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** parseIPv4 that throws a RangeError (for text the program produced itself: router IDs, cluster IDs). */
export function ipv4ToUint32(s: string): number {
  const v = parseIPv4(s);
  if (v === undefined) throw new RangeError(`not an IPv4 address: ${s}`);
  return v;
}

/** Dotted quad of an unsigned 32-bit number. */
export function uint32ToIpv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** Dotted quad of the 4 bytes at b[o] (allocation-free apart from the string: it sits on per-attribute paths). */
export function ipv4BytesToString(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** 16 bytes of an IPv6 address (a dotted IPv4 tail as in "::ffff:1.2.3.4" is accepted), or undefined. */
export function parseIPv6(s: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  let text = s;
  let tailV4: number | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) > 0) {
    tailV4 = parseIPv4(text.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (h: string): number[] | undefined => {
    if (h === '') return [];
    const words: number[] = [];
    for (const w of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return undefined;
      words.push(parseInt(w, 16));
    }
    return words;
  };
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  if (head === undefined || tail === undefined) return undefined;
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 2 && fill < 1) || (halves.length === 1 && fill !== 0)) return undefined;
  const words = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  for (let i = 0; i < 8; i++) { out[2 * i] = words[i] >> 8; out[2 * i + 1] = words[i] & 255; }
  if (tailV4 !== undefined) {
    out[12] = tailV4 >>> 24; out[13] = (tailV4 >>> 16) & 255; out[14] = (tailV4 >>> 8) & 255; out[15] = tailV4 & 255;
  }
  return out;
}

/** parseIPv6 that throws (for text the program holds already, e.g. a PeerSpec's neighbour address). */
export function ipv6FromString(s: string): Uint8Array {
  const b = parseIPv6(s);
  if (b === undefined) throw new Error(`not an IPv6 address: ${s}`);
  return b;
}

/** The eight 16-bit groups of the address at b[off], and where its longest run (2+ groups, first on a tie) of zeros is. */
function groupsAndZeroRun(b: Uint8Array, off: number): { words: number[]; start: number; len: number } {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((b[off + 2 * i] ?? 0) << 8) | (b[off + 2 * i + 1] ?? 0));
  let start = -1;
  let len = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > len) { start = i; len = j - i; }
    i = j;
  }
  return { words, start, len };
}

function joinGroups(words: number[], start: number, len: number): string {
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (start < 0) return hex(words);
  return `${hex(words.slice(0, start))}::${hex(words.slice(start + len))}`;
}

/** RFC 5952 text of the 16-byte address at b[off]: lowercase, longest zero run compressed, all groups in hex. */
export function ipv6ToString(b: Uint8Array, off = 0): string {
  const { words, start, len } = groupsAndZeroRun(b, off);
  return joinGroups(words, start, len);
}

/**
 * ipv6ToString, but IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d) addresses in
 * RFC 5952 §5 mixed notation, as inet_ntop (and so Wireshark) writes them: the form for decoded messages.
 */
export function ipv6ToMixedString(b: Uint8Array, off = 0): string {
  const { words, start, len } = groupsAndZeroRun(b, off);
  if (start === 0 && (len === 6 || (len === 5 && words[5] === 0xffff))) {
    return `::${len === 5 ? 'ffff:' : ''}${ipv4BytesToString(b, off + 12)}`;
  }
  return joinGroups(words, start, len);
}

/** Fixed-width hex of an IPv4 or IPv6 address so that string order is numeric order (IPv4 sorts first). */
export function addressSortKey(address: string): string {
  if (!address.includes(':')) {
    const parts = address.split('.').map(Number);
    return `4${parts.map((x) => x.toString(16).padStart(2, '0')).join('')}`;
  }
  // Expand :: and pad each group; dotted-quad tails are rare enough to be treated as text.
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  return `6${[...h, ...fill, ...t].map((g) => g.padStart(4, '0')).join('')}`;
}

/** Address as part of a BIRD protocol name, as calico/node writes it (Mesh_10_0_0_1): '.' and ':' become '_'. */
export function addressForName(address: string): string {
  return address.replace(/[.:]/g, '_');
}

// ---- Untrusted text (environment, datastore): validation and one canonical form ----

/** Canonical IPv4 text, or undefined when `text` is not a plain IPv4 address (no prefix length, no spaces). */
export function canonicalIPv4(text: string): string | undefined {
  if (text.includes('/') || text.trim() !== text || text === '') return undefined;
  if (!Address4.isValid(text)) return undefined;
  return new Address4(text).correctForm();
}

/** Canonical IPv6 text (RFC 5952: compressed, lowercase), or undefined when `text` is not a plain IPv6 address. */
export function canonicalIPv6(text: string): string | undefined {
  if (text.includes('/') || text.includes('%') || text.trim() !== text || text === '') return undefined;
  if (!Address6.isValid(text)) return undefined;
  return new Address6(text).correctForm();
}

export function canonicalAddress(family: 4 | 6, text: string): string | undefined {
  return family === 4 ? canonicalIPv4(text) : canonicalIPv6(text);
}

/**
 * Calico v3 resources carry node addresses as CIDRs ("10.0.0.1/24"); the v1 keys hold the bare address.
 * Returns the address part when it is valid for the family, else undefined.
 */
export function addressWithoutPrefix(family: 4 | 6, text: string): string | undefined {
  const slash = text.indexOf('/');
  const bare = slash >= 0 ? text.slice(0, slash) : text;
  return canonicalAddress(family, bare.trim());
}

/** Canonical text of the network "address/len" lies in (host bits cleared); address must be canonical already. */
export function canonicalNetwork(family: 4 | 6, address: string, len: number): string {
  const a = family === 4 ? new Address4(`${address}/${len}`) : new Address6(`${address}/${len}`);
  return `${a.startAddress().correctForm()}/${len}`;
}

/** A BGP cluster ID (RFC 4456) as dotted quad: from a dotted quad or a 32-bit decimal number, as BIRD accepts. */
export function canonicalClusterId(value: string | number): string | undefined {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) return undefined;
    return uint32ToIpv4(value);
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) return canonicalClusterId(Number(text));
  return canonicalIPv4(text);
}

/**
 * Why a canonical address cannot be a BGP neighbour, or undefined when it can: the unspecified address (a
 * connect to 0.0.0.0 reaches this host), multicast, the limited broadcast, and IPv4-mapped or -compatible IPv6
 * (an IPv6 session that would really run over IPv4).
 */
export function unusableNeighbour(family: 4 | 6, canonical: string): string | undefined {
  if (family === 4) {
    const first = Number(canonical.slice(0, canonical.indexOf('.')));
    if (canonical === '0.0.0.0') return 'the unspecified address';
    if (canonical === '255.255.255.255') return 'the broadcast address';
    if (first >= 224 && first <= 239) return 'a multicast address';
    return undefined;
  }
  if (canonical === '::') return 'the unspecified address';
  if (/^ff[0-9a-f]{2}:/.test(canonical)) return 'a multicast address';
  const groups = new Address6(canonical).parsedAddress.map((g) => parseInt(g, 16));
  const leadingZero = groups.slice(0, 5).every((g) => g === 0);
  if (leadingZero && groups[5] === 0xffff) return 'an IPv4-mapped IPv6 address';
  if (leadingZero && groups[5] === 0 && canonical !== '::1') return 'an IPv4-compatible IPv6 address';
  return undefined;
}
