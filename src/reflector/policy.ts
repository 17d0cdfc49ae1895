// RFC 4456 route reflection rules, pure: who may receive a route, the loop checks, and the export rewrite of
// raw attribute bytes (ORIGINATOR_ID added when absent, our CLUSTER_ID prepended, unknown transitives partial).
//
// Shared cluster ID between meshed reflectors (projectcalico/calico#2735): we do what BIRD 1.6 did.
// - On receipt, ORIGINATOR_ID == our router ID is a loop on every session (treat as withdraw).
// - The CLUSTER_LIST check is done only on route-reflector-client sessions (they carry a cluster ID): a route
//   from a client whose CLUSTER_LIST holds that session's cluster ID is treated as withdrawn, and a route whose
//   CLUSTER_LIST holds a client session's cluster ID is not exported to that client.
// - A route from a Mesh_ (non-client) session is accepted even when its CLUSTER_LIST holds our cluster ID, so
//   it shows in our table, but it is never reflected to our clients (the export check above), and non-client
//   to non-client is never propagated. So two meshed reflectors sharing one cluster ID do not pass each other's
//   clients' routes on — right for redundant reflectors serving the same nodes, and the reported "routes
//   missing" effect when they serve different nodes. RFC 4456 §8 would drop such routes on receipt; the
//   difference is only visible in `show route` on the reflector.
import type { PathInfo } from '../rib/decision.js';

export interface ReflectSession {
  /** RFC 4456 client (Calico Global_/Node_ session), false for a non-client (Mesh_ reflector). */
  isClient: boolean;
  /** Cluster ID of this session as an unsigned 32-bit number. */
  clusterId: number;
}

export type ImportVerdict = 'accept' | 'originator-loop' | 'cluster-loop';

export function importCheck(info: PathInfo, routerId: number, from: ReflectSession): ImportVerdict {
  if (info.originatorId === routerId) return 'originator-loop';
  if (from.isClient && info.clusterList.includes(from.clusterId)) return 'cluster-loop';
  return 'accept';
}

/** RFC 4456 §6: client → clients and non-clients; non-client → clients only. (Never to the sender: per member.) */
export function mayReflect(fromClient: boolean, toClient: boolean): boolean {
  return fromClient || toClient;
}

/** The full export decision for a route learned on `from`, offered to sessions like `to`. */
export function exportAllowed(info: PathInfo, from: ReflectSession, to: ReflectSession): boolean {
  if (!mayReflect(from.isClient, to.isClient)) return false;
  if (to.isClient && info.clusterList.includes(to.clusterId)) return false;
  return true;
}

/** exportAllowed on raw attribute bytes: only CLUSTER_LIST is looked at, nothing is allocated. */
export function exportAllowedRaw(attrs: Uint8Array, from: ReflectSession, to: ReflectSession): boolean {
  if (!mayReflect(from.isClient, to.isClient)) return false;
  return !(to.isClient && rawClusterListIncludes(attrs, to.clusterId));
}

/** Does the CLUSTER_LIST in raw path attributes hold id? */
export function rawClusterListIncludes(b: Uint8Array, id: number): boolean {
  let p = 0;
  while (p + 3 <= b.length) {
    const flags = b[p];
    const ext = (flags & 0x10) !== 0;
    const len = ext ? (b[p + 2] << 8) | b[p + 3] : b[p + 2];
    const v = p + (ext ? 4 : 3);
    if (b[p + 1] === 10) {
      for (let q = v; q + 4 <= v + len && q + 4 <= b.length; q += 4) {
        if ((((b[q] << 24) | (b[q + 1] << 16) | (b[q + 2] << 8) | b[q + 3]) >>> 0) === id >>> 0) return true;
      }
      return false;
    }
    p = v + len;
  }
  return false;
}

/**
 * Cluster IDs to prepend, in the order they must end up at the front of CLUSTER_LIST (first = leftmost).
 * From a client: the source session's ID; toward a client with another ID, that ID in front of it too.
 */
export function clusterIdsToPrepend(from: ReflectSession, to: ReflectSession): number[] {
  if (from.isClient) {
    return to.isClient && to.clusterId !== from.clusterId ? [to.clusterId, from.clusterId] : [from.clusterId];
  }
  return to.isClient ? [to.clusterId] : [];
}

/** Attribute types we recognise; an unrecognised optional transitive attribute is passed on with Partial set. */
const KNOWN = new Uint8Array(256);
for (const t of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32]) KNOWN[t] = 1;

/**
 * Rewrites raw attributes (without MP_REACH/MP_UNREACH) for reflection: adds ORIGINATOR_ID = originatorIfAbsent
 * when absent, prepends `prepend` to CLUSTER_LIST (creating it when absent), sets the Partial bit on unknown
 * optional transitive attributes and drops unknown optional non-transitive ones. Everything else is copied
 * byte for byte, including the NEXT_HOP. New attributes go in ascending type order.
 */
export function reflectAttributes(attrs: Uint8Array, originatorIfAbsent: number, prepend: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(attrs.length + 7 + 4 + 4 * prepend.length + 1);
  let o = 0;
  let p = 0;
  let wroteOriginator = false;
  let wroteCluster = false;
  const end = attrs.length;
  const writeOriginator = () => {
    out[o] = 0x80; out[o + 1] = 9; out[o + 2] = 4;
    out.writeUInt32BE(originatorIfAbsent >>> 0, o + 3);
    o += 7;
    wroteOriginator = true;
  };
  const writeCluster = (old: Uint8Array | null, oldStart: number, oldLen: number, oldFlags: number) => {
    const len = oldLen + 4 * prepend.length;
    const ext = len > 255;
    out[o] = (oldFlags & 0xe0) | 0x80 | (ext ? 0x10 : 0);
    out[o + 1] = 10;
    if (ext) { out.writeUInt16BE(len, o + 2); o += 4; } else { out[o + 2] = len; o += 3; }
    for (const id of prepend) { out.writeUInt32BE(id >>> 0, o); o += 4; }
    if (old !== null) { out.set(old.subarray(oldStart, oldStart + oldLen), o); o += oldLen; }
    wroteCluster = true;
  };
  while (p < end) {
    const flags = attrs[p];
    const type = attrs[p + 1];
    const ext = (flags & 0x10) !== 0;
    const len = ext ? (attrs[p + 2] << 8) | attrs[p + 3] : attrs[p + 2];
    const hdr = ext ? 4 : 3;
    const next = p + hdr + len;
    if (!wroteOriginator && type > 9) writeOriginator();
    if (!wroteCluster && type > 10 && prepend.length > 0) writeCluster(null, 0, 0, 0x80);
    if (type === 9) {
      wroteOriginator = true;
      out.set(attrs.subarray(p, next), o);
      o += next - p;
    } else if (type === 10) {
      if (prepend.length > 0) writeCluster(attrs, p + hdr, len, flags);
      else { out.set(attrs.subarray(p, next), o); o += next - p; wroteCluster = true; }
    } else if (KNOWN[type] === 1 || (flags & 0x80) === 0) {
      out.set(attrs.subarray(p, next), o);
      o += next - p;
    } else if (flags & 0x40) {
      out.set(attrs.subarray(p, next), o);
      out[o] = flags | 0x20;
      o += next - p;
    }
    // else: unknown optional non-transitive — not passed on (RFC 4271 §5).
    p = next;
  }
  if (!wroteOriginator) writeOriginator();
  if (!wroteCluster && prepend.length > 0) writeCluster(null, 0, 0, 0x80);
  return out.subarray(0, o);
}
