// Update groups for peers that negotiated ADD-PATH receive (RFC 7911): several paths per prefix, each with its
// own path identifier, instead of the one best path. Same machinery as update-group.ts (members, one encoded
// stream per flush tagged with each run's source peer, fan-out, catch-up, End-of-RIB): only the Adj-RIB-Out and
// what a change means differ, so this group extends UpdateGroup and replaces those parts.
//
// Which paths: the usable paths of the prefix that the export policy lets out, in decision order, at most
// sig.addPathMax of them (Infinity with ADD_PATHS=all). A member never gets its own paths, so a node among the
// best N gets N−1 (it has its own route already); the others are not renumbered for it.
//
// Path identifiers. A path's identifier is its Adj-RIB-In path number + 1: unique among the prefix's paths and
// stable while the path lives (an implicit replace keeps it). When a path goes and its number is reused for a
// new path of the same prefix in the same flush, the identifier carries the new path: an announcement is an
// implicit withdrawal of the old one (RFC 7911 §2), and the identifier's source changes, which makes the same
// exception as update-group-adv.ts explains: the new source had the old source's path under that identifier,
// so it alone gets a withdrawal.
//
// Members not live (catching up) get changes noted: the prefix key, as in UpdateGroup, plus the identifiers
// withdrawn meanwhile, since without per-member state the group cannot tell later which ones the member holds.
// Those withdrawals go out before the noted prefixes' current paths, so a reused identifier ends up announced.
import type { AttrEntry, AttrTable } from './attr-intern.js';
import type { RouteTable } from './loc-rib.js';
import type { PrefixKey } from '../net/prefix.js';
import { Delta, type Exporter, type KeyList } from './update-group-adv.js';
import { PacketWriter } from './update-group-packet.js';
import { UpdateGroup, type ExportSignature, type GroupMember } from './update-group.js';

/** One path in an ADD-PATH group's Adj-RIB-Out. */
interface OutPath {
  /** Path identifier on the wire. */
  id: number;
  /** Exported attributes (one reference held). */
  attr: AttrEntry;
  /** Source peer index. */
  src: number;
}

/** Per slot, the paths advertised; counts for the control socket and metrics. */
class MultiPathRibOut {
  paths: (OutPath[] | undefined)[] = [];
  count = 0;
  srcCount: number[] = [];

  constructor(private readonly attrTable: AttrTable) {}

  replace(slot: number, next: OutPath[]): void {
    const old = this.paths[slot];
    for (const o of next) {
      this.attrTable.ref(o.attr);
      this.srcCount[o.src] = (this.srcCount[o.src] ?? 0) + 1;
    }
    if (old !== undefined) {
      for (const o of old) {
        this.attrTable.release(o.attr);
        this.srcCount[o.src]--;
      }
      this.count -= old.length;
    }
    this.count += next.length;
    this.paths[slot] = next.length === 0 ? undefined : next;
  }

  clear(): void {
    for (const list of this.paths) if (list !== undefined) for (const o of list) this.attrTable.release(o.attr);
    this.paths = [];
    this.count = 0;
    this.srcCount = [];
  }
}

/** Path identifier of an Adj-RIB-In path number (never 0, which some speakers treat as "no identifier"). */
const pathIdOf = (path: number): number => path + 1;

export class AddPathGroup extends UpdateGroup {
  private readonly multi: MultiPathRibOut;
  /** Withdrawals noted for members not live, by peer index (sent first in their catch-up). */
  private readonly pendingWithdraw = new Map<number, KeyList>();
  private readonly ranked: boolean;
  private readonly scratch: number[] = [];

  constructor(id: number, sig: ExportSignature, attrTable: AttrTable, table: RouteTable, lagLimit?: number, fullTableCacheMax?: number) {
    super(id, sig, attrTable, table, lagLimit, fullTableCacheMax);
    this.multi = new MultiPathRibOut(attrTable);
    // With every path going out, their order does not matter: skip the ranking.
    this.ranked = sig.addPathMax !== Infinity;
  }

  override get everyDecision(): boolean {
    return true;
  }

  override get routeCount(): number {
    return this.multi.count;
  }

  override exportedTo(peerIdx: number): number {
    return this.multi.count - (this.multi.srcCount[peerIdx] ?? 0);
  }

  override clear(): void {
    this.multi.clear();
  }

  override join(m: GroupMember): void {
    super.join(m);
    this.pendingWithdraw.delete(m.peerIdx);
  }

  override leave(peerIdx: number): void {
    super.leave(peerIdx);
    this.pendingWithdraw.delete(peerIdx);
  }

  override rebuild(exporter: Exporter): void {
    this.fullTable = null;
    const t = this.table;
    const scratch = new Delta();
    for (let s = 0; s < t.index.highWater; s++) if (t.index.isLive(s)) this.adviseSlot(s, exporter, scratch, null);
  }

  override advise(slots: readonly number[], exporter: Exporter): Delta {
    const delta = new Delta();
    let notLive: GroupMember[] | null = null;
    for (const m of this.members.values()) if (m.state !== 'live') (notLive ??= []).push(m);
    for (const s of slots) if (this.adviseSlot(s, exporter, delta, notLive)) this.fullTable = null;
    return delta;
  }

  /** The paths to advertise for one slot, against what the Adj-RIB-Out holds; true when something changed. */
  private adviseSlot(slot: number, exporter: Exporter, delta: Delta, notLive: GroupMember[] | null): boolean {
    const t = this.table;
    const adj = t.adj;
    const next: OutPath[] = [];
    if (t.index.isLive(slot)) {
      t.pathsOf(slot, this.ranked, this.scratch);
      for (const p of this.scratch) {
        if (next.length >= this.sig.addPathMax) break;
        const src = adj.pathPeer[p];
        const exported = exporter(adj.pathAttr[p] as AttrEntry, src);
        if (exported !== null) next.push({ id: pathIdOf(p), attr: exported, src });
      }
    }
    const old = this.multi.paths[slot] ?? [];
    if (old.length === 0 && next.length === 0) return false;
    let key: PrefixKey | undefined;
    const keyOf = (): PrefixKey => (key ??= this.keyOf(slot));
    let changed = false;
    // Noted for members not live: identifiers withdrawn, with the one peer each does not concern (-1: none).
    let gone: { id: number; notFor: number; onlyFor: number }[] | null = null;
    for (const o of old) {
      if (next.some((n) => n.id === o.id)) continue;
      delta.addWithdrawSlot(o.src, slot, o.id);
      (gone ??= []).push({ id: o.id, notFor: o.src, onlyFor: -1 });
      changed = true;
    }
    for (const n of next) {
      const o = old.find((x) => x.id === n.id);
      if (o !== undefined && o.attr === n.attr && o.src === n.src) continue;
      delta.addAnnounce(n.attr, n.src, slot, n.id);
      if (o !== undefined && o.src !== n.src) {
        delta.addWithdraw(delta.exceptions, n.src, keyOf(), n.id);
        (gone ??= []).push({ id: n.id, notFor: -1, onlyFor: n.src });
      }
      changed = true;
    }
    if (!changed) return false;
    this.multi.replace(slot, next);
    delta.changed++;
    if (notLive !== null) {
      for (const m of notLive) {
        if (m.fresh && m.state === 'sync' && m.scanCursor >= 0 && slot >= m.scanCursor) continue; // the scan will see it
        m.dirty.add(keyOf());
        if (gone === null) continue;
        for (const g of gone) {
          if (g.notFor === m.peerIdx || (g.onlyFor >= 0 && g.onlyFor !== m.peerIdx)) continue;
          let l = this.pendingWithdraw.get(m.peerIdx);
          if (l === undefined) this.pendingWithdraw.set(m.peerIdx, (l = { keys: [], ids: [] }));
          l.keys.push(keyOf());
          (l.ids as number[]).push(g.id);
        }
      }
    }
    return true;
  }

  protected override catchUp(m: GroupMember, budget: number, w: PacketWriter): void {
    const t = this.table;
    const buckets = new Delta();
    const add = (s: number): void => {
      const list = this.multi.paths[s];
      if (list !== undefined) for (const o of list) if (o.src !== m.peerIdx) buckets.addAnnounce(o.attr, o.src, s, o.id);
    };
    let work = 0;
    if (m.scanCursor >= 0) {
      const end = Math.min(t.index.highWater, m.scanCursor + budget);
      for (let s = m.scanCursor; s < end; s++) if (t.index.isLive(s)) add(s);
      work = end - m.scanCursor;
      m.scanCursor = end >= t.index.highWater ? -1 : end;
    }
    if (m.scanCursor < 0 && work < budget && m.dirty.size > 0) {
      const pending = this.pendingWithdraw.get(m.peerIdx);
      if (pending !== undefined) {
        this.pendingWithdraw.delete(m.peerIdx);
        w.withdraw(pending.keys, 0, pending.keys.length, -1, pending.ids ?? undefined);
      }
      for (const k of m.dirty) {
        m.dirty.delete(k);
        const s = t.index.lookupKey(k);
        if (s >= 0) add(s);
        if (++work >= budget) break;
      }
    }
    for (const b of buckets.announce.values()) w.announce(b.attr, b.slots, 0, b.slots.length, t.index, -1, b.ids ?? undefined);
  }

  protected override fullTableWriter(): PacketWriter {
    if (this.fullTable !== null) return this.fullTable;
    const t = this.table;
    const buckets = new Delta();
    for (let s = 0; s < t.index.highWater; s++) {
      const list = this.multi.paths[s];
      if (list === undefined || !t.index.isLive(s)) continue;
      for (const o of list) buckets.addAnnounce(o.attr, o.src, s, o.id);
    }
    const w = new PacketWriter(this.sig.afi, this.sig.maxMessageLen, true, 4096 + this.multi.count * 12);
    for (const b of buckets.announce.values()) w.announce(b.attr, b.slots, 0, b.slots.length, t.index, b.src, b.ids ?? undefined);
    this.fullTable = w;
    return w;
  }
}
