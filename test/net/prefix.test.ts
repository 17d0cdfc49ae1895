// src/net/prefix.ts: prefix keys and the bigint form the control socket matches on.
import test from 'ava';
import fc from 'fast-check';
import { ipv4Value, ipv6Value, ipv6ValueToString, keyToString, parsePrefix } from '../../src/net/prefix.js';
import { fixedSeeds } from '../helpers/property.js';

fixedSeeds('test/net/prefix.test.ts');

// Moved from test/rib/intern-keys.test.ts.
test('prefix keys round-trip through text', (t) => {
  for (const p of ['10.60.1.0/26', '0.0.0.0/0', '255.255.255.255/32', 'fd00:1::/64', '::/0', 'fd00::1/128', '2001:db8:0:2::/63']) {
    t.is(keyToString(parsePrefix(p)), p);
  }
  t.throws(() => parsePrefix('10.0.0.1/24'));
  t.throws(() => parsePrefix('fd00::1/64'));
});

// Moved from test/control/commands.test.ts (src/control/addr.ts is part of src/net/prefix.ts now).
test('IPv6 parsing agrees with the WHATWG URL host parser on random addresses', (t) => {
  const toBig = (groups: number[]): bigint => groups.reduce((a, g) => (a << 16n) | BigInt(g), 0n);
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }), (groups) => {
      const full = groups.map((g) => g.toString(16)).join(':');
      const compressed = new URL(`http://[${full}]/`).hostname.slice(1, -1);
      return ipv6Value(full) === toBig(groups) && ipv6Value(compressed) === toBig(groups) && ipv6ValueToString(toBig(groups)) === compressed;
    }),
    { numRuns: 3000 },
  );
  t.is(ipv6Value('::ffff:10.1.2.3'), (0xffffn << 32n) | 0x0a010203n);
  t.is(ipv6Value('::'), 0n);
  for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', ':1', 'fd00::g', '1.2.3.4']) t.is(ipv6Value(bad), undefined, bad);
  t.is(ipv4Value('10.65.1.0'), 0x0a410100n);
  for (const bad of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '01x.1.1.1']) t.is(ipv4Value(bad), undefined, bad);
});
