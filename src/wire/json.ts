// messageToJson: a decoded BGP message in the JSON form of `bgp-decode` (issue 2), the form the fixtures'
// expected decodings (from Wireshark, scripts/fixtures/tshark-to-expected.ts) are written in.
//
// The form, one object per message:
//   {"type":"OPEN","version":4,"myAs":N,"holdTime":N,"bgpId":"a.b.c.d","capabilities":[{"code":N,...}]}
//     capabilities in wire order: 1 {afi,safi}; 2, 6, 70 nothing more; 64 {restarting,notification,restartTime,
//     families:[{afi,safi,forwardingPreserved}]}; 65 {as}; 69 {families:[{afi,safi,sendReceive}]};
//     71 {families:[{afi,safi,flags,staleTime}]}; 73 {hostname,domainName}; any other {value:"<hex>"}.
//   {"type":"UPDATE","withdrawn":[...],"nlri":[...],"attributes":{...}} with prefixes "10.0.0.0/24",
//     "2001:db8::/32", plus "#<path id>" under ADD-PATH. Attribute keys: origin, asPath, as4Path, nextHop, med,
//     localPref, atomicAggregate, aggregator, as4Aggregator, communities, originatorId, clusterList,
//     extendedCommunities, largeCommunities, mpReach, mpUnreach, unknown (see attributeToJson). An UPDATE that
//     RFC 7606 says to treat as withdraw gets "treatAsWithdraw": {code, subcode, reason}; discarded attributes
//     are listed under "discarded".
//   {"type":"NOTIFICATION","code":N,"subcode":N,"data":"<hex>"}, {"type":"KEEPALIVE"},
//   {"type":"ROUTE-REFRESH","afi":N,"safi":N,"subtype":N}
import { AsPathSegmentType, AttrType, MessageType } from './types.js';
import type { AsPathSegment, BgpMessage, Capability, OpenMessage, PathAttribute, UpdateMessage } from './types.js';
import type { BgpError } from './errors.js';
import { hex } from './util.js';
import { prefixToString } from './nlri.js';
import { ipv4BytesToString, ipv6ToMixedString } from '../net/address.js';

export type JsonObject = Record<string, unknown>;

/** AS_PATH text: sequences "a b", sets "{a,b}", confederation sequences "(a b)", confederation sets "[a,b]". */
export function asPathToString(segments: readonly AsPathSegment[]): string {
  return segments
    .map((s) => {
      switch (s.type) {
        case AsPathSegmentType.AS_SET: return `{${s.asns.join(',')}}`;
        case AsPathSegmentType.AS_SEQUENCE: return s.asns.join(' ');
        case AsPathSegmentType.AS_CONFED_SEQUENCE: return `(${s.asns.join(' ')})`;
        case AsPathSegmentType.AS_CONFED_SET: return `[${s.asns.join(',')}]`;
        default: return `?${String(s.type)}(${s.asns.join(' ')})`;
      }
    })
    .join(' ');
}


/** MP_REACH_NLRI next hop field as addresses: 4 bytes IPv4, 16 IPv6, 32 IPv6 global + link-local; else hex. */
export function mpNextHopsToStrings(nh: Uint8Array): string[] {
  if (nh.length === 4) return [ipv4BytesToString(nh, 0)];
  if (nh.length === 16) return [ipv6ToMixedString(nh, 0)];
  if (nh.length === 32) return [ipv6ToMixedString(nh, 0), ipv6ToMixedString(nh, 16)];
  return [hex(nh)];
}

function capabilityToJson(c: Capability): JsonObject {
  switch (c.kind) {
    case 'multiprotocol': return { code: c.code, afi: c.afi, safi: c.safi };
    case 'route-refresh':
    case 'extended-message':
    case 'enhanced-route-refresh':
      return { code: c.code };
    case 'graceful-restart':
      return {
        code: c.code, restarting: c.restarting, notification: c.notification, restartTime: c.restartTime,
        families: c.families.map((f) => ({ afi: f.afi, safi: f.safi, forwardingPreserved: f.forwardingPreserved })),
      };
    case 'as4': return { code: c.code, as: c.as };
    case 'add-path':
      return { code: c.code, families: c.families.map((f) => ({ afi: f.afi, safi: f.safi, sendReceive: f.sendReceive })) };
    case 'long-lived-graceful-restart':
      return { code: c.code, families: c.families.map((f) => ({ afi: f.afi, safi: f.safi, flags: f.flags, staleTime: f.staleTime })) };
    case 'fqdn': return { code: c.code, hostname: c.hostname, domainName: c.domainName };
    case 'unknown': return { code: c.code, value: hex(c.value) };
  }
}

function openToJson(m: OpenMessage): JsonObject {
  const capabilities: JsonObject[] = [];
  for (const p of m.parameters) if ('capabilities' in p) for (const c of p.capabilities) capabilities.push(capabilityToJson(c));
  return { type: 'OPEN', version: m.version, myAs: m.myAs, holdTime: m.holdTime, bgpId: m.bgpId, capabilities };
}

/** Adds one attribute to `out` under its key; unknown attributes go to `unknown`. */
function attributeToJson(a: PathAttribute, out: JsonObject, unknown: JsonObject[]): void {
  if ('unknown' in a) {
    unknown.push({ type: a.type, flags: a.flags, value: hex(a.value) });
    return;
  }
  switch (a.type) {
    case AttrType.ORIGIN: out.origin = ['IGP', 'EGP', 'INCOMPLETE'][a.origin] ?? `INVALID-${String(a.origin)}`; break;
    case AttrType.AS_PATH: out.asPath = asPathToString(a.segments); break;
    case AttrType.AS4_PATH: out.as4Path = asPathToString(a.segments); break;
    case AttrType.NEXT_HOP: out.nextHop = a.nextHop; break;
    case AttrType.MULTI_EXIT_DISC: out.med = a.med; break;
    case AttrType.LOCAL_PREF: out.localPref = a.localPref; break;
    case AttrType.ATOMIC_AGGREGATE: out.atomicAggregate = true; break;
    case AttrType.AGGREGATOR: out.aggregator = { as: a.as, address: a.address }; break;
    case AttrType.AS4_AGGREGATOR: out.as4Aggregator = { as: a.as, address: a.address }; break;
    case AttrType.COMMUNITIES: out.communities = a.communities.map((c) => `${c >>> 16}:${c & 0xffff}`); break;
    case AttrType.ORIGINATOR_ID: out.originatorId = a.originatorId; break;
    case AttrType.CLUSTER_LIST: out.clusterList = [...a.clusterList]; break;
    case AttrType.MP_REACH_NLRI:
      out.mpReach = { afi: a.afi, safi: a.safi, nextHops: mpNextHopsToStrings(a.nextHop), nlri: a.nlri.map(prefixToString) };
      break;
    case AttrType.MP_UNREACH_NLRI:
      out.mpUnreach = { afi: a.afi, safi: a.safi, withdrawn: a.withdrawn.map(prefixToString) };
      break;
    case AttrType.EXTENDED_COMMUNITIES: out.extendedCommunities = a.communities.map(hex); break;
    case AttrType.LARGE_COMMUNITY: out.largeCommunities = a.communities.map(([g, l1, l2]) => `${g}:${l1}:${l2}`); break;
  }
}

function errorToJson(e: BgpError): JsonObject {
  return { code: e.code, subcode: e.subcode, reason: e.message };
}

function updateToJson(m: UpdateMessage): JsonObject {
  const attributes: JsonObject = {};
  const unknown: JsonObject[] = [];
  for (const a of m.attributes) attributeToJson(a, attributes, unknown);
  if (unknown.length > 0) attributes.unknown = unknown;
  const j: JsonObject = { type: 'UPDATE', withdrawn: m.withdrawn.map(prefixToString), nlri: m.nlri.map(prefixToString), attributes };
  if (m.treatAsWithdraw) j.treatAsWithdraw = errorToJson(m.treatAsWithdraw);
  if (m.discarded && m.discarded.length > 0) j.discarded = m.discarded.map(errorToJson);
  return j;
}

/** One message in the bgp-decode JSON form (see the header of this file). */
export function messageToJson(msg: BgpMessage): JsonObject {
  switch (msg.type) {
    case MessageType.OPEN: return openToJson(msg);
    case MessageType.UPDATE: return updateToJson(msg);
    case MessageType.NOTIFICATION: return { type: 'NOTIFICATION', code: msg.code, subcode: msg.subcode, data: hex(msg.data) };
    case MessageType.KEEPALIVE: return { type: 'KEEPALIVE' };
    case MessageType.ROUTE_REFRESH: return { type: 'ROUTE-REFRESH', afi: msg.afi, safi: msg.safi, subtype: msg.subtype };
  }
}
