import test from 'ava';
import {
  BgpError, DEFAULT_CONTEXT, decodeMessage, decodeShutdownMessage, encodeMessage, encodeNotification,
  encodeShutdownNotification, type NotificationMessage, type RouteRefreshMessage,
} from '../../src/wire/index.js';
import { msg, toHex } from './helpers.js';

test('NOTIFICATION: encode and decode with data', (t) => {
  const b = encodeNotification(3, 5, Uint8Array.of(0x40, 1, 2, 0));
  t.is(toHex(b), 'ff'.repeat(16) + '0019' + '03' + '0305' + '40010200');
  const m = decodeMessage(b, DEFAULT_CONTEXT) as NotificationMessage;
  t.deepEqual({ ...m, data: [...m.data] }, { type: 3, code: 3, subcode: 5, data: [0x40, 1, 2, 0] });
  t.is(toHex(encodeMessage(m, DEFAULT_CONTEXT)), toHex(b));
});

test('shutdown communication: RFC 8203 example form, UTF-8, truncation at a character boundary', (t) => {
  const b = encodeShutdownNotification(2, 'maintenance ✓');
  const m = decodeMessage(b, DEFAULT_CONTEXT) as NotificationMessage;
  t.is(m.code, 6);
  t.is(m.subcode, 2);
  t.is(m.data[0], Buffer.byteLength('maintenance ✓'));
  t.is(decodeShutdownMessage(m.data), 'maintenance ✓');
  const long = 'é'.repeat(200); // 400 octets
  const m2 = decodeMessage(encodeShutdownNotification(4, long), DEFAULT_CONTEXT) as NotificationMessage;
  t.is(m2.data[0], 254);
  t.is(decodeShutdownMessage(m2.data), 'é'.repeat(127));
  t.is(decodeShutdownMessage(new Uint8Array(0)), undefined);
  t.is(decodeShutdownMessage(Uint8Array.of(5, 0x41)), undefined); // length overruns
  t.is(decodeShutdownMessage(Uint8Array.of(1, 0xff)), undefined); // invalid UTF-8
});

test('ROUTE-REFRESH: normal, BoRR, EoRR; ORF octets kept; bad BoRR length', (t) => {
  for (const subtype of [0, 1, 2]) {
    const b = msg(5, `0002 0${subtype} 01`);
    const m = decodeMessage(b, DEFAULT_CONTEXT) as RouteRefreshMessage;
    t.deepEqual(m, { type: 5, afi: 2, safi: 1, subtype });
    t.is(toHex(encodeMessage(m, DEFAULT_CONTEXT)), toHex(b));
  }
  const orf = msg(5, '0001 00 01 01 40 0000');
  t.is(toHex(encodeMessage(decodeMessage(orf, DEFAULT_CONTEXT), DEFAULT_CONTEXT)), toHex(orf));
  const bad = msg(5, '0001 01 01 00');
  const e = t.throws(() => decodeMessage(bad, DEFAULT_CONTEXT), { instanceOf: BgpError });
  t.is(e?.code, 7);
  t.is(e?.subcode, 1);
  t.is(toHex(e!.data), toHex(bad));
});
