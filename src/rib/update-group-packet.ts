// Update groups, concern 3 of 3: building packets once. Packs prefixes that share one exported attribute set
// into as few UPDATEs as fit (4096 or 65535 octets), appends them to one growing buffer for the whole flush,
// and tags each run of messages with the peer that must not receive it (the route's source), so one
// Buffer serves every member and a member that is excluded gets the same bytes minus its runs.
import { AFI_IPV4, type Afi } from '../wire/types.js';
import type { AttrEntry } from './attr-intern.js';
import type { PrefixIndexV4, PrefixIndexV6 } from './prefix-index.js';
import { type PrefixKey, v4KeyAddr, v4KeyLen } from '../net/prefix.js';

const NO_EXCL = -1;

export interface PacketSegment {
  start: number;
  end: number;
  /** Peer index that must not receive these messages, or -1. */
  exclude: number;
}

interface RunStart {
  at: number;
  messages: number;
  prefixes: number;
  withdrawn: number;
}

/** What a writer holds, in total or for one member. */
export interface PacketCounts {
  messages: number;
  /** Prefixes announced or withdrawn. */
  prefixes: number;
  /** Of those, withdrawn. */
  withdrawn: number;
}

export class PacketWriter {
  private buf: Buffer;
  private len = 0;
  readonly segments: PacketSegment[] = [];
  messages = 0;
  prefixes = 0;
  withdrawn = 0;
  /** Counts of the runs that exclude a peer, so a member's own counts are exact. */
  private readonly excludedCounts = new Map<number, PacketCounts>();
  /** Announcements whose attributes alone exceed the message size (cannot be sent; counted). */
  oversized = 0;

  constructor(
    readonly afi: Afi,
    readonly maxLen: number,
    readonly addPathTx: boolean,
    initial = 4096,
  ) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  get size(): number {
    return this.len;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = Buffer.allocUnsafe(cap);
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }

  /** Where a run starts: its offset and the counts so far (see finishRun). */
  private startRun(): RunStart {
    return { at: this.len, messages: this.messages, prefixes: this.prefixes, withdrawn: this.withdrawn };
  }

  /** Tags the bytes written since `run` with the peer they exclude, and charges that peer their counts. */
  private finishRun(run: RunStart, exclude: number): void {
    if (this.len > run.at) this.tag(run.at, exclude);
    if (exclude === NO_EXCL || this.messages === run.messages) return;
    let c = this.excludedCounts.get(exclude);
    if (c === undefined) this.excludedCounts.set(exclude, (c = { messages: 0, prefixes: 0, withdrawn: 0 }));
    c.messages += this.messages - run.messages;
    c.prefixes += this.prefixes - run.prefixes;
    c.withdrawn += this.withdrawn - run.withdrawn;
  }

  /** Messages and prefixes one member gets (everything but the runs that exclude it). */
  countsFor(peer: number): PacketCounts {
    const c = this.excludedCounts.get(peer);
    if (c === undefined) return { messages: this.messages, prefixes: this.prefixes, withdrawn: this.withdrawn };
    return { messages: this.messages - c.messages, prefixes: this.prefixes - c.prefixes, withdrawn: this.withdrawn - c.withdrawn };
  }

  private tag(start: number, exclude: number): void {
    const last = this.segments[this.segments.length - 1];
    if (last !== undefined && last.exclude === exclude && last.end === start) last.end = this.len;
    else this.segments.push({ start, end: this.len, exclude });
  }

  private header(at: number): void {
    this.buf.fill(0xff, at, at + 16);
    this.buf[at + 18] = 2;
  }

  private finishMessage(at: number): void {
    this.buf.writeUInt16BE(this.len - at, at + 16);
    this.messages++;
  }

  /** Octets one prefix of this length takes in NLRI. */
  private prefixSize(len: number): number {
    return (this.addPathTx ? 5 : 1) + ((len + 7) >> 3);
  }

  /** One IPv4 prefix, preceded by its path identifier on an ADD-PATH session (RFC 7911 §3). */
  private writeV4(addr: number, len: number, pathId: number): void {
    const b = this.buf;
    let o = this.len;
    if (this.addPathTx) { b.writeUInt32BE(pathId >>> 0, o); o += 4; }
    b[o++] = len;
    const n = (len + 7) >> 3;
    if (n > 0) b[o++] = addr >>> 24;
    if (n > 1) b[o++] = (addr >>> 16) & 255;
    if (n > 2) b[o++] = (addr >>> 8) & 255;
    if (n > 3) b[o++] = addr & 255;
    this.len = o;
  }

  private writeV6(key: string, pathId: number): void {
    const b = this.buf;
    let o = this.len;
    if (this.addPathTx) { b.writeUInt32BE(pathId >>> 0, o); o += 4; }
    b[o++] = key.charCodeAt(0);
    for (let i = 1; i < key.length; i++) b[o++] = key.charCodeAt(i);
    this.len = o;
  }

  /**
   * Announces slots[from, to) with one exported attribute set. IPv4 with a NEXT_HOP in the attributes uses the
   * classic NLRI field; otherwise (IPv6, or a next hop carried in MP_REACH_NLRI) MP_REACH_NLRI is first.
   * `pathIds[i]` is the path identifier of `slots[i]` on an ADD-PATH session (1 for every prefix when absent).
   */
  announce(
    attr: AttrEntry, slots: readonly number[], from: number, to: number, index: PrefixIndexV4 | PrefixIndexV6,
    exclude = NO_EXCL, pathIds?: readonly number[],
  ): void {
    const mp = attr.nextHop !== null;
    const fixed = 23 + attr.attrs.length + (mp ? 4 + 5 + (attr.nextHop as Buffer).length : 0);
    if (fixed + this.prefixSize(index.afi === AFI_IPV4 ? 32 : 128) > this.maxLen) {
      this.oversized += to - from;
      return;
    }
    const run = this.startRun();
    const v4 = index.afi === AFI_IPV4 ? (index as PrefixIndexV4) : null;
    const v6 = v4 === null ? (index as PrefixIndexV6) : null;
    let i = from;
    while (i < to) {
      this.ensure(this.maxLen);
      const at = this.len;
      const b = this.buf;
      this.header(at);
      b.writeUInt16BE(0, at + 19);
      let o = at + 23;
      let mpLenAt = -1;
      if (mp) {
        const nh = attr.nextHop as Buffer;
        b[o] = 0x90; b[o + 1] = 14;
        mpLenAt = o + 2;
        b.writeUInt16BE(this.afi, o + 4);
        b[o + 6] = 1;
        b[o + 7] = nh.length;
        nh.copy(b, o + 8);
        b[o + 8 + nh.length] = 0;
        o += 9 + nh.length;
        this.len = o;
        // The remaining attributes follow MP_REACH_NLRI's NLRI, so write NLRI first into place, then attrs.
      } else {
        attr.attrs.copy(b, o);
        o += attr.attrs.length;
        this.len = o;
      }
      const limit = mp ? at + this.maxLen - attr.attrs.length : at + this.maxLen;
      const nlriStart = this.len;
      while (i < to) {
        const s = slots[i];
        if (v4 !== null) {
          const len = v4.len[s];
          if (this.len + this.prefixSize(len) > limit) break;
          this.writeV4(v4.addr[s], len, pathIds === undefined ? 1 : pathIds[i]);
        } else {
          const key = (v6 as PrefixIndexV6).keys[s];
          if (this.len + this.prefixSize(key.charCodeAt(0)) > limit) break;
          this.writeV6(key, pathIds === undefined ? 1 : pathIds[i]);
        }
        i++;
        this.prefixes++;
      }
      if (mp) {
        b.writeUInt16BE(this.len - mpLenAt - 2, mpLenAt);
        attr.attrs.copy(b, this.len);
        this.len += attr.attrs.length;
        b.writeUInt16BE(this.len - at - 23, at + 21);
      } else {
        b.writeUInt16BE(attr.attrs.length, at + 21);
      }
      if (this.len === nlriStart + (mp ? attr.attrs.length : 0)) {
        // Not even one prefix fitted (cannot happen after the size check above); drop the empty message.
        this.len = at;
        break;
      }
      this.finishMessage(at);
    }
    this.finishRun(run, exclude);
  }

  /**
   * Starts a withdrawal UPDATE at `at`: IPv4 in the withdrawn routes field, IPv6 in MP_UNREACH_NLRI. Returns where
   * its prefixes must end (the message's limit); finishWithdrawal() fills in the lengths.
   */
  private startWithdrawal(at: number): number {
    const b = this.buf;
    this.header(at);
    if (this.afi === AFI_IPV4) {
      this.len = at + 21;
      return at + this.maxLen - 2;
    }
    b.writeUInt16BE(0, at + 19);
    const attrAt = at + 23;
    b[attrAt] = 0x90; b[attrAt + 1] = 15;
    b.writeUInt16BE(this.afi, attrAt + 4);
    b[attrAt + 6] = 1;
    this.len = attrAt + 7;
    return at + this.maxLen;
  }

  private finishWithdrawal(at: number): void {
    const b = this.buf;
    if (this.afi === AFI_IPV4) {
      b.writeUInt16BE(this.len - at - 21, at + 19);
      b.writeUInt16BE(0, this.len);
      this.len += 2;
    } else {
      const attrAt = at + 23;
      b.writeUInt16BE(this.len - attrAt - 4, attrAt + 2);
      b.writeUInt16BE(this.len - attrAt, at + 21);
    }
    this.finishMessage(at);
  }

  /**
   * Withdraws keys[from, to): IPv4 in the withdrawn routes field, IPv6 in MP_UNREACH_NLRI; `pathIds[i]` as in
   * announce().
   */
  withdraw(keys: readonly PrefixKey[], from: number, to: number, exclude = NO_EXCL, pathIds?: readonly number[]): void {
    const run = this.startRun();
    let i = from;
    while (i < to) {
      this.ensure(this.maxLen);
      const at = this.len;
      const limit = this.startWithdrawal(at);
      if (this.afi === AFI_IPV4) {
        while (i < to) {
          const k = keys[i] as number;
          const len = v4KeyLen(k);
          if (this.len + this.prefixSize(len) > limit) break;
          this.writeV4(v4KeyAddr(k), len, pathIds === undefined ? 1 : pathIds[i]);
          i++;
          this.prefixes++;
        }
      } else {
        while (i < to) {
          const k = keys[i] as string;
          if (this.len + this.prefixSize(k.charCodeAt(0)) > limit) break;
          this.writeV6(k, pathIds === undefined ? 1 : pathIds[i]);
          i++;
          this.prefixes++;
        }
      }
      this.finishWithdrawal(at);
    }
    this.withdrawn += this.prefixes - run.prefixes;
    this.finishRun(run, exclude);
  }

  /**
   * Withdraws slots[from, to) of `index` (live slots: the prefix is read from the index, as announce() does,
   * so no key is built per prefix); otherwise as withdraw().
   */
  withdrawSlots(
    slots: readonly number[], from: number, to: number, index: PrefixIndexV4 | PrefixIndexV6,
    exclude = NO_EXCL, pathIds?: readonly number[],
  ): void {
    const run = this.startRun();
    const v4 = index.afi === AFI_IPV4 ? (index as PrefixIndexV4) : null;
    let i = from;
    while (i < to) {
      this.ensure(this.maxLen);
      const at = this.len;
      const limit = this.startWithdrawal(at);
      if (v4 !== null) {
        const addr = v4.addr;
        const lens = v4.len;
        while (i < to) {
          const s = slots[i];
          const len = lens[s];
          if (this.len + this.prefixSize(len) > limit) break;
          this.writeV4(addr[s], len, pathIds === undefined ? 1 : pathIds[i]);
          i++;
          this.prefixes++;
        }
      } else {
        const keys = (index as PrefixIndexV6).keys;
        while (i < to) {
          const k = keys[slots[i]];
          if (this.len + this.prefixSize(k.charCodeAt(0)) > limit) break;
          this.writeV6(k, pathIds === undefined ? 1 : pathIds[i]);
          i++;
          this.prefixes++;
        }
      }
      this.finishWithdrawal(at);
    }
    this.withdrawn += this.prefixes - run.prefixes;
    this.finishRun(run, exclude);
  }


  /** End-of-RIB marker (RFC 4724 §2). */
  endOfRib(exclude = NO_EXCL): void {
    const run = this.startRun();
    this.ensure(40);
    const at = this.len;
    this.header(at);
    this.buf.writeUInt16BE(0, at + 19);
    if (this.afi === AFI_IPV4) {
      this.buf.writeUInt16BE(0, at + 21);
      this.len = at + 23;
    } else {
      this.buf.writeUInt16BE(6, at + 21);
      this.buf[at + 23] = 0x80; this.buf[at + 24] = 15; this.buf[at + 25] = 3;
      this.buf.writeUInt16BE(this.afi, at + 26);
      this.buf[at + 28] = 1;
      this.len = at + 29;
    }
    this.finishMessage(at);
    this.finishRun(run, exclude);
  }

  /** ROUTE-REFRESH with an RFC 7313 subtype (1 BoRR, 2 EoRR). */
  routeRefresh(subtype: number, exclude = NO_EXCL): void {
    const run = this.startRun();
    this.ensure(23);
    const at = this.len;
    this.buf.fill(0xff, at, at + 16);
    this.buf.writeUInt16BE(23, at + 16);
    this.buf[at + 18] = 5;
    this.buf.writeUInt16BE(this.afi, at + 19);
    this.buf[at + 21] = subtype;
    this.buf[at + 22] = 1;
    this.len = at + 23;
    this.finishRun(run, exclude);
  }

  /** The bytes written so far (shares memory with the writer; do not write more afterwards). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  /** The bytes for one member: everything but the runs that exclude it (shared Buffer when nothing is). */
  bytesFor(peer: number): Buffer {
    let excluded = false;
    for (const s of this.segments) if (s.exclude === peer) { excluded = true; break; }
    if (!excluded) return this.bytes();
    const parts: Buffer[] = [];
    for (const s of this.segments) if (s.exclude !== peer) parts.push(this.buf.subarray(s.start, s.end));
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
}
