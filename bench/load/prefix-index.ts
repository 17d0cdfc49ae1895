// Bench-only map from an IPv4 prefix (address, length) to its index in the workload's prefix list.
// Open addressing on typed arrays, so a lookup on the receive path allocates nothing.

export class PrefixIndex {
  private readonly mask: number;
  private readonly addrs: Uint32Array;
  private readonly lens: Uint8Array; // length + 1; 0 marks an empty slot
  private readonly vals: Int32Array;
  size = 0;

  constructor(capacity: number) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.mask = cap - 1;
    this.addrs = new Uint32Array(cap);
    this.lens = new Uint8Array(cap);
    this.vals = new Int32Array(cap);
  }

  private slot(addr: number, len: number): number {
    return (Math.imul(addr ^ Math.imul(len + 1, 0x27d4eb2d), 0x9e3779b1) >>> 7) & this.mask;
  }

  /** Adds the prefix if new; returns false when it was already there. */
  add(addr: number, len: number, value: number): boolean {
    let s = this.slot(addr, len);
    for (;;) {
      const l = this.lens[s]!;
      if (l === 0) {
        this.addrs[s] = addr;
        this.lens[s] = len + 1;
        this.vals[s] = value;
        this.size++;
        return true;
      }
      if (l === len + 1 && this.addrs[s] === addr) return false;
      s = (s + 1) & this.mask;
    }
  }

  /** The index stored for the prefix, or -1. */
  get(addr: number, len: number): number {
    let s = this.slot(addr, len);
    for (;;) {
      const l = this.lens[s]!;
      if (l === 0) return -1;
      if (l === len + 1 && this.addrs[s] === addr) return this.vals[s]!;
      s = (s + 1) & this.mask;
    }
  }
}
