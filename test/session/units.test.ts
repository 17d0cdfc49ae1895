// Pure parts of src/session: framer (any split/coalescing), negotiation rules, FSM transitions, timers.
import test from 'ava';
import fc from 'fast-check';
import { Framer } from '../../src/session/framer.js';
import { idleHoldSeconds, jitterMs, transition } from '../../src/session/fsm.js';
import { buildOpen, negotiate, negotiateHoldTime } from '../../src/session/negotiate.js';
import { BgpError, encodeKeepalive, encodeNotification, encodeOpen, decodeOpen } from '../../src/wire/index.js';
import { MessageType, type Capability, type OpenMessage } from '../../src/wire/types.js';
import { fixedSeeds } from '../helpers/property.js';

fixedSeeds('test/session/units.test.ts');

const spec4 = { family: 4 as const, localAs: 64512, peerAs: 64512, routerId: '10.0.0.1' };

function peerOpen(caps: Capability[], over: Partial<OpenMessage> = {}): OpenMessage {
  return { type: MessageType.OPEN, version: 4, myAs: 64512, holdTime: 90, bgpId: '10.0.0.2', parameters: [{ type: 2, capabilities: caps }], extendedParameters: false, ...over };
}

test('framer: any split of a stream of messages yields the same messages', (t) => {
  const msgs = [
    encodeKeepalive(),
    encodeOpen(buildOpen(spec4)),
    encodeNotification(6, 2, Buffer.from('bye')),
    (() => { const b = Buffer.alloc(3000, 0xff); b.writeUInt16BE(3000, 16); b[18] = 2; b.fill(7, 19); return b; })(),
    encodeKeepalive(),
  ];
  const stream = Buffer.concat(msgs);
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: stream.length }), { maxLength: 40 }), (cuts) => {
    const points = [...new Set(cuts)].sort((a, b) => a - b);
    const f = new Framer();
    const out: Buffer[] = [];
    let prev = 0;
    for (const p of [...points, stream.length]) {
      f.push(stream.subarray(prev, p));
      prev = p;
      for (let m = f.next(); m; m = f.next()) out.push(Buffer.from(m));
    }
    return out.length === msgs.length && out.every((m, i) => m.equals(msgs[i]!)) && f.buffered === 0;
  }), { numRuns: 300 });
  t.pass();
});

test('framer: a message inside one chunk is a view, not a copy', (t) => {
  const chunk = Buffer.concat([encodeKeepalive(), encodeKeepalive()]);
  const f = new Framer();
  f.push(chunk);
  const m = f.next()!;
  t.is(m.buffer, chunk.buffer);
  t.is(f.next()!.byteOffset, chunk.byteOffset + 19);
  t.is(f.next(), null);
});

test('framer: bad marker and over-long length throw the header BgpError, also when the header is split', (t) => {
  const f = new Framer();
  const bad = Buffer.alloc(19, 0xff);
  bad[3] = 0;
  f.push(bad.subarray(0, 5));
  t.is(f.next(), null);
  f.push(bad.subarray(5));
  const e = t.throws(() => f.next(), { instanceOf: BgpError });
  t.deepEqual([e!.code, e!.subcode], [1, 1]);
  const g = new Framer(4096);
  const big = Buffer.alloc(19, 0xff);
  big.writeUInt16BE(5000, 16);
  big[18] = 2;
  g.push(big);
  const e2 = t.throws(() => g.next(), { instanceOf: BgpError });
  t.deepEqual([e2!.code, e2!.subcode], [1, 2]);
  const h = new Framer(65535);
  h.push(big);
  t.is(h.next(), null); // legal once extended messages are negotiated: waits for the body
});

test('our OPEN: as the original (GR 120, no R bit, F bit clear), AS_TRANS for 4-octet AS, survives the codec', (t) => {
  const o = buildOpen({ family: 6, localAs: 4200000000, routerId: '10.0.0.1' });
  t.is(o.myAs, 23456);
  t.is(o.holdTime, 240);
  const back = decodeOpen(encodeOpen(o));
  t.deepEqual(back, o);
  const caps = back.parameters.flatMap((p) => ('capabilities' in p ? p.capabilities : []));
  t.deepEqual(caps.find((c) => c.kind === 'multiprotocol'), { kind: 'multiprotocol', code: 1, afi: 2, safi: 1 });
  t.deepEqual(caps.find((c) => c.kind === 'graceful-restart'), {
    kind: 'graceful-restart', code: 64, restarting: false, notification: false, restartTime: 120, families: [{ afi: 2, safi: 1, forwardingPreserved: false }],
  });
  t.deepEqual(caps.find((c) => c.kind === 'as4'), { kind: 'as4', code: 65, as: 4200000000 });
});

test('negotiate: hold time rules', (t) => {
  t.is(negotiateHoldTime(240, 9), 9);
  t.is(negotiateHoldTime(240, 0), 0);
  t.is(negotiateHoldTime(3, 90), 3);
  for (const h of [1, 2]) {
    const e = t.throws(() => negotiateHoldTime(240, h), { instanceOf: BgpError });
    t.deepEqual([e!.code, e!.subcode], [2, 6]);
  }
  const n = negotiate(buildOpen(spec4), peerOpen([], { holdTime: 10 }), spec4);
  t.is(n.holdTime, 10);
  t.is(n.keepaliveTime, 3);
});

test('negotiate: BIRD 1.6 IPv4 (no MP capability) gets IPv4; an IPv6-only peer on an IPv4 session gets none', (t) => {
  const bird16: Capability[] = [{ kind: 'route-refresh', code: 2 }, { kind: 'as4', code: 65, as: 64512 }, { kind: 'add-path', code: 69, families: [{ afi: 1, safi: 1, sendReceive: 3 }] }];
  const n = negotiate(buildOpen(spec4), peerOpen(bird16), spec4);
  t.deepEqual(n.families, [1]);
  t.true(n.addPath.rx[1]);
  t.false(n.addPath.tx[1]);
  t.true(n.routeRefresh);
  t.is(n.gracefulRestart, null);
  const v6only = negotiate(buildOpen(spec4), peerOpen([{ kind: 'multiprotocol', code: 1, afi: 2, safi: 1 }]), spec4);
  t.deepEqual(v6only.families, []);
  t.false(v6only.as4);
  t.false(v6only.recvCtx.as4);
});

test('negotiate: ADD-PATH only when the peer can send; extended message only when both; unknown capability ignored', (t) => {
  const n = negotiate(buildOpen(spec4), peerOpen([
    { kind: 'add-path', code: 69, families: [{ afi: 1, safi: 1, sendReceive: 1 }] },
    { kind: 'extended-message', code: 6 },
    { kind: 'unknown', code: 250, value: Uint8Array.of(9) },
    { kind: 'long-lived-graceful-restart', code: 71, families: [] },
  ]), spec4);
  t.false(n.addPath.rx[1]);
  t.true(n.extendedMessage);
  t.is(n.recvCtx.maxMessageLen, 65535);
  const noExt = negotiate(buildOpen(spec4, { holdTime: 240, addPathReceive: false, addPaths: 'off', extendedMessage: false, gracefulRestart: null }), peerOpen([{ kind: 'extended-message', code: 6 }]), spec4);
  t.false(noExt.extendedMessage);
  t.is(noExt.sendCtx.maxMessageLen, 4096);
});

test('negotiate: OPEN errors carry the right subcode', (t) => {
  const sub = (o: OpenMessage, s = spec4): number => {
    const e = t.throws(() => negotiate(buildOpen(s), o, s), { instanceOf: BgpError });
    t.is(e!.code, 2);
    return e!.subcode;
  };
  t.is(sub(peerOpen([], { version: 3 })), 1);
  t.is(sub(peerOpen([], { myAs: 64513 })), 2);
  t.is(sub(peerOpen([{ kind: 'as4', code: 65, as: 64513 }])), 2);
  t.is(sub(peerOpen([{ kind: 'as4', code: 65, as: 64512 }], { myAs: 65000 })), 2); // My AS neither the AS nor AS_TRANS
  t.is(negotiate(buildOpen(spec4), peerOpen([{ kind: 'as4', code: 65, as: 64512 }], { myAs: 23456 }), spec4).peerAs, 64512);
  t.is(sub(peerOpen([], { bgpId: '0.0.0.0' })), 3);
  t.is(sub(peerOpen([], { bgpId: '10.0.0.1' })), 3);
  t.is(sub(peerOpen([], { holdTime: 1 })), 6);
  t.is(sub({ ...peerOpen([]), parameters: [{ type: 1, value: Uint8Array.of(0) }] }), 4);
  // eBGP may share the identifier (RFC 6286).
  const ebgp = { ...spec4, peerAs: 65000 };
  t.is(negotiate(buildOpen(ebgp), peerOpen([], { myAs: 65000, bgpId: '10.0.0.1' }), ebgp).peerAs, 65000);
});

test('fsm: the happy path and the FSM error subcodes of RFC 6608', (t) => {
  let r = transition('Active', { type: 'TcpConnectionConfirmed' });
  t.is(r.state, 'OpenSent');
  t.deepEqual(r.actions, [{ do: 'send-open' }, { do: 'timer', timer: 'hold', seconds: 240 }]);
  r = transition('OpenSent', { type: 'BGPOpen', holdTime: 9, keepaliveTime: 3 });
  t.is(r.state, 'OpenConfirm');
  t.deepEqual(r.actions[0], { do: 'send-keepalive' });
  r = transition('OpenConfirm', { type: 'KeepAliveMsg' });
  t.is(r.state, 'Established');
  t.true(r.actions.some((a) => a.do === 'established'));
  t.deepEqual(transition('Established', { type: 'UpdateMsg' }).actions.map((a) => a.do), ['timer', 'deliver-update']);
  const note = (s: Parameters<typeof transition>[0], ev: Parameters<typeof transition>[1]): number[] => {
    const a = transition(s, ev).actions.find((x) => x.do === 'send-notification');
    return a && a.do === 'send-notification' ? [a.code, a.subcode] : [];
  };
  t.deepEqual(note('OpenSent', { type: 'UpdateMsg' }), [5, 1]);
  t.deepEqual(note('OpenSent', { type: 'KeepAliveMsg' }), [5, 1]);
  t.deepEqual(note('OpenConfirm', { type: 'UpdateMsg' }), [5, 2]);
  t.deepEqual(note('Established', { type: 'BGPOpen', holdTime: 0, keepaliveTime: 0 }), [5, 3]);
  t.deepEqual(note('Established', { type: 'HoldTimerExpires' }), [4, 0]);
  t.deepEqual(note('OpenSent', { type: 'HoldTimerExpires' }), [4, 0]);
  t.deepEqual(note('OpenConfirm', { type: 'OpenCollisionDump' }), [6, 7]);
  t.deepEqual(note('Established', { type: 'ManualStop', subcode: 3, data: new Uint8Array(0), reason: 'x' }), [6, 3]);
  t.deepEqual(note('Connect', { type: 'ManualStop', subcode: 2, data: new Uint8Array(0), reason: 'x' }), []); // no transport yet
  t.deepEqual(note('Established', { type: 'NotifMsg', reason: 'x' }), []); // never answer a NOTIFICATION
  t.is(transition('Idle', { type: 'KeepAliveMsg' }).actions.length, 0);
});

test('timers: §10 jitter in 0.75..1.0 and capped exponential idle hold', (t) => {
  t.is(jitterMs(30, () => 0), 22500);
  t.is(jitterMs(30, () => 1), 30000);
  fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), (s) => {
    const v = jitterMs(s);
    return v >= s * 750 && v <= s * 1000;
  }));
  t.deepEqual([0, 1, 2, 3, 4, 8, 50].map((f) => idleHoldSeconds(f)), [0, 1, 2, 4, 8, 120, 120]);
});

test('negotiate: ADD-PATH send is offered only with ADD_PATHS on, and needs the peer\'s receive bit (RFC 7911 §4)', (t) => {
  const local = { holdTime: 240, addPathReceive: true, extendedMessage: true, gracefulRestart: null };
  const capOf = (o: OpenMessage) => o.parameters.flatMap((p) => ('capabilities' in p ? p.capabilities : [])).find((c) => c.kind === 'add-path');
  // Our capability's Send/Receive field: 1 (receive) by default, 3 (both) once we may send several paths.
  const off = buildOpen(spec4, { ...local, addPaths: 'off' });
  const all = buildOpen(spec4, { ...local, addPaths: 'all' });
  t.deepEqual(capOf(off), { kind: 'add-path', code: 69, families: [{ afi: 1, safi: 1, sendReceive: 1 }] });
  t.deepEqual(capOf(all), { kind: 'add-path', code: 69, families: [{ afi: 1, safi: 1, sendReceive: 3 }] });
  // The capability as bytes on the wire: code 69, length 4, AFI 1, SAFI 1, Send/Receive 3.
  t.true(encodeOpen(all).includes(Buffer.from([69, 4, 0, 1, 1, 3])));
  const peer = (sr: 1 | 2 | 3) => peerOpen([{ kind: 'add-path', code: 69, families: [{ afi: 1, safi: 1, sendReceive: sr }] }]);
  // tx: our send bit and their receive bit; rx: our receive bit and their send bit.
  const cases: [OpenMessage, 1 | 2 | 3, boolean, boolean][] = [[all, 1, true, false], [all, 2, false, true], [all, 3, true, true], [off, 1, false, false], [off, 3, false, true]];
  for (const [ours, sr, tx, rx] of cases) {
    const n = negotiate(ours, peer(sr), spec4);
    t.is(n.addPath.tx[1], tx, `ours ${JSON.stringify(capOf(ours))} theirs ${sr}`);
    t.is(n.addPath.rx[1], rx);
    t.is(n.sendCtx.addPathV4, tx);
  }
});
