// Loc-RIB of one address family: the prefix index, the Adj-RIB-In pool, and the best path per prefix, chosen
// lazily for the prefixes marked dirty (coalescing: a prefix changed many times is decided once per flush).
// The engine (src/reflector/) changes it only through the methods below (announce, withdraw, peer removal,
// stale marking) and reads it through the views at the end; the index and the pool stay this module's.
import type { Afi } from '../wire/types.js';
import { AdjRibIn } from './adj-rib-in.js';
import type { AttrEntry, AttrTable } from './attr-intern.js';
import { parsePathInfo, selectBest, type Candidate, type PathInfo } from './decision.js';
import { growInt32, growUint8, newPrefixIndex, type PrefixIndexV4, type PrefixIndexV6 } from './prefix-index.js';
import { v6Key, type PrefixKey } from '../net/prefix.js';

/** One path as paths() reports it. */
export interface PathView {
  key: PrefixKey;
  peer: number;
  attr: AttrEntry;
  primary: boolean;
  stale: boolean;
  pathId: number;
}

/** What the decision process needs to know about the peer a path came from. */
export interface DecisionPeer {
  ebgp: boolean;
  bgpId: number;
  addressKey: string;
}

export function infoOf(e: AttrEntry): PathInfo {
  let i = e.info as PathInfo | undefined;
  if (i === undefined) {
    i = parsePathInfo(e.attrs);
    e.info = i;
  }
  return i;
}

export class RouteTable {
  readonly index: PrefixIndexV4 | PrefixIndexV6;
  readonly adj: AdjRibIn;
  /** Best path number per slot (-1 none), and its peer and attributes as last announced to the groups. */
  bestPath: Int32Array = new Int32Array(0);
  bestPeer: Int32Array = new Int32Array(0);
  bestAttr: (AttrEntry | null)[] = [];
  /**
   * Slots waiting for a decision: a ring (capacity a power of two) with no garbage per prefix; a slot is in it
   * at most once (dirtyMark), so it never holds more than the slots in use.
   */
  private dirtyQ = new Int32Array(1024);
  private dirtyHead = 0;
  private dirtyLen = 0;
  private dirtyMark: Uint8Array = new Uint8Array(0);
  /** Best paths per peer index ("preferred" routes). */
  preferredPerPeer: number[] = [];
  private cands: Candidate[] = [];
  private candPaths: number[] = [];

  constructor(readonly afi: Afi, attrTable: AttrTable, private readonly peers: (idx: number) => DecisionPeer) {
    this.index = newPrefixIndex(afi);
    this.adj = new AdjRibIn(attrTable);
  }

  /** Makes every slot-indexed array cover slot numbers below the index's high-water mark. */
  ensureSlots(): void {
    const n = this.index.highWater;
    if (this.bestPath.length >= n) return;
    this.adj.ensureSlots(n);
    this.bestPath = growInt32(this.bestPath, n, -1);
    this.bestPeer = growInt32(this.bestPeer, n, -1);
    this.dirtyMark = growUint8(this.dirtyMark, n);
  }

  markDirty(slot: number): void {
    if (this.dirtyMark[slot] === 1) return;
    this.dirtyMark[slot] = 1;
    let q = this.dirtyQ;
    if (this.dirtyLen === q.length) {
      const b = new Int32Array(q.length * 2);
      for (let i = 0; i < this.dirtyLen; i++) b[i] = q[(this.dirtyHead + i) & (q.length - 1)];
      this.dirtyQ = q = b;
      this.dirtyHead = 0;
    }
    q[(this.dirtyHead + this.dirtyLen) & (q.length - 1)] = slot;
    this.dirtyLen++;
  }

  get pendingDecisions(): number {
    return this.dirtyLen;
  }

  /**
   * Decides up to max dirty slots; onChange(slot) for each whose best (peer, attributes) changed, and
   * onDecided(slot) for every slot decided (ADD-PATH groups send more than the best path: any change counts).
   */
  decide(max: number, onChange: (slot: number) => void, onDecided?: (slot: number) => void): number {
    let n = 0;
    const adj = this.adj;
    while (this.dirtyLen > 0 && n < max) {
      // Read the ring each time: a callback that marks a slot dirty may have grown it.
      const q = this.dirtyQ;
      const slot = q[this.dirtyHead];
      this.dirtyHead = (this.dirtyHead + 1) & (q.length - 1);
      this.dirtyLen--;
      n++;
      this.dirtyMark[slot] = 0;
      if (onDecided !== undefined) onDecided(slot);
      const head = adj.slotHead[slot];
      let best = -1;
      if (head >= 0) {
        // One path: it is the best (attributes were validated by the codec); no parse needed.
        if (adj.pathNext[head] < 0) best = head;
        else best = this.decideMany(slot);
      }
      this.bestPath[slot] = best;
      const peer = best >= 0 ? adj.pathPeer[best] : -1;
      const attr = best >= 0 ? adj.pathAttr[best] : null;
      const oldPeer = this.bestPeer[slot];
      if (peer === oldPeer && attr === (this.bestAttr[slot] ?? null)) continue;
      if (oldPeer >= 0) this.preferredPerPeer[oldPeer]--;
      if (peer >= 0) this.preferredPerPeer[peer] = (this.preferredPerPeer[peer] ?? 0) + 1;
      this.bestPeer[slot] = peer;
      this.bestAttr[slot] = attr;
      onChange(slot);
    }
    return n;
  }

  private decideMany(slot: number): number {
    const adj = this.adj;
    const cands = this.cands;
    const paths = this.candPaths;
    cands.length = 0;
    paths.length = 0;
    for (let p = adj.slotHead[slot]; p >= 0; p = adj.pathNext[p]) {
      const peer = this.peers(adj.pathPeer[p]);
      cands.push({
        info: infoOf(adj.pathAttr[p] as AttrEntry),
        ebgp: peer.ebgp,
        peerBgpId: peer.bgpId,
        peerAddressKey: peer.addressKey,
        pathId: adj.pathIdOf[p] >>> 0,
      });
      paths.push(p);
    }
    const i = selectBest(cands);
    return i < 0 ? -1 : paths[i];
  }

  /**
   * The usable paths of a slot (path numbers of the Adj-RIB-In; malformed attribute sets never count) into
   * `out`: in decision order, best first, when `ranked`, else in pool order. Ranking repeats the decision
   * process on what is left, since its MED step does not give a total order.
   */
  pathsOf(slot: number, ranked: boolean, out: number[]): void {
    out.length = 0;
    const adj = this.adj;
    if (!ranked) {
      for (let p = adj.slotHead[slot]; p >= 0; p = adj.pathNext[p]) if (!infoOf(adj.pathAttr[p] as AttrEntry).malformed) out.push(p);
      return;
    }
    const cands: Candidate[] = [];
    const paths: number[] = [];
    for (let p = adj.slotHead[slot]; p >= 0; p = adj.pathNext[p]) {
      const peer = this.peers(adj.pathPeer[p]);
      cands.push({ info: infoOf(adj.pathAttr[p] as AttrEntry), ebgp: peer.ebgp, peerBgpId: peer.bgpId, peerAddressKey: peer.addressKey, pathId: adj.pathIdOf[p] >>> 0 });
      paths.push(p);
    }
    while (cands.length > 0) {
      const i = selectBest(cands);
      if (i < 0) break;
      out.push(paths[i]);
      cands.splice(i, 1);
      paths.splice(i, 1);
    }
  }

  /** Releases the slot of a prefix that has no path left and no pending decision. */
  releaseIfUnused(slot: number): boolean {
    if (!this.index.isLive(slot) || this.adj.slotHead[slot] >= 0 || this.dirtyMark[slot] === 1 || this.bestPeer[slot] >= 0) return false;
    this.bestAttr[slot] = null;
    this.index.release(slot);
    return true;
  }

  // ---- changes from the Adj-RIB-In side ------------------------------------------------------------------

  /** Route (addr/len, pathId) from peer with attr (the pool takes its reference); marks the prefix dirty on change. */
  announceV4(addr: number, len: number, peer: number, pathId: number, attr: AttrEntry): void {
    const slot = (this.index as PrefixIndexV4).insert(addr, len);
    if (slot >= this.bestPath.length) this.ensureSlots();
    if (this.adj.upsert(slot, peer, pathId, attr)) this.markDirty(slot);
  }

  /** IPv6 form of announceV4: the prefix as encoded in NLRI at buf[off..] with length len. */
  announceV6(buf: Uint8Array, off: number, len: number, peer: number, pathId: number, attr: AttrEntry): void {
    const slot = (this.index as PrefixIndexV6).insertKey(v6Key(buf, off, len));
    if (slot >= this.bestPath.length) this.ensureSlots();
    if (this.adj.upsert(slot, peer, pathId, attr)) this.markDirty(slot);
  }

  withdrawV4(addr: number, len: number, peer: number, pathId: number): void {
    const slot = (this.index as PrefixIndexV4).lookup(addr, len);
    if (slot >= 0 && this.adj.remove(slot, peer, pathId)) this.markDirty(slot);
  }

  withdrawV6(buf: Uint8Array, off: number, len: number, peer: number, pathId: number): void {
    const slot = (this.index as PrefixIndexV6).lookupKey(v6Key(buf, off, len));
    if (slot >= 0 && this.adj.remove(slot, peer, pathId)) this.markDirty(slot);
  }

  /** Removes the peer's paths (all, or the stale ones only); returns how many. */
  removePeer(peer: number, onlyStale: boolean): number {
    return this.adj.removePeer(peer, onlyStale, (s) => this.markDirty(s));
  }

  /** Marks every path of the peer stale (graceful restart helper, RFC 7313 BoRR); returns how many. */
  markStale(peer: number): number {
    return this.adj.markStale(peer);
  }

  countStale(peer: number): number {
    return this.adj.countStale(peer);
  }

  // ---- views -----------------------------------------------------------------------------------------------

  /** Paths held from one peer (BIRD's "imported"). */
  importedFrom(peer: number): number {
    return this.adj.perPeer[peer] ?? 0;
  }

  get pathCount(): number {
    return this.adj.total;
  }

  get prefixCount(): number {
    return this.index.live;
  }

  /**
   * Every path of every live prefix (or of the one prefix `only`), in slot order, the best one flagged. The
   * same object is yielded each time (read it before the next step).
   */
  *paths(only?: PrefixKey): IterableIterator<PathView> {
    const slotOnly = only !== undefined ? this.index.lookupKey(only) : -2;
    if (slotOnly === -1) return;
    const from = slotOnly >= 0 ? slotOnly : 0;
    const to = slotOnly >= 0 ? slotOnly + 1 : this.index.highWater;
    const adj = this.adj;
    const v: PathView = { key: 0, peer: 0, attr: null as unknown as AttrEntry, primary: false, stale: false, pathId: 0 };
    for (let s = from; s < to; s++) {
      if (!this.index.isLive(s)) continue;
      v.key = this.index.keyOf(s);
      for (let p = adj.slotHead[s]; p >= 0; p = adj.pathNext[p]) {
        v.peer = adj.pathPeer[p];
        v.attr = adj.pathAttr[p] as AttrEntry;
        v.primary = this.bestPath[s] === p;
        v.stale = adj.pathStale[p] === 1;
        v.pathId = adj.pathIdOf[p] >>> 0;
        yield v;
      }
    }
  }

  /** Number of prefixes with a best path. */
  get preferredTotal(): number {
    let n = 0;
    for (const c of this.preferredPerPeer) n += c ?? 0;
    return n;
  }
}
