// The BGP decision process (RFC 4271 §9.1.2.2 with RFC 4456 §9), pure: picks one best path among candidates.
// Inputs come from raw 4-octet-form attribute bytes, parsed once per interned attribute set (pathInfo).
import { AttrType } from '../wire/types.js';

/** What the decision process and the reflection loop checks need from one attribute set. */
export interface PathInfo {
  /** LOCAL_PREF, or the default 100 when absent (what BIRD and FRR assume on iBGP). */
  localPref: number;
  /** RFC 4271 §9.1.2.2 a): AS_SET counts one, confederation segments count zero (RFC 5065). */
  asPathLength: number;
  origin: number;
  /** MULTI_EXIT_DISC, or 0 when absent (RFC 4271 §9.1.2.2 c: a missing MED is the lowest). */
  med: number;
  /** Leftmost AS of the AS_PATH (the neighbour AS for MED comparison); 0 when the path is empty (local AS). */
  neighborAs: number;
  /** ORIGINATOR_ID as an unsigned 32-bit number, or -1 when absent. */
  originatorId: number;
  /** CLUSTER_LIST entries as unsigned 32-bit numbers, in wire order. */
  clusterList: number[];
  /** An attribute could not be parsed (lengths inconsistent); such a set never wins. */
  malformed: boolean;
}

export const DEFAULT_LOCAL_PREF = 100;

/** Parses the decision inputs from raw path attributes in 4-octet-AS form. */
export function parsePathInfo(b: Uint8Array): PathInfo {
  const info: PathInfo = {
    localPref: DEFAULT_LOCAL_PREF, asPathLength: 0, origin: 2, med: 0, neighborAs: 0,
    originatorId: -1, clusterList: [], malformed: false,
  };
  let p = 0;
  const end = b.length;
  while (p < end) {
    if (p + 3 > end) { info.malformed = true; break; }
    const flags = b[p];
    const type = b[p + 1];
    let len: number;
    let v: number;
    if (flags & 0x10) {
      if (p + 4 > end) { info.malformed = true; break; }
      len = (b[p + 2] << 8) | b[p + 3];
      v = p + 4;
    } else {
      len = b[p + 2];
      v = p + 3;
    }
    if (v + len > end) { info.malformed = true; break; }
    switch (type) {
      case AttrType.ORIGIN:
        if (len >= 1) info.origin = b[v];
        break;
      case AttrType.AS_PATH: {
        let q = v;
        let first = true;
        while (q + 2 <= v + len) {
          const segType = b[q];
          const count = b[q + 1];
          if (q + 2 + count * 4 > v + len) { info.malformed = true; break; }
          if (segType === 2) info.asPathLength += count;
          else if (segType === 1) info.asPathLength += 1;
          if (first && segType === 2 && count > 0) info.neighborAs = readU32(b, q + 2);
          first = false;
          q += 2 + count * 4;
        }
        break;
      }
      case AttrType.MULTI_EXIT_DISC:
        if (len === 4) info.med = readU32(b, v);
        break;
      case AttrType.LOCAL_PREF:
        if (len === 4) info.localPref = readU32(b, v);
        break;
      case AttrType.ORIGINATOR_ID:
        if (len === 4) info.originatorId = readU32(b, v);
        break;
      case AttrType.CLUSTER_LIST:
        for (let q = v; q + 4 <= v + len; q += 4) info.clusterList.push(readU32(b, q));
        break;
      default:
        break;
    }
    p = v + len;
  }
  return info;
}

export function readU32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

/** One path competing for a prefix. */
export interface Candidate {
  info: PathInfo;
  /** Learned over eBGP (peer AS differs from local AS). */
  ebgp: boolean;
  /** BGP identifier of the peer the path came from (unsigned 32-bit). */
  peerBgpId: number;
  /** The peer's address in a form that sorts numerically (see addressSortKey in net/address.ts). */
  peerAddressKey: string;
  /** ADD-PATH path identifier (0 without ADD-PATH); last tie-breaker between paths of one peer. */
  pathId: number;
}

/**
 * Returns the index of the best candidate (or -1 for none). Steps, in order:
 * LOCAL_PREF, AS_PATH length, ORIGIN, MED among routes from the same neighbour AS, eBGP over iBGP,
 * (IGP cost to the next hop: not applicable, a reflector has no IGP), BGP identifier with ORIGINATOR_ID in its
 * place (RFC 4456 §9), shorter CLUSTER_LIST (RFC 4456 §9), lower peer address, lower path identifier.
 */
export function selectBest(cands: readonly Candidate[]): number {
  const n = cands.length;
  if (n === 0) return -1;
  if (n === 1) return cands[0].info.malformed ? -1 : 0;
  let live: number[] = [];
  for (let i = 0; i < n; i++) if (!cands[i].info.malformed) live.push(i);
  const keepBest = (score: (c: Candidate) => number, higherWins: boolean) => {
    if (live.length < 2) return;
    let best = score(cands[live[0]]);
    for (const i of live) {
      const s = score(cands[i]);
      if (higherWins ? s > best : s < best) best = s;
    }
    live = live.filter((i) => score(cands[i]) === best);
  };
  keepBest((c) => c.info.localPref, true);
  keepBest((c) => c.info.asPathLength, false);
  keepBest((c) => c.info.origin, false);
  if (live.length > 1) {
    // RFC 4271 §9.1.2.2 c): drop a route when another from the same neighbour AS has a lower MED.
    const minMed = new Map<number, number>();
    for (const i of live) {
      const c = cands[i].info;
      const m = minMed.get(c.neighborAs);
      if (m === undefined || c.med < m) minMed.set(c.neighborAs, c.med);
    }
    live = live.filter((i) => cands[i].info.med === minMed.get(cands[i].info.neighborAs));
  }
  if (live.length > 1 && live.some((i) => cands[i].ebgp)) live = live.filter((i) => cands[i].ebgp);
  keepBest((c) => (c.info.originatorId >= 0 ? c.info.originatorId : c.peerBgpId), false);
  keepBest((c) => c.info.clusterList.length, false);
  if (live.length > 1) {
    let best = live[0];
    for (const i of live) {
      const a = cands[i];
      const b = cands[best];
      if (a.peerAddressKey < b.peerAddressKey || (a.peerAddressKey === b.peerAddressKey && a.pathId < b.pathId)) best = i;
    }
    return best;
  }
  return live.length === 0 ? -1 : live[0];
}
