// Adj-RIB-In of every peer for one address family, as one pool of path records (peer, path id, interned
// attributes, stale flag) chained per prefix slot: no per-peer Map, ~25 bytes per path plus the attributes.
import type { AttrEntry, AttrTable } from './attr-intern.js';
import { growInt32, growUint8 } from './prefix-index.js';

export class AdjRibIn {
  /** Path records, indexed by path number. */
  pathPeer: Int32Array = new Int32Array(0);
  pathIdOf: Int32Array = new Int32Array(0);
  pathSlot: Int32Array = new Int32Array(0);
  pathNext: Int32Array = new Int32Array(0);
  pathStale: Uint8Array = new Uint8Array(0);
  pathAttr: (AttrEntry | null)[] = [];
  /** First path of each prefix slot, -1 when none. */
  slotHead: Int32Array = new Int32Array(0);
  private pathHigh = 0;
  private freePaths: number[] = [];
  /** Paths held per peer index (imported routes). */
  perPeer: number[] = [];
  /** Stale paths per peer index (graceful restart), kept so that checks are O(1). */
  stalePerPeer: number[] = [];
  total = 0;

  constructor(private readonly attrTable: AttrTable) {}

  ensureSlots(n: number): void {
    if (this.slotHead.length < n) this.slotHead = growInt32(this.slotHead, n, -1);
  }

  private allocPath(): number {
    const p = this.freePaths.length > 0 ? (this.freePaths.pop() as number) : this.pathHigh++;
    if (this.pathPeer.length <= p) {
      this.pathPeer = growInt32(this.pathPeer, p + 1, -1);
      this.pathIdOf = growInt32(this.pathIdOf, p + 1);
      this.pathSlot = growInt32(this.pathSlot, p + 1);
      this.pathNext = growInt32(this.pathNext, p + 1);
      this.pathStale = growUint8(this.pathStale, p + 1);
    }
    return p;
  }

  find(slot: number, peer: number, pathId: number): number {
    for (let p = this.slotHead[slot]; p >= 0; p = this.pathNext[p]) {
      if (this.pathPeer[p] === peer && this.pathIdOf[p] === (pathId | 0)) return p;
    }
    return -1;
  }

  /**
   * Sets the route of (peer, pathId) for slot to attr; the pool takes its own reference on attr (and drops
   * the one on the attributes it replaces). Returns false when nothing changed (same attributes, not stale).
   */
  upsert(slot: number, peer: number, pathId: number, attr: AttrEntry): boolean {
    const p = this.find(slot, peer, pathId);
    if (p >= 0) {
      const old = this.pathAttr[p] as AttrEntry;
      if (old === attr && this.pathStale[p] === 0) return false;
      this.attrTable.ref(attr);
      this.pathAttr[p] = attr;
      if (this.pathStale[p] === 1) {
        this.pathStale[p] = 0;
        this.stalePerPeer[peer]--;
      }
      this.attrTable.release(old);
      return true;
    }
    const n = this.allocPath();
    this.attrTable.ref(attr);
    this.pathPeer[n] = peer;
    this.pathIdOf[n] = pathId | 0;
    this.pathSlot[n] = slot;
    this.pathStale[n] = 0;
    this.pathAttr[n] = attr;
    this.pathNext[n] = this.slotHead[slot];
    this.slotHead[slot] = n;
    this.perPeer[peer] = (this.perPeer[peer] ?? 0) + 1;
    this.total++;
    return true;
  }

  /** Removes the route of (peer, pathId) for slot; false when there was none. */
  remove(slot: number, peer: number, pathId: number): boolean {
    let prev = -1;
    for (let p = this.slotHead[slot]; p >= 0; prev = p, p = this.pathNext[p]) {
      if (this.pathPeer[p] !== peer || this.pathIdOf[p] !== (pathId | 0)) continue;
      this.unlink(p, prev);
      return true;
    }
    return false;
  }

  private unlink(p: number, prev: number): void {
    const slot = this.pathSlot[p];
    if (prev < 0) this.slotHead[slot] = this.pathNext[p];
    else this.pathNext[prev] = this.pathNext[p];
    const attr = this.pathAttr[p] as AttrEntry;
    this.perPeer[this.pathPeer[p]]--;
    if (this.pathStale[p] === 1) {
      this.pathStale[p] = 0;
      this.stalePerPeer[this.pathPeer[p]]--;
    }
    this.total--;
    this.pathAttr[p] = null;
    this.pathPeer[p] = -1;
    this.freePaths.push(p);
    this.attrTable.release(attr);
  }

  /**
   * Removes the peer's paths (all, or only the stale ones) and calls onSlot(slot) once per slot that lost
   * a path. A scan over the pool: O(paths), no per-peer index to keep in memory.
   */
  removePeer(peer: number, onlyStale: boolean, onSlot: (slot: number) => void): number {
    if ((this.perPeer[peer] ?? 0) === 0 || (onlyStale && this.countStale(peer) === 0)) return 0;
    let removed = 0;
    for (let p = 0; p < this.pathHigh; p++) {
      if (this.pathPeer[p] !== peer) continue;
      if (onlyStale && this.pathStale[p] === 0) continue;
      const slot = this.pathSlot[p];
      this.remove(slot, peer, this.pathIdOf[p]);
      removed++;
      onSlot(slot);
    }
    return removed;
  }

  /** Marks every path of the peer stale (graceful restart helper, RFC 4724 §4.2). */
  markStale(peer: number): number {
    let n = 0;
    for (let p = 0; p < this.pathHigh; p++) {
      if (this.pathPeer[p] === peer && this.pathStale[p] === 0) { this.pathStale[p] = 1; n++; }
    }
    this.stalePerPeer[peer] = (this.stalePerPeer[peer] ?? 0) + n;
    return n;
  }

  countStale(peer: number): number {
    return this.stalePerPeer[peer] ?? 0;
  }
}
