import test from 'ava';
import fc from 'fast-check';
import { AttrTable } from '../../src/rib/attr-intern.js';
import { keyToString, v4Key, v6Key } from '../../src/net/prefix.js';
import { ipv6FromString } from '../../src/net/address.js';
import { PrefixIndexV4, PrefixIndexV6 } from '../../src/rib/prefix-index.js';
import { attrs } from './helpers.js';
import { fixedSeeds } from '../helpers/property.js';

fixedSeeds('test/rib/intern-keys.test.ts');

test('interning: equal bytes give the same entry, refcounts free it', (t) => {
  const tab = new AttrTable();
  const a = attrs({ nextHop: '1.2.3.4', localPref: 200 });
  const msg = Buffer.concat([Buffer.alloc(7), a, Buffer.alloc(3)]);
  const e1 = tab.intern(msg, 7, 7 + a.length);
  const e2 = tab.internBuffer(Buffer.from(a));
  t.is(e1, e2);
  t.is(e1.refs, 2);
  t.not(tab.internBuffer(attrs({ nextHop: '1.2.3.5', localPref: 200 })), e1);
  const nh1 = tab.internBuffer(a, Buffer.from([1, 2]));
  t.not(nh1, e1);
  t.is(tab.internBuffer(a, Buffer.from([1, 2])), nh1);
  t.is(tab.size, 3);
  tab.release(e1);
  tab.release(e1);
  t.is(tab.get(e1.id), undefined);
  t.is(tab.size, 2);
  t.throws(() => tab.release(e1));
});

test('IPv4 prefix index: insert, lookup, release with backward shift, against a Map (property)', (t) => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 20, max: 32 })), { maxLength: 3000 }), (ops) => {
    const idx = new PrefixIndexV4();
    const ref = new Map<number, number>();
    for (const [add, a, len] of ops) {
      const addr = (a * 0x01000193) >>> 0;
      const k = v4Key(addr, len);
      if (add) {
        const s = idx.insert(addr, len);
        if (ref.has(k) && ref.get(k) !== s) return false;
        ref.set(k, s);
      } else if (ref.has(k)) {
        idx.release(ref.get(k) as number);
        ref.delete(k);
      }
    }
    if (idx.live !== ref.size) return false;
    for (const [k, s] of ref) if (idx.lookupKey(k) !== s || idx.keyOf(s) !== k) return false;
    return true;
  }), { numRuns: 60 });
  t.pass();
});

test('IPv6 prefix index keys', (t) => {
  const idx = new PrefixIndexV6();
  const b = ipv6FromString('fd00:10::');
  const s = idx.insert(b, 0, 64);
  t.is(idx.lookupKey(v6Key(b, 0, 64)), s);
  t.is(keyToString(idx.keyOf(s)), 'fd00:10::/64');
  idx.release(s);
  t.is(idx.lookup(b, 0, 64), -1);
});
