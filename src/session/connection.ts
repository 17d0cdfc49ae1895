// One TCP connection of a session, whichever side opened it: framing (framer.ts), the input pump that yields
// to the event loop, writes with the outbound-queue watch (backpressure), its hold/keepalive/connect timers
// (timers.ts) and closing with a linger for a NOTIFICATION already written. What the bytes and timers mean
// is decided by the FSM: this module reports them through ConnectionHooks and carries out what it is told.
import type net from 'node:net';
import type { Logger } from '../log.js';
import { isBgpError, type BgpError } from '../wire/errors.js';
import { DEFAULT_CONTEXT, type CodecContext } from '../wire/types.js';
import type { Negotiated } from '../wire/negotiated.js';
import { Framer } from './framer.js';
import { jitterMs, type TimerName } from './fsm-connection.js';
import { TimerSet } from './timers.js';

/** How long a closed connection waits for a NOTIFICATION already written to leave. */
export const LINGER_MS = 1000;

export interface ConnectionCounters {
  messagesOut: number;
  bytesOut: number;
  bytesIn: number;
}

export interface ConnectionHooks {
  /** One whole message, header included (a view into the received chunk). */
  message(msg: Buffer): void;
  /** The framer found a bad header (the connection must be closed with its NOTIFICATION). */
  headerError(err: BgpError): void;
  /** Event 18: the socket failed or the peer closed it. */
  transportFailed(reason: string): void;
  /** Event 16: the outgoing connect completed. */
  connected(): void;
  /** A timer expired (keepalive was re-armed with a fresh jitter first). */
  timer(name: TimerName): void;
  /** The socket's queue drained below its high-water mark. */
  drain(): void;
  /** The queue stayed at or above the bound for the whole watch (watchedMs): take the session down. */
  stuck(queued: number, watchedMs: number): void;
}

export interface ConnectionOptions {
  /** Input fairness: at most this many messages or this many ms per turn of the event loop. */
  sliceMessages: number;
  sliceMs: number;
  /** Outbound queue bound (bytes) for the stuck watch. */
  outboundLimitBytes: number;
}

export class Connection {
  readonly framer = new Framer();
  ctx: CodecContext = DEFAULT_CONTEXT;
  neg: Negotiated | null = null;
  /** The negotiated values of an OPEN the FSM has not accepted yet. */
  pendingNeg: Negotiated | null = null;
  closed = false;
  /** The listener's callback for an accepted connection, called once past OpenSent or on close. */
  onPastOpenSent: (() => void) | undefined = undefined;
  private readonly timers: TimerSet<TimerName | 'stuck'>;
  /** The keepalive interval (s), jittered afresh at each expiry (§10). */
  private keepaliveSeconds = 0;
  /** A drain turn is scheduled with setImmediate. */
  private scheduled = false;
  /** When the stuck watch started (epoch ms). */
  private stuckSince = 0;

  constructor(
    readonly id: number,
    readonly socket: net.Socket,
    private readonly hooks: ConnectionHooks,
    private readonly opts: ConnectionOptions,
    private readonly counters: ConnectionCounters,
    private readonly log: Logger,
  ) {
    this.timers = new TimerSet<TimerName | 'stuck'>((name) => this.expired(name), ['connect', 'stuck']);
    socket.on('data', (chunk: Buffer) => {
      if (this.closed) return;
      counters.bytesIn += chunk.length;
      this.framer.push(chunk);
      if (!this.scheduled) this.pump();
    });
    socket.on('error', (err: Error) => {
      if (!this.closed) hooks.transportFailed(`socket error: ${err.message}`);
    });
    socket.on('close', () => {
      if (!this.closed) hooks.transportFailed('connection closed by peer');
    });
    socket.on('end', () => {
      // The peer half-closed: nothing more will come. Process what is buffered first.
      if (!this.closed && !this.scheduled) this.pump();
      if (!this.closed) hooks.transportFailed('connection closed by peer');
    });
    socket.once('connect', () => {
      if (!this.closed) hooks.connected();
    });
    socket.on('drain', () => {
      this.timers.stop('stuck');
      if (!this.closed) hooks.drain();
    });
  }

  /** Uses what an accepted OPEN negotiated: its codec context and message size. */
  useNegotiated(neg: Negotiated): void {
    this.neg = neg;
    this.ctx = neg.recvCtx;
    this.framer.setMaxLen(neg.recvCtx.maxMessageLen);
  }

  /** A control message (OPEN, KEEPALIVE, NOTIFICATION): dropped when the socket is gone. */
  write(buf: Buffer): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    this.counters.messagesOut++;
    this.counters.bytesOut += buf.length;
    this.socket.write(buf);
  }

  /**
   * An UPDATE (or other bulk data): false when the socket is above its high-water mark. A queue at or above
   * the bound starts the stuck watch: no 'drain' within the hold time (90 s when it is 0) and hooks.stuck().
   */
  send(buf: Buffer): boolean {
    this.counters.messagesOut++;
    this.counters.bytesOut += buf.length;
    const ok = this.socket.write(buf);
    if (!ok && !this.timers.running('stuck') && this.socket.writableLength >= this.opts.outboundLimitBytes) this.watchStuck();
    return ok;
  }

  get writable(): boolean {
    return !this.socket.destroyed && !this.socket.writableNeedDrain;
  }

  /** The FSM's timer action: seconds > 0 (re)starts, 0 stops, -1 restarts with the current interval. */
  setTimer(name: TimerName, seconds: number): void {
    if (seconds === -1) {
      this.timers.restart(name);
      return;
    }
    this.timers.stop(name);
    if (name === 'keepalive') this.keepaliveSeconds = seconds;
    if (seconds <= 0) return;
    this.timers.start(name, name === 'keepalive' ? jitterMs(seconds) : seconds * 1000);
  }

  timerRemaining(name: TimerName): number | undefined {
    return this.timers.remaining(name);
  }

  /** Closes the socket (at once when silent, else after the linger) and stops everything. */
  close(silent: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.timers.stopAll();
    this.pastOpenSent();
    this.framer.clear();
    const sock = this.socket;
    if (silent || sock.destroyed) {
      sock.destroy();
    } else {
      sock.end();
      sock.resume(); // read (and drop) until the peer's FIN so the socket can finish closing
      setTimeout(() => sock.destroy(), LINGER_MS);
    }
  }

  /** Calls the listener's callback once (the connection got past OpenSent, or is gone). */
  pastOpenSent(): void {
    const cb = this.onPastOpenSent;
    if (cb === undefined) return;
    // Cleared, not deleted: a delete turns every Connection into a dictionary-mode object (832 bytes of
    // property table per session, and slower field reads on the input path).
    this.onPastOpenSent = undefined;
    cb();
  }

  private expired(name: TimerName | 'stuck'): void {
    if (this.closed) return;
    if (name === 'stuck') {
      this.hooks.stuck(this.socket.writableLength, Date.now() - this.stuckSince);
      return;
    }
    // §10: a fresh jitter for each keepalive interval.
    if (name === 'keepalive') this.timers.start('keepalive', jitterMs(this.keepaliveSeconds));
    this.hooks.timer(name);
  }

  private stuckSeconds(): number {
    const hold = this.neg?.holdTime ?? 0;
    return hold > 0 ? hold : 90;
  }

  private watchStuck(): void {
    const secs = this.stuckSeconds();
    const queued = this.socket.writableLength;
    this.log.warn({ queued, bound: this.opts.outboundLimitBytes }, `outbound queue at ${queued} bytes (bound ${this.opts.outboundLimitBytes}); closing the session if it does not drain within ${secs} s`);
    this.stuckSince = Date.now();
    this.timers.start('stuck', secs * 1000);
  }

  /** Processes buffered messages in bounded slices so that one peer cannot starve the event loop. */
  private pump(): void {
    const start = performance.now();
    let n = 0;
    while (!this.closed) {
      let msg: Buffer | null;
      try {
        msg = this.framer.next();
      } catch (e) {
        if (!isBgpError(e)) throw e;
        this.hooks.headerError(e);
        return;
      }
      if (msg === null) break;
      this.hooks.message(msg);
      if (++n >= this.opts.sliceMessages || performance.now() - start >= this.opts.sliceMs) {
        if (this.closed || this.framer.buffered === 0) break;
        // Yield: stop reading from the socket until the backlog is handled in the next turn.
        this.scheduled = true;
        this.socket.pause();
        setImmediate(() => {
          this.scheduled = false;
          if (this.closed) return;
          this.pump();
          if (!this.scheduled && !this.closed) this.socket.resume();
        });
        return;
      }
    }
  }
}
