// The table's compact internals at sizes the property tests do not reach: the IPv4 prefix index across many
// doublings (rehash walks the old table), the decision ring growing while it wraps, the IPv4 key arithmetic
// (checked against plain % and division on every length), and the start-up warm-up (reflector/warm-up.ts).
import test from 'ava';
import { AttrTable } from '../../src/rib/attr-intern.js';
import { RouteTable, type DecisionPeer } from '../../src/rib/loc-rib.js';
import { PrefixIndexV4 } from '../../src/rib/prefix-index.js';
import { v4Key, v4KeyAddr, v4KeyLen } from '../../src/net/prefix.js';
import { addressSortKey } from '../../src/net/address.js';
import { AFI_IPV4 } from '../../src/wire/types.js';
import { warmUpRoutePath } from '../../src/reflector/warm-up.js';
import { attrs } from './helpers.js';

test('IPv4 prefix index: 200,000 prefixes over many doublings, every one found, then all released', (t) => {
  const idx = new PrefixIndexV4();
  const n = 200_000;
  const addrOf = (i: number): number => (0x0b000000 + i * 256) >>> 0;
  const slots = new Int32Array(n);
  for (let i = 0; i < n; i++) slots[i] = idx.insert(addrOf(i), 24);
  // A second insert of the same prefix is found, not added.
  for (let i = 0; i < n; i += 997) t.is(idx.insert(addrOf(i), 24), slots[i]);
  t.is(idx.live, n);
  t.is(new Set(slots).size, n);
  let wrong = 0;
  for (let i = 0; i < n; i++) {
    if (idx.lookup(addrOf(i), 24) !== slots[i] || idx.lookup(addrOf(i), 25) !== -1) wrong++;
    if (idx.keyOf(slots[i]) !== v4Key(addrOf(i), 24)) wrong++;
  }
  t.is(wrong, 0);
  for (let i = 0; i < n; i += 2) idx.release(slots[i]);
  for (let i = 0; i < n; i++) if (idx.lookup(addrOf(i), 24) !== (i % 2 === 0 ? -1 : slots[i])) wrong++;
  t.is(wrong, 0);
  for (let i = 1; i < n; i += 2) idx.release(slots[i]);
  t.is(idx.live, 0);
});

test('IPv4 keys: address and length come back as with % and division, for every length and edge address', (t) => {
  let wrong = 0;
  for (const addr of [0, 1, 0x7fffffff, 0x80000000, 0xc0a80100, 0xfffffff0, 0xffffffff]) {
    for (let len = 0; len <= 32; len++) {
      const k = v4Key(addr, len);
      if (v4KeyLen(k) !== k % 64 || v4KeyAddr(k) !== Math.floor(k / 64) || v4KeyAddr(k) !== addr >>> 0 || v4KeyLen(k) !== len) wrong++;
    }
  }
  t.is(wrong, 0);
});

test('decision ring: slots marked while it wraps and grows are each decided once, in order', (t) => {
  const peer: DecisionPeer = { ebgp: false, bgpId: 1, addressKey: addressSortKey('10.0.0.1') };
  const tab = new AttrTable();
  const rt = new RouteTable(AFI_IPV4, tab, () => peer);
  const a = tab.internBuffer(attrs({ nextHop: '100.64.0.1' }));
  const decided: number[] = [];
  const expected: number[] = [];
  let next = 0;
  // Mark 700 at a time, decide 500: the ring's head moves round while more is added, so it grows wrapped.
  for (let round = 0; round < 12; round++) {
    for (let i = 0; i < 700; i++, next++) {
      rt.announceV4((0x0a000000 + next * 256) >>> 0, 24, 0, 0, a);
      expected.push(rt.index.lookupKey(v4Key((0x0a000000 + next * 256) >>> 0, 24)));
    }
    // Re-announcing the same route changes nothing: no second entry for these slots.
    rt.announceV4(0x0a000000, 24, 0, 0, a);
    rt.decide(500, (s) => decided.push(s));
  }
  t.is(rt.pendingDecisions, 12 * 700 - 12 * 500);
  while (rt.pendingDecisions > 0) rt.decide(333, (s) => decided.push(s));
  t.deepEqual(decided, expected);
  t.is(rt.preferredTotal, 12 * 700);
  tab.release(a);
});

test('warm-up: the throwaway reflector delivers the same bytes every time and leaves nothing running', (t) => {
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const a = warmUpRoutePath(1, 500);
  const b = warmUpRoutePath(1, 500);
  t.true(a > 500 * 4, `clients got ${a} bytes for 1,000 prefixes`);
  t.is(a, b);
  t.true(warmUpRoutePath(1, 1000) > a);
  // Queued run() immediates return at once (the reflectors are closed); no timer may stay behind.
  t.is(timers(), before);
});
