// RFC 4456 route reflection rules, pure: who may receive a route, the loop checks, and which cluster IDs the
// export rewrite prepends (the rewrite of the bytes is src/wire/reflect-rewrite.ts).
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
import { rawClusterListIncludes } from '../wire/attribute-block.js';

export interface ReflectSession {
  /** RFC 4456 client (Calico Global_/Node_ session), false for a non-client (Mesh_ reflector). */
  isClient: boolean;
  /** Cluster ID of this session as an unsigned 32-bit number. */
  clusterId: number;
}

/** RFC 4456 §6: client → clients and non-clients; non-client → clients only. (Never to the sender: per member.) */
export function mayReflect(fromClient: boolean, toClient: boolean): boolean {
  return fromClient || toClient;
}

/**
 * The export decision for a route learned on `from`, offered to sessions like `to`, on raw attribute bytes: the
 * reflection matrix, then our client session's cluster ID in CLUSTER_LIST (only CLUSTER_LIST is looked at,
 * nothing is allocated). The loop checks on receipt are in import-policy.ts.
 */
export function exportAllowedRaw(attrs: Uint8Array, from: ReflectSession, to: ReflectSession): boolean {
  if (!mayReflect(from.isClient, to.isClient)) return false;
  return !(to.isClient && rawClusterListIncludes(attrs, to.clusterId));
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
