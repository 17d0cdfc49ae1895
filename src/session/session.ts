// One BGP session for one PeerSpec: the driver of the peer FSM (fsm.ts). It turns socket input, decoded
// messages and timer expiries into FSM events and carries out the FSM's actions on the connections
// (connection.ts), the dialler (dialer.ts) and the session timers; it owns the public API and the log lines.
// (A little over 400 lines: the public API with its doc comments and the one interpreter of the FSM's actions.)
import { EventEmitter } from 'node:events';
import { DEFAULTS } from '../config/defaults.js';
import type net from 'node:net';
import { peerLogger, type Logger } from '../log.js';
import { isBgpError, type BgpError } from '../wire/errors.js';
import { carriesShutdownMessage, encodeKeepalive, encodeNotification, shutdownData } from '../wire/notification.js';
import { encodeOpen } from '../wire/open.js';
import { CeaseSubcode, type OpenMessage, type RouteRefreshMessage } from '../wire/types.js';
import type { PeerSpec } from '../peers/peer-spec.js';
import { Connection, LINGER_MS } from './connection.js';
import { dial, prepareAccepted, rejectSocket, securityProblem, socketClosed } from './dialer.js';
import {
  connState, initialState, jitterMs, step, type BgpState, type PeerAction, type PeerEvent,
  type PeerFsmState, type SessionTimer, type TimerName,
} from './fsm.js';
import { buildOpen, DEFAULT_LOCAL_OPTIONS, negotiate, type LocalOptions } from './negotiate.js';
import type { Negotiated } from '../wire/negotiated.js';
import { describeNotification } from './notification-text.js';
import { inboundEvent } from './inbound.js';
import { LogThrottle } from './log-throttle.js';
import { TimerSet } from './timers.js';
import { OUTBOUND_QUEUE_LIMIT, type BgpSessionEvents, type SessionCounters, type SessionOptions } from './session-types.js';

export { OUTBOUND_QUEUE_LIMIT, type BgpSessionEvents, type DownInfo, type SessionCounters, type SessionOptions } from './session-types.js';

const KEEPALIVE = encodeKeepalive();
/** After this many consecutive failures a peer in idle hold is damped: its incoming connections are refused too. */
const DAMP_INCOMING_AFTER_FAILURES = 4;
/** Lines caused by incoming connections: the first of each kind, then one summary per this many ms. */
const CONN_LOG_INTERVAL_MS = 60_000;

/** What an action may need from the event that caused it. */
interface StepContext {
  /** The socket of a TcpConnectionValid. */
  incoming?: net.Socket;
  /** The UPDATE of a deliver-update. */
  msg?: Buffer;
  /** The ROUTE-REFRESH of a deliver-route-refresh. */
  rr?: RouteRefreshMessage;
}

export class BgpSession extends EventEmitter<BgpSessionEvents> {
  readonly spec: PeerSpec;
  readonly log: Logger;
  readonly counters: SessionCounters = {
    messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, updatesIn: 0,
    notificationsIn: 0, notificationsOut: 0, establishedTransitions: 0,
  };

  private readonly opts: Required<Omit<SessionOptions, 'local'>>;
  private readonly ourOpen: OpenMessage;
  private readonly ourOpenBytes: Buffer;
  private fsm: PeerFsmState;
  private readonly conns = new Map<number, Connection>();
  /** Connections released by the step being carried out (its later actions, e.g. 'down', still name them). */
  private readonly released = new Map<number, Connection>();
  private readonly timers = new TimerSet<SessionTimer>((name) => this.run({ type: name === 'idleHold' ? 'IdleHoldTimerExpires' : 'ConnectRetryTimerExpires' }));
  /** Events raised while carrying out actions (a dial that failed at once): run after them. */
  private readonly queued: PeerEvent[] = [];
  private _lastError: string | null = null;
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
    let localOpts: LocalOptions = { ...DEFAULT_LOCAL_OPTIONS, ...opts.local };
    // A per-peer restart time (Calico maxRestartTime) replaces the configured one in our capability.
    const gr = localOpts.gracefulRestart;
    if (spec.restartTime !== undefined && gr !== null) localOpts = { ...localOpts, gracefulRestart: { ...gr, restartTime: spec.restartTime } };
    // A per-peer ADD-PATH setting (datastore) replaces ADD_PATHS for this session's capability.
    if (spec.addPaths !== undefined) localOpts = { ...localOpts, addPaths: spec.addPaths };
    this.ourOpen = buildOpen(spec, localOpts);
    this.ourOpenBytes = encodeOpen(this.ourOpen);
    this.fsm = initialState({
      passive: this.opts.passive, localBgpId: spec.routerId, connectRetryTime: this.opts.connectRetryTime,
      idleHoldBase: this.opts.idleHoldBase, idleHoldCap: this.opts.idleHoldCap, stableAfter: this.opts.stableAfter,
      dampIncomingAfter: DAMP_INCOMING_AFTER_FAILURES, target: `${spec.neighborAddress}:${spec.port}`,
    });
  }

  // ---- public API ----------------------------------------------------------------------------

  get state(): BgpState {
    return this.fsm.reported;
  }

  /** What was negotiated on the Established connection, null when not Established. */
  get negotiated(): Negotiated | null {
    return this.est()?.neg ?? null;
  }

  get establishedSince(): Date | null {
    return this.fsm.establishedAt === null ? null : new Date(this.fsm.establishedAt);
  }

  /** The last error or reason the session went down (for `show protocols all`). */
  get lastError(): string | null {
    return this._lastError;
  }

  /** False while the socket's write buffer is above its high-water mark (then wait for 'drain'). */
  get writable(): boolean {
    return this.est()?.writable ?? false;
  }

  /** Bytes queued in user space on the Established connection's socket (not yet handed to the kernel). */
  get outboundQueueBytes(): number {
    return this.est()?.socket.writableLength ?? 0;
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
    return securityProblem(this.spec, this.ttlSecurity);
  }

  /** Starts the session: connect out (unless passive) and accept the peer's connection. */
  start(): void {
    if (this.fsm.started) return;
    const problem = this.securityProblem();
    if (problem !== undefined) {
      this._lastError = problem;
      this.log.error({ peer: this.spec.name }, `session ${this.spec.name} not started: ${problem}`);
      return;
    }
    this.run({ type: 'ManualStart' });
  }

  /**
   * Stops the session: Cease NOTIFICATION (with an RFC 8203 shutdown message for subcodes 2 and 4)
   * on every connection, then close. Resolves when the sockets are closed.
   */
  stop(subcode: number = CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, message?: string): Promise<void> {
    const data = message !== undefined && carriesShutdownMessage(6, subcode) ? shutdownData(message) : new Uint8Array(0);
    const reason = `stopped (Cease subcode ${subcode}${message ? `: ${message}` : ''})`;
    const closing = [...this.conns.values()].map((c) => socketClosed(c.socket, LINGER_MS + 500));
    this.run({ type: 'ManualStop', subcode, data, reason });
    return Promise.all(closing).then(() => undefined);
  }

  /**
   * Writes one encoded message (normally an UPDATE) on the Established connection. Returns false when
   * the socket's buffer is above its high-water mark (the data is queued; wait for 'drain'), and also
   * when the session is not Established (the data is dropped then).
   */
  send(buf: Buffer): boolean {
    const c = this.est();
    if (c === undefined || c.closed) return false;
    return c.send(buf);
  }

  /**
   * Sends a Cease NOTIFICATION with this subcode and data on the Established connection, closes it and keeps
   * the session in Idle for idleHoldSeconds before it may connect or be connected again (e.g. RFC 4486
   * subcode 1, maximum number of prefixes reached). Returns false when the session is not Established.
   */
  ceaseAndHold(subcode: number, data: Uint8Array, idleHoldSeconds: number, reason: string): boolean {
    const c = this.est();
    if (c === undefined || c.closed) return false;
    this._lastError = reason;
    this.log.warn({ subcode, idleHoldSeconds }, `${reason}: Cease ${subcode}, idle hold ${idleHoldSeconds} s`);
    this.run({ type: 'AutomaticStop', subcode, data, reason, idleHold: idleHoldSeconds });
    return true;
  }

  /**
   * For the layer that decodes UPDATEs: an error whose RFC 7606 action resets the session (or disables the
   * AFI/SAFI, which we treat as a reset) sends its NOTIFICATION (code 3 and subcode/data from the codec) and
   * closes the connection. Returns false when the action does not reset the session (nothing is done then).
   */
  reportUpdateError(err: BgpError): boolean {
    if (!err.resetsSession) return false;
    const c = this.est();
    if (c === undefined || c.closed) return false;
    const reason = `UPDATE error: ${err.message}`;
    this._lastError = reason;
    this.run({ type: 'Conn', id: c.id, ev: { type: 'UpdateMsgErr', code: err.code, subcode: err.subcode, data: err.data, reason } });
    return true;
  }

  /**
   * Hands over a socket accepted by the listener from this peer's address. onPastOpenSent is called once
   * when that connection reaches OpenConfirm or goes away (the listener bounds connections before that).
   */
  accept(socket: net.Socket, onPastOpenSent?: () => void): void {
    let adopted: number | undefined;
    this.run({ type: 'TcpConnectionValid' }, { incoming: socket }, (id) => (adopted = id));
    if (adopted === undefined) return;
    const id = adopted;
    try {
      prepareAccepted(socket, this.spec, this.ttlSecurity);
    } catch (e) {
      this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'incoming connection rejected: GTSM could not be set');
      rejectSocket(socket, CeaseSubcode.OUT_OF_RESOURCES);
      this.run({ type: 'TcpCrInvalid', id });
      return;
    }
    const conn = this.newConn(id, socket);
    if (onPastOpenSent !== undefined) conn.onPastOpenSent = onPastOpenSent;
    this.run({ type: 'Conn', id, ev: { type: 'TcpConnectionConfirmed' } }); // Event 17
  }

  /** Seconds until the hold or keepalive timer of the Established connection fires (BIRD's "Hold timer: x/y"). */
  timerRemaining(name: TimerName): number | undefined {
    return this.est()?.timerRemaining(name);
  }

  // ---- the driver ------------------------------------------------------------------------------

  private est(): Connection | undefined {
    return this.fsm.est === null ? undefined : this.conns.get(this.fsm.est);
  }

  /** Runs one FSM step and carries out its actions in order; then whatever they raised. */
  private run(ev: PeerEvent, ctx: StepContext = {}, onAdopt?: (id: number) => void): void {
    const r0 = this.fsm;
    const r = step(r0, ev, Date.now());
    this.fsm = r.state;
    if (r.state !== r0) {
      for (const c of this.conns.values()) {
        if (c.onPastOpenSent === undefined) continue;
        const st = connState(this.fsm, c.id);
        if (st === undefined || st === 'OpenConfirm' || st === 'Established') c.pastOpenSent();
      }
    }
    for (const a of r.actions) this.act(a, ctx, onAdopt);
    if (this.released.size > 0) for (const a of r.actions) if (a.do === 'release') this.released.delete(a.id);
    while (this.queued.length > 0) this.run(this.queued.shift()!);
  }

  private act(a: PeerAction, ctx: StepContext, onAdopt?: (id: number) => void): void {
    switch (a.do) {
      case 'dial':
        this.dial(a.id);
        return;
      case 'adopt':
        onAdopt?.(a.id);
        return;
      case 'reject':
        if (ctx.incoming !== undefined) {
          this.logConnEvent(a.kind, a.text, ctx.incoming);
          rejectSocket(ctx.incoming, a.subcode);
        }
        return;
      case 'start-timer':
        this.timers.start(a.timer, a.jitter ? jitterMs(a.seconds) : a.seconds * 1000);
        return;
      case 'stop-timer':
        this.timers.stop(a.timer);
        return;
      case 'state':
        this.log.info({ from: a.from, to: a.to }, `${a.from} -> ${a.to}: ${a.reason}`);
        this.emit('state', a.from, a.to, a.reason);
        return;
      case 'error':
        this._lastError = a.reason;
        return;
      case 'log': {
        const sock = a.id === undefined ? undefined : this.conns.get(a.id)?.socket;
        if (a.throttle !== undefined && sock !== undefined) this.logConnEvent(a.throttle, a.text, sock);
        else this.log.info({ remote: sock?.remoteAddress, ...a.fields }, a.text);
        return;
      }
      default:
        break;
    }
    const c = this.conns.get(a.id) ?? this.released.get(a.id);
    if (c === undefined) return;
    switch (a.do) {
      case 'send-open':
        c.write(this.ourOpenBytes);
        return;
      case 'send-keepalive':
        c.write(KEEPALIVE);
        return;
      case 'send-notification': {
        this.counters.notificationsOut++;
        c.write(encodeNotification(a.code, a.subcode, a.data));
        const text = `sent NOTIFICATION ${a.code}/${a.subcode} (${describeNotification(a.code, a.subcode)})`;
        if (!a.quiet) this.log.info({ code: a.code, subcode: a.subcode }, text);
        else this.logConnEvent(`notification-${a.code}-${a.subcode}`, `${text} on a new connection`, c.socket);
        return;
      }
      case 'timer':
        c.setTimer(a.timer, a.seconds);
        return;
      case 'negotiated':
        if (c.pendingNeg !== null) c.useNegotiated(c.pendingNeg);
        c.pendingNeg = null;
        return;
      case 'deliver-update':
        if (ctx.msg !== undefined) this.emit('update', ctx.msg);
        return;
      case 'deliver-route-refresh':
        if (ctx.rr !== undefined) this.emit('route-refresh', ctx.rr);
        return;
      case 'established':
        this.counters.establishedTransitions++;
        return;
      case 'announce-established':
        if (c.neg !== null) this.emit('established', c.neg);
        return;
      case 'release':
        c.close(a.silent);
        this.conns.delete(c.id);
        this.released.set(c.id, c);
        return;
      case 'down':
        this.emit('down', a.reason, { graceful: a.graceful, peerGracefulRestart: c.neg?.gracefulRestart ?? null });
        return;
    }
  }

  private newConn(id: number, socket: net.Socket): Connection {
    const feed = (ev: Parameters<typeof this.feedConn>[1], ctx?: StepContext): void => this.feedConn(conn, ev, ctx);
    const conn: Connection = new Connection(id, socket, {
      message: (msg) => this.handleMessage(conn, msg),
      headerError: (e) => {
        const reason = `bad message header: ${e.message}`;
        this._lastError = reason;
        feed({ type: 'BGPHeaderErr', code: e.code, subcode: e.subcode, data: e.data, reason });
      },
      transportFailed: (reason) => feed({ type: 'TcpConnectionFails', reason }),
      connected: () => feed({ type: 'TcpConnectionConfirmed' }), // Event 16
      timer: (name) => {
        if (name === 'hold') this._lastError = 'hold timer expired';
        feed({ type: name === 'hold' ? 'HoldTimerExpires' : name === 'keepalive' ? 'KeepaliveTimerExpires' : 'ConnectRetryTimerExpires' });
      },
      drain: () => {
        if (this.fsm.est === conn.id) this.emit('drain');
      },
      stuck: (queued, watchedMs) => {
        if (this.fsm.est !== conn.id) return;
        const reason = `outbound queue stuck at ${queued} bytes for ${Math.round(watchedMs / 1000)} s (bound ${this.opts.outboundLimitBytes})`;
        this._lastError = reason;
        this.log.warn({ queued }, `${reason}: Cease 8 (out of resources)`);
        // The NOTIFICATION cannot pass a full queue: the socket is destroyed after the linger time anyway.
        this.run({ type: 'AutomaticStop', subcode: CeaseSubcode.OUT_OF_RESOURCES, data: new Uint8Array(0), reason });
      },
    }, this.opts, this.counters, this.log);
    this.conns.set(id, conn);
    return conn;
  }

  private feedConn(conn: Connection, ev: Extract<PeerEvent, { type: 'Conn' }>['ev'], ctx?: StepContext): void {
    if (!conn.closed) this.run({ type: 'Conn', id: conn.id, ev }, ctx);
  }

  /** Carries out a 'dial': the outgoing socket, or DialFailed when it cannot even be opened. */
  private dial(id: number): void {
    let socket: net.Socket;
    try {
      socket = dial(this.spec, this.ttlSecurity, this.opts.connectRetryTime * 1000, (text) => {
        if (connState(this.fsm, id) !== 'Connect') return;
        this._lastError = 'TCP-MD5: no answer from the peer (password mismatch?)';
        this.log.warn(text);
      });
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      this._lastError = reason;
      this.log.error(reason);
      this.queued.push({ type: 'DialFailed', id, reason });
      return;
    }
    this.newConn(id, socket);
  }

  private handleMessage(conn: Connection, msg: Buffer): void {
    this.counters.messagesIn++;
    const r = inboundEvent(msg, conn.ctx);
    if (r.kind === 'open') {
      this.onOpen(conn, r.open);
      return;
    }
    if (r.kind === 'ignore') return;
    const ev = r.ev;
    if (ev.type === 'UpdateMsg') this.counters.updatesIn++;
    else if (ev.type === 'NotifMsg') this.counters.notificationsIn++;
    if ('reason' in ev) this._lastError = ev.reason;
    this.feedConn(conn, ev, ev.type === 'UpdateMsg' ? { msg } : r.rr !== undefined ? { rr: r.rr } : undefined);
  }

  /** Event 19 (or 22): an OPEN in OpenSent is negotiated first; the FSM then runs §6.8 on it. */
  private onOpen(conn: Connection, open: OpenMessage): void {
    if (connState(this.fsm, conn.id) !== 'OpenSent') {
      this.feedConn(conn, { type: 'BGPOpen', holdTime: 0, keepaliveTime: 0 }); // an FSM error in any other state
      return;
    }
    let neg: Negotiated;
    try {
      neg = negotiate(this.ourOpen, open, this.spec);
    } catch (e) {
      if (!isBgpError(e)) throw e;
      this._lastError = `OPEN rejected: ${e.message}`;
      this.feedConn(conn, { type: 'BGPOpenMsgErr', code: e.code, subcode: e.subcode, data: e.data, reason: `OPEN rejected: ${e.message}` });
      return;
    }
    conn.pendingNeg = neg;
    this.run({
      type: 'BGPOpen', id: conn.id, holdTime: neg.holdTime, keepaliveTime: neg.keepaliveTime,
      peerBgpId: neg.peerBgpId, gracefulRestart: neg.gracefulRestart != null,
    });
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
}

export { rejectSocket } from './dialer.js';
