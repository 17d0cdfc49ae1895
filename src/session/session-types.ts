// The public types of a BGP session (options, counters, events), apart so that the driver stays short.
import type { RouteRefreshMessage } from '../wire/types.js';
import type { BgpState } from './fsm-connection.js';
import { DEFAULTS } from '../config/defaults.js';
import type { Negotiated } from '../wire/negotiated.js';
import type { LocalOptions } from './negotiate.js';

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
