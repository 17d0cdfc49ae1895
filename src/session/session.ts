// One BGP session for one PeerSpec: outgoing and incoming TCP connections, each run by the §8 FSM of
// fsm.ts, collision detection (§6.8), idle hold with backoff, fair input processing and the write path.
import { DEFAULTS } from '../config/defaults.js';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { peerLogger, type Logger } from '../log.js';
import { isBgpError, type BgpError } from '../wire/errors.js';
import { decodeMessage } from '../wire/message.js';
import { carriesShutdownMessage, decodeShutdownMessage, encodeKeepalive, encodeNotification } from '../wire/notification.js';
import { encodeOpen } from '../wire/open.js';
import {
  CeaseSubcode, DEFAULT_CONTEXT, MessageType, type CodecContext, type OpenMessage, type RouteRefreshMessage,
} from '../wire/types.js';
import type { PeerSpec } from '../peers/peer-spec.js';
import { Framer } from './framer.js';
import { idleHoldSeconds, jitterMs, transition, type BgpState, type FsmAction, type FsmEvent, type TimerName } from './fsm.js';
import { buildOpen, compareBgpId, DEFAULT_LOCAL_OPTIONS, negotiate, type LocalOptions } from './negotiate.js';
import type { Negotiated } from '../wire/negotiated.js';
import { describeNotification } from './notification-text.js';
import { applyGtsm, gtsmAvailable } from './gtsm.js';
import { connectSecured, md5Available, md5KeyProblem } from './tcp-md5.js';
import { LogThrottle } from './log-throttle.js';

export interface SessionOptions {
  /** What we offer in our OPEN (hold time, ADD-PATH receive, extended message, graceful restart). */
  local?: Partial<LocalOptions>;
  /** ConnectRetryTime in seconds (jittered per §10). */
  connectRetryTime?: number;
  /** Idle hold after a failure: base seconds, doubled per consecutive failure, capped. */
  idleHoldBase?: number;
  idleHoldCap?: number;
  /** A session that stayed Established this long (s) resets the failure count. */
  stableAfter?: number;
  /** Never connect out; only accept the peer's connection. */
  passive?: boolean;
  /** Input fairness: at most this many messages or this many ms per turn of the event loop. */
  sliceMessages?: number;
  sliceMs?: number;
  /** GTSM (RFC 5082) for every peer whose spec does not say otherwise (default false). */
  ttlSecurity?: boolean;
  /**
   * Outbound queue bound in bytes (default OUTBOUND_QUEUE_LIMIT): a peer whose socket queue stays at or above
   * it, without a 'drain', for its hold time (90 s when the hold time is 0) is closed with Cease 8 "out of resources".
   */
  outboundLimitBytes?: number;
}

/** Default outbound queue bound (OUTBOUND_QUEUE_LIMIT): the same number as the update-group lag limit. */
export const OUTBOUND_QUEUE_LIMIT = DEFAULTS.OUTBOUND_QUEUE_LIMIT.value;

export interface SessionCounters {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  updatesIn: number;
  notificationsIn: number;
  notificationsOut: number;
  /** How many times the session reached Established. */
  establishedTransitions: number;
}

export interface DownInfo {
  /** The peer restarted under graceful restart (RFC 4724): keep its routes as stale. */
  graceful: boolean;
  /** The peer had advertised graceful restart, so its routes may be retained for peerRestartTime. */
  peerGracefulRestart: Negotiated['gracefulRestart'];
}

export interface BgpSessionEvents {
  state: [from: BgpState, to: BgpState, reason: string];
  established: [neg: Negotiated];
  /** One whole UPDATE message, header included: a view into the received chunk (copy what is kept long, so the chunk can be freed). */
  update: [msg: Buffer];
  'route-refresh': [m: RouteRefreshMessage];
  down: [reason: string, info: DownInfo];
  drain: [];
}

type Direction = 'out' | 'in';

interface Conn {
  dir: Direction;
  socket: net.Socket;
  framer: Framer;
  state: BgpState;
  ctx: CodecContext;
  neg: Negotiated | null;
  timers: Record<TimerName, NodeJS.Timeout | null>;
  intervals: Record<TimerName, number>;
  /** When each running timer fires (epoch ms), for display. */
  deadlines: Record<TimerName, number>;
  /** A drain turn is scheduled with setImmediate. */
  scheduled: boolean;
  closed: boolean;
  /** The transport came up (we got past Connect). */
  opened: boolean;
  /** Closed by us on purpose (stop, collision): no backoff. */
  benign: boolean;
  /** This connection reached Established. */
  wasEstablished: boolean;
  connectTimer: NodeJS.Timeout | null;
  /** The listener's callback for an accepted connection, called once past OpenSent or on close. */
  onPastOpenSent?: () => void;
}

const KEEPALIVE = encodeKeepalive();
const LINGER_MS = 1000;
/** After this many consecutive failures a peer in idle hold is damped: its incoming connections are refused too. */
const DAMP_INCOMING_AFTER_FAILURES = 4;
/** How long an outgoing TCP-MD5 connection may wait for its SYN-ACK before we log the likely cause. */
const MD5_HINT_MS = 5000;
/** Lines caused by incoming connections: the first of each kind, then one summary per this many ms. */
const CONN_LOG_INTERVAL_MS = 60_000;

export class BgpSession extends EventEmitter<BgpSessionEvents> {
  readonly spec: PeerSpec;
  readonly log: Logger;
  readonly counters: SessionCounters = {
    messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, updatesIn: 0,
    notificationsIn: 0, notificationsOut: 0, establishedTransitions: 0,
  };

  private readonly opts: Required<Omit<SessionOptions, 'local'>>;
  private readonly localOpts: LocalOptions;
  private readonly ourOpen: OpenMessage;
  private readonly ourOpenBytes: Buffer;
  private conns = new Set<Conn>();
  private est: Conn | null = null;
  private started = false;
  private _state: BgpState = 'Idle';
  private _establishedSince: Date | null = null;
  private _lastError: string | null = null;
  private failures = 0;
  private idleHoldTimer: NodeJS.Timeout | null = null;
  private connectRetryTimer: NodeJS.Timeout | null = null;
  /** Set by ceaseAndHold(): the idle hold (s) the next close enters instead of the backoff. */
  private forcedIdleHold: number | null = null;
  /** The running idle hold came from ceaseAndHold(): the peer is refused until it ends, whoever dials. */
  private idleHoldForced = false;
  /** Started when the outbound queue reached the bound; cleared by 'drain'. */
  private stuckTimer: NodeJS.Timeout | null = null;
  private readonly ttlSecurity: boolean;
  /** Per-kind throttle of lines caused by incoming connections (the session is one address: per address). */
  private readonly connLog = new LogThrottle(CONN_LOG_INTERVAL_MS, 64);

  constructor(spec: PeerSpec, opts: SessionOptions = {}) {
    super();
    this.spec = spec;
    this.log = peerLogger(spec.name, { address: spec.neighborAddress, as: spec.peerAs });
    this.opts = {
      connectRetryTime: opts.connectRetryTime ?? 30,
      idleHoldBase: opts.idleHoldBase ?? DEFAULTS.IDLE_HOLD_BASE.value,
      idleHoldCap: opts.idleHoldCap ?? DEFAULTS.IDLE_HOLD_CAP.value,
      stableAfter: opts.stableAfter ?? 60,
      passive: opts.passive ?? false,
      sliceMessages: opts.sliceMessages ?? 512,
      sliceMs: opts.sliceMs ?? 5,
      ttlSecurity: opts.ttlSecurity ?? DEFAULTS.TTL_SECURITY.value,
      outboundLimitBytes: opts.outboundLimitBytes ?? OUTBOUND_QUEUE_LIMIT,
    };
    this.ttlSecurity = spec.ttlSecurity ?? this.opts.ttlSecurity;
    this.localOpts = { ...DEFAULT_LOCAL_OPTIONS, ...opts.local };
    // A per-peer restart time (Calico maxRestartTime) replaces the configured one in our capability.
    const gr = this.localOpts.gracefulRestart;
    if (spec.restartTime !== undefined && gr !== null) this.localOpts = { ...this.localOpts, gracefulRestart: { ...gr, restartTime: spec.restartTime } };
    this.ourOpen = buildOpen(spec, this.localOpts);
    this.ourOpenBytes = encodeOpen(this.ourOpen);
  }

  // ---- public API ----------------------------------------------------------------------------

  get state(): BgpState {
    return this._state;
  }

  /** What was negotiated on the Established connection, null when not Established. */
  get negotiated(): Negotiated | null {
    return this.est?.neg ?? null;
  }

  get establishedSince(): Date | null {
    return this._establishedSince;
  }

  /** The last error or reason the session went down (for `show protocols all`). */
  get lastError(): string | null {
    return this._lastError;
  }

  /** False while the socket's write buffer is above its high-water mark (then wait for 'drain'). */
  get writable(): boolean {
    const s = this.est?.socket;
    return s !== undefined && !s.destroyed && !s.writableNeedDrain;
  }

  /** Bytes queued in user space on the Established connection's socket (not yet handed to the kernel). */
  get outboundQueueBytes(): number {
    return this.est?.socket.writableLength ?? 0;
  }

  /** GTSM's lowest accepted TTL: 256 − the spec's hop count (Calico ttlSecurity), 255 by default. */
  private get minTtl(): number {
    const hops = this.spec.ttlSecurityHops;
    return hops !== undefined && hops >= 1 && hops <= 255 ? 256 - hops : 255;
  }

  /** Whether GTSM applies to this session (spec, else the session option). */
  get gtsm(): boolean {
    return this.ttlSecurity;
  }

  /**
   * Why this session cannot run here (TCP-MD5 or GTSM asked for and unavailable, or a bad key), or undefined.
   * start() refuses such a session with an error line naming the peer rather than running it unprotected.
   */
  securityProblem(): string | undefined {
    const pw = this.spec.password;
    if (pw !== undefined) {
      const tooLong = md5KeyProblem(pw);
      if (tooLong !== undefined) return tooLong;
      const ok = md5Available();
      if (ok !== true) return `TCP-MD5 password configured but TCP-MD5 is unavailable: ${ok}`;
    }
    if (this.ttlSecurity) {
      const ok = gtsmAvailable();
      if (ok !== true) return `TTL security (GTSM) configured but unavailable: ${ok}`;
    }
    return undefined;
  }

  /** Starts the session: connect out (unless passive) and accept the peer's connection. */
  start(): void {
    if (this.started) return;
    const problem = this.securityProblem();
    if (problem !== undefined) {
      this._lastError = problem;
      this.log.error({ peer: this.spec.name }, `session ${this.spec.name} not started: ${problem}`);
      return;
    }
    this.started = true;
    this.failures = 0;
    this.updateState('start');
    this.dial();
  }

  /**
   * Stops the session: Cease NOTIFICATION (with an RFC 8203 shutdown message for subcodes 2 and 4)
   * on every connection, then close. Resolves when the sockets are closed.
   */
  stop(subcode: number = CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, message?: string): Promise<void> {
    this.started = false;
    this.clearSessionTimers();
    const data = message !== undefined && carriesShutdownMessage(6, subcode) ? shutdownData(message) : new Uint8Array(0);
    const reason = `stopped (Cease subcode ${subcode}${message ? `: ${message}` : ''})`;
    const closing: Promise<void>[] = [];
    for (const c of [...this.conns]) {
      closing.push(socketClosed(c.socket, LINGER_MS + 500));
      c.benign = true;
      this.feed(c, { type: 'ManualStop', subcode, data, reason });
    }
    this.updateState(reason);
    return Promise.all(closing).then(() => undefined);
  }

  /**
   * Writes one encoded message (normally an UPDATE) on the Established connection. Returns false when
   * the socket's buffer is above its high-water mark (the data is queued; wait for 'drain'), and also
   * when the session is not Established (the data is dropped then).
   */
  send(buf: Buffer): boolean {
    const c = this.est;
    if (!c || c.closed) return false;
    this.counters.messagesOut++;
    this.counters.bytesOut += buf.length;
    const ok = c.socket.write(buf);
    if (!ok && this.stuckTimer === null && c.socket.writableLength >= this.opts.outboundLimitBytes) this.watchStuck(c);
    return ok;
  }

  /**
   * Sends a Cease NOTIFICATION with this subcode and data on the Established connection, closes it and keeps
   * the session in Idle for idleHoldSeconds before it may connect or be connected again (e.g. RFC 4486
   * subcode 1, maximum number of prefixes reached). Returns false when the session is not Established.
   */
  ceaseAndHold(subcode: number, data: Uint8Array, idleHoldSeconds: number, reason: string): boolean {
    const c = this.est;
    if (!c || c.closed) return false;
    this.recordError(reason);
    this.forcedIdleHold = idleHoldSeconds;
    this.log.warn({ subcode, idleHoldSeconds }, `${reason}: Cease ${subcode}, idle hold ${idleHoldSeconds} s`);
    this.feed(c, { type: 'ManualStop', subcode, data, reason });
    return true;
  }

  /** The queue reached the bound: if no 'drain' comes within the hold time, the peer is taken down. */
  private watchStuck(c: Conn): void {
    const hold = c.neg?.holdTime ?? 0;
    const secs = hold > 0 ? hold : 90;
    const since = Date.now();
    this.log.warn({ queued: c.socket.writableLength, bound: this.opts.outboundLimitBytes }, `outbound queue at ${c.socket.writableLength} bytes (bound ${this.opts.outboundLimitBytes}); closing the session if it does not drain within ${secs} s`);
    this.stuckTimer = setTimeout(() => {
      this.stuckTimer = null;
      if (c.closed || c !== this.est) return;
      const queued = c.socket.writableLength;
      const reason = `outbound queue stuck at ${queued} bytes for ${Math.round((Date.now() - since) / 1000)} s (bound ${this.opts.outboundLimitBytes})`;
      this.recordError(reason);
      this.log.warn({ queued }, `${reason}: Cease 8 (out of resources)`);
      // The NOTIFICATION cannot pass a full queue: the socket is destroyed after the linger time anyway.
      this.feed(c, { type: 'ManualStop', subcode: CeaseSubcode.OUT_OF_RESOURCES, data: new Uint8Array(0), reason });
    }, secs * 1000);
    this.stuckTimer.unref();
  }

  /**
   * For the layer that decodes UPDATEs: an error whose RFC 7606 action resets the session (or disables the
   * AFI/SAFI, which we treat as a reset) sends its NOTIFICATION (code 3 and subcode/data from the codec) and
   * closes the connection. Returns false when the action does not reset the session (nothing is done then).
   */
  reportUpdateError(err: BgpError): boolean {
    if (!err.resetsSession) return false;
    const c = this.est;
    if (!c || c.closed) return false;
    const reason = `UPDATE error: ${err.message}`;
    this.recordError(reason);
    this.feed(c, { type: 'UpdateMsgErr', code: err.code, subcode: err.subcode, data: err.data, reason });
    return true;
  }

  /**
   * Hands over a socket accepted by the listener from this peer's address. onPastOpenSent is called once
   * when that connection reaches OpenConfirm or goes away (the listener bounds connections before that).
   */
  accept(socket: net.Socket, onPastOpenSent?: () => void): void {
    if (this.idleHoldForced && this.idleHoldTimer !== null) {
      this.logConnEvent('refused-limit', 'incoming connection rejected: in idle hold after a limit was exceeded', socket);
      rejectSocket(socket, CeaseSubcode.CONNECTION_REJECTED);
      return;
    }
    socket.setNoDelay(true);
    if (this.idleHoldTimer !== null && this.started && this.failures < DAMP_INCOMING_AFTER_FAILURES) {
      // The peer dials us while we wait to dial it again: take its connection. Refusing it would make two
      // speakers that refused each other once (one was configured a moment before the other) refuse each
      // other forever, each connecting during the other's idle hold.
      clearTimeout(this.idleHoldTimer);
      this.idleHoldTimer = null;
    }
    if (!this.started || this.idleHoldTimer !== null) {
      const why = this.started ? 'in idle hold after repeated errors' : 'session not started';
      this.logConnEvent(this.started ? 'refused-idle-hold' : 'refused-not-started', `incoming connection rejected: ${why}`, socket);
      rejectSocket(socket, CeaseSubcode.CONNECTION_REJECTED);
      return;
    }
    if (this.est && !this.est.neg?.gracefulRestart) {
      this.logConnEvent('collision', 'incoming connection while Established: connection collision, keeping the existing one', socket);
      rejectSocket(socket, CeaseSubcode.CONNECTION_COLLISION_RESOLUTION);
      return;
    }
    // With graceful restart negotiated, a new connection while Established may be the peer after a restart
    // whose old TCP connection we have not seen end (RFC 4724 §4.2). It runs up to its OPEN next to the
    // Established one; onOpen() decides whether it replaces it. A bare connect proves nothing.
    // An older incoming connection that never got Established is superseded by the new one.
    for (const c of [...this.conns]) {
      if (c.dir === 'in' && c !== this.est) {
        c.benign = true;
        this.feed(c, { type: 'TcpConnectionFails', reason: 'superseded by a new incoming connection' });
      }
    }
    if (this.ttlSecurity) {
      try {
        applyGtsm(socket, this.spec.family, this.minTtl);
      } catch (e) {
        this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'incoming connection rejected: GTSM could not be set');
        rejectSocket(socket, CeaseSubcode.OUT_OF_RESOURCES);
        return;
      }
    }
    const conn = this.newConn('in', socket);
    if (onPastOpenSent !== undefined) conn.onPastOpenSent = onPastOpenSent;
    conn.state = 'Active';
    conn.opened = true;
    this.feed(conn, { type: 'TcpConnectionConfirmed' });
  }

  // ---- connections -----------------------------------------------------------------------------

  private newConn(dir: Direction, socket: net.Socket): Conn {
    const conn: Conn = {
      dir, socket, framer: new Framer(), state: 'Connect', ctx: DEFAULT_CONTEXT, neg: null,
      timers: { hold: null, keepalive: null }, intervals: { hold: 0, keepalive: 0 }, deadlines: { hold: 0, keepalive: 0 },
      scheduled: false, closed: false, opened: false, benign: false, wasEstablished: false, connectTimer: null,
    };
    this.conns.add(conn);
    socket.on('data', (chunk: Buffer) => {
      if (conn.closed) return;
      this.counters.bytesIn += chunk.length;
      conn.framer.push(chunk);
      if (!conn.scheduled) this.pump(conn);
    });
    socket.on('error', (err: Error) => {
      if (!conn.closed) this.feed(conn, { type: 'TcpConnectionFails', reason: `socket error: ${err.message}` });
    });
    socket.on('close', () => {
      if (!conn.closed) this.feed(conn, { type: 'TcpConnectionFails', reason: 'connection closed by peer' });
    });
    socket.on('end', () => {
      // The peer half-closed: nothing more will come. Process what is buffered first.
      if (!conn.closed && !conn.scheduled) this.pump(conn);
      if (!conn.closed) this.feed(conn, { type: 'TcpConnectionFails', reason: 'connection closed by peer' });
    });
    socket.on('drain', () => {
      if (conn !== this.est) return;
      if (this.stuckTimer !== null) {
        clearTimeout(this.stuckTimer);
        this.stuckTimer = null;
      }
      this.emit('drain');
    });
    return conn;
  }

  private dial(): void {
    if (!this.started || this.opts.passive || this.idleHoldTimer !== null || this.est) return;
    for (const c of this.conns) if (c.dir === 'out') return;
    const s = this.spec;
    let socket: net.Socket;
    if (s.password !== undefined || this.ttlSecurity) {
      try {
        socket = connectSecured({
          family: s.family, host: s.neighborAddress, port: s.port, localAddress: s.localAddress,
          password: s.password, ttlSecurity: this.ttlSecurity, minTtl: this.minTtl,
        });
      } catch (e) {
        const reason = `cannot open a ${s.password !== undefined ? 'TCP-MD5 ' : ''}${this.ttlSecurity ? 'GTSM ' : ''}connection: ${e instanceof Error ? e.message : String(e)}`;
        this.recordError(reason);
        this.log.error(reason);
        this.failures++;
        this.enterIdleHold(reason);
        return;
      }
    } else {
      socket = net.connect({ host: s.neighborAddress, port: s.port, localAddress: s.localAddress, noDelay: true });
    }
    const conn = this.newConn('out', socket);
    conn.state = 'Connect';
    // A SYN that is never answered would otherwise hang for minutes.
    conn.connectTimer = setTimeout(() => {
      if (!conn.closed && !conn.opened) this.feed(conn, { type: 'TcpConnectionFails', reason: 'connect timed out' });
    }, this.opts.connectRetryTime * 1000);
    conn.connectTimer.unref();
    if (s.password !== undefined) {
      // With TCP-MD5 a wrong or missing password on either side gets no answer at all (the kernels drop the
      // segments silently), so say so while the SYN is still unanswered instead of waiting for the retry time.
      const hint = setTimeout(() => {
        if (conn.closed || conn.opened) return;
        this.recordError('TCP-MD5: no answer from the peer (password mismatch?)');
        this.log.warn(`no TCP answer from ${s.family === 6 ? `[${s.neighborAddress}]` : s.neighborAddress}:${s.port} after ${MD5_HINT_MS / 1000} s: TCP-MD5 is on for ${s.name}, and a password mismatch (or a peer without the password) looks exactly like this, as the kernel drops badly signed segments silently`);
      }, Math.min(MD5_HINT_MS, this.opts.connectRetryTime * 1000));
      hint.unref();
      socket.once('close', () => clearTimeout(hint));
      socket.once('connect', () => clearTimeout(hint));
    }
    socket.once('connect', () => {
      if (conn.closed) return;
      conn.opened = true;
      if (conn.connectTimer) clearTimeout(conn.connectTimer);
      conn.connectTimer = null;
      this.feed(conn, { type: 'TcpConnectionConfirmed' });
    });
    this.updateState(`connecting to ${s.neighborAddress}:${s.port}`);
  }

  /** Processes buffered messages in bounded slices so that one peer cannot starve the event loop. */
  private pump(conn: Conn): void {
    const start = performance.now();
    let n = 0;
    while (!conn.closed) {
      let msg: Buffer | null;
      try {
        msg = conn.framer.next();
      } catch (e) {
        if (!isBgpError(e)) throw e;
        this.recordError(`bad message header: ${e.message}`);
        this.feed(conn, { type: 'BGPHeaderErr', code: e.code, subcode: e.subcode, data: e.data, reason: `bad message header: ${e.message}` });
        return;
      }
      if (msg === null) break;
      this.handleMessage(conn, msg);
      if (++n >= this.opts.sliceMessages || performance.now() - start >= this.opts.sliceMs) {
        if (conn.closed || conn.framer.buffered === 0) break;
        // Yield: stop reading from the socket until the backlog is handled in the next turn.
        conn.scheduled = true;
        conn.socket.pause();
        setImmediate(() => {
          conn.scheduled = false;
          if (conn.closed) return;
          this.pump(conn);
          if (!conn.scheduled && !conn.closed) conn.socket.resume();
        });
        return;
      }
    }
  }

  private handleMessage(conn: Conn, msg: Buffer): void {
    this.counters.messagesIn++;
    const type = msg[18];
    if (type === MessageType.UPDATE) {
      this.counters.updatesIn++;
      this.feed(conn, { type: 'UpdateMsg' }, msg);
      return;
    }
    let m;
    try {
      m = decodeMessage(msg, conn.ctx);
    } catch (e) {
      if (!isBgpError(e)) throw e;
      const reason = `malformed ${type === MessageType.OPEN ? 'OPEN' : 'message'}: ${e.message}`;
      this.recordError(reason);
      this.feed(conn, { type: type === MessageType.OPEN ? 'BGPOpenMsgErr' : 'BGPHeaderErr', code: e.code, subcode: e.subcode, data: e.data, reason });
      return;
    }
    switch (m.type) {
      case MessageType.OPEN:
        this.onOpen(conn, m);
        return;
      case MessageType.NOTIFICATION: {
        this.counters.notificationsIn++;
        const text = describeNotification(m.code, m.subcode);
        const shutdown = carriesShutdownMessage(m.code, m.subcode) ? decodeShutdownMessage(m.data) : undefined;
        const reason = `received NOTIFICATION ${m.code}/${m.subcode} (${text})${shutdown !== undefined ? `: "${shutdown}"` : ''}`;
        this.recordError(reason);
        this.feed(conn, { type: 'NotifMsg', reason });
        return;
      }
      case MessageType.KEEPALIVE:
        this.feed(conn, { type: 'KeepAliveMsg' });
        return;
      case MessageType.ROUTE_REFRESH:
        this.feed(conn, { type: 'RouteRefreshMsg' }, undefined, m);
        return;
      default:
        return;
    }
  }

  private onOpen(conn: Conn, open: OpenMessage): void {
    if (conn.state !== 'OpenSent') {
      this.feed(conn, { type: 'BGPOpen', holdTime: 0, keepaliveTime: 0 }); // an FSM error in any other state
      return;
    }
    let neg: Negotiated;
    try {
      neg = negotiate(this.ourOpen, open, this.spec);
    } catch (e) {
      if (!isBgpError(e)) throw e;
      this.recordError(`OPEN rejected: ${e.message}`);
      this.feed(conn, { type: 'BGPOpenMsgErr', code: e.code, subcode: e.subcode, data: e.data, reason: `OPEN rejected: ${e.message}` });
      return;
    }
    // §6.8 collision detection against the other connection of this peer.
    for (const other of this.conns) {
      if (other === conn || other.closed) continue;
      if (other.state === 'Established') {
        if (other === this.est && other.neg?.gracefulRestart && conn.dir === 'in' && neg.peerBgpId === other.neg.peerBgpId) {
          // RFC 4724 §4.2: a Receiving Speaker that "still considers the BGP session as being established ...
          // MUST treat the subsequent open connection from the peer as an indication of the termination of
          // the old TCP session" and close the previous one, keeping the new one. We take "open connection"
          // to mean a connection that carried a valid OPEN: negotiate() has checked the version, the peer AS
          // (the session's AS, which the peer's address alone does not prove) and the BGP identifier, and the
          // identifier must be the one of the Established session. Until then the new connection is only a
          // candidate and the Established session stays up, so a bare TCP connect, garbage or a wrong OPEN
          // from the peer's address (any local user on the node, or a SNATed pod) no longer resets it.
          // BIRD (bgp_incoming_connection) and FRR (bgp_accept) instead drop the Established session as soon
          // as the TCP connection is accepted; GoBGP closes every connection accepted while Established and
          // only notices a restart when the old TCP session fails.
          this.log.info({ remote: conn.socket.remoteAddress, bgpId: neg.peerBgpId }, 'valid OPEN on a new connection from the Established graceful-restart peer: it restarted, replacing the old connection (routes kept as stale)');
          other.benign = true;
          this.closeConn(other, 'peer reconnected (graceful restart)', true);
          continue;
        }
        if (other === this.est && other.neg?.gracefulRestart && conn.dir === 'in') {
          this.logConnEvent('gr-wrong-id', `OPEN with BGP identifier ${neg.peerBgpId} on a new connection, but the Established session's peer is ${other.neg.peerBgpId}: keeping the Established session`, conn.socket);
        }
        conn.benign = true;
        this.feed(conn, { type: 'OpenCollisionDump' });
        return;
      }
      if (other.state === 'OpenConfirm') {
        // The side with the higher BGP identifier keeps the connection it opened.
        const keep: Direction = compareBgpId(this.spec.routerId, neg.peerBgpId) < 0 ? 'in' : 'out';
        const loser = conn.dir === keep ? other : conn;
        this.logConnEvent('collision-openconfirm', `connection collision with ${neg.peerBgpId}: closing the ${loser.dir === 'in' ? 'incoming' : 'outgoing'} connection (keeping the ${keep === 'in' ? 'incoming' : 'outgoing'} one)`, conn.socket);
        loser.benign = true;
        this.feed(loser, { type: 'OpenCollisionDump' });
        if (loser === conn) return;
      }
    }
    conn.neg = neg;
    conn.ctx = neg.recvCtx;
    conn.framer.setMaxLen(neg.recvCtx.maxMessageLen);
    this.feed(conn, { type: 'BGPOpen', holdTime: neg.holdTime, keepaliveTime: neg.keepaliveTime });
  }

  /** Runs one FSM step for a connection and carries out its actions. */
  private feed(conn: Conn, ev: FsmEvent, msg?: Buffer, rr?: RouteRefreshMessage): void {
    if (conn.closed) return;
    const before = conn.state;
    const t = transition(conn.state, ev);
    conn.state = t.state;
    if (conn.onPastOpenSent !== undefined && (t.state === 'OpenConfirm' || t.state === 'Established' || t.state === 'Idle')) {
      const cb = conn.onPastOpenSent;
      delete conn.onPastOpenSent;
      cb();
    }
    for (const a of t.actions) this.act(conn, a, msg, rr);
    if (before !== conn.state && !conn.closed) this.updateState(describeEvent(ev));
  }

  private act(conn: Conn, a: FsmAction, msg?: Buffer, rr?: RouteRefreshMessage): void {
    switch (a.do) {
      case 'send-open':
        this.write(conn, this.ourOpenBytes);
        return;
      case 'send-keepalive':
        this.write(conn, KEEPALIVE);
        return;
      case 'send-notification': {
        this.counters.notificationsOut++;
        this.write(conn, encodeNotification(a.code, a.subcode, a.data));
        const text = `sent NOTIFICATION ${a.code}/${a.subcode} (${describeNotification(a.code, a.subcode)})`;
        // A connection that never came up can be opened again and again by anyone at the peer's address.
        if (conn.wasEstablished || this.est === null) this.log.info({ code: a.code, subcode: a.subcode }, text);
        else this.logConnEvent(`notification-${a.code}-${a.subcode}`, `${text} on a new connection`, conn.socket);
        return;
      }
      case 'timer':
        this.setTimer(conn, a.timer, a.seconds);
        return;
      case 'established':
        this.onEstablished(conn);
        return;
      case 'deliver-update':
        if (msg) this.emit('update', msg);
        return;
      case 'deliver-route-refresh':
        if (rr) this.emit('route-refresh', rr);
        return;
      case 'close':
        this.closeConn(conn, a.reason, false);
        return;
    }
  }

  private write(conn: Conn, buf: Buffer): void {
    if (conn.socket.destroyed || !conn.socket.writable) return;
    this.counters.messagesOut++;
    this.counters.bytesOut += buf.length;
    conn.socket.write(buf);
  }

  private setTimer(conn: Conn, name: TimerName, seconds: number): void {
    const existing = conn.timers[name];
    if (seconds === -1) {
      if (existing) {
        existing.refresh();
        conn.deadlines[name] = Date.now() + conn.intervals[name] * 1000;
      }
      return;
    }
    if (existing) clearTimeout(existing);
    conn.timers[name] = null;
    conn.intervals[name] = seconds;
    if (seconds <= 0) return;
    const arm = (ms: number): NodeJS.Timeout => {
      conn.deadlines[name] = Date.now() + ms;
      return setTimeout(fire, ms);
    };
    const fire = (): void => {
      if (name === 'keepalive') {
        // §10: a fresh jitter for each keepalive interval.
        conn.timers.keepalive = arm(jitterMs(conn.intervals.keepalive));
        this.feed(conn, { type: 'KeepaliveTimerExpires' });
      } else {
        conn.timers.hold = null;
        this.recordError('hold timer expired');
        this.feed(conn, { type: 'HoldTimerExpires' });
      }
    };
    conn.timers[name] = arm(name === 'keepalive' ? jitterMs(seconds) : seconds * 1000);
  }

  /** Seconds until the hold or keepalive timer of the Established connection fires (BIRD's "Hold timer: x/y"). */
  timerRemaining(name: TimerName): number | undefined {
    const c = this.est;
    if (c === null || c.timers[name] === null) return undefined;
    return Math.max(0, (c.deadlines[name] - Date.now()) / 1000);
  }

  private onEstablished(conn: Conn): void {
    this.est = conn;
    conn.wasEstablished = true;
    this._establishedSince = new Date();
    this.counters.establishedTransitions++;
    if (this.connectRetryTimer) clearTimeout(this.connectRetryTimer);
    this.connectRetryTimer = null;
    for (const other of [...this.conns]) {
      if (other === conn) continue;
      other.benign = true;
      if (other.state === 'Connect') this.closeConn(other, 'session established on the other connection', true);
      else this.feed(other, { type: 'OpenCollisionDump' });
    }
    this.updateState('KEEPALIVE received');
    this.emit('established', conn.neg!);
  }

  /** Releases a connection; when it was the last one, decides on backoff and the next attempt. */
  private closeConn(conn: Conn, reason: string, silent: boolean): void {
    if (conn.closed) return;
    conn.closed = true;
    conn.state = 'Idle';
    for (const t of Object.values(conn.timers)) if (t) clearTimeout(t);
    if (conn.connectTimer) clearTimeout(conn.connectTimer);
    if (conn.onPastOpenSent !== undefined) {
      const cb = conn.onPastOpenSent;
      delete conn.onPastOpenSent;
      cb();
    }
    conn.framer.clear();
    this.conns.delete(conn);
    const sock = conn.socket;
    if (silent || sock.destroyed) {
      sock.destroy();
    } else {
      // Let a NOTIFICATION already written leave before the socket goes.
      sock.end();
      sock.resume(); // read (and drop) until the peer's FIN so the socket can finish closing
      setTimeout(() => sock.destroy(), LINGER_MS);
    }

    if (!conn.benign) this._lastError = reason;
    const wasEstablished = conn === this.est;
    let upFor = 0;
    if (wasEstablished) {
      this.est = null;
      if (this.stuckTimer !== null) clearTimeout(this.stuckTimer);
      this.stuckTimer = null;
      upFor = this._establishedSince ? (Date.now() - this._establishedSince.getTime()) / 1000 : 0;
      this._establishedSince = null;
      this._lastError = reason;
    }
    // RFC 4724 §4.2: a peer that advertised graceful restart and whose TCP session ended without a
    // NOTIFICATION (it died or restarted) keeps its routes as stale; any NOTIFICATION or our own stop does not.
    const transportLost = reason === 'peer reconnected (graceful restart)' || /^(connection closed by peer|socket error)/.test(reason);
    const graceful = wasEstablished && conn.neg?.gracefulRestart != null && transportLost;
    const last = this.conns.size === 0;

    if (last && this.started && this.forcedIdleHold !== null) {
      const secs = this.forcedIdleHold;
      this.forcedIdleHold = null;
      this.enterIdleHold(reason, secs);
    } else if (last && this.started && !conn.benign && conn.opened) {
      this.failures = upFor >= this.opts.stableAfter ? 1 : this.failures + 1;
      this.enterIdleHold(reason);
    } else {
      this.updateState(reason);
    }
    if (wasEstablished) {
      this.emit('down', reason, { graceful, peerGracefulRestart: conn.neg?.gracefulRestart ?? null });
    }
    if (last && this.started && this.idleHoldTimer === null) this.scheduleConnectRetry();
  }

  private enterIdleHold(reason: string, fixedSeconds?: number): void {
    const secs = fixedSeconds ?? idleHoldSeconds(this.failures, this.opts.idleHoldBase, this.opts.idleHoldCap);
    if (this.idleHoldTimer) clearTimeout(this.idleHoldTimer);
    const ms = fixedSeconds !== undefined ? fixedSeconds * 1000 : jitterMs(secs);
    this.idleHoldForced = fixedSeconds !== undefined;
    this.idleHoldTimer = setTimeout(() => {
      this.idleHoldTimer = null;
      this.idleHoldForced = false;
      this.updateState('idle hold time over');
      this.dial();
      if (this.conns.size === 0) this.scheduleConnectRetry();
    }, ms);
    this.updateState(`${reason}; idle hold ${secs} s`);
  }

  private scheduleConnectRetry(): void {
    if (this.connectRetryTimer || this.opts.passive) return;
    this.connectRetryTimer = setTimeout(() => {
      this.connectRetryTimer = null;
      if (!this.started || this.est) return;
      if (this.conns.size === 0) this.dial();
      if (!this.est) this.scheduleConnectRetry();
    }, jitterMs(this.opts.connectRetryTime));
  }

  private clearSessionTimers(): void {
    if (this.stuckTimer) clearTimeout(this.stuckTimer);
    this.stuckTimer = null;
    this.forcedIdleHold = null;
    if (this.idleHoldTimer) clearTimeout(this.idleHoldTimer);
    if (this.connectRetryTimer) clearTimeout(this.connectRetryTimer);
    this.idleHoldTimer = null;
    this.connectRetryTimer = null;
  }

  /**
   * One log line for something a remote end can cause once per TCP connection from the peer's address
   * (refused, collision, NOTIFICATION on a connection that never came up): the first per kind, then at most
   * one line per CONN_LOG_INTERVAL_MS saying how many were left out.
   */
  private logConnEvent(kind: string, text: string, socket: net.Socket): void {
    const v = this.connLog.note(kind);
    if (v.log) this.log.info({ remote: socket.remoteAddress, suppressed: v.suppressed }, `${text}${LogThrottle.suffix(v)}`);
  }

  private recordError(reason: string): void {
    this._lastError = reason;
  }

  /** The session state is the furthest any of its connections got (Established > ... > Connect). */
  private computeState(): BgpState {
    if (!this.started || this.idleHoldTimer !== null) return 'Idle';
    if (this.est) return 'Established';
    let best: BgpState = 'Active';
    for (const c of this.conns) if (RANK[c.state] > RANK[best]) best = c.state;
    return best;
  }

  private updateState(reason: string): void {
    const next = this.computeState();
    if (next === this._state) return;
    const from = this._state;
    this._state = next;
    this.log.info({ from, to: next }, `${from} -> ${next}: ${reason}`);
    this.emit('state', from, next, reason);
  }
}

const RANK: Record<BgpState, number> = { Idle: 0, Active: 1, Connect: 2, OpenSent: 3, OpenConfirm: 4, Established: 5 };

function describeEvent(ev: FsmEvent): string {
  switch (ev.type) {
    case 'TcpConnectionConfirmed': return 'transport up, OPEN sent';
    case 'BGPOpen': return 'OPEN received';
    case 'KeepAliveMsg': return 'KEEPALIVE received';
    default: return 'reason' in ev ? ev.reason : ev.type;
  }
}

/** RFC 8203/9003 shutdown communication: length octet + UTF-8 (at most 255 octets, whole characters). */
function shutdownData(message: string): Uint8Array {
  let b = Buffer.from(message, 'utf8');
  if (b.length > 255) {
    let end = 255;
    while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
    b = b.subarray(0, end);
  }
  const out = new Uint8Array(1 + b.length);
  out[0] = b.length;
  out.set(b, 1);
  return out;
}

/** Sends a Cease NOTIFICATION on a socket we will not use and closes it. */
export function rejectSocket(socket: net.Socket, subcode: number): void {
  socket.on('error', () => undefined);
  socket.end(encodeNotification(6, subcode));
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS);
}

function socketClosed(socket: net.Socket, timeoutMs: number): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    socket.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
