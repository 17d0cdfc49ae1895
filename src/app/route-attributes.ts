// Converts decoded path attributes (src/wire model) into the control socket's BgpRouteAttributes, the form
// `show route all` prints. Pure; one place that knows both models.
import { AsPathSegmentType, AttrType, type PathAttribute } from '../wire/types.js';
import type { BgpRouteAttributes, ExtendedCommunity } from '../control/model.js';

const ORIGINS = ['IGP', 'EGP', 'INCOMPLETE'] as const;

function extendedCommunity(b: Uint8Array): ExtendedCommunity {
  const type = b[0];
  const subtype = b[1];
  const transitive = (type & 0x40) === 0;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (type & 0x3f) {
    case 0x00:
      return { layout: 'as2', subtype, transitive, globalAdmin: dv.getUint16(2), localAdmin: dv.getUint32(4) };
    case 0x01:
      return { layout: 'ipv4', subtype, transitive, globalAdmin: `${b[2]}.${b[3]}.${b[4]}.${b[5]}`, localAdmin: dv.getUint16(6) };
    case 0x02:
      return { layout: 'as4', subtype, transitive, globalAdmin: dv.getUint32(2), localAdmin: dv.getUint16(6) };
    default:
      return { layout: 'opaque', bytes: b };
  }
}

/** nextHops: the next hop text(s) as the RIB reports them (IPv4 NEXT_HOP, or IPv6 global [+ link-local]). */
export function routeAttributes(attrs: readonly PathAttribute[], nextHops: string[]): BgpRouteAttributes {
  const out: BgpRouteAttributes = { origin: 'INCOMPLETE', asPath: [], nextHop: nextHops };
  for (const a of attrs) {
    if ('unknown' in a) {
      (out.unknown ??= []).push({ typeCode: a.type, flags: a.flags, value: a.value });
      continue;
    }
    switch (a.type) {
      case AttrType.ORIGIN:
        out.origin = ORIGINS[a.origin] ?? 'INCOMPLETE';
        break;
      case AttrType.AS_PATH:
        out.asPath = a.segments.map((s) => ({ type: s.type === AsPathSegmentType.AS_SET || s.type === AsPathSegmentType.AS_CONFED_SET ? 'AS_SET' : 'AS_SEQUENCE', asns: s.asns }));
        break;
      case AttrType.MULTI_EXIT_DISC:
        out.multiExitDisc = a.med;
        break;
      case AttrType.LOCAL_PREF:
        out.localPref = a.localPref;
        break;
      case AttrType.ATOMIC_AGGREGATE:
        out.atomicAggregate = true;
        break;
      case AttrType.AGGREGATOR:
        out.aggregator = { asn: a.as, address: a.address };
        break;
      case AttrType.COMMUNITIES:
        out.communities = a.communities.map((c) => [c >>> 16, c & 0xffff]);
        break;
      case AttrType.ORIGINATOR_ID:
        out.originatorId = a.originatorId;
        break;
      case AttrType.CLUSTER_LIST:
        out.clusterList = a.clusterList;
        break;
      case AttrType.EXTENDED_COMMUNITIES:
        out.extendedCommunities = a.communities.map(extendedCommunity);
        break;
      case AttrType.LARGE_COMMUNITY:
        out.largeCommunities = a.communities;
        break;
      default:
        break; // NEXT_HOP and MP_* come in through nextHops; AS4_* are merged by the RIB (4-octet form).
    }
  }
  return out;
}
