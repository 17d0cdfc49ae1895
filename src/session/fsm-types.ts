// The types of the peer FSM (fsm.ts): its configuration, state, events (with their RFC 4271 §8.1 numbers)
// and actions. Data only.
import type { BgpState, FsmEvent, TimerName } from './fsm-connection.js';

export type Direction = 'out' | 'in';

export interface PeerFsmConfig {
  /** Never connect out (Event 4, ManualStart_with_PassiveTcpEstablishment). */
  passive: boolean;
  /** Our BGP identifier, for §6.8 collision resolution. */
  localBgpId: string;
  /** ConnectRetryTime, seconds. */
  connectRetryTime: number;
  /** Idle hold after a failure: base seconds, doubled per consecutive failure, capped. */
  idleHoldBase: number;
  idleHoldCap: number;
  /** A session that stayed Established this long (s) resets the failure count. */
  stableAfter: number;
  /** From this many consecutive failures on, the peer's own connections are refused during the idle hold. */
  dampIncomingAfter: number;
  /** "host:port" of the peer, for the log line of an outgoing connect. */
  target: string;
}

/** What the peer FSM knows about one TCP connection. */
export interface ConnRecord {
  readonly id: number;
  readonly dir: Direction;
  state: BgpState;
  /** The transport came up (we got past Connect). */
  opened: boolean;
  /** Closed by us on purpose (stop, collision, superseded): no backoff. */
  benign: boolean;
  /** This connection reached Established. */
  wasEstablished: boolean;
  /** The peer's BGP identifier and whether it advertised graceful restart, once its OPEN was accepted. */
  bgpId: string | null;
  gracefulRestart: boolean;
  /** A valid OPEN from the Established graceful-restart peer came on this connection: it replaces the
   *  Established one when the peer confirms it with its KEEPALIVE (see PeerFsm.open). */
  takeover: boolean;
}

export interface PeerFsmState {
  readonly config: PeerFsmConfig;
  started: boolean;
  /** Consecutive sessions that went down without staying up (DampPeerOscillations). */
  failures: number;
  /** The IdleHoldTimer: off, running after failures, or running after an AutomaticStop that fixed it. */
  idleHold: 'off' | 'backoff' | 'forced';
  /** The session-level ConnectRetryTimer is running. */
  connectRetry: boolean;
  /** Set by an AutomaticStop with an idle hold: the seconds the next close enters instead of the backoff. */
  forcedIdleHold: number | null;
  conns: ConnRecord[];
  /** The Established connection's id. */
  est: number | null;
  /** When `est` reached Established (ms, the `now` of that event). */
  establishedAt: number | null;
  /** The session state last reported with a 'state' action. */
  reported: BgpState;
  nextId: number;
}

/** Session-level events. Per-connection ones (timers, messages, transport) come as { type: 'Conn' }. */
export type PeerEvent =
  | { type: 'ManualStart' } // Event 1 (Event 4 when passive)
  | { type: 'ManualStop'; subcode: number; data: Uint8Array; reason: string } // Event 2
  /** Event 8 on the Established connection (prefix limit, stuck queue); idleHold fixes the idle hold (s). */
  | { type: 'AutomaticStop'; subcode: number; data: Uint8Array; reason: string; idleHold?: number }
  | { type: 'ConnectRetryTimerExpires' } // Event 9
  | { type: 'IdleHoldTimerExpires' } // Event 13
  | { type: 'TcpConnectionValid' } // Event 14: a connection from the peer's address; answered by 'adopt' or 'reject'
  | { type: 'TcpCrInvalid'; id: number } // Event 15: an adopted connection could not be set up (GTSM)
  | { type: 'DialFailed'; id: number; reason: string } // Event 18 before the SYN left (socket options, bind)
  /** Event 19: a valid OPEN (already negotiated), with what §6.8 and RFC 4724 need. */
  | { type: 'BGPOpen'; id: number; holdTime: number; keepaliveTime: number; peerBgpId: string; gracefulRestart: boolean }
  | { type: 'Conn'; id: number; ev: FsmEvent };

export type SessionTimer = 'idleHold' | 'connectRetry';

export type PeerAction =
  /** Make an outgoing connection for id; its answer is Conn 16 (TcpConnectionConfirmed), Conn 18 or DialFailed. */
  | { do: 'dial'; id: number }
  /** Take the socket of this TcpConnectionValid as connection id; then Conn 17, or TcpCrInvalid. */
  | { do: 'adopt'; id: number }
  /** Refuse the socket of this TcpConnectionValid with a Cease; kind/text: a throttled log line. */
  | { do: 'reject'; subcode: number; kind: string; text: string }
  | { do: 'send-open'; id: number }
  | { do: 'send-keepalive'; id: number }
  /** quiet: on a connection that never came up next to an Established one: a throttled log line. */
  | { do: 'send-notification'; id: number; code: number; subcode: number; data: Uint8Array; quiet: boolean }
  /** A connection timer: seconds > 0 (re)starts, 0 stops, -1 restarts with its current interval. */
  | { do: 'timer'; id: number; timer: TimerName; seconds: number }
  /** Use the negotiated values of the pending OPEN on connection id (codec context, message size). */
  | { do: 'negotiated'; id: number }
  | { do: 'deliver-update'; id: number }
  | { do: 'deliver-route-refresh'; id: number }
  /** id is now the session's Established connection (counters, uptime); 'announce' comes once the rest is done. */
  | { do: 'established'; id: number }
  | { do: 'announce-established'; id: number }
  /** Close connection id: linger for a NOTIFICATION already written, unless silent. */
  | { do: 'release'; id: number; reason: string; silent: boolean }
  /** The Established connection id is gone; graceful: RFC 4724 says keep its routes as stale. */
  | { do: 'down'; id: number; reason: string; graceful: boolean }
  /** Start a session timer, jittered per §10 when jitter is set. */
  | { do: 'start-timer'; timer: SessionTimer; seconds: number; jitter: boolean }
  | { do: 'stop-timer'; timer: SessionTimer }
  | { do: 'state'; from: BgpState; to: BgpState; reason: string }
  /** The session's last error (show protocols). */
  | { do: 'error'; reason: string }
  /** An info line; id names the connection (its remote address); throttle: one line per kind and interval. */
  | { do: 'log'; text: string; id?: number; fields?: Record<string, string>; throttle?: string };

export interface PeerStep {
  state: PeerFsmState;
  actions: PeerAction[];
}
