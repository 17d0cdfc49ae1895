// The peer record: what the engine keeps per BGP protocol name (one index for the process lifetime, so the
// Adj-RIB-In, the counters and the export cache can key on a small number), and the table of them.
import { peerLogger, type Logger } from '../log.js';
import type { Afi } from '../wire/types.js';
import type { DecisionPeer } from '../rib/loc-rib.js';
import { assertPeerIndex } from '../rib/peer-key.js';
import type { RibNegotiated, RibPeer } from '../rib/types.js';
import type { GroupMember, UpdateGroup } from '../rib/update-group.js';
import type { PeerProgress } from './restart-plan.js';

export interface PeerCounters {
  updatesIn: number;
  prefixesAnnounced: number;
  prefixesWithdrawn: number;
  endOfRibIn: number;
  /** Routes dropped by the RFC 4456 loop checks on receipt. */
  loopsRejected: number;
  /** RFC 7606 outcomes by kind ("treat-as-withdraw", "attribute-discard", "session-reset"). */
  malformed: Record<string, number>;
  routeRefreshIn: number;
}

export interface Membership {
  group: UpdateGroup;
  member: GroupMember;
}

export interface PeerRec extends DecisionPeer {
  idx: number;
  name: string;
  /** The session while it is up (null when down, possibly still holding stale routes). */
  peer: RibPeer | null;
  isClient: boolean;
  clusterId: number;
  up: boolean;
  neg: RibNegotiated | null;
  families: Afi[];
  members: Map<Afi, Membership>;
  eorReceived: Set<Afi>;
  staleTimer: NodeJS.Timeout | null;
  counters: PeerCounters;
  /** Malformed-UPDATE kinds already logged once. */
  logged: Set<string>;
  log: Logger;
  upSince: number;
}

export class PeerTable {
  readonly list: PeerRec[] = [];
  private readonly byName = new Map<string, PeerRec>();

  get(name: string): PeerRec | undefined {
    return this.byName.get(name);
  }

  at(idx: number): PeerRec {
    return this.list[idx];
  }

  /** The record of this peer, created on first sight. */
  record(peer: RibPeer): PeerRec {
    let r = this.byName.get(peer.name);
    if (r === undefined) {
      assertPeerIndex(this.list.length);
      r = {
        idx: this.list.length, name: peer.name, peer: null, isClient: false, clusterId: 0, up: false, neg: null,
        families: [], members: new Map(), eorReceived: new Set(), staleTimer: null, ebgp: false, bgpId: 0,
        addressKey: '', logged: new Set(), log: peerLogger(peer.name), upSince: 0,
        counters: { updatesIn: 0, prefixesAnnounced: 0, prefixesWithdrawn: 0, endOfRibIn: 0, loopsRejected: 0, malformed: {}, routeRefreshIn: 0 },
      };
      this.list.push(r);
      this.byName.set(peer.name, r);
    }
    return r;
  }

  /** The record when this exact session is the one up (events from a replaced session are ignored). */
  live(peer: RibPeer): PeerRec | undefined {
    const r = this.byName.get(peer.name);
    return r !== undefined && r.up && r.peer === peer ? r : undefined;
  }
}

/** A peer as our own graceful restart sees it (restart-plan.ts). */
export function progressOf(p: PeerRec): PeerProgress {
  const gr = p.neg?.gracefulRestart ?? null;
  return {
    name: p.name, up: p.up, gracefulRestart: gr !== null, restarting: gr?.peerRestarting === true,
    endOfRibIn: p.families.every((a) => p.eorReceived.has(a)),
  };
}
