// The result of capability negotiation (RFC 5492 and the capability RFCs) as a plain value: what the session,
// the codec contexts and the RIB run on for one established session. Computed by src/session/negotiate.ts; the
// type lives here, below both, so the RIB does not depend on the session layer.
import type { CodecContext } from './types.js';

export interface GracefulRestartInfo {
  peerRestartTime: number;
  /** R bit: the peer has just restarted (RFC 4724 §3). */
  peerRestarting: boolean;
  /** N bit of RFC 8538 (the peer supports graceful restart for NOTIFICATIONs). */
  peerNotification: boolean;
  afis: { afi: number; safi: number; forwardingPreserved: boolean }[];
}

export interface Negotiated {
  holdTime: number;
  /** 0 when holdTime is 0: no KEEPALIVEs at all. */
  keepaliveTime: number;
  as4: boolean;
  /** AFIs negotiated for unicast (an IPv4 peer that sends no MP capability gets IPv4 implicitly). */
  families: number[];
  addPath: { rx: Record<number, boolean>; tx: Record<number, boolean> };
  extendedMessage: boolean;
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  /** The peer's graceful restart capability, null when it did not send one. */
  gracefulRestart: GracefulRestartInfo | null;
  peerBgpId: string;
  peerAs: number;
  /** Codec context for what we receive and for what we send. */
  recvCtx: CodecContext;
  sendCtx: CodecContext;
}
