import test from 'ava';
import {
  BgpError, DEFAULT_CONTEXT, decodeMessage, encodeMessage, openAs, openCapabilities,
  type OpenMessage,
} from '../../src/wire/index.js';
import { msg, toHex } from './helpers.js';

// BIRD-like OPEN: AS 65000, hold 240, id 10.0.0.1; one capability parameter holding MP(1/1), MP(2/1),
// route refresh, GR (restart time 120, IPv4 F bit), AS4 65000, ADD-PATH ipv4 send/receive, enhanced RR,
// LLGR ipv4 stale 3600, FQDN "rr1"/"", extended message, and an unknown capability 128.
const capsHex =
  '0104 00010001' + '0104 00020001' + '0200' +
  '4006 0078 0001 0180' + '4104 0000fde8' + '4504 0001 01 03' + '4600' +
  '4707 0001 01 00 000e10' + '4905 03 727231 00' + '0600' + '8000';
const paramHex = '02' + (capsHex.replace(/ /g, '').length / 2).toString(16).padStart(2, '0') + capsHex;
const openBody = '04 fde8 00f0 0a000001 ' + (paramHex.replace(/ /g, '').length / 2).toString(16).padStart(2, '0') + paramHex;

test('OPEN: decodes every capability kind', (t) => {
  const bytes = msg(1, openBody);
  const m = decodeMessage(bytes, DEFAULT_CONTEXT) as OpenMessage;
  t.is(m.type, 1);
  t.is(m.version, 4);
  t.is(m.myAs, 65000);
  t.is(m.holdTime, 240);
  t.is(m.bgpId, '10.0.0.1');
  t.false(m.extendedParameters);
  t.is(m.parameters.length, 1);
  const caps = openCapabilities(m);
  t.deepEqual(caps.map((c) => c.kind), [
    'multiprotocol', 'multiprotocol', 'route-refresh', 'graceful-restart', 'as4', 'add-path',
    'enhanced-route-refresh', 'long-lived-graceful-restart', 'fqdn', 'extended-message', 'unknown',
  ]);
  t.deepEqual(caps[1], { kind: 'multiprotocol', code: 1, afi: 2, safi: 1 });
  t.deepEqual(caps[3], { kind: 'graceful-restart', code: 64, restarting: false, notification: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingPreserved: true }] });
  t.deepEqual(caps[5], { kind: 'add-path', code: 69, families: [{ afi: 1, safi: 1, sendReceive: 3 }] });
  t.deepEqual(caps[7], { kind: 'long-lived-graceful-restart', code: 71, families: [{ afi: 1, safi: 1, flags: 0, staleTime: 3600 }] });
  t.deepEqual(caps[8], { kind: 'fqdn', code: 73, hostname: 'rr1', domainName: '' });
  t.is(caps[10]!.code, 128);
  t.is(openAs(m), 65000);
  t.is(toHex(encodeMessage(m, DEFAULT_CONTEXT)), toHex(bytes));
});

test('OPEN: capabilities spread over several parameters keep their grouping', (t) => {
  const body = '04 5ba0 005a c0a80001 10 0206 0104 00010001 0206 4104 00030d40';
  const bytes = msg(1, body);
  const m = decodeMessage(bytes, DEFAULT_CONTEXT) as OpenMessage;
  t.is(m.parameters.length, 2);
  t.is(openAs(m), 200000);
  t.is(m.myAs, 23456);
  t.is(toHex(encodeMessage(m, DEFAULT_CONTEXT)), toHex(bytes));
});

test('OPEN: RFC 9072 extended optional parameters length', (t) => {
  // Non-Ext OP Len 255, Non-Ext OP Type 255, Extended Opt. Parm. Length 9, one parameter (type 2, 2-octet length 6).
  const body = '04 fde8 00b4 0a000002 ff ff 0009 02 0006 0104 00010001';
  const bytes = msg(1, body);
  const m = decodeMessage(bytes, DEFAULT_CONTEXT) as OpenMessage;
  t.true(m.extendedParameters);
  t.deepEqual(openCapabilities(m), [{ kind: 'multiprotocol', code: 1, afi: 1, safi: 1 }]);
  t.is(toHex(encodeMessage(m, DEFAULT_CONTEXT)), toHex(bytes));
});

test('OPEN: malformed capability shapes are kept raw, byte-exact', (t) => {
  // MP capability with a non-zero reserved octet; AS4 with 3 octets; ADD-PATH with send/receive 7.
  const body = '04 fde8 00b4 0a000002 13 0211 0104 00010101 4103 000001 4504 00010107';
  const bytes = msg(1, body);
  const m = decodeMessage(bytes, DEFAULT_CONTEXT) as OpenMessage;
  t.deepEqual(openCapabilities(m).map((c) => c.kind), ['unknown', 'unknown', 'unknown']);
  t.is(toHex(encodeMessage(m, DEFAULT_CONTEXT)), toHex(bytes));
});

test('OPEN: parameter overrun and length mismatch are errors', (t) => {
  // parameter claims 9 octets but only 6 follow
  const e1 = t.throws(() => decodeMessage(msg(1, '04 fde8 00b4 0a000002 08 0209 0104 00010001'), DEFAULT_CONTEXT), { instanceOf: BgpError });
  t.is(e1?.code, 2);
  // capability overruns its parameter
  const e2 = t.throws(() => decodeMessage(msg(1, '04 fde8 00b4 0a000002 08 0206 0105 00010001'), DEFAULT_CONTEXT), { instanceOf: BgpError });
  t.is(e2?.code, 2);
  // Opt Parm Len larger than the message
  const e3 = t.throws(() => decodeMessage(msg(1, '04 fde8 00b4 0a000002 09 0206 0104 00010001'), DEFAULT_CONTEXT), { instanceOf: BgpError });
  t.is(e3?.code, 1);
  t.is(e3?.subcode, 2);
});

