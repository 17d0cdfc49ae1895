// Capability negotiation (RFC 5492 and the capability RFCs): our OPEN for a PeerSpec, the checks of
// RFC 4271 §6.2 on the peer's OPEN, and the Negotiated result (type in src/wire/negotiated.ts) the session and
// the codec run on. Pure.
import { DEFAULTS } from '../config/defaults.js';
import { BgpError } from '../wire/errors.js';
import { openCapabilities } from '../wire/open.js';
import {
  AFI_IPV4, AFI_IPV6, AS_TRANS, ErrorCode, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN, MessageType, OpenSubcode,
  SAFI_UNICAST, type Capability, type OpenMessage,
} from '../wire/types.js';
import type { GracefulRestartInfo, Negotiated } from '../wire/negotiated.js';
import type { AddPathsMode, PeerSpec } from '../peers/peer-spec.js';
import { parseIPv4 } from '../net/address.js';

/** BIRD 1.6's default hold time, which the original reflector used (keepalive = hold / 3). */
export const DEFAULT_HOLD_TIME = 240;
/** GRACEFUL_RESTART_TIME's default: `graceful restart;` in BIRD 1.6 advertises a restart time of 120 s. */
export const DEFAULT_RESTART_TIME = DEFAULTS.GRACEFUL_RESTART_TIME.value;

/** What we offer; everything defaults to the reflector's behaviour. */
export interface LocalOptions {
  holdTime: number;
  /** Advertise ADD-PATH receive for the session's AFI (RFC 7911). */
  addPathReceive: boolean;
  /**
   * Paths per prefix we would send (ADD_PATHS, or the peer's own setting): anything but 'off' advertises
   * ADD-PATH send too, so a peer that can receive several paths negotiates it.
   */
  addPaths: AddPathsMode;
  extendedMessage: boolean;
  /** Graceful restart capability (RFC 4724): restart time, and the R bit when we come back from a restart. */
  gracefulRestart: { restartTime: number; restarting: boolean } | null;
}

export const DEFAULT_LOCAL_OPTIONS: LocalOptions = {
  holdTime: DEFAULT_HOLD_TIME,
  addPathReceive: true,
  addPaths: 'off',
  extendedMessage: true,
  gracefulRestart: { restartTime: DEFAULT_RESTART_TIME, restarting: false },
};

const capabilitiesOf = openCapabilities;

function afiOf(spec: Pick<PeerSpec, 'family'>): number {
  return spec.family === 6 ? AFI_IPV6 : AFI_IPV4;
}

/** Our OPEN for this session. The 2-octet AS field carries AS_TRANS for a 4-octet AS (RFC 6793). */
export function buildOpen(spec: Pick<PeerSpec, 'family' | 'localAs' | 'routerId'>, opts: LocalOptions = DEFAULT_LOCAL_OPTIONS): OpenMessage {
  const afi = afiOf(spec);
  const caps: Capability[] = [
    { kind: 'multiprotocol', code: 1, afi, safi: SAFI_UNICAST },
    { kind: 'route-refresh', code: 2 },
    { kind: 'enhanced-route-refresh', code: 70 },
  ];
  if (opts.gracefulRestart) {
    // As BIRD 1.6 with `graceful restart;`: restart time, R bit only after our own restart. After our restart the
    // F bit says "state preserved" too: a reflector programs no FIB, and with F clear the nodes (RFC 4724 §4.2)
    // would flush the routes they learned from us at once instead of keeping them until our End-of-RIB.
    caps.push({
      kind: 'graceful-restart', code: 64, restarting: opts.gracefulRestart.restarting, notification: false,
      restartTime: opts.gracefulRestart.restartTime, families: [{ afi, safi: SAFI_UNICAST, forwardingPreserved: opts.gracefulRestart.restarting }],
    });
  }
  caps.push({ kind: 'as4', code: 65, as: spec.localAs });
  // RFC 7911 §4: Send/Receive 1 = receive, 2 = send, 3 = both.
  const sendReceive = ((opts.addPathReceive ? 1 : 0) | (opts.addPaths !== 'off' ? 2 : 0)) as 0 | 1 | 2 | 3;
  if (sendReceive !== 0) caps.push({ kind: 'add-path', code: 69, families: [{ afi, safi: SAFI_UNICAST, sendReceive }] });
  if (opts.extendedMessage) caps.push({ kind: 'extended-message', code: 6 });
  return {
    type: MessageType.OPEN,
    version: 4,
    myAs: spec.localAs > 0xffff ? AS_TRANS : spec.localAs,
    holdTime: opts.holdTime,
    bgpId: spec.routerId,
    parameters: [{ type: 2, capabilities: caps }],
    extendedParameters: false,
  };
}

/** A BGP Identifier as a number for comparisons; -1 for text that is not a dotted quad. */
function ipv4ToNumber(s: string): number {
  return parseIPv4(s) ?? -1;
}

function u16(n: number): Uint8Array {
  return Uint8Array.of((n >>> 8) & 0xff, n & 0xff);
}

function openError(subcode: number, message: string, data?: Uint8Array): BgpError {
  return new BgpError(ErrorCode.OPEN_MESSAGE, subcode, message, data ? { data } : {});
}

/** Hold time rule of RFC 4271 §4.2/§6.2: 0 or >= 3; the smaller of the two offers wins. */
export function negotiateHoldTime(ours: number, theirs: number): number {
  if (theirs === 1 || theirs === 2) {
    throw openError(OpenSubcode.UNACCEPTABLE_HOLD_TIME, `peer proposed hold time ${theirs} s (must be 0 or at least 3)`, u16(theirs));
  }
  return Math.min(ours, theirs);
}

/**
 * Checks the peer's OPEN against the session (version, AS, BGP identifier, hold time, optional
 * parameters) and computes what both sides support. Throws BgpError with the OPEN subcode to send.
 * Capabilities we do not know or do not use are ignored, never fatal.
 */
export function negotiate(
  ours: OpenMessage,
  theirs: OpenMessage,
  spec: Pick<PeerSpec, 'family' | 'localAs' | 'peerAs' | 'routerId'>,
): Negotiated {
  if (theirs.version !== 4) {
    throw openError(OpenSubcode.UNSUPPORTED_VERSION, `peer speaks BGP version ${theirs.version}, we speak 4`, u16(4));
  }
  for (const p of theirs.parameters) {
    if (p.type !== 2) throw openError(OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, `unsupported optional parameter type ${p.type}`);
  }
  const theirCaps = capabilitiesOf(theirs);
  const ourCaps = capabilitiesOf(ours);
  const theirAs4 = theirCaps.find((c): c is Extract<Capability, { kind: 'as4' }> => c.kind === 'as4');
  const ourAs4 = ourCaps.some((c) => c.kind === 'as4');

  // Peer AS (RFC 4271 §6.2, RFC 6793 §4.1): the AS4 capability carries the real AS; without it the
  // 2-octet field must equal the configured AS (a 4-octet AS cannot be expressed then).
  const peerAs = theirAs4 ? theirAs4.as : theirs.myAs;
  // With the capability, My AS must be the same AS or AS_TRANS; anything else is an inconsistent OPEN.
  const consistent = !theirAs4 || theirs.myAs === theirAs4.as || theirs.myAs === AS_TRANS;
  if (peerAs !== spec.peerAs || !consistent) {
    throw openError(OpenSubcode.BAD_PEER_AS,
      `peer AS ${peerAs}${theirAs4 ? ` (2-octet field ${theirs.myAs})` : ''} does not match configured AS ${spec.peerAs}`, u16(theirs.myAs));
  }

  // BGP identifier (RFC 6286): non-zero, and on iBGP different from ours.
  const id = ipv4ToNumber(theirs.bgpId);
  if (id <= 0) throw openError(OpenSubcode.BAD_BGP_IDENTIFIER, `peer BGP identifier ${theirs.bgpId} is invalid`);
  if (spec.peerAs === spec.localAs && id === ipv4ToNumber(spec.routerId)) {
    throw openError(OpenSubcode.BAD_BGP_IDENTIFIER, `peer BGP identifier ${theirs.bgpId} equals ours on an internal session`);
  }

  const holdTime = negotiateHoldTime(ours.holdTime, theirs.holdTime);
  const keepaliveTime = holdTime === 0 ? 0 : Math.floor(holdTime / 3);

  // Multiprotocol (RFC 4760): a peer without any MP capability supports IPv4 unicast only.
  const mpOf = (caps: Capability[]): number[] => {
    const mp = caps.filter((c): c is Extract<Capability, { kind: 'multiprotocol' }> => c.kind === 'multiprotocol' && c.safi === SAFI_UNICAST);
    return mp.length === 0 ? [AFI_IPV4] : [...new Set(mp.map((c) => c.afi))];
  };
  const theirAfis = mpOf(theirCaps);
  const families = mpOf(ourCaps).filter((a) => theirAfis.includes(a));

  const addPathOf = (caps: Capability[]): Map<number, number> => {
    const m = new Map<number, number>();
    for (const c of caps) if (c.kind === 'add-path') for (const f of c.families) if (f.safi === SAFI_UNICAST) m.set(f.afi, f.sendReceive);
    return m;
  };
  const ourAp = addPathOf(ourCaps);
  const theirAp = addPathOf(theirCaps);
  const rx: Record<number, boolean> = {};
  const tx: Record<number, boolean> = {};
  for (const afi of [AFI_IPV4, AFI_IPV6]) {
    const o = ourAp.get(afi) ?? 0;
    const t = theirAp.get(afi) ?? 0;
    // RFC 7911 §4: receive needs our "receive" bit and their "send" bit, and the other way round.
    rx[afi] = families.includes(afi) && (o & 1) !== 0 && (t & 2) !== 0;
    tx[afi] = families.includes(afi) && (o & 2) !== 0 && (t & 1) !== 0;
  }

  const both = (kind: Capability['kind']): boolean => ourCaps.some((c) => c.kind === kind) && theirCaps.some((c) => c.kind === kind);
  const extendedMessage = both('extended-message');
  const as4 = ourAs4 && theirAs4 !== undefined;

  const gr = theirCaps.find((c): c is Extract<Capability, { kind: 'graceful-restart' }> => c.kind === 'graceful-restart');
  const gracefulRestart: GracefulRestartInfo | null = gr
    ? { peerRestartTime: gr.restartTime, peerRestarting: gr.restarting, peerNotification: gr.notification, afis: gr.families.map((f) => ({ ...f })) }
    : null;

  const maxMessageLen = extendedMessage ? MAX_EXTENDED_MESSAGE_LEN : MAX_MESSAGE_LEN;
  return {
    holdTime,
    keepaliveTime,
    as4,
    families,
    addPath: { rx, tx },
    extendedMessage,
    routeRefresh: both('route-refresh'),
    enhancedRouteRefresh: both('enhanced-route-refresh'),
    gracefulRestart,
    peerBgpId: theirs.bgpId,
    peerAs,
    recvCtx: { as4, addPathV4: rx[AFI_IPV4]!, addPathV6: rx[AFI_IPV6]!, maxMessageLen },
    sendCtx: { as4, addPathV4: tx[AFI_IPV4]!, addPathV6: tx[AFI_IPV6]!, maxMessageLen },
  };
}

/** Numeric comparison of two dotted-quad BGP identifiers (for §6.8 collision resolution). */
export function compareBgpId(a: string, b: string): number {
  return ipv4ToNumber(a) - ipv4ToNumber(b);
}
