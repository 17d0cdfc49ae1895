// Interned path-attribute sets keyed on their raw wire bytes (+ the MP next hop for IPv6): a repeat costs one
// hash and one byte comparison, never a decode. Entries are refcounted; equal attributes are the same object.
// The table owns the counts: intern() and ref() take a reference, release() drops one (nobody else writes refs).
import type { PeerKey } from './peer-key.js';

/** Attribute bytes are always 4-octet-AS form (2-octet peers are converted on receipt). */
export class AttrEntry {
  /** References held (Adj-RIB-In paths, Adj-RIB-Out slots, export results); written only by AttrTable. */
  refs = 0;
  /** Decision-process inputs, parsed once on first need (see decision.ts). */
  info: unknown = undefined;
  /**
   * Export results per (group, source) key; each holds a reference on the exported entry (null = not
   * exported). Usually one or two keys: the first lives inline, more go to a Map (memory per distinct set).
   */
  private exportKey1: PeerKey | -1 = -1;
  private exportOut1: AttrEntry | null = null;
  private exportMore: Map<PeerKey, AttrEntry | null> | null = null;
  /** Lazily decoded attributes for display; filled by whoever displays. */
  decoded: unknown = undefined;

  constructor(
    readonly id: number,
    readonly hash: number,
    /** Raw path attributes as on the wire, without MP_REACH_NLRI / MP_UNREACH_NLRI. */
    readonly attrs: Buffer,
    /** Next hop carried in MP_REACH_NLRI (IPv6: 16 or 32 bytes, byte-exact), or null. */
    readonly nextHop: Buffer | null,
  ) {}

  /** The cached export result for key: an entry, null (not exported), or undefined (not computed). */
  getExport(key: PeerKey): AttrEntry | null | undefined {
    if (key === this.exportKey1) return this.exportOut1;
    return this.exportMore === null ? undefined : this.exportMore.get(key);
  }

  /** Caches an export result; the caller has taken the reference it holds. */
  setExport(key: PeerKey, out: AttrEntry | null): void {
    if (this.exportKey1 < 0) {
      this.exportKey1 = key;
      this.exportOut1 = out;
    } else (this.exportMore ??= new Map()).set(key, out);
  }

  get exportCount(): number {
    return (this.exportKey1 >= 0 ? 1 : 0) + (this.exportMore?.size ?? 0);
  }

  /** Removes the cached results whose key matches; returns the entries whose references are to be released. */
  takeExports(match: (key: PeerKey) => boolean): AttrEntry[] {
    const out: AttrEntry[] = [];
    if (this.exportKey1 >= 0 && match(this.exportKey1 as PeerKey)) {
      if (this.exportOut1 !== null) out.push(this.exportOut1);
      this.exportKey1 = -1;
      this.exportOut1 = null;
    }
    if (this.exportMore !== null) {
      for (const [k, v] of this.exportMore) {
        if (!match(k)) continue;
        this.exportMore.delete(k);
        if (v !== null) out.push(v);
      }
      if (this.exportMore.size === 0) this.exportMore = null;
    }
    return out;
  }
}

function hashBytes(h: number, b: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h;
}

function sameBytes(a: Uint8Array, b: Uint8Array, start: number, end: number): boolean {
  const n = end - start;
  if (a.length !== n) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[start + i]) return false;
  return true;
}

export class AttrTable {
  private byHash = new Map<number, AttrEntry | AttrEntry[]>();
  private byId: (AttrEntry | undefined)[] = [];
  private freeIds: number[] = [];
  size = 0;
  /** Bytes held by attribute sets (for memory accounting). */
  bytes = 0;

  get(id: number): AttrEntry | undefined {
    return this.byId[id];
  }

  /**
   * Finds or creates the entry for attrs = buf[start, end) and an optional MP next hop nh[nhStart, nhEnd),
   * and takes one reference on it.
   */
  intern(buf: Uint8Array, start: number, end: number, nh: Uint8Array | null = null, nhStart = 0, nhEnd = 0): AttrEntry {
    let h = hashBytes(0x811c9dc5, buf, start, end);
    if (nh !== null) h = hashBytes(h ^ 0x5bd1e995, nh, nhStart, nhEnd);
    h >>>= 0;
    const slot = this.byHash.get(h);
    if (slot !== undefined) {
      if (slot instanceof AttrEntry) {
        if (this.matches(slot, buf, start, end, nh, nhStart, nhEnd)) { slot.refs++; return slot; }
      } else {
        for (const e of slot) if (this.matches(e, buf, start, end, nh, nhStart, nhEnd)) { e.refs++; return e; }
      }
    }
    const id = this.freeIds.length > 0 ? (this.freeIds.pop() as number) : this.byId.length;
    const attrs = Buffer.from(buf.subarray(start, end));
    const nextHop = nh === null ? null : Buffer.from(nh.subarray(nhStart, nhEnd));
    const e = new AttrEntry(id, h, attrs, nextHop);
    e.refs = 1;
    this.byId[id] = e;
    this.size++;
    this.bytes += attrs.length + (nextHop?.length ?? 0);
    if (slot === undefined) this.byHash.set(h, e);
    else if (slot instanceof AttrEntry) this.byHash.set(h, [slot, e]);
    else slot.push(e);
    return e;
  }

  /** Convenience for whole buffers. */
  internBuffer(attrs: Uint8Array, nextHop: Uint8Array | null = null): AttrEntry {
    return this.intern(attrs, 0, attrs.length, nextHop, 0, nextHop?.length ?? 0);
  }

  private matches(e: AttrEntry, buf: Uint8Array, start: number, end: number, nh: Uint8Array | null, nhStart: number, nhEnd: number): boolean {
    if (!sameBytes(e.attrs, buf, start, end)) return false;
    if (nh === null) return e.nextHop === null;
    return e.nextHop !== null && sameBytes(e.nextHop, nh, nhStart, nhEnd);
  }

  ref(e: AttrEntry): AttrEntry {
    e.refs++;
    return e;
  }

  /** Drops one reference; at zero the entry leaves the table and releases its cached export results. */
  release(e: AttrEntry): void {
    if (--e.refs > 0) return;
    if (e.refs < 0) throw new Error(`attribute entry ${e.id} released too often`);
    const slot = this.byHash.get(e.hash);
    if (slot === e) this.byHash.delete(e.hash);
    else if (Array.isArray(slot)) {
      const i = slot.indexOf(e);
      if (i >= 0) slot.splice(i, 1);
      if (slot.length === 1) this.byHash.set(e.hash, slot[0]);
    }
    this.byId[e.id] = undefined;
    this.freeIds.push(e.id);
    this.size--;
    this.bytes -= e.attrs.length + (e.nextHop?.length ?? 0);
    if (e.exportCount > 0) for (const out of e.takeExports(() => true)) this.release(out);
  }

  /** Drops cached export results whose key matches (used when an update group disappears). */
  forgetExports(match: (key: PeerKey) => boolean): void {
    for (const e of this.byId) {
      if (e === undefined || e.exportCount === 0) continue;
      for (const out of e.takeExports(match)) this.release(out);
    }
  }

  *entries(): IterableIterator<AttrEntry> {
    for (const e of this.byId) if (e !== undefined) yield e;
  }
}
