// Update groups, concern 1 of 3: grouping peers by export signature and feeding the members. Peers with the
// same {AFI, client or not, cluster ID, 4-octet AS, ADD-PATH send, max message length} share one Adj-RIB-Out
// and one encoded stream per flush. A member is "live" (gets the shared stream), "sync" (catching up from the
// Adj-RIB-Out: a scan of all slots after joining or a route refresh, then the prefixes noted while it was not
// live) or "blocked" (its socket said stop: it is left out of the stream, changes are noted for it as prefix
// keys, and it catches up after 'drain'). So a slow peer never stalls the group and holds no route copies.
import { DEFAULTS } from '../config/defaults.js';
import type { Afi } from '../wire/types.js';
import type { AttrTable } from './attr-intern.js';
import type { RouteTable } from './loc-rib.js';
import type { PrefixKey } from '../net/prefix.js';
import { AdjRibOut, Delta, adviseSlot, type Exporter, type KeyList } from './update-group-adv.js';
import { PacketWriter, type PacketCounts } from './update-group-packet.js';

export interface ExportSignature {
  afi: Afi;
  isClient: boolean;
  clusterId: number;
  as4: boolean;
  addPathTx: boolean;
  /** With addPathTx: paths sent per prefix (Infinity = all; ADD_PATHS in src/config). */
  addPathMax: number;
  maxMessageLen: number;
}

export function signatureKey(s: ExportSignature): string {
  return `${s.afi}|${s.isClient ? 'c' : 'n'}|${s.clusterId}|${s.as4 ? 4 : 2}|${s.addPathTx ? `ap${s.addPathMax === Infinity ? 'all' : s.addPathMax}` : '-'}|${s.maxMessageLen}`;
}

/** What a group needs from a member's transport. */
export interface MemberTransport {
  send(buf: Buffer): boolean;
}

export type MemberState = 'live' | 'sync' | 'blocked';

export class GroupMember {
  state: MemberState = 'sync';
  /** Next slot of the catch-up scan, -1 when not scanning. */
  scanCursor = 0;
  /**
   * The member holds nothing from us (it just joined): a change ahead of the scan needs no note, the scan
   * will send the current state. After a route refresh the member still holds the old table, so every change
   * is noted (a withdrawal ahead of the scan must still be sent).
   */
  fresh = true;
  /** Prefixes changed while not live, to be re-sent from the Adj-RIB-Out state. */
  dirty = new Set<PrefixKey>();
  /** Waiting for the transport's 'drain' before sending more. */
  waitingDrain = false;
  /**
   * The socket said "full" (send() returned false) and has not drained since: bytes written after that. A
   * live member keeps getting the shared stream (Node queues it) until this passes the group's lag limit;
   * only then is it taken out of the stream, so ordinary bursts keep the sharing and a stuck peer costs at
   * most the limit in memory.
   */
  queuedSinceFull = -1;
  /** End-of-RIB owed after the initial table (RFC 4724 §4.1). */
  eorPending = true;
  /** Enhanced route refresh (RFC 7313): EoRR owed at the end of the re-advertisement. */
  eorrPending = false;
  /**
   * End-of-RIB held back (our own graceful restart, see src/reflector/restart-plan.ts): routes flow, only the
   * marker waits for releaseEndOfRib().
   */
  eorHeld = false;
  /** UPDATE messages, prefixes (announced or withdrawn) and withdrawn prefixes sent to this member. */
  updatesSent = 0;
  prefixesSent = 0;
  withdrawnSent = 0;
  constructor(readonly peerIdx: number, readonly transport: MemberTransport) {}

  /** Counts what was just sent to this member. */
  charge(c: PacketCounts): void {
    this.updatesSent += c.messages;
    this.prefixesSent += c.prefixes;
    this.withdrawnSent += c.withdrawn;
  }
}

/** One encoded flush and the members it is owed to; `next` is the first not yet written. */
interface FanoutJob {
  w: PacketWriter;
  exceptions: Map<number, KeyList>;
  owed: GroupMember[];
  next: number;
}

export interface SendStats {
  messages: number;
  prefixes: number;
  bytes: number;
}

/** Tables up to this many slots get their full-table encoding cached for members joining together. */
export const FULL_TABLE_CACHE_MAX = 65536;

export class UpdateGroup {
  readonly key: string;
  /**
   * The whole Adj-RIB-Out encoded once, runs tagged with their source peer, for members that join (or refresh)
   * while nothing changed: 1,000 nodes reconnecting after our restart cost one encode, not 1,000.
   */
  protected fullTable: PacketWriter | null = null;
  readonly members = new Map<number, GroupMember>();
  /** Encoded flushes not yet written to every member they are owed to (see deliver / pump). */
  protected readonly fanout: FanoutJob[] = [];
  readonly out: AdjRibOut;
  /** Flushes that produced bytes, and totals, for metrics. */
  readonly stats: SendStats = { messages: 0, prefixes: 0, bytes: 0 };

  constructor(
    readonly id: number,
    readonly sig: ExportSignature,
    attrTable: AttrTable,
    protected readonly table: RouteTable,
    /** Bytes a live member may have queued past a full socket before it leaves the shared stream. */
    private readonly lagLimit: number = DEFAULTS.OUTBOUND_QUEUE_LIMIT.value,
    protected readonly fullTableCacheMax = FULL_TABLE_CACHE_MAX,
  ) {
    this.key = signatureKey(sig);
    this.out = new AdjRibOut(attrTable);
  }

  protected keyOf = (slot: number): PrefixKey => this.table.index.keyOf(slot);

  /**
   * False: the group follows best-path changes only (RouteTable.decide's onChange). An ADD-PATH group
   * (add-path-group.ts) sends several paths per prefix and needs every decided prefix.
   */
  get everyDecision(): boolean {
    return false;
  }

  /** Routes (paths) in the Adj-RIB-Out. */
  get routeCount(): number {
    return this.out.count;
  }

  /** Routes the member of this peer index holds from us (BIRD's "exported"): all but its own. */
  exportedTo(peerIdx: number): number {
    return this.out.count - (this.out.srcCount[peerIdx] ?? 0);
  }

  /** The group is gone: drop every reference its Adj-RIB-Out holds. */
  clear(): void {
    this.out.clear();
  }

  /** Fills the Adj-RIB-Out from the Loc-RIB (a new group); members join afterwards and scan it. */
  rebuild(exporter: Exporter): void {
    this.fullTable = null;
    const t = this.table;
    this.out.ensureSlots(t.index.highWater);
    const scratch = new Delta();
    for (let s = 0; s < t.index.highWater; s++) {
      if (t.bestPeer[s] < 0 || !t.index.isLive(s)) continue;
      adviseSlot(this.out, scratch, s, t.index, t.bestAttr[s] ?? null, t.bestPeer[s], exporter);
    }
  }

  /** Turns changed slots into a delta (updating the Adj-RIB-Out) and notes them for members not live. */
  advise(slots: readonly number[], exporter: Exporter): Delta {
    const t = this.table;
    this.out.ensureSlots(t.index.highWater);
    const delta = new Delta();
    let notLive: GroupMember[] | null = null;
    for (const m of this.members.values()) if (m.state !== 'live') (notLive ??= []).push(m);
    for (const s of slots) {
      const changed = adviseSlot(this.out, delta, s, t.index, t.bestAttr[s] ?? null, t.bestPeer[s], exporter);
      if (changed) this.fullTable = null;
      if (!changed || notLive === null) continue;
      for (const m of notLive) {
        if (m.fresh && m.state === 'sync' && m.scanCursor >= 0 && s >= m.scanCursor) continue; // the scan will see it
        m.dirty.add(this.keyOf(s));
      }
    }
    return delta;
  }

  /**
   * Encodes a delta once and queues it for every member live now (minus its own routes), then writes as much
   * of the queue as fits before `deadline` (performance.now() time; the rest goes on the next pump). Writing
   * to a thousand sockets takes 10–20 ms, more when the machine is busy: slicing it keeps the event loop (and
   * every session's keepalives) responsive.
   */
  deliver(delta: Delta, deadline = Infinity): PacketWriter | null {
    if (delta.empty) return null;
    const w = new PacketWriter(this.sig.afi, this.sig.maxMessageLen, this.sig.addPathTx, 1024 + delta.changed * 8);
    const index = this.table.index;
    for (const [peer, l] of delta.withdraw) w.withdrawSlots(l.slots, 0, l.slots.length, index, peer, l.ids ?? undefined);
    for (const b of delta.announce.values()) w.announce(b.attr, b.slots, 0, b.slots.length, index, b.src, b.ids ?? undefined);
    if (w.size === 0 && delta.exceptions.size === 0) return w;
    this.stats.messages += w.messages;
    this.stats.prefixes += w.prefixes;
    // Owed to exactly the members live at advise time: the others had the change noted for their catch-up.
    const owed: GroupMember[] = [];
    for (const m of this.members.values()) if (m.state === 'live') owed.push(m);
    if (owed.length > 0) this.fanout.push({ w, exceptions: delta.exceptions, owed, next: 0 });
    this.pump(deadline);
    return w;
  }

  /** True while an encoded flush still has members to be written to. */
  get fanoutPending(): boolean {
    return this.fanout.length > 0;
  }

  /**
   * Writes queued flushes, oldest first, until done (true) or past `deadline` (false; at least one member is
   * written per call, so the queue always moves). A member owed a flush gets it even if it was blocked
   * meanwhile: what was advised while it was live is not in its catch-up notes.
   */
  pump(deadline = Infinity): boolean {
    while (this.fanout.length > 0) {
      const job = this.fanout[0]!;
      while (job.next < job.owed.length) {
        const m = job.owed[job.next++]!;
        if (this.members.get(m.peerIdx) === m) this.write(job, m);
        if (job.next < job.owed.length && performance.now() > deadline) return false;
      }
      this.fanout.shift();
    }
    return true;
  }

  private write(job: FanoutJob, m: GroupMember): void {
    const w = job.w;
    let bytes = w.bytesFor(m.peerIdx);
    const exc = job.exceptions.get(m.peerIdx);
    let ew: PacketWriter | null = null;
    if (exc !== undefined) {
      ew = new PacketWriter(this.sig.afi, this.sig.maxMessageLen, this.sig.addPathTx, 64 + exc.keys.length * 24);
      ew.withdraw(exc.keys, 0, exc.keys.length, -1, exc.ids ?? undefined);
      bytes = bytes.length === 0 ? ew.bytes() : Buffer.concat([bytes, ew.bytes()]);
    }
    if (bytes.length === 0) return;
    this.stats.bytes += bytes.length;
    m.charge(w.countsFor(m.peerIdx));
    if (ew !== null) m.charge(ew);
    const ok = m.transport.send(bytes);
    if (!ok && m.queuedSinceFull < 0) m.queuedSinceFull = 0;
    if (m.queuedSinceFull >= 0) {
      m.queuedSinceFull += bytes.length;
      if (m.queuedSinceFull > this.lagLimit && m.state === 'live') {
        m.state = 'blocked';
        m.waitingDrain = true;
      }
    }
  }

  join(m: GroupMember): void {
    this.members.set(m.peerIdx, m);
    m.state = 'sync';
    m.scanCursor = 0;
    m.fresh = true;
    m.dirty.clear();
    m.eorPending = true;
  }

  /**
   * Lets a held End-of-RIB go. A live member goes through catch-up with nothing left to scan, so the marker is
   * written by syncStep after every flush already queued for it (never ahead of a route it must follow).
   * Returns true when the member needs a syncStep.
   */
  releaseEndOfRib(m: GroupMember): boolean {
    if (!m.eorHeld) return false;
    m.eorHeld = false;
    if (!m.eorPending) return false;
    if (m.state === 'live') {
      m.state = 'sync';
      m.scanCursor = -1;
      m.fresh = false;
    }
    return true;
  }

  leave(peerIdx: number): void {
    this.members.delete(peerIdx);
  }

  /** Starts re-advertising everything to a member (route refresh); enhanced adds BoRR now and EoRR at the end. */
  refresh(m: GroupMember, enhanced: boolean): void {
    if (enhanced) {
      const w = new PacketWriter(this.sig.afi, this.sig.maxMessageLen, this.sig.addPathTx, 64);
      w.routeRefresh(1);
      if (!m.transport.send(w.bytes())) m.waitingDrain = true;
      m.eorrPending = true;
    }
    m.state = 'sync';
    m.scanCursor = 0;
    m.fresh = false;
  }

  /**
   * Catch-up work for one member, at most `budget` slots or keys. Returns true when the member is live
   * again (or already was), false when there is more to do or it waits for 'drain'.
   */
  syncStep(m: GroupMember, budgetIn: number): boolean {
    const budget = Math.max(1, Math.floor(budgetIn));
    if (m.state === 'live') return true;
    if (m.waitingDrain) return false;
    // Catch-up sends the current state; a flush still queued is older and must not arrive after it. (The
    // reflector only advises when the queue is empty, so this is a safeguard for other callers.)
    if (this.fanout.length > 0) return false;
    if (m.state === 'blocked') {
      m.state = 'sync';
      m.scanCursor = -1;
    }
    const t = this.table;
    const out = this.out;
    out.ensureSlots(t.index.highWater);
    if (m.scanCursor === 0 && m.dirty.size === 0 && t.index.highWater <= this.fullTableCacheMax) {
      const full = this.fullTableWriter();
      m.scanCursor = -1;
      const bytes = full.bytesFor(m.peerIdx);
      if (bytes.length > 0) {
        this.stats.bytes += bytes.length;
        m.charge(full.countsFor(m.peerIdx));
        if (!m.transport.send(bytes)) m.waitingDrain = true;
      }
      if (m.waitingDrain) return false;
    }
    const w = new PacketWriter(this.sig.afi, this.sig.maxMessageLen, this.sig.addPathTx, 4096);
    this.catchUp(m, budget, w);
    const done = m.scanCursor < 0 && m.dirty.size === 0;
    if (done) {
      if (m.eorPending && !m.eorHeld) { w.endOfRib(); m.eorPending = false; }
      if (m.eorrPending) { w.routeRefresh(2); m.eorrPending = false; }
      m.state = 'live';
    }
    if (w.size > 0) {
      this.stats.bytes += w.size;
      this.stats.messages += w.messages;
      this.stats.prefixes += w.prefixes;
      m.charge(w);
      if (!m.transport.send(w.bytes())) {
        m.waitingDrain = true;
        if (done) {
          // The table went out; later changes are noted until the socket drains.
          m.state = 'blocked';
        }
      }
    }
    return m.state === 'live';
  }

  /**
   * One step of a member's catch-up into `w`: the scan of the Adj-RIB-Out from m.scanCursor, then the prefixes
   * noted for it, at most `budget` slots or keys in all.
   */
  protected catchUp(m: GroupMember, budget: number, w: PacketWriter): void {
    const t = this.table;
    const out = this.out;
    const buckets = new Delta();
    const withdraw: PrefixKey[] = [];
    let work = 0;
    if (m.scanCursor >= 0) {
      const end = Math.min(t.index.highWater, m.scanCursor + budget);
      for (let s = m.scanCursor; s < end; s++) {
        const a = out.attr[s];
        if (a === null || a === undefined || out.src[s] === m.peerIdx || !t.index.isLive(s)) continue;
        buckets.addAnnounce(a, out.src[s], s);
      }
      work = end - m.scanCursor;
      m.scanCursor = end >= t.index.highWater ? -1 : end;
    }
    if (m.scanCursor < 0 && work < budget && m.dirty.size > 0) {
      for (const k of m.dirty) {
        m.dirty.delete(k);
        const s = t.index.lookupKey(k);
        const a = s >= 0 ? out.attr[s] : null;
        if (a !== null && a !== undefined && out.src[s] !== m.peerIdx) buckets.addAnnounce(a, out.src[s], s);
        else withdraw.push(k);
        if (++work >= budget) break;
      }
    }
    if (withdraw.length > 0) w.withdraw(withdraw, 0, withdraw.length);
    for (const b of buckets.announce.values()) w.announce(b.attr, b.slots, 0, b.slots.length, t.index);
  }

  /** The whole Adj-RIB-Out encoded once, runs tagged with their source (cached until the next change). */
  protected fullTableWriter(): PacketWriter {
    if (this.fullTable !== null) return this.fullTable;
    const t = this.table;
    const out = this.out;
    const buckets = new Delta();
    for (let s = 0; s < t.index.highWater; s++) {
      const a = out.attr[s];
      if (a === null || a === undefined || !t.index.isLive(s)) continue;
      buckets.addAnnounce(a, out.src[s], s);
    }
    const w = new PacketWriter(this.sig.afi, this.sig.maxMessageLen, this.sig.addPathTx, 4096 + out.count * 8);
    for (const b of buckets.announce.values()) w.announce(b.attr, b.slots, 0, b.slots.length, t.index, b.src);
    this.fullTable = w;
    return w;
  }

  drained(m: GroupMember): void {
    m.waitingDrain = false;
    m.queuedSinceFull = -1;
  }
}
