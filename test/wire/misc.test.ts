import test from 'ava';
import {
  AFI_IPV4, DEFAULT_CONTEXT, buildUpdates, decodeAsPath, decodeCapability, encodeAsPath, encodeCapabilityValue,
  type Capability,
} from '../../src/wire/index.js';
import { h, toHex } from './helpers.js';

test('capabilities: wire form of each kind (RFC 4724, 7911, 9494, FQDN)', (t) => {
  const cases: [Capability, string][] = [
    [{ kind: 'multiprotocol', code: 1, afi: 2, safi: 1 }, '00020001'],
    [{ kind: 'graceful-restart', code: 64, restarting: true, notification: true, restartTime: 300, families: [{ afi: 2, safi: 1, forwardingPreserved: false }] }, 'c12c 0002 01 00'],
    [{ kind: 'add-path', code: 69, families: [{ afi: 1, safi: 1, sendReceive: 1 }, { afi: 2, safi: 1, sendReceive: 2 }] }, '0001 01 01 0002 01 02'],
    [{ kind: 'long-lived-graceful-restart', code: 71, families: [{ afi: 2, safi: 1, flags: 0x80, staleTime: 0x010203 }] }, '0002 01 80 010203'],
    [{ kind: 'fqdn', code: 73, hostname: 'node-1', domainName: 'cluster.local' }, '06 6e6f64652d31 0d 636c75737465722e6c6f63616c'],
    [{ kind: 'as4', code: 65, as: 4200000000 }, 'fa56ea00'],
  ];
  for (const [cap, hexStr] of cases) {
    t.is(toHex(encodeCapabilityValue(cap)), toHex(h(hexStr)), cap.kind);
    t.deepEqual(decodeCapability(cap.code, h(hexStr)), cap);
  }
  // A graceful-restart capability with a stray reserved bit is kept raw (byte-exact), not misread.
  t.is(decodeCapability(64, h('1078')).kind, 'unknown');
});

test('AS path: segments longer than 255 ASes are split when encoding', (t) => {
  const asns = Array.from({ length: 300 }, (_, i) => 65000 + i);
  const b = encodeAsPath([{ type: 2, asns }], 4);
  t.is(b.length, 2 + 255 * 4 + 2 + 45 * 4);
  t.deepEqual(decodeAsPath(b, 0, b.length, 4), [{ type: 2, asns: asns.slice(0, 255) }, { type: 2, asns: asns.slice(255) }]);
  // 2-octet encoding writes AS_TRANS for ASes that do not fit.
  t.is(toHex(encodeAsPath([{ type: 2, asns: [65001, 4200000000] }], 2)), '0202fde95ba0');
});

test('buildUpdates rejects impossible input instead of writing garbage', (t) => {
  t.throws(() => buildUpdates({ attrs: new Uint8Array(0), afi: AFI_IPV4, prefixes: { addrs: [0], lens: [33] }, ctx: DEFAULT_CONTEXT }), { instanceOf: RangeError });
  t.throws(() => buildUpdates({ attrs: new Uint8Array(4090), afi: AFI_IPV4, prefixes: { addrs: [0], lens: [24] }, ctx: DEFAULT_CONTEXT }), { instanceOf: RangeError });
  t.throws(() => buildUpdates({ afi: 2, prefixes: { addrs: new Uint8Array(16), lens: [64] }, ctx: DEFAULT_CONTEXT }), { instanceOf: RangeError });
});

