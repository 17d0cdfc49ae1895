// Sessions and listener against raw in-test speakers on loopback (a /24 claimed per run): establishment, every
// NOTIFICATION the reflector must send for bad input, unknown addresses, hold expiry, collision, stop.
import test from 'ava';
import net from 'node:net';
import { log } from '../../src/log.js';
import { BgpListener } from '../../src/session/listener.js';
import { BgpSession, type SessionOptions } from '../../src/session/session.js';
import type { PeerSpec } from '../../src/peers/peer-spec.js';
import { BgpError, decodeShutdownMessage, encodeOpen, encodeKeepalive } from '../../src/wire/index.js';
import { MessageType } from '../../src/wire/types.js';
import { makeOpen, Speaker, until } from './speaker.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();

log.level = process.env.SESSION_TEST_LOG ?? 'warn';

const RR = NET.host(1);
const RR_ID = NET.host(1);
const PORT = 179;
const AS = 64512;

function spec(addr: string, over: Partial<PeerSpec> = {}): PeerSpec {
  return {
    name: `Node_${addr.replaceAll('.', '_')}`, kind: 'node', family: 4, neighborAddress: addr, localAddress: RR,
    port: PORT, localAs: AS, peerAs: AS, routeReflectorClient: true, clusterId: RR_ID, routerId: RR_ID, sourceKeys: [], ...over,
  };
}

const listener = new BgpListener({ addresses: [RR], port: PORT });
const sessions = new Map<string, BgpSession>();
const speakers: Speaker[] = [];
const servers: net.Server[] = [];

function session(addr: string, opts: SessionOptions = { passive: true }, over: Partial<PeerSpec> = {}): BgpSession {
  const s = new BgpSession(spec(addr, over), opts);
  sessions.set(addr, s);
  s.start();
  return s;
}

async function speaker(local: string, opts: Partial<ConstructorParameters<typeof Speaker>[1]> = {}, sendOpen = true): Promise<Speaker> {
  const sp = await Speaker.connect(local, RR, PORT, { as: AS, bgpId: local, holdTime: 90, autoKeepalive: true, ...opts }, sendOpen);
  speakers.push(sp);
  return sp;
}

test.before(async () => {
  listener.setLookup((a) => sessions.get(a));
  await listener.listen();
});

test.after.always(async () => {
  for (const sp of speakers) sp.destroy();
  await Promise.all([...sessions.values()].map((s) => s.stop()));
  for (const srv of servers) srv.close();
  await listener.close();
});

test.serial('a raw speaker reaches Established and negotiation reflects both OPENs', async (t) => {
  const s = session(NET.host(2));
  const established = new Promise((r) => s.once('established', r));
  const sp = await speaker(NET.host(2), {
    holdTime: 30,
    capabilities: [
      { kind: 'route-refresh', code: 2 },
      { kind: 'as4', code: 65, as: AS },
      { kind: 'add-path', code: 69, families: [{ afi: 1, safi: 1, sendReceive: 3 }] },
      { kind: 'graceful-restart', code: 64, restarting: true, notification: false, restartTime: 77, families: [{ afi: 1, safi: 1, forwardingPreserved: true }] },
      { kind: 'unknown', code: 200, value: Uint8Array.of(1, 2, 3) },
    ],
  });
  await established;
  await sp.waitFor(() => sp.established, 2000, 'speaker established');
  t.is(s.state, 'Established');
  const n = s.negotiated!;
  t.is(n.holdTime, 30);
  t.is(n.keepaliveTime, 10);
  t.true(n.as4);
  t.deepEqual(n.families, [1]); // no MP capability from the peer: IPv4 unicast implicitly
  t.true(n.addPath.rx[1]);
  t.false(n.addPath.tx[1]);
  t.true(n.routeRefresh);
  t.false(n.enhancedRouteRefresh);
  t.false(n.extendedMessage);
  t.deepEqual(n.gracefulRestart, { peerRestartTime: 77, peerRestarting: true, peerNotification: false, afis: [{ afi: 1, safi: 1, forwardingPreserved: true }] });
  t.true(n.recvCtx.addPathV4);
  t.false(n.sendCtx.addPathV4);
  t.is(n.peerBgpId, NET.host(2));
  // Our OPEN as the peer saw it: AS, hold 240, router ID, and the capabilities of the original reflector.
  const open = sp.peerOpen()!;
  t.is(open.myAs, AS);
  t.is(open.holdTime, 240);
  t.is(open.bgpId, RR_ID);
  const kinds = open.parameters.flatMap((p) => ('capabilities' in p ? p.capabilities.map((c) => c.kind) : []));
  t.deepEqual(kinds, ['multiprotocol', 'route-refresh', 'enhanced-route-refresh', 'graceful-restart', 'as4', 'add-path', 'extended-message']);
  t.truthy(s.establishedSince);
  t.true(s.counters.messagesIn >= 2);
});

test.serial('an UPDATE is framed and handed up whole; counters move', async (t) => {
  const s = sessions.get(NET.host(2))!;
  const sp = speakers[0]!;
  // ORIGIN IGP, AS_PATH empty, NEXT_HOP .2, LOCAL_PREF 100; NLRI 10.65.1.0/26.
  const attrs = Buffer.from([0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 127, 30, 0, 2, 0x40, 5, 4, 0, 0, 0, 100]);
  const nlri = Buffer.from([0, 0, 0, 0, 26, 10, 65, 1, 0]); // path id 0 (ADD-PATH rx negotiated), /26
  const body = Buffer.concat([Buffer.from([0, 0, attrs.length >> 8, attrs.length & 0xff]), attrs, nlri]);
  const msg = Buffer.alloc(19 + body.length, 0xff);
  msg.writeUInt16BE(msg.length, 16);
  msg[18] = 2;
  body.copy(msg, 19);
  const got = new Promise<Buffer>((r) => s.once('update', (m) => r(Buffer.from(m))));
  // Split into single bytes: the framer must reassemble.
  for (const b of msg) sp.write(Uint8Array.of(b));
  const m = await got;
  t.deepEqual(m, msg);
  t.is(s.counters.updatesIn, 1);
  t.is(s.state, 'Established');
});

test.serial('reportUpdateError: a session-reset error sends its NOTIFICATION; treat-as-withdraw does nothing', async (t) => {
  const s = session(NET.host(21));
  const sp = await speaker(NET.host(21));
  await sp.waitFor(() => sp.established, 2000, 'established');
  await until(() => s.state === 'Established', 2000, 'session established');
  t.false(s.reportUpdateError(new BgpError(3, 6, 'bad ORIGIN', { action: 'treat-as-withdraw' })));
  t.is(s.state, 'Established');
  const down = new Promise<string>((r) => s.once('down', (reason) => r(reason)));
  t.true(s.reportUpdateError(new BgpError(3, 1, 'attribute list overruns the UPDATE', { data: Uint8Array.of(9) })));
  await sp.closedPromise;
  t.deepEqual(sp.notifications().map((n) => [n.code, n.subcode, [...n.data]]), [[3, 1, [9]]]);
  t.regex(await down, /UPDATE error: attribute list overruns/);
});

test.serial('connection from an unknown address is refused with Cease/5', async (t) => {
  const before = listener.rejected;
  const sp = await speaker(NET.host(99));
  await sp.closedPromise;
  t.deepEqual(sp.notifications().map((n) => [n.code, n.subcode]), [[6, 5]]);
  t.is(listener.rejected, before + 1);
});

async function expectNotification(t: import('ava').ExecutionContext, addr: string, act: (sp: Speaker) => void, code: number, subcode: number, speakerOpts = {}): Promise<Speaker> {
  const s = session(addr);
  const sp = await speaker(addr, speakerOpts, false);
  act(sp);
  await sp.closedPromise;
  const notes = sp.notifications();
  t.deepEqual(notes.map((n) => [n.code, n.subcode]), [[code, subcode]], `NOTIFICATION for ${addr}`);
  t.not(s.state, 'Established');
  t.truthy(s.lastError);
  return sp;
}

test.serial('garbage (bad marker) gets 1/1 while another session stays Established', async (t) => {
  const healthy = sessions.get(NET.host(2))!;
  await expectNotification(t, NET.host(3), (sp) => sp.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), 1, 1);
  t.is(healthy.state, 'Established');
});

test.serial('header errors: bad length 1/2 (data = length field), bad type 1/3', async (t) => {
  const bad = Buffer.alloc(19, 0xff);
  bad.writeUInt16BE(5000, 16);
  bad[18] = 2;
  const sp = await expectNotification(t, NET.host(4), (s) => s.write(bad), 1, 2);
  t.deepEqual([...sp.notifications()[0]!.data], [0x13, 0x88]);
  const badType = Buffer.alloc(19, 0xff);
  badType.writeUInt16BE(19, 16);
  badType[18] = 9;
  await expectNotification(t, NET.host(5), (s) => s.write(badType), 1, 3);
});

test.serial('OPEN errors: peer AS 2/2, identifier 2/3 (zero and ours), hold time 2/6, version 2/1', async (t) => {
  const openWith = (o: Parameters<typeof makeOpen>[0]) => (s: Speaker) => s.write(encodeOpen(makeOpen(o)));
  await expectNotification(t, NET.host(6), openWith({ as: 64513, bgpId: NET.host(6) }), 2, 2);
  await expectNotification(t, NET.host(7), openWith({ as: AS, bgpId: '0.0.0.0' }), 2, 3);
  await expectNotification(t, NET.host(8), openWith({ as: AS, bgpId: RR_ID }), 2, 3);
  await expectNotification(t, NET.host(9), openWith({ as: AS, bgpId: NET.host(9), holdTime: 2 }), 2, 6);
  const v3 = await expectNotification(t, NET.host(10), openWith({ as: AS, bgpId: NET.host(10), version: 3 }), 2, 1);
  t.deepEqual([...v3.notifications()[0]!.data], [0, 4]);
  // A 4-octet AS peer configured with its real AS but announcing no AS4 capability: Bad Peer AS.
  await expectNotification(t, NET.host(11), openWith({ as: 23456, bgpId: NET.host(11), capabilities: [] }), 2, 2);
});

test.serial('a 4-octet AS peer (AS_TRANS in My AS) is accepted', async (t) => {
  const s = session(NET.host(12), { passive: true }, { localAs: 4200000001, peerAs: 4200000001 });
  const sp = await speaker(NET.host(12), { as: 4200000001 });
  await sp.waitFor(() => sp.established, 2000, 'established');
  t.is(s.state, 'Established');
  t.is(sp.peerOpen()!.myAs, 23456);
  t.is(s.negotiated!.peerAs, 4200000001);
});

test.serial('FSM errors: UPDATE in OpenSent 5/1, OPEN in Established 5/3', async (t) => {
  const update = Buffer.alloc(23, 0xff);
  update.writeUInt16BE(23, 16);
  update[18] = 2;
  update.fill(0, 19);
  await expectNotification(t, NET.host(13), (s) => s.write(update), 5, 1);
  const s = session(NET.host(14));
  const sp = await speaker(NET.host(14));
  await sp.waitFor(() => sp.established, 2000, 'established');
  await until(() => s.state === 'Established', 2000, 'session established');
  const down = new Promise<string>((r) => s.once('down', (reason) => r(reason)));
  sp.sendOpen();
  await sp.closedPromise;
  t.deepEqual(sp.notifications().map((n) => [n.code, n.subcode]), [[5, 3]]);
  t.regex(await down, /FSM error/);
});

test.serial('hold timer expiry: a silent peer gets 4/0 and the session goes down; the peer dialing back during idle hold is taken', async (t) => {
  const s = session(NET.host(15));
  const sp = await speaker(NET.host(15), { holdTime: 3 });
  await sp.waitFor(() => sp.established, 2000, 'established');
  t.is(s.negotiated!.holdTime, 3);
  const t0 = Date.now();
  const down = new Promise<string>((r) => s.once('down', (reason) => r(reason)));
  sp.stopKeepalives();
  await sp.closedPromise;
  const reason = await down;
  const took = Date.now() - t0;
  t.deepEqual(sp.notifications().map((n) => [n.code, n.subcode]), [[4, 0]]);
  t.regex(reason, /hold timer expired/);
  t.true(took >= 2500 && took < 30_000, `expired after ${took} ms`); // not early; lateness is a bench figure
  t.is(s.state, 'Idle'); // idle hold after the error
  // While we wait in idle hold, the peer may dial us: its connection is taken (two speakers that refused each
  // other once must not keep refusing each other in lockstep).
  const again = await speaker(NET.host(15), { holdTime: 3 });
  await again.waitFor(() => again.established, 2000, 'established again during idle hold');
  t.deepEqual(again.notifications(), []);
  t.is(s.state, 'Established');
});

test.serial('hold time 0: no keepalives, session stays up', async (t) => {
  const s = session(NET.host(16));
  const sp = await speaker(NET.host(16), { holdTime: 0 });
  await sp.waitFor(() => sp.established, 2000, 'established');
  t.is(s.negotiated!.holdTime, 0);
  t.is(s.negotiated!.keepaliveTime, 0);
  const kaBefore = sp.received.filter((m) => m.type === MessageType.KEEPALIVE).length;
  await new Promise((r) => setTimeout(r, 1500));
  t.is(sp.received.filter((m) => m.type === MessageType.KEEPALIVE).length, kaBefore);
  t.is(s.state, 'Established');
});

/** A raw speaker that listens on `addr`:179 so that the session's outgoing connection reaches it. */
function listenAsPeer(addr: string, opts: Parameters<typeof makeOpen>[0]): Promise<{ accepted: Speaker[] }> {
  const accepted: Speaker[] = [];
  const srv = net.createServer((sock) => {
    const sp = new Speaker(sock, { ...opts, autoKeepalive: true });
    speakers.push(sp);
    accepted.push(sp);
    sp.sendOpen();
  });
  servers.push(srv);
  return new Promise((r) => srv.listen(PORT, addr, () => r({ accepted })));
}

for (const [label, peerId, keep] of [
  ['higher', NET.host(200), 'incoming'],
  ['lower', `${NET.prefix}.0`, 'outgoing'],
] as const) {
  test.serial(`collision: both sides connect at once, peer identifier ${label} than ours → keep the ${keep} connection`, async (t) => {
    const addr = label === 'higher' ? NET.host(17) : NET.host(18);
    const opts = { as: AS, bgpId: peerId, holdTime: 90, keepaliveDelayMs: 300 };
    const peerSide = await listenAsPeer(addr, opts);
    const s = new BgpSession(spec(addr), { connectRetryTime: 30 });
    sessions.set(addr, s);
    // Both connect at once: the session dials out while the speaker dials in.
    const [incoming] = await Promise.all([speaker(addr, opts), Promise.resolve(s.start())]);
    await until(() => s.state === 'Established', 3000, 'established');
    await until(() => peerSide.accepted.length === 1, 2000, 'outgoing connection accepted by peer');
    const outgoing = peerSide.accepted[0]!;
    const loser = keep === 'incoming' ? outgoing : incoming;
    const winner = keep === 'incoming' ? incoming : outgoing;
    await loser.closedPromise;
    t.deepEqual(loser.notifications().map((n) => [n.code, n.subcode]), [[6, 7]]);
    t.false(winner.closed);
    t.true(winner.established);
    t.is(s.state, 'Established');
    t.is(s.negotiated!.peerBgpId, peerId);
  });
}

test.serial('an incoming connection while Established without graceful restart is refused with Cease/7', async (t) => {
  const s = sessions.get(NET.host(16))!;
  t.is(s.state, 'Established');
  const sp = await speaker(NET.host(16), { holdTime: 0 });
  await sp.closedPromise;
  t.deepEqual(sp.notifications().map((n) => [n.code, n.subcode]), [[6, 7]]);
  t.is(s.state, 'Established');
});

test.serial('a peer with graceful restart that reconnects replaces the old connection (RFC 4724)', async (t) => {
  const gr = [
    { kind: 'as4' as const, code: 65 as const, as: AS },
    { kind: 'graceful-restart' as const, code: 64 as const, restarting: false, notification: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingPreserved: false }] },
  ];
  const s = session(NET.host(19));
  const first = await speaker(NET.host(19), { capabilities: gr });
  await first.waitFor(() => first.established, 2000, 'established');
  const down = new Promise<[string, boolean]>((r) => s.once('down', (reason, info) => r([reason, info.graceful])));
  const second = await speaker(NET.host(19), { capabilities: gr.map((c) => (c.kind === 'graceful-restart' ? { ...c, restarting: true } : c)) });
  await second.waitFor(() => second.established, 2000, 'second established');
  const [reason, graceful] = await down;
  t.true(graceful, reason);
  await first.closedPromise;
  t.deepEqual(first.notifications(), []);
  t.is(s.state, 'Established');
  t.true(s.negotiated!.gracefulRestart!.peerRestarting);
});

test.serial('stop() sends Cease/2 with the shutdown message and emits down', async (t) => {
  const s = sessions.get(NET.host(2))!;
  const sp = speakers[0]!;
  const down = new Promise<string>((r) => s.once('down', (reason) => r(reason)));
  await s.stop(2, 'shutting down');
  await sp.closedPromise;
  const n = sp.notifications();
  t.is(n.length, 1);
  t.deepEqual([n[0]!.code, n[0]!.subcode], [6, 2]);
  t.is(decodeShutdownMessage(n[0]!.data), 'shutting down');
  t.regex(await down, /stopped/);
  t.is(s.state, 'Idle');
  // A stopped session refuses its peer.
  const again = await speaker(NET.host(2));
  await again.closedPromise;
  t.deepEqual(again.notifications().map((x) => [x.code, x.subcode]), [[6, 5]]);
});

test.serial('a keepalive arriving byte by byte with coalesced messages does not upset the FSM', async (t) => {
  const s = session(NET.host(20));
  const sp = await speaker(NET.host(20), { autoKeepalive: false }, false);
  const open = encodeOpen(makeOpen({ as: AS, bgpId: NET.host(20), holdTime: 9 }));
  const ka = encodeKeepalive();
  // OPEN + KEEPALIVE + KEEPALIVE in one write.
  sp.write(Buffer.concat([open, ka, ka]));
  await until(() => s.state === 'Established', 2000, 'established');
  for (const b of ka) sp.write(Uint8Array.of(b));
  await new Promise((r) => setTimeout(r, 200));
  t.is(s.state, 'Established');
  t.is(s.counters.messagesIn, 4);
});
