// IPv4/IPv6 address and prefix arithmetic for `show route for ADDR` and `show route PREFIX` (pure).
// Addresses become bigints so longest-prefix matching is one mask and compare.

import type { Family } from './model.js';

export interface ParsedPrefix {
  family: Family;
  /** Network address as an integer (host bits kept as given). */
  value: bigint;
  length: number;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIPv4(s: string): bigint | undefined {
  const m = V4.exec(s);
  if (m === null) return undefined;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

export function parseIPv6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return undefined;
  let text = s;
  // An embedded IPv4 address in the last 32 bits (::ffff:1.2.3.4) becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = parseIPv4(last);
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (h: string): bigint[] | undefined => {
    if (h === '') return [];
    const out: bigint[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(BigInt(parseInt(g, 16)));
    }
    return out;
  };
  const head = parseGroups(halves[0] ?? '');
  const rest = halves.length === 2 ? parseGroups(halves[1] ?? '') : [];
  if (head === undefined || rest === undefined) return undefined;
  const total = head.length + rest.length;
  let groups: bigint[];
  if (halves.length === 2) {
    if (total > 7) return undefined;
    groups = [...head, ...Array<bigint>(8 - total).fill(0n), ...rest];
  } else {
    if (total !== 8) return undefined;
    groups = head;
  }
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

export function parseAddress(s: string, family: Family): bigint | undefined {
  return family === 4 ? parseIPv4(s) : parseIPv6(s);
}

export const maxLength = (family: Family): number => (family === 4 ? 32 : 128);

/** "a.b.c.d/len" or "x::/len"; undefined when malformed or of the other family. */
export function parsePrefix(s: string, family: Family): ParsedPrefix | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const value = parseAddress(s.slice(0, slash), family);
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

export function formatIPv4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((sh) => String(Number((v >> sh) & 0xffn))).join('.');
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (2+ groups, first on a tie) of zero groups as `::`. */
export function formatIPv6(v: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** Canonical "network/length" text of a prefix (host bits cleared), as the RIB prints networks. */
export function canonicalPrefix(p: ParsedPrefix): string {
  const net = p.value & mask(p.family, p.length);
  return `${p.family === 4 ? formatIPv4(net) : formatIPv6(net)}/${p.length}`;
}
