// From a captured frame's link-layer bytes to a TCP segment: link-layer headers (Ethernet with VLAN tags,
// Linux cooked SLL and SLL2, raw IP, BSD loopback), IPv4 and IPv6 headers, the TCP header. Pure.
import { ipv4BytesToString, ipv6ToMixedString } from '../../net/address.js';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = [0x8100, 0x88a8, 0x9100];

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

export interface TcpSegment {
  family: 4 | 6;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  /** The TCP payload as captured. */
  payload: Uint8Array;
  /** Payload octets the IP header announces but the capture cut off (snap length). */
  missing: number;
}

/** Why a frame carries no TCP segment we can use (not an error: other traffic is simply skipped). */
export interface Skipped {
  skip: string;
}

/** Offset of the IP header in a frame of this link type and the IP version it announces, or why not. */
function ipStart(linkType: number, d: Uint8Array): { at: number } | Skipped {
  const u16 = (o: number): number => (d[o]! << 8) | d[o + 1]!;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      let o = 12;
      if (d.length < o + 2) return { skip: 'short Ethernet header' };
      let et = u16(o);
      // 802.1Q / 802.1ad tags: 4 octets each before the real EtherType.
      while (ETHERTYPE_VLAN.includes(et) && d.length >= o + 6) {
        o += 4;
        et = u16(o);
      }
      if (et !== ETHERTYPE_IPV4 && et !== ETHERTYPE_IPV6) return { skip: `EtherType 0x${et.toString(16)}` };
      return { at: o + 2 };
    }
    case LINKTYPE_LINUX_SLL: {
      if (d.length < 16) return { skip: 'short SLL header' };
      const p = u16(14);
      return p === ETHERTYPE_IPV4 || p === ETHERTYPE_IPV6 ? { at: 16 } : { skip: `SLL protocol 0x${p.toString(16)}` };
    }
    case LINKTYPE_LINUX_SLL2: {
      if (d.length < 20) return { skip: 'short SLL2 header' };
      const p = u16(0);
      return p === ETHERTYPE_IPV4 || p === ETHERTYPE_IPV6 ? { at: 20 } : { skip: `SLL2 protocol 0x${p.toString(16)}` };
    }
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return { at: 0 };
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      // A 4-octet address family: host byte order of the capturing machine for NULL, network order for
      // LOOP. AF_INET is 2 everywhere; AF_INET6 is 10, 24, 28 or 30 depending on the OS. The IP version
      // nibble decides, the family only has to be one of those.
      if (d.length < 4) return { skip: 'short loopback header' };
      const be = ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
      const le = ((d[3]! << 24) | (d[2]! << 16) | (d[1]! << 8) | d[0]!) >>> 0;
      const fam = linkType === LINKTYPE_LOOP ? be : Math.min(be, le);
      return [2, 10, 24, 28, 30].includes(fam) ? { at: 4 } : { skip: `loopback address family ${fam}` };
    }
    default:
      return { skip: `link type ${linkType} not supported` };
  }
}

const IPV6_EXT_HEADERS = new Set([0, 43, 60]); // hop-by-hop, routing, destination options
const IPV6_FRAGMENT = 44;
const PROTO_TCP = 6;

/** The TCP segment in a frame of this link type, or why there is none. */
export function tcpSegment(linkType: number, d: Uint8Array): TcpSegment | Skipped {
  const s = ipStart(linkType, d);
  if ('skip' in s) return s;
  let o = s.at;
  if (d.length < o + 1) return { skip: 'no IP header' };
  const version = d[o]! >> 4;
  let family: 4 | 6;
  let src: string;
  let dst: string;
  let tcpAt: number;
  let ipEnd: number; // end of the IP payload as the IP header announces it
  if (version === 4) {
    family = 4;
    const ihl = (d[o]! & 0x0f) * 4;
    if (ihl < 20 || d.length < o + ihl) return { skip: 'short IPv4 header' };
    const total = (d[o + 2]! << 8) | d[o + 3]!;
    const fragOff = ((d[o + 6]! & 0x1f) << 8) | d[o + 7]!;
    const moreFragments = (d[o + 6]! & 0x20) !== 0;
    if (fragOff !== 0 || moreFragments) return { skip: 'IPv4 fragment' };
    if (d[o + 9] !== PROTO_TCP) return { skip: `IP protocol ${d[o + 9]}` };
    src = ipv4BytesToString(d, o + 12);
    dst = ipv4BytesToString(d, o + 16);
    tcpAt = o + ihl;
    // Total length 0 appears with TCP segmentation offload; then the frame's end is the packet's end.
    ipEnd = total === 0 ? d.length : o + total;
  } else if (version === 6) {
    family = 6;
    if (d.length < o + 40) return { skip: 'short IPv6 header' };
    const payloadLen = (d[o + 4]! << 8) | d[o + 5]!;
    let next = d[o + 6]!;
    src = ipv6ToMixedString(d, o + 8);
    dst = ipv6ToMixedString(d, o + 24);
    ipEnd = payloadLen === 0 ? d.length : o + 40 + payloadLen; // 0: jumbogram or offload
    o += 40;
    // Bounded: every extension header advances o by at least 8 octets within the frame.
    while (IPV6_EXT_HEADERS.has(next)) {
      if (d.length < o + 2) return { skip: 'short IPv6 extension header' };
      next = d[o]!;
      o += (d[o + 1]! + 1) * 8;
    }
    if (next === IPV6_FRAGMENT) return { skip: 'IPv6 fragment' };
    if (next !== PROTO_TCP) return { skip: `IPv6 next header ${next}` };
    tcpAt = o;
  } else {
    return { skip: `IP version ${version}` };
  }
  if (d.length < tcpAt + 20) return { skip: 'short TCP header' };
  const u16 = (p: number): number => (d[p]! << 8) | d[p + 1]!;
  const u32 = (p: number): number => ((d[p]! << 24) | (d[p + 1]! << 16) | (d[p + 2]! << 8) | d[p + 3]!) >>> 0;
  const dataOff = (d[tcpAt + 12]! >> 4) * 4;
  if (dataOff < 20 || ipEnd < tcpAt + dataOff) return { skip: 'bad TCP data offset' };
  const payloadStart = tcpAt + dataOff;
  const capturedEnd = Math.min(ipEnd, d.length);
  const payload = capturedEnd > payloadStart ? d.subarray(payloadStart, capturedEnd) : new Uint8Array(0);
  return {
    family,
    src,
    dst,
    srcPort: u16(tcpAt),
    dstPort: u16(tcpAt + 2),
    seq: u32(tcpAt + 4),
    ack: u32(tcpAt + 8),
    flags: d[tcpAt + 13]!,
    payload,
    missing: Math.max(0, ipEnd - Math.max(capturedEnd, payloadStart)),
  };
}

/** "192.0.2.1:179" or "[2001:db8::1]:179". */
export function endpointText(family: 4 | 6, addr: string, port: number): string {
  return family === 6 ? `[${addr}]:${port}` : `${addr}:${port}`;
}
