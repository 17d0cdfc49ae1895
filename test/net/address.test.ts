// src/net/address.ts against texts fixed by the RFCs and by an independent parser (Node's WHATWG URL host parser).
import test from 'ava';
import fc from 'fast-check';
import { ipv4ToUint32, ipv6FromString, ipv6ToMixedString, ipv6ToString, uint32ToIpv4 } from '../../src/net/address.js';
import { h } from '../wire/helpers.js';
import { fixedSeeds } from '../helpers/property.js';

fixedSeeds('test/net/address.test.ts');

// Moved from test/reflector/policy.test.ts (idFromDottedQuad/idToDottedQuad are these two now).
test('dotted quad ids round-trip', (t) => {
  t.is(uint32ToIpv4(ipv4ToUint32('255.1.0.254')), '255.1.0.254');
  t.throws(() => ipv4ToUint32('1.2.3'));
});

// Moved from test/wire/misc.test.ts (the wire codec's ipv6ToString is ipv6ToMixedString now).
test('IPv6 text follows RFC 5952 (and inet_ntop for embedded IPv4)', (t) => {
  const s = (x: string) => ipv6ToMixedString(h(x), 0);
  t.is(s('20010db8000000000000000000000001'), '2001:db8::1');
  t.is(s('20010db8000000010000000000000001'), '2001:db8:0:1::1');
  t.is(s('20010db8000100000000000000010000'), '2001:db8:1::1:0');
  t.is(s('00000000000000000000000000000000'), '::');
  t.is(s('00000000000000000000ffff0a000001'), '::ffff:10.0.0.1');
  t.is(s('20010db8000100010001000100010001'), '2001:db8:1:1:1:1:1:1');
});

// Moved from test/rib/intern-keys.test.ts.
test('IPv6 text round-trips; ipv6ToString writes embedded IPv4 in hex', (t) => {
  t.is(ipv6ToString(ipv6FromString('fd00:0:0:1::2')), 'fd00:0:0:1::2');
  t.is(ipv6ToString(ipv6FromString('::ffff:1.2.3.4')), '::ffff:102:304');
});

test('ipv6ToString agrees with the WHATWG URL host serializer on random addresses', (t) => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }), (groups) => {
      const full = groups.map((g) => g.toString(16)).join(':');
      const compressed = new URL(`http://[${full}]/`).hostname.slice(1, -1);
      return ipv6ToString(ipv6FromString(full)) === compressed && ipv6ToString(ipv6FromString(compressed)) === compressed;
    }),
    { numRuns: 3000 },
  );
  t.pass();
});
