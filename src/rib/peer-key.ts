// One key for "this thing, as seen by / coming from this peer": an owner id and a peer index packed into one
// number, so the per-route caches stay a plain number-keyed Map (no string, no tuple allocation per lookup).
// Two users: the export cache on an attribute set (owner = update group id, peer = the route's source) and the
// update-group delta buckets (owner = exported attribute set id, peer = the source).
//
// The limit. Peer indices are handed out once per BGP protocol name for the process lifetime and never reused
// (the Adj-RIB-In and the counters are indexed by them), so the packing needs a bound on them: PEER_INDEX_LIMIT
// = 2^20 (1,048,576 distinct session names, far above any Calico cluster). Owner ids then stay exact in a
// double up to 2^33 (2^53 / 2^20). The peer table refuses an index at the limit (assertPeerIndex).

/** Exclusive upper bound on peer indices (2^20). */
export const PEER_INDEX_LIMIT = 1048576;

export type PeerKey = number & { readonly __peerKey: true };

export function peerKey(owner: number, peer: number): PeerKey {
  return (owner * PEER_INDEX_LIMIT + peer) as PeerKey;
}

export function peerOfKey(k: PeerKey): number {
  return k % PEER_INDEX_LIMIT;
}

export function ownerOfKey(k: PeerKey): number {
  return Math.floor(k / PEER_INDEX_LIMIT);
}

export function assertPeerIndex(idx: number): void {
  if (idx >= PEER_INDEX_LIMIT) throw new RangeError(`more than ${PEER_INDEX_LIMIT} distinct peers in one process lifetime`);
}
