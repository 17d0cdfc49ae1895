// Update groups, concern 2 of 3: tracking what to advertise. The Adj-RIB-Out of a group is "last
// attribute set sent per prefix, and the peer it came from" (two numbers per slot); a flush turns the changed
// slots into buckets: announcements grouped by (exported attributes, source peer), withdrawals grouped by the
// peer that never had the route, and per-member exception withdrawals.
//
// Skipping the originator without splitting the group. The group stream carries each route once, tagged
// with its source peer; members get the stream minus the runs tagged with themselves. What the source S
// itself must see follows from what it had from us before (the group's Adj-RIB-Out says who the old route
// came from):
//   old none,   new from S  → S gets nothing (it must not receive its own route).
//   old from T, new from S  → S had T's route from us: S gets a withdrawal (its "exception").
//   old from S, new from T  → S gets T's route with everyone else (the run is tagged T).
//   old from S, new none    → withdrawal tagged S: everyone but S (S never had it from us).
// A member that is not live (joining, refreshing, or blocked by backpressure) gets no stream; the group notes
// the changed prefixes for it instead (see update-group.ts).
import type { AttrEntry, AttrTable } from './attr-intern.js';
import { growInt32 } from './prefix-index.js';
import { peerKey, type PeerKey } from './peer-key.js';
import type { PrefixKey } from '../net/prefix.js';

/** Exported attributes for a route (input attributes from a source peer) in this group; null = not sent. */
export type Exporter = (attr: AttrEntry, srcPeer: number) => AttrEntry | null;

export interface AnnounceBucket {
  attr: AttrEntry;
  src: number;
  slots: number[];
  /** ADD-PATH groups: the path identifier of each slot (parallel to slots); null otherwise. */
  ids: number[] | null;
}

/** Withdrawn prefixes, with their path identifiers in ADD-PATH groups (parallel to keys; null otherwise). */
export interface KeyList {
  keys: PrefixKey[];
  ids: number[] | null;
}

/**
 * Withdrawn prefixes as slots, for the group stream: encoded in the same run() that advised them, before the
 * engine may release a slot, so the index still holds the prefix (no key built or decoded per prefix).
 */
export interface SlotList {
  slots: number[];
  ids: number[] | null;
}

export class Delta {
  announce = new Map<PeerKey, AnnounceBucket>();
  /** Consecutive prefixes usually share attributes and source: remember the last bucket. */
  private last: AnnounceBucket | null = null;
  /** Withdrawn slots, by the peer that must not get them (-1: everyone). */
  withdraw = new Map<number, SlotList>();
  private lastWithdraw: SlotList | null = null;
  private lastWithdrawPeer = 0;
  /** Withdrawals only for one member (it had another peer's route; the new best is its own). */
  exceptions = new Map<number, KeyList>();
  changed = 0;

  /** `pathId` only in ADD-PATH groups (every call of one Delta passes one or none). */
  addAnnounce(attr: AttrEntry, src: number, slot: number, pathId?: number): void {
    let b = this.last;
    if (b === null || b.attr !== attr || b.src !== src) {
      const k = peerKey(attr.id, src);
      b = this.announce.get(k) ?? null;
      if (b === null) {
        b = { attr, src, slots: [], ids: pathId === undefined ? null : [] };
        this.announce.set(k, b);
      }
      this.last = b;
    }
    b.slots.push(slot);
    if (pathId !== undefined) (b.ids as number[]).push(pathId);
  }

  /** A withdrawal for the group stream, excluding `peer` (-1: none); `pathId` as in addAnnounce. */
  addWithdrawSlot(peer: number, slot: number, pathId?: number): void {
    let l = this.lastWithdraw;
    if (l === null || this.lastWithdrawPeer !== peer) {
      l = this.withdraw.get(peer) ?? null;
      if (l === null) {
        l = { slots: [], ids: pathId === undefined ? null : [] };
        this.withdraw.set(peer, l);
      }
      this.lastWithdraw = l;
      this.lastWithdrawPeer = peer;
    }
    l.slots.push(slot);
    if (pathId !== undefined) (l.ids as number[]).push(pathId);
  }

  /** An exception withdrawal (written per member, possibly later: by key, the slot may be reused by then). */
  addWithdraw(map: Map<number, KeyList>, peer: number, key: PrefixKey, pathId?: number): void {
    let l = map.get(peer);
    if (l === undefined) {
      l = { keys: [], ids: pathId === undefined ? null : [] };
      map.set(peer, l);
    }
    l.keys.push(key);
    if (pathId !== undefined) (l.ids as number[]).push(pathId);
  }

  get empty(): boolean {
    return this.announce.size === 0 && this.withdraw.size === 0 && this.exceptions.size === 0;
  }
}

/** The Adj-RIB-Out of one update group: per slot, the exported attribute entry sent and its source peer. */
export class AdjRibOut {
  /** Exported attributes per slot (holds one reference each); undefined/null = nothing advertised. */
  attr: (AttrEntry | null | undefined)[] = [];
  src: Int32Array = new Int32Array(0);
  count = 0;
  /** Advertised routes per source peer index (for "exported" = count minus the member's own). */
  srcCount: number[] = [];

  constructor(private readonly attrTable: AttrTable) {}

  ensureSlots(n: number): void {
    if (this.src.length < n) this.src = growInt32(this.src, n, -1);
  }

  set(slot: number, attr: AttrEntry | null, src: number): void {
    const old = this.attr[slot];
    if (attr !== null) this.attrTable.ref(attr);
    if (old !== null && old !== undefined) this.attrTable.release(old);
    else if (attr !== null) this.count++;
    if (attr === null && old !== null && old !== undefined) this.count--;
    if (old !== null && old !== undefined) this.srcCount[this.src[slot]]--;
    if (attr !== null) this.srcCount[src] = (this.srcCount[src] ?? 0) + 1;
    this.attr[slot] = attr;
    this.src[slot] = attr === null ? -1 : src;
  }

  /** Drops every reference (group removed). */
  clear(): void {
    for (let s = 0; s < this.attr.length; s++) {
      const a = this.attr[s];
      if (a !== null && a !== undefined) this.attrTable.release(a);
    }
    this.attr = [];
    this.count = 0;
    this.srcCount = [];
  }
}

/**
 * Computes the delta for one changed slot: new state from the Loc-RIB best (bestAttr from bestPeer, or none),
 * compared with the Adj-RIB-Out; updates the Adj-RIB-Out. Returns true when something is to be sent.
 */
export function adviseSlot(
  out: AdjRibOut, delta: Delta, slot: number, index: { keyOf(slot: number): PrefixKey },
  bestAttr: AttrEntry | null, bestPeer: number, exporter: Exporter,
): boolean {
  const exported = bestAttr === null ? null : exporter(bestAttr, bestPeer);
  const newSrc = exported === null ? -1 : bestPeer;
  const old = out.attr[slot] ?? null;
  const oldSrc = old === null ? -1 : out.src[slot];
  if (old === exported && oldSrc === newSrc) return false;
  if (exported === null) {
    delta.addWithdrawSlot(oldSrc, slot);
  } else {
    delta.addAnnounce(exported, newSrc, slot);
    if (old !== null && oldSrc !== newSrc) delta.addWithdraw(delta.exceptions, newSrc, index.keyOf(slot));
  }
  out.set(slot, exported, newSrc);
  delta.changed++;
  return true;
}
