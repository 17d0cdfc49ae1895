// Read-only views of the engine for the control socket and the metrics: routes as `show route` lists them,
// per-protocol and per-table counts. Nothing here changes state (decoding for display is cached on the entry).
import { decodeAttributes, rawNextHopV4 } from '../wire/attribute-block.js';
import { AFI_IPV4, AFI_IPV6, type Afi, type PathAttribute } from '../wire/types.js';
import type { AttrEntry } from '../rib/attr-intern.js';
import type { RouteTable } from '../rib/loc-rib.js';
import { keyToString, parsePrefix } from '../net/prefix.js';
import { ipv6ToString, uint32ToIpv4 } from '../net/address.js';
import type { PeerTable } from './peers.js';

export interface RouteView {
  prefix: string;
  /** Next hop as text: NEXT_HOP (IPv4) or the MP next hop (IPv6: "global" or "global link-local"). */
  nextHop: string;
  /** BIRD protocol name of the peer it came from. */
  from: string;
  /** True for the best path. */
  primary: boolean;
  stale: boolean;
  pathId: number;
  /** Raw attributes (4-octet form) and their decoded form. */
  attrs: Buffer;
  decoded: PathAttribute[];
}

export interface RouteFilter {
  prefix?: string;
  protocol?: string;
  primaryOnly?: boolean;
}

export interface ProtocolRouteStats {
  imported: number;
  exported: number;
  preferred: number;
  filtered: number;
}

const AS4_CTX = { as4: true, addPathV4: false, addPathV6: false, maxMessageLen: 65535 };

export function afiOfFamily(f: 4 | 6): Afi {
  return f === 6 ? AFI_IPV6 : AFI_IPV4;
}

/** Routes of one table (Adj-RIB-In paths, the best one marked primary), optionally filtered. */
export function* routesOf(t: RouteTable, peers: PeerTable, filter: RouteFilter): IterableIterator<RouteView> {
  const only = filter.prefix !== undefined ? parsePrefix(filter.prefix) : undefined;
  let lastKey: unknown;
  let prefix = '';
  for (const p of t.paths(only)) {
    if (filter.primaryOnly === true && !p.primary) continue;
    const peer = peers.at(p.peer);
    if (filter.protocol !== undefined && peer.name !== filter.protocol) continue;
    if (p.key !== lastKey) { lastKey = p.key; prefix = keyToString(p.key); }
    const a = p.attr;
    yield { prefix, from: peer.name, primary: p.primary, stale: p.stale, pathId: p.pathId, nextHop: nextHopText(a), attrs: a.attrs, decoded: decodedOf(a) };
  }
}

function decodedOf(a: AttrEntry): PathAttribute[] {
  if (a.decoded === undefined) a.decoded = decodeAttributes(a.attrs, AS4_CTX);
  return a.decoded as PathAttribute[];
}

function nextHopText(a: AttrEntry): string {
  if (a.nextHop !== null) {
    const nh = a.nextHop;
    if (nh.length === 4) return uint32ToIpv4(nh.readUInt32BE(0));
    if (nh.length === 16) return ipv6ToString(nh, 0);
    if (nh.length === 32) return `${ipv6ToString(nh, 0)} ${ipv6ToString(nh, 16)}`;
    return nh.toString('hex');
  }
  const v4 = rawNextHopV4(a.attrs);
  return v4 < 0 ? '' : uint32ToIpv4(v4);
}
