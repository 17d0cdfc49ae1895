// The BGP message model shared by the codec (src/wire), the sessions and the RIB.
// Plain data only: no I/O, no behaviour. Names follow the RFCs.
import type { BgpError } from './errors.js';

export const BGP_PORT_DEFAULT = 179;
export const HEADER_LEN = 19;
export const MAX_MESSAGE_LEN = 4096; // RFC 4271
export const MAX_EXTENDED_MESSAGE_LEN = 65535; // RFC 8654
export const AS_TRANS = 23456; // RFC 6793

export const AFI_IPV4 = 1;
export const AFI_IPV6 = 2;
export const SAFI_UNICAST = 1;
export type Afi = typeof AFI_IPV4 | typeof AFI_IPV6;

export const enum MessageType {
  OPEN = 1,
  UPDATE = 2,
  NOTIFICATION = 3,
  KEEPALIVE = 4,
  ROUTE_REFRESH = 5,
}

export const enum AttrType {
  ORIGIN = 1,
  AS_PATH = 2,
  NEXT_HOP = 3,
  MULTI_EXIT_DISC = 4,
  LOCAL_PREF = 5,
  ATOMIC_AGGREGATE = 6,
  AGGREGATOR = 7,
  COMMUNITIES = 8,
  ORIGINATOR_ID = 9,
  CLUSTER_LIST = 10,
  MP_REACH_NLRI = 14,
  MP_UNREACH_NLRI = 15,
  EXTENDED_COMMUNITIES = 16,
  AS4_PATH = 17,
  AS4_AGGREGATOR = 18,
  LARGE_COMMUNITY = 32,
}

export const ATTR_FLAG_OPTIONAL = 0x80;
export const ATTR_FLAG_TRANSITIVE = 0x40;
export const ATTR_FLAG_PARTIAL = 0x20;
export const ATTR_FLAG_EXTENDED_LENGTH = 0x10;

/**
 * What the codec must know about the session to read or write an UPDATE.
 * as4: both sides announced the 4-octet AS capability (RFC 6793).
 * addPath*: ADD-PATH negotiated in that direction for that AFI (RFC 7911): path identifiers are present.
 * maxMessageLen: 4096, or 65535 with the extended message capability (RFC 8654).
 */
export interface CodecContext {
  as4: boolean;
  addPathV4: boolean;
  addPathV6: boolean;
  maxMessageLen: number;
}

export const DEFAULT_CONTEXT: CodecContext = { as4: true, addPathV4: false, addPathV6: false, maxMessageLen: MAX_MESSAGE_LEN };

/**
 * One prefix. addr holds exactly ceil(len/8) significant bytes padded to the full width
 * (4 bytes for IPv4, 16 for IPv6); bits past len are zero. pathId is set only under ADD-PATH.
 */
export interface Prefix {
  afi: Afi;
  len: number;
  addr: Uint8Array;
  pathId?: number;
}

// ---- OPEN and capabilities -------------------------------------------------

export type Capability =
  | { kind: 'multiprotocol'; code: 1; afi: number; safi: number }
  | { kind: 'route-refresh'; code: 2 }
  | { kind: 'extended-message'; code: 6 }
  | { kind: 'graceful-restart'; code: 64; restarting: boolean; notification: boolean; restartTime: number; families: { afi: number; safi: number; forwardingPreserved: boolean }[] }
  | { kind: 'as4'; code: 65; as: number }
  | { kind: 'add-path'; code: 69; families: { afi: number; safi: number; sendReceive: 1 | 2 | 3 }[] }
  | { kind: 'enhanced-route-refresh'; code: 70 }
  | { kind: 'long-lived-graceful-restart'; code: 71; families: { afi: number; safi: number; flags: number; staleTime: number }[] }
  | { kind: 'fqdn'; code: 73; hostname: string; domainName: string }
  | { kind: 'unknown'; code: number; value: Uint8Array };

/**
 * Optional parameters as they stood on the wire, so that encode(decode(x)) is byte-exact:
 * one parameter of type 2 may carry several capabilities; other parameter types are kept raw.
 */
export type OptionalParameter =
  | { type: 2; capabilities: Capability[] }
  | { type: number; value: Uint8Array };

export interface OpenMessage {
  type: MessageType.OPEN;
  version: number;
  myAs: number; // the 2-octet field (AS_TRANS when the real AS is 4-octet)
  holdTime: number;
  bgpId: string; // dotted quad
  parameters: OptionalParameter[];
  /** RFC 9072 extended optional parameters length was used on the wire. */
  extendedParameters: boolean;
}

// ---- UPDATE ------------------------------------------------------------------

export const enum Origin {
  IGP = 0,
  EGP = 1,
  INCOMPLETE = 2,
}

export const enum AsPathSegmentType {
  AS_SET = 1,
  AS_SEQUENCE = 2,
  AS_CONFED_SEQUENCE = 3,
  AS_CONFED_SET = 4,
}

export interface AsPathSegment {
  type: AsPathSegmentType;
  asns: number[];
}

/** Every attribute keeps the flags it had on the wire (incl. the extended-length bit). */
export type PathAttribute =
  | { type: AttrType.ORIGIN; flags: number; origin: Origin }
  | { type: AttrType.AS_PATH; flags: number; segments: AsPathSegment[] }
  | { type: AttrType.NEXT_HOP; flags: number; nextHop: string }
  | { type: AttrType.MULTI_EXIT_DISC; flags: number; med: number }
  | { type: AttrType.LOCAL_PREF; flags: number; localPref: number }
  | { type: AttrType.ATOMIC_AGGREGATE; flags: number }
  | { type: AttrType.AGGREGATOR; flags: number; as: number; address: string }
  | { type: AttrType.COMMUNITIES; flags: number; communities: number[] }
  | { type: AttrType.ORIGINATOR_ID; flags: number; originatorId: string }
  | { type: AttrType.CLUSTER_LIST; flags: number; clusterList: string[] }
  | { type: AttrType.MP_REACH_NLRI; flags: number; afi: number; safi: number; nextHop: Uint8Array; reserved: number; nlri: Prefix[] }
  | { type: AttrType.MP_UNREACH_NLRI; flags: number; afi: number; safi: number; withdrawn: Prefix[] }
  | { type: AttrType.EXTENDED_COMMUNITIES; flags: number; communities: Uint8Array[] }
  | { type: AttrType.AS4_PATH; flags: number; segments: AsPathSegment[] }
  | { type: AttrType.AS4_AGGREGATOR; flags: number; as: number; address: string }
  | { type: AttrType.LARGE_COMMUNITY; flags: number; communities: [number, number, number][] }
  | { type: number; flags: number; value: Uint8Array; unknown: true };

export interface UpdateMessage {
  type: MessageType.UPDATE;
  withdrawn: Prefix[];
  attributes: PathAttribute[]; // wire order
  nlri: Prefix[];
  /**
   * RFC 7606 treat-as-withdraw: every prefix of this UPDATE (nlri and MP_REACH_NLRI) must be handled as
   * withdrawn. The error says why; no NOTIFICATION is sent.
   */
  treatAsWithdraw?: BgpError;
  /** RFC 7606 attribute-discard: attributes dropped from `attributes` (one error each). */
  discarded?: BgpError[];
}

// ---- NOTIFICATION, KEEPALIVE, ROUTE-REFRESH ---------------------------------

export interface NotificationMessage {
  type: MessageType.NOTIFICATION;
  code: number;
  subcode: number;
  data: Uint8Array;
}

export interface KeepaliveMessage {
  type: MessageType.KEEPALIVE;
}

export interface RouteRefreshMessage {
  type: MessageType.ROUTE_REFRESH;
  afi: number;
  safi: number;
  /** RFC 7313: 0 normal request, 1 BoRR, 2 EoRR (the "reserved" octet of RFC 2918). */
  subtype: number;
  /** Octets after the fixed part of a normal request (RFC 5291 ORF entries), kept raw. */
  orf?: Uint8Array;
}

export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

// ---- NOTIFICATION codes (RFC 4271 §4.5, RFC 4486, RFC 7313, RFC 8203) -------

export const enum ErrorCode {
  MESSAGE_HEADER = 1,
  OPEN_MESSAGE = 2,
  UPDATE_MESSAGE = 3,
  HOLD_TIMER_EXPIRED = 4,
  FSM = 5,
  CEASE = 6,
  ROUTE_REFRESH = 7,
}

export const enum HeaderSubcode {
  CONNECTION_NOT_SYNCHRONIZED = 1,
  BAD_MESSAGE_LENGTH = 2,
  BAD_MESSAGE_TYPE = 3,
}

export const enum OpenSubcode {
  UNSUPPORTED_VERSION = 1,
  BAD_PEER_AS = 2,
  BAD_BGP_IDENTIFIER = 3,
  UNSUPPORTED_OPTIONAL_PARAMETER = 4,
  UNACCEPTABLE_HOLD_TIME = 6,
  UNSUPPORTED_CAPABILITY = 7,
  ROLE_MISMATCH = 11,
}

export const enum UpdateSubcode {
  MALFORMED_ATTRIBUTE_LIST = 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE = 2,
  MISSING_WELL_KNOWN_ATTRIBUTE = 3,
  ATTRIBUTE_FLAGS_ERROR = 4,
  ATTRIBUTE_LENGTH_ERROR = 5,
  INVALID_ORIGIN_ATTRIBUTE = 6,
  INVALID_NEXT_HOP_ATTRIBUTE = 8,
  OPTIONAL_ATTRIBUTE_ERROR = 9,
  INVALID_NETWORK_FIELD = 10,
  MALFORMED_AS_PATH = 11,
}

export const enum CeaseSubcode {
  MAXIMUM_PREFIXES_REACHED = 1,
  ADMINISTRATIVE_SHUTDOWN = 2,
  PEER_DECONFIGURED = 3,
  ADMINISTRATIVE_RESET = 4,
  CONNECTION_REJECTED = 5,
  OTHER_CONFIGURATION_CHANGE = 6,
  CONNECTION_COLLISION_RESOLUTION = 7,
  OUT_OF_RESOURCES = 8,
  HARD_RESET = 9,
  BFD_DOWN = 10,
}
