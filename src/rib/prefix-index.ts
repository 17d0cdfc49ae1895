// Maps each prefix of one address family to a dense slot number reused after release, so all per-prefix
// state (paths, best path, Adj-RIB-Out per group) lives in flat typed arrays indexed by slot.
import { AFI_IPV4, AFI_IPV6, type Afi } from '../wire/types.js';
import { type PrefixKey, v4Key, v4KeyAddr, v4KeyLen, v6Key } from '../net/prefix.js';

export function growInt32(a: Int32Array, n: number, fill = 0): Int32Array {
  if (a.length >= n) return a;
  let cap = Math.max(16, a.length);
  while (cap < n) cap *= 2;
  const b = new Int32Array(cap);
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}

export function growUint8(a: Uint8Array, n: number): Uint8Array {
  if (a.length >= n) return a;
  let cap = Math.max(16, a.length);
  while (cap < n) cap *= 2;
  const b = new Uint8Array(cap);
  b.set(a);
  return b;
}

function growUint32(a: Uint32Array, n: number): Uint32Array {
  if (a.length >= n) return a;
  let cap = Math.max(16, a.length);
  while (cap < n) cap *= 2;
  const b = new Uint32Array(cap);
  b.set(a);
  return b;
}

/** Common slot allocation: a high-water mark plus a free list. */
abstract class SlotAllocator {
  /** Number of slot numbers ever handed out (slots are < this). */
  highWater = 0;
  live = 0;
  protected freeList: number[] = [];
  protected alive: Uint8Array = new Uint8Array(0);

  protected allocSlot(): number {
    const s = this.freeList.length > 0 ? (this.freeList.pop() as number) : this.highWater++;
    this.alive = growUint8(this.alive, s + 1);
    this.alive[s] = 1;
    this.live++;
    return s;
  }

  protected releaseSlot(s: number): void {
    this.alive[s] = 0;
    this.live--;
    this.freeList.push(s);
  }

  isLive(slot: number): boolean {
    return this.alive[slot] === 1;
  }
}

export interface PrefixIndex {
  readonly afi: Afi;
  readonly highWater: number;
  readonly live: number;
  isLive(slot: number): boolean;
  keyOf(slot: number): PrefixKey;
  lookupKey(key: PrefixKey): number;
  insertKey(key: PrefixKey): number;
  release(slot: number): void;
}

/** IPv4: open addressing (linear probing, backward-shift deletion) over one Int32Array holding, per bucket,
 *  the address and ((slot + 1) << 6 | len), so a probe touches one cache line; ~20 bytes a prefix. */
export class PrefixIndexV4 extends SlotAllocator implements PrefixIndex {
  readonly afi = AFI_IPV4;
  addr: Uint32Array = new Uint32Array(0);
  len: Uint8Array = new Uint8Array(0);
  private table = new Int32Array(2 * 1024);
  private shift = 32 - 10;
  private mask = 1023;

  /** Fibonacci hashing: the high bits of the product depend on every bit of the key. */
  private home(addr: number, len: number): number {
    return Math.imul(addr ^ Math.imul(len, 0x27d4eb2d), 0x9e3779b1) >>> this.shift;
  }

  lookup(addr: number, len: number): number {
    const t = this.table;
    const a = addr | 0;
    let h = this.home(addr, len);
    for (;;) {
      const w = t[2 * h + 1];
      if (w === 0) return -1;
      if (t[2 * h] === a && (w & 63) === len) return (w >>> 6) - 1;
      h = (h + 1) & this.mask;
    }
  }

  insert(addr: number, len: number): number {
    addr >>>= 0;
    if ((this.live + 1) * 2 > this.mask + 1) this.rehash((this.mask + 1) * 2);
    // One probe sequence: it ends at the prefix or at the empty bucket where it goes.
    const t = this.table;
    const a = addr | 0;
    let h = this.home(addr, len);
    for (;;) {
      const w = t[2 * h + 1];
      if (w === 0) break;
      if (t[2 * h] === a && (w & 63) === len) return (w >>> 6) - 1;
      h = (h + 1) & this.mask;
    }
    const s = this.allocSlot();
    if (this.addr.length <= s) {
      this.addr = growUint32(this.addr, s + 1);
      this.len = growUint8(this.len, s + 1);
    }
    this.addr[s] = addr;
    this.len[s] = len;
    t[2 * h] = a;
    t[2 * h + 1] = ((s + 1) << 6) | len;
    return s;
  }

  /**
   * Doubles the table by walking the old one in bucket order: with Fibonacci hashing an entry's new home is
   * 2h or 2h + 1 of its old one, so the writes go forward through memory instead of to random buckets.
   */
  private rehash(size: number): void {
    const old = this.table;
    this.table = new Int32Array(2 * size);
    this.mask = size - 1;
    this.shift = 32 - Math.log2(size);
    const t = this.table;
    const m = this.mask;
    for (let i = 0; i < old.length; i += 2) {
      const w = old[i + 1];
      if (w === 0) continue;
      const a = old[i];
      let h = this.home(a >>> 0, w & 63);
      while (t[2 * h + 1] !== 0) h = (h + 1) & m;
      t[2 * h] = a;
      t[2 * h + 1] = w;
    }
  }

  release(slot: number): void {
    const t = this.table;
    const m = this.mask;
    let h = this.home(this.addr[slot], this.len[slot]);
    while (((t[2 * h + 1] >>> 6) - 1) !== slot) {
      if (t[2 * h + 1] === 0) throw new Error('prefix index corrupt');
      h = (h + 1) & m;
    }
    // Backward-shift deletion keeps probe chains intact without tombstones.
    let hole = h;
    let j = h;
    for (;;) {
      j = (j + 1) & m;
      const w = t[2 * j + 1];
      if (w === 0) break;
      const home = this.home(t[2 * j] >>> 0, w & 63);
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!between) {
        t[2 * hole] = t[2 * j];
        t[2 * hole + 1] = w;
        hole = j;
      }
    }
    t[2 * hole] = 0;
    t[2 * hole + 1] = 0;
    this.releaseSlot(slot);
  }

  keyOf(slot: number): number {
    return v4Key(this.addr[slot], this.len[slot]);
  }

  lookupKey(key: PrefixKey): number {
    return typeof key === 'number' ? this.lookup(v4KeyAddr(key), v4KeyLen(key)) : -1;
  }

  insertKey(key: PrefixKey): number {
    if (typeof key !== 'number') throw new Error('IPv6 key in IPv4 index');
    return this.insert(v4KeyAddr(key), v4KeyLen(key));
  }
}

/** IPv6: a Map from the short latin1 key to the slot. */
export class PrefixIndexV6 extends SlotAllocator implements PrefixIndex {
  readonly afi = AFI_IPV6;
  private map = new Map<string, number>();
  keys: string[] = [];

  lookup(buf: Uint8Array, off: number, len: number): number {
    return this.map.get(v6Key(buf, off, len)) ?? -1;
  }

  insert(buf: Uint8Array, off: number, len: number): number {
    return this.insertKey(v6Key(buf, off, len));
  }

  keyOf(slot: number): string {
    return this.keys[slot];
  }

  lookupKey(key: PrefixKey): number {
    return typeof key === 'string' ? this.map.get(key) ?? -1 : -1;
  }

  insertKey(key: PrefixKey): number {
    if (typeof key !== 'string') throw new Error('IPv4 key in IPv6 index');
    const found = this.map.get(key);
    if (found !== undefined) return found;
    const s = this.allocSlot();
    this.keys[s] = key;
    this.map.set(key, s);
    return s;
  }

  release(slot: number): void {
    this.map.delete(this.keys[slot]);
    this.keys[slot] = '';
    this.releaseSlot(slot);
  }
}

export function newPrefixIndex(afi: Afi): PrefixIndexV4 | PrefixIndexV6 {
  return afi === AFI_IPV6 ? new PrefixIndexV6() : new PrefixIndexV4();
}

export { AFI_IPV6 };
