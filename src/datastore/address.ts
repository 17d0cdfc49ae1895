// Address parsing shared by the configuration and the Calico mapping: one canonical text form per address
// (IPv4 dotted quad, IPv6 compressed lowercase) so that datastore entries and env values compare as equals.
import { Address4, Address6 } from 'ip-address';

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

/** Protocol-name form of an address as calico/node uses it: '.' and ':' become '_'. */
export function addressForName(address: string): string {
  return address.replace(/[.:]/g, '_');
}

/** A BGP cluster ID (RFC 4456) as dotted quad: from a dotted quad or a 32-bit decimal number, as BIRD accepts. */
export function canonicalClusterId(value: string | number): string | undefined {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) return undefined;
    return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) return canonicalClusterId(Number(text));
  return canonicalIPv4(text);
}

/** An AS number from a peer entry: a decimal string or a JSON number, 1..4294967295. */
export function parseAsNumber(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) n = Number(value.trim());
  else return undefined;
  if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) return undefined;
  return n;
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
