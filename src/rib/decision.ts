// The BGP decision process (RFC 4271 §9.1.2.2 with RFC 4456 §9), pure: picks one best path among candidates.
// Inputs come from raw 4-octet-form attribute bytes, parsed once per interned attribute set (pathInfo).
import { RawAttributeCursor } from '../wire/attribute-block.js';
import { AsPathTally } from '../wire/as-path.js';
import { AttrType } from '../wire/types.js';
import { u32 } from '../wire/util.js';

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

const cursor = new RawAttributeCursor();
const tally = new AsPathTally();

/** Parses the decision inputs from raw path attributes in 4-octet-AS form. */
export function parsePathInfo(b: Uint8Array): PathInfo {
  const info: PathInfo = {
    localPref: DEFAULT_LOCAL_PREF, asPathLength: 0, origin: 2, med: 0, neighborAs: 0,
    originatorId: -1, clusterList: [], malformed: false,
  };
  const c = cursor.reset(b);
  while (c.next()) {
    const len = c.valueLength;
    switch (c.type) {
      case AttrType.ORIGIN:
        if (len >= 1) info.origin = b[c.valueStart];
        break;
      case AttrType.AS_PATH: {
        // RFC 4271 §9.1.2.2 a) with RFC 5065: an AS_SET counts one, confederation segments count zero.
        const t = tally.read(b, c.valueStart, c.end, 4);
        if (t.overrun) info.malformed = true;
        else {
          info.asPathLength += t.sequenceAses + t.sets;
          info.neighborAs = t.firstAs;
        }
        break;
      }
      case AttrType.MULTI_EXIT_DISC:
        if (len === 4) info.med = c.u32();
        break;
      case AttrType.LOCAL_PREF:
        if (len === 4) info.localPref = c.u32();
        break;
      case AttrType.ORIGINATOR_ID:
        if (len === 4) info.originatorId = c.u32();
        break;
      case AttrType.CLUSTER_LIST:
        for (let q = c.valueStart; q + 4 <= c.end; q += 4) info.clusterList.push(u32(b, q));
        break;
      default:
        break;
    }
  }
  if (c.malformed) info.malformed = true;
  return info;
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
