// Test-side builders for raw path attributes and UPDATE messages (kept tiny and independent of src/wire,
// so the RIB tests check the RIB and not the codec against itself).

export interface AttrSpec {
  origin?: number;
  asPath?: number[]; // one AS_SEQUENCE, 4-octet
  asSet?: number[];
  nextHop?: string; // IPv4 NEXT_HOP
  med?: number;
  localPref?: number;
  communities?: number[];
  originatorId?: string;
  clusterList?: string[];
  largeCommunities?: [number, number, number][];
  extra?: { flags: number; type: number; value: number[] }[];
}

function u32(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}
export function quad(s: string): number {
  return s.split('.').reduce((a, x) => a * 256 + Number(x), 0) >>> 0;
}
function attr(flags: number, type: number, value: number[]): number[] {
  if (value.length > 255) return [flags | 0x10, type, value.length >> 8, value.length & 255, ...value];
  return [flags, type, value.length, ...value];
}

/** Attributes in ascending type order, as real speakers send them. */
export function attrs(s: AttrSpec): Buffer {
  const parts: { type: number; bytes: number[] }[] = [];
  parts.push({ type: 1, bytes: attr(0x40, 1, [s.origin ?? 0]) });
  const segs: number[] = [];
  if (s.asPath && s.asPath.length > 0) segs.push(2, s.asPath.length, ...s.asPath.flatMap(u32));
  if (s.asSet && s.asSet.length > 0) segs.push(1, s.asSet.length, ...s.asSet.flatMap(u32));
  parts.push({ type: 2, bytes: attr(0x40, 2, segs) });
  if (s.nextHop !== undefined) parts.push({ type: 3, bytes: attr(0x40, 3, u32(quad(s.nextHop))) });
  if (s.med !== undefined) parts.push({ type: 4, bytes: attr(0x80, 4, u32(s.med)) });
  if (s.localPref !== undefined) parts.push({ type: 5, bytes: attr(0x40, 5, u32(s.localPref)) });
  if (s.communities) parts.push({ type: 8, bytes: attr(0xc0, 8, s.communities.flatMap(u32)) });
  if (s.originatorId) parts.push({ type: 9, bytes: attr(0x80, 9, u32(quad(s.originatorId))) });
  if (s.clusterList) parts.push({ type: 10, bytes: attr(0x80, 10, s.clusterList.flatMap((c) => u32(quad(c)))) });
  if (s.largeCommunities) parts.push({ type: 32, bytes: attr(0xc0, 32, s.largeCommunities.flatMap((t) => t.flatMap(u32))) });
  for (const e of s.extra ?? []) parts.push({ type: e.type, bytes: attr(e.flags, e.type, e.value) });
  parts.sort((a, b) => a.type - b.type);
  return Buffer.from(parts.flatMap((p) => p.bytes));
}

/** Walks raw attributes into (flags, type, value) triples. */
export function walkAttrs(b: Uint8Array): { flags: number; type: number; value: Buffer }[] {
  const out: { flags: number; type: number; value: Buffer }[] = [];
  let p = 0;
  while (p < b.length) {
    const flags = b[p];
    const type = b[p + 1];
    const ext = (flags & 0x10) !== 0;
    const len = ext ? (b[p + 2] << 8) | b[p + 3] : b[p + 2];
    const v = p + (ext ? 4 : 3);
    out.push({ flags, type, value: Buffer.from(b.subarray(v, v + len)) });
    p = v + len;
  }
  return out;
}

function prefixBytes(text: string): number[] {
  const [a, l] = text.split('/');
  const len = Number(l);
  const bytes = u32(quad(a)).slice(0, (len + 7) >> 3);
  return [len, ...bytes];
}

/** A plain IPv4 UPDATE (RFC 4271 §4.3): withdrawn, attributes, NLRI. */
export function updateV4(opts: { withdrawn?: string[]; attrs?: Buffer; nlri?: string[] }): Buffer {
  const w = (opts.withdrawn ?? []).flatMap(prefixBytes);
  const a = opts.attrs ?? Buffer.alloc(0);
  const n = (opts.nlri ?? []).flatMap(prefixBytes);
  const len = 19 + 2 + w.length + 2 + a.length + n.length;
  const m = Buffer.alloc(len);
  m.fill(0xff, 0, 16);
  m.writeUInt16BE(len, 16);
  m[18] = 2;
  m.writeUInt16BE(w.length, 19);
  Buffer.from(w).copy(m, 21);
  m.writeUInt16BE(a.length, 21 + w.length);
  a.copy(m, 23 + w.length);
  Buffer.from(n).copy(m, 23 + w.length + a.length);
  return m;
}

export interface ParsedUpdate {
  withdrawn: string[];
  attrs: Buffer;
  nlri: string[];
  mpReach?: { afi: number; nextHop: Buffer; nlri: string[] };
  mpUnreach?: { afi: number; withdrawn: string[] };
}

/** Prefixes as text; with addPath (RFC 7911) each one as `<path id>@<prefix>`. */
function readPrefixes(b: Buffer, start: number, end: number, afi: number, addPath = false): string[] {
  const out: string[] = [];
  let p = start;
  while (p < end) {
    let id = '';
    if (addPath) {
      id = `${b.readUInt32BE(p)}@`;
      p += 4;
    }
    const len = b[p];
    const n = (len + 7) >> 3;
    const bytes = [...b.subarray(p + 1, p + 1 + n)];
    if (afi === 1) {
      while (bytes.length < 4) bytes.push(0);
      out.push(`${id}${bytes.join('.')}/${len}`);
    } else {
      while (bytes.length < 16) bytes.push(0);
      const words: string[] = [];
      for (let i = 0; i < 16; i += 2) words.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
      out.push(`${id}${words.join(':')}/${len}`);
    }
    p += 1 + n;
  }
  return out;
}

/**
 * Splits a stream of concatenated BGP messages and parses the UPDATEs (others are reported by type); with
 * addPath, NLRI carry path identifiers (prefixes read as `<id>@<prefix>`).
 */
export function parseStream(buf: Buffer, addPath = false): { type: number; update?: ParsedUpdate; raw: Buffer }[] {
  const out: { type: number; update?: ParsedUpdate; raw: Buffer }[] = [];
  let p = 0;
  while (p < buf.length) {
    const len = buf.readUInt16BE(p + 16);
    const type = buf[p + 18];
    const raw = buf.subarray(p, p + len);
    if (type === 2) {
      const wl = raw.readUInt16BE(19);
      const withdrawn = readPrefixes(raw, 21, 21 + wl, 1, addPath);
      const al = raw.readUInt16BE(21 + wl);
      const a = raw.subarray(23 + wl, 23 + wl + al);
      const nlri = readPrefixes(raw, 23 + wl + al, len, 1, addPath);
      const plain: number[] = [];
      const u: ParsedUpdate = { withdrawn, attrs: Buffer.alloc(0), nlri };
      for (const at of walkAttrs(a)) {
        if (at.type === 14) {
          const afi = at.value.readUInt16BE(0);
          const nhl = at.value[3];
          u.mpReach = { afi, nextHop: at.value.subarray(4, 4 + nhl), nlri: readPrefixes(at.value, 5 + nhl, at.value.length, afi, addPath) };
        } else if (at.type === 15) {
          const afi = at.value.readUInt16BE(0);
          u.mpUnreach = { afi, withdrawn: readPrefixes(at.value, 3, at.value.length, afi, addPath) };
        } else {
          plain.push(...attrBytes(at.flags, at.type, at.value));
        }
      }
      u.attrs = Buffer.from(plain);
      out.push({ type, update: u, raw });
    } else {
      out.push({ type, raw });
    }
    p += len;
  }
  return out;
}

function attrBytes(flags: number, type: number, value: Buffer): number[] {
  const ext = (flags & 0x10) !== 0;
  return ext ? [flags, type, value.length >> 8, value.length & 255, ...value] : [flags, type, value.length, ...value];
}

function prefixBytesV6(text: string): number[] {
  const [a, l] = text.split('/');
  const len = Number(l);
  const [head, tail] = a.includes('::') ? a.split('::') : [a, ''];
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const words = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t].map((w) => parseInt(w, 16));
  const bytes = words.flatMap((w) => [w >> 8, w & 255]).slice(0, (len + 7) >> 3);
  return [len, ...bytes];
}

/** An IPv6 UPDATE: MP_UNREACH_NLRI and/or MP_REACH_NLRI (next hop of 16 or 32 bytes) plus other attributes. */
export function updateV6(opts: { withdrawn?: string[]; attrs?: Buffer; nextHop?: Buffer; nlri?: string[] }): Buffer {
  const parts: number[] = [];
  if (opts.withdrawn && opts.withdrawn.length > 0) {
    const v = [0, 2, 1, ...opts.withdrawn.flatMap(prefixBytesV6)];
    parts.push(0x90, 15, v.length >> 8, v.length & 255, ...v);
  }
  if (opts.nlri && opts.nlri.length > 0) {
    const nh = [...(opts.nextHop ?? Buffer.alloc(16))];
    const v = [0, 2, 1, nh.length, ...nh, 0, ...opts.nlri.flatMap(prefixBytesV6)];
    parts.push(0x90, 14, v.length >> 8, v.length & 255, ...v);
  }
  const a = Buffer.concat([Buffer.from(parts), opts.attrs ?? Buffer.alloc(0)]);
  const len = 23 + a.length;
  const m = Buffer.alloc(len);
  m.fill(0xff, 0, 16);
  m.writeUInt16BE(len, 16);
  m[18] = 2;
  m.writeUInt16BE(0, 19);
  m.writeUInt16BE(a.length, 21);
  a.copy(m, 23);
  return m;
}
