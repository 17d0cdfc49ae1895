import test from 'ava';
import { BgpError, DEFAULT_CONTEXT, decodeMessage, encodeKeepalive, frameLength } from '../../src/wire/index.js';
import { msg } from './helpers.js';

test('frameLength: needs 19 octets, then the whole message', (t) => {
  const k = encodeKeepalive();
  t.is(frameLength(k.subarray(0, 18), 0, 4096), 0);
  t.is(frameLength(k, 0, 4096), 19);
  const two = Buffer.concat([k, k]);
  t.is(frameLength(two, 19, 4096), 19);
  const u = msg(2, '00000000');
  t.is(frameLength(u.subarray(0, 22), 0, 4096), 0);
  t.is(frameLength(u, 0, 4096), 23);
});

test('frameLength: bad marker is Connection Not Synchronized (1/1)', (t) => {
  const k = encodeKeepalive();
  k[3] = 0;
  const e = t.throws(() => frameLength(k, 0, 4096), { instanceOf: BgpError });
  t.is(e?.code, 1);
  t.is(e?.subcode, 1);
  t.is(e?.offset, 3);
});

test('frameLength: length out of range or wrong for the type is Bad Message Length (1/2) with the length field', (t) => {
  const cases: [number, number, number][] = [
    [4, 20, 4096], // KEEPALIVE must be 19
    [2, 18, 4096], // below 19
    [2, 22, 4096], // UPDATE below 23
    [1, 28, 4096], // OPEN below 29
    [3, 20, 4096], // NOTIFICATION below 21
    [5, 22, 4096], // ROUTE-REFRESH below 23
    [2, 4097, 4096], // above the session maximum
    [1, 4097, 65535], // OPEN never above 4096 (RFC 8654)
  ];
  for (const [type, len, max] of cases) {
    const b = new Uint8Array(Math.max(len, 19)).fill(0xff, 0, 16);
    b[16] = len >> 8;
    b[17] = len & 0xff;
    b[18] = type;
    const e = t.throws(() => frameLength(b, 0, max), { instanceOf: BgpError }, `type ${type} len ${len}`);
    t.is(e?.code, 1);
    t.is(e?.subcode, 2);
    t.deepEqual([...e!.data], [len >> 8, len & 0xff]);
  }
  const big = new Uint8Array(5000).fill(0xff, 0, 16);
  big[16] = 5000 >> 8; big[17] = 5000 & 0xff; big[18] = 2;
  t.is(frameLength(big, 0, 65535), 5000);
});

test('frameLength: unknown type is Bad Message Type (1/3) with the type', (t) => {
  const b = msg(9, '');
  const e = t.throws(() => frameLength(b, 0, 4096), { instanceOf: BgpError });
  t.is(e?.subcode, 3);
  t.deepEqual([...e!.data], [9]);
});

test('decodeMessage: KEEPALIVE', (t) => {
  t.deepEqual(decodeMessage(encodeKeepalive(), DEFAULT_CONTEXT), { type: 4 });
  t.is(encodeKeepalive().toString('hex'), 'ff'.repeat(16) + '001304');
});

test('decodeMessage: a message shorter than its length field is rejected', (t) => {
  const u = msg(2, '00000000');
  t.throws(() => decodeMessage(u.subarray(0, 22), DEFAULT_CONTEXT), { instanceOf: BgpError });
});

test('decodeMessage: empty or header-only input is a BgpError, never a decoded message', (t) => {
  for (const b of [new Uint8Array(0), new Uint8Array(5).fill(0xff), encodeKeepalive().subarray(0, 18)]) {
    const e = t.throws(() => decodeMessage(b, DEFAULT_CONTEXT), { instanceOf: BgpError });
    t.is(e?.code, 1);
  }
});
