// The peer FSM of src/session/fsm.ts driven by event sequences, checked against RFC 4271 §8.2.2 (the event
// numbers of §8.1 are cited per test), §6.8 (collision detection) and RFC 4724 §4.2 (graceful restart).
import test from 'ava';
import {
  initialState, sessionState, step, type PeerAction, type PeerEvent, type PeerFsmConfig, type PeerFsmState,
} from '../../src/session/fsm.js';

const CONFIG: PeerFsmConfig = {
  passive: false, localBgpId: '10.0.0.5', connectRetryTime: 30, idleHoldBase: 1, idleHoldCap: 8,
  stableAfter: 60, dampIncomingAfter: 4, target: '10.0.0.9:179',
};

/** A run of events from a state: the state after them and every action, in order. */
class Run {
  actions: PeerAction[] = [];
  constructor(public s: PeerFsmState, public now = 1_000_000) {}
  ev(e: PeerEvent, advanceMs = 0): PeerAction[] {
    this.now += advanceMs;
    const r = step(this.s, e, this.now);
    this.s = r.state;
    this.actions.push(...r.actions);
    return r.actions;
  }
  conn(id: number, ev: Extract<PeerEvent, { type: 'Conn' }>['ev']): PeerAction[] {
    return this.ev({ type: 'Conn', id, ev });
  }
  /** The id of the last 'dial' or 'adopt'. */
  lastConn(): number {
    const a = [...this.actions].reverse().find((x) => x.do === 'dial' || x.do === 'adopt');
    if (a === undefined || (a.do !== 'dial' && a.do !== 'adopt')) throw new Error('no connection');
    return a.id;
  }
  /** Outgoing connection up to Established (Events 16, 19, 26). */
  establishOut(peerBgpId = '10.0.0.9', gracefulRestart = false): number {
    const id = this.lastConn();
    this.conn(id, { type: 'TcpConnectionConfirmed' });
    this.ev({ type: 'BGPOpen', id, holdTime: 90, keepaliveTime: 30, peerBgpId, gracefulRestart });
    this.conn(id, { type: 'KeepAliveMsg' });
    return id;
  }
}

const dos = (as: PeerAction[]): string[] => as.map((a) => a.do);
const started = (config: Partial<PeerFsmConfig> = {}): Run => {
  const r = new Run(initialState({ ...CONFIG, ...config }));
  r.ev({ type: 'ManualStart' });
  return r;
};
const idleHolds = (as: PeerAction[]): number[] => as.flatMap((a) => (a.do === 'start-timer' && a.timer === 'idleHold' ? [a.seconds] : []));

test('Event 1 ManualStart: initiates a TCP connection with the ConnectRetryTimer running, Idle -> Connect', (t) => {
  const r = new Run(initialState(CONFIG));
  const a = r.ev({ type: 'ManualStart' });
  t.deepEqual(dos(a), ['state', 'dial', 'timer', 'state']);
  t.deepEqual(a[2], { do: 'timer', id: 1, timer: 'connect', seconds: 30 });
  t.is(sessionState(r.s), 'Connect');
  t.deepEqual(r.ev({ type: 'ManualStart' }), [], 'ManualStart while started is ignored');
});

test('Event 4 (ManualStart with passive TCP establishment): no connect, the session listens in Active', (t) => {
  const r = new Run(initialState({ ...CONFIG, passive: true }));
  const a = r.ev({ type: 'ManualStart' });
  t.false(dos(a).includes('dial'));
  t.is(sessionState(r.s), 'Active');
});

test('Events 16, 19, 26: OPEN sent with a large hold time, then KEEPALIVE and negotiated timers, then Established', (t) => {
  const r = started();
  const id = r.lastConn();
  t.deepEqual(r.conn(id, { type: 'TcpConnectionConfirmed' }).filter((a) => a.do !== 'state'), [
    { do: 'timer', id, timer: 'connect', seconds: 0 }, // the connect attempt's ConnectRetryTimer is done
    { do: 'send-open', id },
    { do: 'timer', id, timer: 'hold', seconds: 240 }, // §8.2.2: "sets the HoldTimer to a large value" (4 minutes)
  ]);
  t.is(sessionState(r.s), 'OpenSent');
  const open = r.ev({ type: 'BGPOpen', id, holdTime: 90, keepaliveTime: 30, peerBgpId: '10.0.0.9', gracefulRestart: false });
  t.deepEqual(open.filter((a) => a.do !== 'state'), [
    { do: 'negotiated', id },
    { do: 'send-keepalive', id },
    { do: 'timer', id, timer: 'keepalive', seconds: 30 },
    { do: 'timer', id, timer: 'hold', seconds: 90 },
  ]);
  t.is(sessionState(r.s), 'OpenConfirm');
  const ka = r.conn(id, { type: 'KeepAliveMsg' });
  t.deepEqual(dos(ka), ['timer', 'established', 'state', 'announce-established']);
  t.is(sessionState(r.s), 'Established');
  // Event 27 in Established: restart the HoldTimer, process the UPDATE; Event 11: KEEPALIVE and restart.
  const est = r.s;
  t.deepEqual(r.conn(id, { type: 'UpdateMsg' }), [{ do: 'timer', id, timer: 'hold', seconds: -1 }, { do: 'deliver-update', id }]);
  t.is(r.s, est, 'nothing changed at the peer level: the same state object');
  t.deepEqual(r.conn(id, { type: 'KeepaliveTimerExpires' }), [{ do: 'send-keepalive', id }, { do: 'timer', id, timer: 'keepalive', seconds: -1 }]);
});

test('Event 9 in Connect: the unanswered connection is dropped, the ConnectRetryTimer dials again; no backoff', (t) => {
  const r = started();
  const id = r.lastConn();
  const a = r.conn(id, { type: 'ConnectRetryTimerExpires' });
  t.deepEqual(a.filter((x) => x.do === 'release'), [{ do: 'release', id, reason: 'connect timed out', silent: false }]);
  t.deepEqual(idleHolds(a), [], 'a connection that never came up is not a failure');
  t.true(a.some((x) => x.do === 'start-timer' && x.timer === 'connectRetry' && x.jitter), 'ConnectRetryTimer (jittered, §10)');
  const retry = r.ev({ type: 'ConnectRetryTimerExpires' }, 30_000);
  t.deepEqual(dos(retry).filter((d) => d === 'dial' || d === 'start-timer'), ['dial', 'start-timer']);
});

test('Event 10 in Established: NOTIFICATION 4/0, the connection released, down, idle hold', (t) => {
  const r = started();
  const id = r.establishOut();
  const a = r.conn(id, { type: 'HoldTimerExpires' });
  t.deepEqual(a[0], { do: 'send-notification', id, code: 4, subcode: 0, data: new Uint8Array(0), quiet: false });
  t.deepEqual(dos(a), ['send-notification', 'release', 'error', 'start-timer', 'state', 'down']);
  t.deepEqual(a.find((x) => x.do === 'down'), { do: 'down', id, reason: 'hold timer expired', graceful: false });
  t.deepEqual(a.find((x) => x.do === 'state'), { do: 'state', from: 'Established', to: 'Idle', reason: 'hold timer expired; idle hold 1 s' });
  t.is(r.s.est, null);
});

test('DampPeerOscillations: the idle hold doubles per consecutive failure up to its cap; a stable session resets it', (t) => {
  const r = started();
  for (let i = 0; i < 6; i++) {
    const id = r.lastConn();
    r.conn(id, { type: 'TcpConnectionConfirmed' });
    r.conn(id, { type: 'TcpConnectionFails', reason: 'connection closed by peer' }); // Event 18 in OpenSent
    t.is(sessionState(r.s), 'Idle');
    r.ev({ type: 'IdleHoldTimerExpires' }, 10_000); // Event 13: connect again
  }
  t.deepEqual(idleHolds(r.actions), [1, 2, 4, 8, 8, 8]);
  t.true(r.actions.filter((a) => a.do === 'start-timer' && a.timer === 'idleHold').every((a) => a.do === 'start-timer' && a.jitter));
  // Established for longer than stableAfter: the next failure counts as the first again.
  const id = r.establishOut();
  r.actions = [];
  r.now += 61_000;
  r.conn(id, { type: 'TcpConnectionFails', reason: 'connection closed by peer' });
  t.deepEqual(idleHolds(r.actions), [1]);
});

test('damping: during a short idle hold the peer\'s own connection is taken; after 4 failures it is refused (Cease 5)', (t) => {
  const r = started({ passive: true });
  const fail = (): void => {
    const a = r.ev({ type: 'TcpConnectionValid' }); // Event 14
    const adopt = a.find((x) => x.do === 'adopt');
    if (adopt?.do !== 'adopt') throw new Error('not adopted');
    r.conn(adopt.id, { type: 'TcpConnectionConfirmed' }); // Event 17
    r.conn(adopt.id, { type: 'BGPHeaderErr', code: 1, subcode: 1, data: new Uint8Array(0), reason: 'bad header' }); // Event 21
  };
  fail();
  t.is(r.s.idleHold, 'backoff');
  const taken = r.ev({ type: 'TcpConnectionValid' });
  t.deepEqual(dos(taken), ['stop-timer', 'adopt'], 'the peer dialing us ends our idle hold');
  const id = r.lastConn();
  r.conn(id, { type: 'TcpConnectionConfirmed' });
  r.conn(id, { type: 'BGPHeaderErr', code: 1, subcode: 1, data: new Uint8Array(0), reason: 'bad header' });
  fail();
  fail();
  t.is(r.s.failures, 4);
  const refused = r.ev({ type: 'TcpConnectionValid' });
  t.deepEqual(refused, [{ do: 'reject', subcode: 5, kind: 'refused-idle-hold', text: 'incoming connection rejected: in idle hold after repeated errors' }]);
});

test('Event 8 AutomaticStop with a fixed idle hold (prefix limit): Cease sent, exact idle hold, every connection refused', (t) => {
  const r = started();
  const id = r.establishOut();
  const a = r.ev({ type: 'AutomaticStop', subcode: 1, data: Uint8Array.of(0, 1, 1, 0, 0, 0, 100), reason: 'too many prefixes', idleHold: 3 });
  t.deepEqual(a[0], { do: 'send-notification', id, code: 6, subcode: 1, data: Uint8Array.of(0, 1, 1, 0, 0, 0, 100), quiet: false });
  t.deepEqual(a.filter((x) => x.do === 'start-timer'), [{ do: 'start-timer', timer: 'idleHold', seconds: 3, jitter: false }]);
  t.is(r.s.failures, 0, 'not counted as an oscillation');
  t.deepEqual(dos(r.ev({ type: 'TcpConnectionValid' })), ['reject']);
  t.deepEqual(r.ev({ type: 'TcpConnectionValid' })[0], { do: 'reject', subcode: 5, kind: 'refused-limit', text: 'incoming connection rejected: in idle hold after a limit was exceeded' });
  t.true(dos(r.ev({ type: 'IdleHoldTimerExpires' }, 3000)).includes('dial'), 'Event 13: connect again');
});

test('§6.8 collision in OpenConfirm: the connection opened by the higher BGP identifier is kept', (t) => {
  for (const [peerId, keep] of [['10.0.0.9', 'in'], ['10.0.0.1', 'out']] as const) {
    const r = started();
    const out = r.lastConn();
    r.conn(out, { type: 'TcpConnectionConfirmed' });
    r.ev({ type: 'BGPOpen', id: out, holdTime: 90, keepaliveTime: 30, peerBgpId: peerId, gracefulRestart: false });
    t.is(sessionState(r.s), 'OpenConfirm');
    r.ev({ type: 'TcpConnectionValid' });
    const inc = r.lastConn();
    r.conn(inc, { type: 'TcpConnectionConfirmed' });
    const a = r.ev({ type: 'BGPOpen', id: inc, holdTime: 90, keepaliveTime: 30, peerBgpId: peerId, gracefulRestart: false });
    const loser = keep === 'in' ? out : inc;
    t.deepEqual(a.find((x) => x.do === 'send-notification'), { do: 'send-notification', id: loser, code: 6, subcode: 7, data: new Uint8Array(0), quiet: false }, `peer ${peerId}`);
    t.deepEqual(r.s.conns.map((c) => c.dir), [keep]);
    t.deepEqual(idleHolds(a), [], 'collision resolution is no failure');
  }
});

test('an incoming connection while Established without graceful restart: refused with Cease 7', (t) => {
  const r = started();
  r.establishOut();
  t.deepEqual(r.ev({ type: 'TcpConnectionValid' }), [{ do: 'reject', subcode: 7, kind: 'collision', text: 'incoming connection while Established: connection collision, keeping the existing one' }]);
});

test('RFC 4724 §4.2: with graceful restart, a new connection replaces the Established one only once the peer confirms its valid OPEN with a KEEPALIVE', (t) => {
  const r = started();
  const est = r.establishOut('10.0.0.9', true);
  // A bare connect: a candidate next to the Established session, which stays up when it goes away.
  r.ev({ type: 'TcpConnectionValid' });
  const bare = r.lastConn();
  r.conn(bare, { type: 'TcpConnectionConfirmed' });
  const gone = r.conn(bare, { type: 'TcpConnectionFails', reason: 'connection closed by peer' });
  t.false(dos(gone).includes('down'));
  t.is(r.s.est, est);
  // A valid OPEN with another BGP identifier: Cease 7 on the candidate, the session kept.
  r.ev({ type: 'TcpConnectionValid' });
  const other = r.lastConn();
  r.conn(other, { type: 'TcpConnectionConfirmed' });
  const wrong = r.ev({ type: 'BGPOpen', id: other, holdTime: 90, keepaliveTime: 30, peerBgpId: '10.9.9.9', gracefulRestart: true });
  t.deepEqual(wrong.filter((a) => a.do === 'send-notification' || a.do === 'release').map((a) => [a.do, 'id' in a ? a.id : 0]), [['send-notification', other], ['release', other]]);
  t.true(wrong.some((a) => a.do === 'log' && a.throttle === 'gr-wrong-id'));
  t.is(r.s.est, est);
  // The same identifier, then the peer's Cease 7 on it (a collision: the peer still holds the Established
  // session, as BIRD answers an OPEN on a second connection): the Established session is untouched.
  r.ev({ type: 'TcpConnectionValid' });
  const collided = r.lastConn();
  r.conn(collided, { type: 'TcpConnectionConfirmed' });
  const open1 = r.ev({ type: 'BGPOpen', id: collided, holdTime: 90, keepaliveTime: 30, peerBgpId: '10.0.0.9', gracefulRestart: true });
  t.false(dos(open1).includes('down'), 'no takeover at the OPEN');
  t.is(r.s.est, est);
  const ceased = r.conn(collided, { type: 'NotifMsg', reason: 'NOTIFICATION received: Cease, connection collision resolution' });
  t.false(dos(ceased).includes('down'));
  t.deepEqual(idleHolds(ceased), []);
  t.is(r.s.est, est);
  t.is(sessionState(r.s), 'Established');
  // The same identifier and the peer's KEEPALIVE (it restarted): the old connection is closed and reported
  // down as graceful, then the new one is Established.
  r.ev({ type: 'TcpConnectionValid' });
  const next = r.lastConn();
  r.conn(next, { type: 'TcpConnectionConfirmed' });
  const open2 = r.ev({ type: 'BGPOpen', id: next, holdTime: 90, keepaliveTime: 30, peerBgpId: '10.0.0.9', gracefulRestart: true });
  t.false(dos(open2).includes('down'));
  t.is(r.s.est, est);
  const take = r.conn(next, { type: 'KeepAliveMsg' });
  t.deepEqual(take.find((a) => a.do === 'release'), { do: 'release', id: est, reason: 'peer reconnected (graceful restart)', silent: true });
  t.deepEqual(take.find((a) => a.do === 'down'), { do: 'down', id: est, reason: 'peer reconnected (graceful restart)', graceful: true });
  t.true(dos(take).indexOf('down') < dos(take).indexOf('announce-established'), 'the old session is down before the new one is announced');
  t.deepEqual(idleHolds(take), []);
  t.is(r.s.est, next);
  t.is(sessionState(r.s), 'Established');
});

test('Event 2 ManualStop: Cease on every connection, timers stopped, Idle without idle hold; the old state is untouched', (t) => {
  const r = started();
  r.establishOut();
  const before = r.s;
  const snapshot = JSON.stringify(before);
  const a = r.ev({ type: 'ManualStop', subcode: 2, data: Uint8Array.of(3, 98, 121, 101), reason: 'stopped' });
  t.deepEqual(a[0], { do: 'send-notification', id: 1, code: 6, subcode: 2, data: Uint8Array.of(3, 98, 121, 101), quiet: false });
  t.deepEqual(idleHolds(a), []);
  t.false(a.some((x) => x.do === 'start-timer'));
  t.is(sessionState(r.s), 'Idle');
  t.is(JSON.stringify(before), snapshot, 'step() did not modify its input');
  t.deepEqual(r.ev({ type: 'TcpConnectionValid' }), [{ do: 'reject', subcode: 5, kind: 'refused-not-started', text: 'incoming connection rejected: session not started' }]);
});

test('Event 18 before the SYN left (DialFailed) counts as a failure; Event 18 in Connect does not', (t) => {
  const r = started();
  const a = r.ev({ type: 'DialFailed', id: r.lastConn(), reason: 'cannot open a TCP-MD5 connection: EINVAL' });
  t.deepEqual(idleHolds(a), [1]);
  t.is(r.s.failures, 1);
  r.ev({ type: 'IdleHoldTimerExpires' }, 2000);
  const b = r.conn(r.lastConn(), { type: 'TcpConnectionFails', reason: 'socket error: ECONNREFUSED' });
  t.deepEqual(idleHolds(b), []);
  t.true(b.some((x) => x.do === 'start-timer' && x.timer === 'connectRetry'));
});
