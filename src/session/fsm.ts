// The RFC 4271 §8 finite state machine of one BGP peer, pure: state in, event in, new state and actions (as
// data) out. It owns everything the session decides: ManualStart/ManualStop, the ConnectRetryTimer, the idle
// hold with its doubling and cap (§8.1.1 DampPeerOscillations), refusing a damped peer's connections,
// connection collision detection (§6.8), the RFC 4724 §4.2 takeover of an Established session by a new
// connection that carried a valid OPEN, and which connection is the Established one. Each TCP connection runs
// the per-connection table of fsm-connection.ts; this module feeds it and turns its 'close' into the
// backoff decision. Nothing here touches a socket, a timer or the clock: the driver (session.ts) passes `now`
// and carries out the actions in order.
// Its state, event and action types are fsm-types.ts.
import { CeaseSubcode } from '../wire/types.js';
import { compareBgpId } from './negotiate.js';
import { idleHoldSeconds, transition, type BgpState, type FsmAction, type FsmEvent } from './fsm-connection.js';
import type { ConnRecord, Direction, PeerAction, PeerEvent, PeerFsmConfig, PeerFsmState, PeerStep } from './fsm-types.js';

export {
  FsmSubcode, idleHoldSeconds, jitterMs, LARGE_HOLD_TIME, transition,
  type BgpState, type FsmAction, type FsmEvent, type TimerName, type Transition,
} from './fsm-connection.js';

export type {
  ConnRecord, Direction, PeerAction, PeerEvent, PeerFsmConfig, PeerFsmState, PeerStep, SessionTimer,
} from './fsm-types.js';

export function initialState(config: PeerFsmConfig): PeerFsmState {
  return {
    config, started: false, failures: 0, idleHold: 'off', connectRetry: false, forcedIdleHold: null,
    conns: [], est: null, establishedAt: null, reported: 'Idle', nextId: 1,
  };
}

/** The state of one connection, or undefined when it is gone. */
export function connState(s: PeerFsmState, id: number): BgpState | undefined {
  return s.conns.find((c) => c.id === id)?.state;
}

/** The session state is the furthest any of its connections got (Established > ... > Connect > Active). */
export function sessionState(s: PeerFsmState): BgpState {
  if (!s.started || s.idleHold !== 'off') return 'Idle';
  if (s.est !== null) return 'Established';
  let best: BgpState = 'Active';
  for (const c of s.conns) if (RANK[c.state] > RANK[best]) best = c.state;
  return best;
}

const RANK: Record<BgpState, number> = { Idle: 0, Active: 1, Connect: 2, OpenSent: 3, OpenConfirm: 4, Established: 5 };

/** One step of the peer FSM; `prev` is not modified. */
export function step(prev: PeerFsmState, ev: PeerEvent, now: number): PeerStep {
  if (ev.type === 'Conn') {
    // The common case (an UPDATE or KEEPALIVE in Established, a timer): the connection stays in its state and
    // nothing at the peer level changes, so the state is returned as it is, without a copy.
    const c = prev.conns.find((x) => x.id === ev.id);
    if (c === undefined) return { state: prev, actions: [] };
    const t = transition(c.state, ev.ev);
    if (t.state === c.state) {
      const actions: PeerAction[] = [];
      for (const a of t.actions) {
        const p = plainAction(a, c.id);
        if (p === undefined) break;
        actions.push(p);
      }
      if (actions.length === t.actions.length) return { state: prev, actions };
    }
  }
  const m = new Step({ ...prev, conns: prev.conns.map((c) => ({ ...c })) }, now);
  m.handle(ev);
  return { state: m.s, actions: m.out };
}

/** The working copy of one step: mutates its own copy of the state and collects actions. */
class Step {
  readonly out: PeerAction[] = [];

  constructor(readonly s: PeerFsmState, private readonly now: number) {}

  handle(ev: PeerEvent): void {
    const s = this.s;
    switch (ev.type) {
      case 'ManualStart':
        if (s.started) return;
        s.started = true;
        s.failures = 0;
        this.report('start');
        this.dial();
        return;
      case 'ManualStop':
        s.started = false;
        this.stopSessionTimers();
        for (const c of [...s.conns]) {
          c.benign = true;
          this.feed(c, { type: 'ManualStop', subcode: ev.subcode, data: ev.data, reason: ev.reason });
        }
        this.report(ev.reason);
        return;
      case 'AutomaticStop': {
        const c = this.conn(s.est);
        if (c === undefined) return;
        if (ev.idleHold !== undefined) s.forcedIdleHold = ev.idleHold;
        this.feed(c, { type: 'ManualStop', subcode: ev.subcode, data: ev.data, reason: ev.reason });
        return;
      }
      case 'ConnectRetryTimerExpires':
        s.connectRetry = false;
        if (!s.started || s.est !== null) return;
        if (s.conns.length === 0) this.dial();
        if (s.est === null) this.scheduleConnectRetry();
        return;
      case 'IdleHoldTimerExpires':
        if (s.idleHold === 'off') return;
        s.idleHold = 'off';
        this.report('idle hold time over');
        this.dial();
        if (s.conns.length === 0) this.scheduleConnectRetry();
        return;
      case 'TcpConnectionValid':
        this.incoming();
        return;
      case 'TcpCrInvalid':
      case 'DialFailed': {
        const c = this.conn(ev.id);
        if (c === undefined) return;
        s.conns = s.conns.filter((x) => x !== c);
        if (ev.type === 'DialFailed') {
          s.failures++;
          this.enterIdleHold(ev.reason);
        }
        return;
      }
      case 'BGPOpen':
        this.open(ev);
        return;
      case 'Conn': {
        const c = this.conn(ev.id);
        if (c !== undefined) this.feed(c, ev.ev);
        return;
      }
    }
  }

  private conn(id: number | null): ConnRecord | undefined {
    return id === null ? undefined : this.s.conns.find((c) => c.id === id);
  }

  private live(c: ConnRecord): boolean {
    return this.s.conns.includes(c);
  }

  /** Connect out unless passive, held, Established, or an outgoing connection is already under way. */
  private dial(): void {
    const s = this.s;
    if (!s.started || s.config.passive || s.idleHold !== 'off' || s.est !== null) return;
    if (s.conns.some((c) => c.dir === 'out')) return;
    const id = s.nextId++;
    s.conns.push(newConn(id, 'out', 'Connect'));
    this.out.push({ do: 'dial', id });
    // Event 9 in Connect: a SYN that is never answered would otherwise hang for minutes.
    this.out.push({ do: 'timer', id, timer: 'connect', seconds: s.config.connectRetryTime });
    this.report(`connecting to ${s.config.target}`);
  }

  /** Event 14: whether the peer's new connection is taken (then Event 17 follows from the driver). */
  private incoming(): void {
    const s = this.s;
    if (s.idleHold === 'forced') {
      this.out.push({ do: 'reject', subcode: CeaseSubcode.CONNECTION_REJECTED, kind: 'refused-limit', text: 'incoming connection rejected: in idle hold after a limit was exceeded' });
      return;
    }
    if (s.idleHold === 'backoff' && s.started && s.failures < s.config.dampIncomingAfter) {
      // The peer dials us while we wait to dial it again: take its connection. Refusing it would make two
      // speakers that refused each other once (one was configured a moment before the other) refuse each
      // other forever, each connecting during the other's idle hold.
      s.idleHold = 'off';
      this.out.push({ do: 'stop-timer', timer: 'idleHold' });
    }
    if (!s.started || s.idleHold !== 'off') {
      const why = s.started ? 'in idle hold after repeated errors' : 'session not started';
      this.out.push({ do: 'reject', subcode: CeaseSubcode.CONNECTION_REJECTED, kind: s.started ? 'refused-idle-hold' : 'refused-not-started', text: `incoming connection rejected: ${why}` });
      return;
    }
    const est = this.conn(s.est);
    if (est !== undefined && !est.gracefulRestart) {
      this.out.push({ do: 'reject', subcode: CeaseSubcode.CONNECTION_COLLISION_RESOLUTION, kind: 'collision', text: 'incoming connection while Established: connection collision, keeping the existing one' });
      return;
    }
    // With graceful restart negotiated, a new connection while Established may be the peer after a restart
    // whose old TCP connection we have not seen end (RFC 4724 §4.2). It runs up to its OPEN next to the
    // Established one; open() decides whether it replaces it. A bare connect proves nothing.
    // An older incoming connection that never got Established is superseded by the new one.
    for (const c of [...s.conns]) {
      if (c.dir === 'in' && c.id !== s.est) {
        c.benign = true;
        this.feed(c, { type: 'TcpConnectionFails', reason: 'superseded by a new incoming connection' });
      }
    }
    const id = s.nextId++;
    const c = newConn(id, 'in', 'Active');
    c.opened = true;
    s.conns.push(c);
    this.out.push({ do: 'adopt', id });
  }

  /** Event 19 with §6.8 collision detection against the peer's other connections. */
  private open(ev: Extract<PeerEvent, { type: 'BGPOpen' }>): void {
    const conn = this.conn(ev.id);
    if (conn === undefined) return;
    if (conn.state !== 'OpenSent') {
      this.feed(conn, { type: 'BGPOpen', holdTime: 0, keepaliveTime: 0 }); // an FSM error in any other state
      return;
    }
    for (const other of [...this.s.conns]) {
      if (other === conn || !this.live(other)) continue;
      if (other.state === 'Established') {
        const grPeer = other.id === this.s.est && other.gracefulRestart && conn.dir === 'in';
        if (grPeer && ev.peerBgpId === other.bgpId) {
          // RFC 4724 §4.2: a Receiving Speaker that "still considers the BGP session as being established ...
          // MUST treat the subsequent open connection from the peer as an indication of the termination of
          // the old TCP session" and close the previous one, keeping the new one. We take "open connection"
          // to mean a connection the peer has opened as a session: it carried a valid OPEN (negotiate() checked
          // the version, the peer AS, which the peer's address alone does not prove, and the BGP identifier,
          // which must be the Established session's) and the peer confirmed it with its KEEPALIVE. Until then
          // the new connection is only a candidate and the Established session stays up, so a bare TCP
          // connect, garbage or a wrong OPEN from the peer's address (any local user on the node, or a SNATed
          // pod) does not reset it; nor does a collision: the peer's own connection attempt, opened before its
          // side of the Established session came up, carries a valid OPEN too, but a peer that still holds
          // the Established session answers our OPEN on it with Cease 7 (BIRD's bgp_rx_open does), never a
          // KEEPALIVE. Replacing at the OPEN instead reset the session at that peer, which as a graceful
          // restart helper then flushed every route not re-sent yet (BIRD ends a second restart within one
          // with rt_refresh_end). BIRD (bgp_incoming_connection) and FRR (bgp_accept) drop the Established
          // session as soon as the TCP connection is accepted; GoBGP closes every connection accepted while
          // Established and only notices a restart when the old TCP session fails.
          this.out.push({ do: 'log', id: conn.id, fields: { bgpId: ev.peerBgpId }, text: 'valid OPEN on a new connection from the Established graceful-restart peer: it replaces the old connection once the peer confirms it with a KEEPALIVE' });
          conn.takeover = true;
          continue;
        }
        if (grPeer) {
          this.out.push({ do: 'log', id: conn.id, throttle: 'gr-wrong-id', text: `OPEN with BGP identifier ${ev.peerBgpId} on a new connection, but the Established session's peer is ${other.bgpId ?? '?'}: keeping the Established session` });
        }
        conn.benign = true;
        this.feed(conn, { type: 'OpenCollisionDump' });
        return;
      }
      if (other.state === 'OpenConfirm') {
        // §6.8: the side with the higher BGP identifier keeps the connection it opened.
        const keep: Direction = compareBgpId(this.s.config.localBgpId, ev.peerBgpId) < 0 ? 'in' : 'out';
        const loser: ConnRecord = conn.dir === keep ? other : conn;
        this.out.push({ do: 'log', id: conn.id, throttle: 'collision-openconfirm', text: `connection collision with ${ev.peerBgpId}: closing the ${loser.dir === 'in' ? 'incoming' : 'outgoing'} connection (keeping the ${keep === 'in' ? 'incoming' : 'outgoing'} one)` });
        loser.benign = true;
        this.feed(loser, { type: 'OpenCollisionDump' });
        if (loser === conn) return;
      }
    }
    conn.bgpId = ev.peerBgpId;
    conn.gracefulRestart = ev.gracefulRestart;
    this.out.push({ do: 'negotiated', id: conn.id });
    this.feed(conn, { type: 'BGPOpen', holdTime: ev.holdTime, keepaliveTime: ev.keepaliveTime });
  }

  /** Runs one step of the connection's own table (fsm-connection.ts) and turns its actions into ours. */
  private feed(conn: ConnRecord, ev: FsmEvent): void {
    if (!this.live(conn)) return;
    const before = conn.state;
    if (ev.type === 'TcpConnectionConfirmed' && conn.state === 'Connect') conn.opened = true;
    const t = transition(conn.state, ev);
    conn.state = t.state;
    const id = conn.id;
    for (const a of t.actions) {
      switch (a.do) {
        case 'send-notification':
          // A connection that never came up can be opened again and again by anyone at the peer's address.
          this.out.push({ do: 'send-notification', id, code: a.code, subcode: a.subcode, data: a.data, quiet: !(conn.wasEstablished || this.s.est === null) });
          break;
        case 'timer':
          this.out.push({ do: 'timer', id, timer: a.timer, seconds: a.seconds });
          break;
        case 'established':
          this.established(conn);
          break;
        case 'close':
          this.close(conn, a.reason, false);
          break;
        default:
          this.out.push(plainAction(a, id)!);
      }
    }
    if (before !== conn.state && this.live(conn)) this.report(describeEvent(ev));
  }

  private established(conn: ConnRecord): void {
    const s = this.s;
    const old = this.conn(s.est);
    if (conn.takeover && old !== undefined && old !== conn) {
      // The peer confirmed the new connection: it restarted (see open()). The old one goes first, reported
      // down as graceful, so its routes stay as stale until the peer's End-of-RIB on the new one.
      this.out.push({ do: 'log', id: conn.id, text: 'peer reconnected (graceful restart): it confirmed the new connection, replacing the old one (routes kept as stale)' });
      old.benign = true;
      this.close(old, 'peer reconnected (graceful restart)', true);
    }
    s.est = conn.id;
    s.establishedAt = this.now;
    conn.wasEstablished = true;
    this.out.push({ do: 'established', id: conn.id });
    if (s.connectRetry) {
      s.connectRetry = false;
      this.out.push({ do: 'stop-timer', timer: 'connectRetry' });
    }
    for (const other of [...s.conns]) {
      if (other === conn) continue;
      other.benign = true;
      if (other.state === 'Connect') this.close(other, 'session established on the other connection', true);
      else this.feed(other, { type: 'OpenCollisionDump' });
    }
    this.report('KEEPALIVE received');
    this.out.push({ do: 'announce-established', id: conn.id });
  }

  /** Releases a connection; when it was the last one, decides on backoff and the next attempt. */
  private close(conn: ConnRecord, reason: string, silent: boolean): void {
    const s = this.s;
    if (!this.live(conn)) return;
    s.conns = s.conns.filter((c) => c !== conn);
    conn.state = 'Idle';
    this.out.push({ do: 'release', id: conn.id, reason, silent });
    if (!conn.benign) this.out.push({ do: 'error', reason });
    const wasEstablished = conn.id === s.est;
    let upFor = 0;
    if (wasEstablished) {
      upFor = s.establishedAt !== null ? (this.now - s.establishedAt) / 1000 : 0;
      s.est = null;
      s.establishedAt = null;
      if (conn.benign) this.out.push({ do: 'error', reason });
    }
    // RFC 4724 §4.2: a peer that advertised graceful restart and whose TCP session ended without a
    // NOTIFICATION (it died or restarted) keeps its routes as stale; any NOTIFICATION or our own stop does not.
    const transportLost = reason === 'peer reconnected (graceful restart)' || /^(connection closed by peer|socket error)/.test(reason);
    const graceful = wasEstablished && conn.gracefulRestart && transportLost;
    const last = s.conns.length === 0;
    if (last && s.started && s.forcedIdleHold !== null) {
      const secs = s.forcedIdleHold;
      s.forcedIdleHold = null;
      this.enterIdleHold(reason, secs);
    } else if (last && s.started && !conn.benign && conn.opened) {
      // DampPeerOscillations: a session that did not stay up counts as one more consecutive failure.
      s.failures = upFor >= s.config.stableAfter ? 1 : s.failures + 1;
      this.enterIdleHold(reason);
    } else {
      this.report(reason);
    }
    if (wasEstablished) this.out.push({ do: 'down', id: conn.id, reason, graceful });
    if (last && s.started && s.idleHold === 'off') this.scheduleConnectRetry();
  }

  private enterIdleHold(reason: string, fixedSeconds?: number): void {
    const s = this.s;
    const secs = fixedSeconds ?? idleHoldSeconds(s.failures, s.config.idleHoldBase, s.config.idleHoldCap);
    s.idleHold = fixedSeconds !== undefined ? 'forced' : 'backoff';
    this.out.push({ do: 'start-timer', timer: 'idleHold', seconds: secs, jitter: fixedSeconds === undefined });
    this.report(`${reason}; idle hold ${secs} s`);
  }

  private scheduleConnectRetry(): void {
    const s = this.s;
    if (s.connectRetry || s.config.passive) return;
    s.connectRetry = true;
    this.out.push({ do: 'start-timer', timer: 'connectRetry', seconds: s.config.connectRetryTime, jitter: true });
  }

  private stopSessionTimers(): void {
    const s = this.s;
    s.forcedIdleHold = null;
    if (s.idleHold !== 'off') this.out.push({ do: 'stop-timer', timer: 'idleHold' });
    if (s.connectRetry) this.out.push({ do: 'stop-timer', timer: 'connectRetry' });
    s.idleHold = 'off';
    s.connectRetry = false;
  }

  private report(reason: string): void {
    const to = sessionState(this.s);
    if (to === this.s.reported) return;
    this.out.push({ do: 'state', from: this.s.reported, to, reason });
    this.s.reported = to;
  }
}

/** A connection action that needs nothing from the peer level, with the connection's id; else undefined. */
function plainAction(a: FsmAction, id: number): PeerAction | undefined {
  switch (a.do) {
    case 'timer': return { do: 'timer', id, timer: a.timer, seconds: a.seconds };
    case 'send-open':
    case 'send-keepalive':
    case 'deliver-update':
    case 'deliver-route-refresh':
      return { do: a.do, id };
    default: return undefined;
  }
}

function newConn(id: number, dir: Direction, state: BgpState): ConnRecord {
  return { id, dir, state, opened: false, benign: false, wasEstablished: false, bgpId: null, gracefulRestart: false, takeover: false };
}

function describeEvent(ev: FsmEvent): string {
  switch (ev.type) {
    case 'TcpConnectionConfirmed': return 'transport up, OPEN sent';
    case 'BGPOpen': return 'OPEN received';
    case 'KeepAliveMsg': return 'KEEPALIVE received';
    default: return 'reason' in ev ? ev.reason : ev.type;
  }
}
