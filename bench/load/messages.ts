// The speaker's BGP messages, all built and read with our codec (src/wire): OPEN, KEEPALIVE, UPDATE
// packing, and the canonical text of a received attribute set used to verify what a reflector sent.
import {
  AFI_IPV4, AFI_IPV6, AsPathSegmentType, AttrType, ATTR_FLAG_OPTIONAL, ATTR_FLAG_TRANSITIVE, buildEndOfRib, buildUpdates, DEFAULT_CONTEXT,
  decodeOpen, encodeAttributes, encodeKeepalive, encodeMessage, MessageType, SAFI_UNICAST,
  type PathAttribute,
} from '../../src/wire/index.js';

import { uint32ToIpv4 } from '../../src/net/address.js';

export { ipv4ToUint32, uint32ToIpv4 } from '../../src/net/address.js';

export const CTX = DEFAULT_CONTEXT; // 4-octet AS, no ADD-PATH, 4096-octet messages: what our OPEN offers
/** A session on which ADD-PATH receive was negotiated for IPv4 (RFC 7911): 4-octet path identifiers in NLRI. */
export const CTX_ADD_PATH = { ...DEFAULT_CONTEXT, addPathV4: true };

/** True when the peer's OPEN offers ADD-PATH send (2 or 3) for AFI/SAFI 1/1 (RFC 7911 §4). */
export function peerSendsAddPath(open: Uint8Array): boolean {
  const m = decodeOpen(open);
  for (const p of m.parameters) {
    if (!('capabilities' in p)) continue;
    for (const c of p.capabilities) {
      if (c.kind === 'add-path' && c.families.some((f) => f.afi === AFI_IPV4 && f.safi === SAFI_UNICAST && (f.sendReceive & 2) !== 0)) return true;
    }
  }
  return false;
}

/** The attribute values the bench generates; names follow RFC 4271 / RFC 1997. */
export interface AttrSet {
  origin: 0 | 1 | 2;
  asPath: number[]; // one AS_SEQUENCE of four-octet ASNs (empty = locally originated)
  nextHop: number; // IPv4 as uint32 (ignored for IPv6 sets)
  nextHop6?: Uint8Array; // IPv6 sets: the MP_REACH_NLRI next hop, 16 octets
  med?: number;
  localPref: number;
  communities: number[];
}

export const KEEPALIVE: Buffer = encodeKeepalive();

/** End-of-RIB per family (RFC 4724 §2): sent once a session is up, since our initial table is empty. */
export const END_OF_RIB: Record<1 | 2, Buffer> = { 1: buildEndOfRib(AFI_IPV4), 2: buildEndOfRib(AFI_IPV6) };

/** OPEN with the capabilities a Calico node sends: MP IPv4 (bird) or IPv6 (bird6) unicast, route refresh, 4-octet AS. */
export function openMessage(asn: number, holdTime: number, bgpId: string, afi: 1 | 2 = AFI_IPV4, addPathRx = false): Buffer {
  return encodeMessage({
    type: MessageType.OPEN,
    version: 4,
    myAs: asn > 0xffff ? 23456 : asn,
    holdTime,
    bgpId,
    parameters: [{
      type: 2,
      capabilities: [
        { kind: 'multiprotocol', code: 1, afi, safi: SAFI_UNICAST },
        { kind: 'route-refresh', code: 2 },
        { kind: 'as4', code: 65, as: asn },
        // Calico's BIRD template sets `graceful restart`; it also makes reflectors send End-of-RIB (RFC 4724),
        // which tells the speaker that a reflector's initial sync is over.
        { kind: 'graceful-restart', code: 64, restarting: false, notification: false, restartTime: 120, families: [{ afi, safi: SAFI_UNICAST, forwardingPreserved: false }] },
        // RFC 7911 §4: Send/Receive 1 = "willing to receive multiple paths" (the addpath workload's clients).
        ...(addPathRx ? [{ kind: 'add-path' as const, code: 69 as const, families: [{ afi, safi: SAFI_UNICAST, sendReceive: 1 as const }] }] : []),
      ],
    }],
    extendedParameters: false,
  }, CTX);
}

/** Path attributes in type order, as most speakers send them. */
export function encodeAttrSet(a: AttrSet): Buffer {
  const T = ATTR_FLAG_TRANSITIVE;
  const attrs: PathAttribute[] = [
    { type: AttrType.ORIGIN, flags: T, origin: a.origin },
    { type: AttrType.AS_PATH, flags: T, segments: a.asPath.length ? [{ type: AsPathSegmentType.AS_SEQUENCE, asns: a.asPath }] : [] },
  ];
  if (!a.nextHop6) attrs.push({ type: AttrType.NEXT_HOP, flags: T, nextHop: uint32ToIpv4(a.nextHop) });
  if (a.med !== undefined) attrs.push({ type: AttrType.MULTI_EXIT_DISC, flags: ATTR_FLAG_OPTIONAL, med: a.med });
  attrs.push({ type: AttrType.LOCAL_PREF, flags: T, localPref: a.localPref });
  if (a.communities.length) attrs.push({ type: AttrType.COMMUNITIES, flags: ATTR_FLAG_OPTIONAL | T, communities: a.communities });
  return encodeAttributes(attrs, CTX);
}

/** UPDATEs announcing prefixes (addrs[i]/lens[i]) with one attribute block, each as full as 4096 octets allow. */
export function packAnnounce(attrs: Uint8Array, addrs: ArrayLike<number>, lens: ArrayLike<number>): Buffer[] {
  return lens.length ? buildUpdates({ attrs, afi: AFI_IPV4, prefixes: { addrs, lens }, ctx: CTX }) : [];
}

/** IPv6: UPDATEs with MP_REACH_NLRI (prefix i is addrs[16i, 16i+16)), next hop nextHop (16 octets). */
export function packAnnounce6(attrs: Uint8Array, nextHop: Uint8Array, addrs: Uint8Array, lens: ArrayLike<number>): Buffer[] {
  return lens.length ? buildUpdates({ attrs, afi: AFI_IPV6, nextHop, prefixes: { addrs, lens }, ctx: CTX }) : [];
}

/** IPv6: UPDATEs with MP_UNREACH_NLRI. */
export function packWithdraw6(addrs: Uint8Array, lens: ArrayLike<number>): Buffer[] {
  return lens.length ? buildUpdates({ afi: AFI_IPV6, withdrawals: { addrs, lens }, ctx: CTX }) : [];
}

/** UPDATEs withdrawing prefixes, each as full as 4096 octets allow. */
export function packWithdraw(addrs: ArrayLike<number>, lens: ArrayLike<number>): Buffer[] {
  return lens.length ? buildUpdates({ afi: AFI_IPV4, withdrawals: { addrs, lens }, ctx: CTX }) : [];
}

export interface AttrSignature {
  sig: string; // canonical text of the attributes the client must see unchanged
  originatorId: number; // -1 when absent
  clusterList: number[];
}

/**
 * Canonical text of decoded attributes, independent of order, flags and of the reflector's own additions;
 * ORIGINATOR_ID and CLUSTER_LIST are returned apart so they can be checked. Communities are sorted (RFC 1997
 * gives their order no meaning); a missing MED reads as 0 (RFC 4271 §9.1.2.2; FRR adds MED 0 when reflecting).
 */
export function attrSignature(attrs: readonly PathAttribute[], mpNextHop?: Uint8Array): AttrSignature {
  let origin = -1;
  let asPath = '';
  let nextHop = '';
  let med = 0;
  let localPref = -1;
  let comms: number[] = [];
  let originatorId = -1;
  let clusterList: number[] = [];
  for (const a of attrs) {
    switch (a.type) {
      case AttrType.ORIGIN: origin = (a as { origin: number }).origin; break;
      case AttrType.AS_PATH: asPath = (a as { segments: { type: number; asns: number[] }[] }).segments.map((s) => `${s.type}:${s.asns.join(' ')}`).join('|'); break;
      case AttrType.NEXT_HOP: nextHop = (a as { nextHop: string }).nextHop; break;
      case AttrType.MULTI_EXIT_DISC: med = (a as { med: number }).med; break;
      case AttrType.LOCAL_PREF: localPref = (a as { localPref: number }).localPref; break;
      case AttrType.COMMUNITIES: comms = [...(a as { communities: number[] }).communities].sort((x, y) => x - y); break;
      case AttrType.ORIGINATOR_ID: originatorId = ipv4Num((a as { originatorId: string }).originatorId); break;
      case AttrType.CLUSTER_LIST: clusterList = (a as { clusterList: string[] }).clusterList.map(ipv4Num); break;
      default: break;
    }
  }
  if (mpNextHop) nextHop = `mp:${Buffer.from(mpNextHop.buffer, mpNextHop.byteOffset, Math.min(16, mpNextHop.length)).toString('hex')}`;
  return { sig: `o=${origin};p=${asPath};nh=${nextHop};med=${med};lp=${localPref};c=${comms.join(',')}`, originatorId, clusterList };
}

function ipv4Num(s: string): number {
  const p = s.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}
