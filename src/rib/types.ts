// The small interfaces between the RIB/reflector and the sessions: what the reflector needs from a peer's
// transport and from capability negotiation. A BgpSession is adapted to RibPeer by a thin wrapper.
import type { Negotiated } from '../wire/negotiated.js';
import type { PeerSpec } from '../peers/peer-spec.js';
import type { BgpError } from '../wire/errors.js';
import type { Logger } from '../log.js';

export interface RibPeer {
  /** BIRD protocol name (Mesh_…, Global_…, Node_…); the reflector keys peers on it. */
  readonly name: string;
  readonly spec: PeerSpec;
  /** Writes whole BGP messages; false = the socket buffer is full, wait for handleDrain(). */
  send(buf: Buffer): boolean;
  /**
   * Optional: tear the session down with this NOTIFICATION (an UPDATE error that RFC 7606 says needs a
   * session reset). Without it, the caller of handleUpdate() must act on the returned error.
   */
  resetSession?(err: BgpError): void;
  /** Optional: the session's logger (import policy lines carry its fields); the engine's own otherwise. */
  readonly log?: Logger;
  /** Optional: Cease with this subcode and data, then stay idle (the prefix limit); false when not sent. */
  ceaseAndHold?(subcode: number, data: Uint8Array, idleHoldSeconds: number, reason: string): boolean;
}

/** The parts of a session's Negotiated result the reflector uses (a Negotiated satisfies it). */
export type RibNegotiated = Pick<Negotiated,
  'as4' | 'families' | 'addPath' | 'extendedMessage' | 'routeRefresh' | 'enhancedRouteRefresh' | 'gracefulRestart' |
  'peerBgpId' | 'recvCtx' | 'sendCtx'>;

/** A route refresh request as the session reports it (RFC 2918 / RFC 7313 subtype). */
export interface RibRouteRefresh {
  afi: number;
  safi: number;
  subtype: number;
}
