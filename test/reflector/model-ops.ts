// The operations the update-group model tests draw (model.test.ts, add-path-model.test.ts): announcements and
// withdrawals by peer and prefix, socket backpressure (block / drain), session resets, graceful restarts,
// End-of-RIB and route refreshes, and "settle" (let the engine run until idle).
import fc from 'fast-check';
import type { Reflector } from '../../src/reflector/reflector.js';
import type { RibNegotiated } from '../../src/rib/types.js';
import { attrs, updateV4 } from '../rib/helpers.js';
import { settle, type FakePeer } from './fake-peer.js';

export type Op =
  | { k: 'announce'; p: number; x: number; lp: number }
  | { k: 'withdraw'; p: number; x: number }
  | { k: 'block'; p: number }
  | { k: 'drain'; p: number }
  | { k: 'reset'; p: number }
  | { k: 'refresh'; p: number }
  | { k: 'grRestart'; p: number }
  | { k: 'eor'; p: number }
  | { k: 'settle' };

/** One operation over `peers` peers and `prefixes` prefixes; announcements weigh `announceWeight` against 1 for most. */
export function opArb(peers: number, prefixes: number, announceWeight = 6): fc.Arbitrary<Op> {
  const peer = fc.nat(peers - 1);
  const on = <K extends 'block' | 'drain' | 'reset' | 'refresh' | 'grRestart' | 'eor'>(k: K) =>
    ({ weight: 1, arbitrary: fc.record({ k: fc.constant(k), p: peer }) });
  return fc.oneof(
    { weight: announceWeight, arbitrary: fc.record({ k: fc.constant('announce' as const), p: peer, x: fc.nat(prefixes - 1), lp: fc.constantFrom(100, 200, 300) }) },
    { weight: 3, arbitrary: fc.record({ k: fc.constant('withdraw' as const), p: peer, x: fc.nat(prefixes - 1) }) },
    on('block'), on('drain'), on('reset'), on('refresh'), on('grRestart'), on('eor'),
    { weight: 2, arbitrary: fc.constant({ k: 'settle' as const }) },
  ) as fc.Arbitrary<Op>;
}

/** The peers of one model run, as the driver below needs them. */
export interface ModelWorld {
  peers: FakePeer[];
  /** A fresh session (FakePeer) for peer i and its negotiated capabilities. */
  make(i: number): { peer: FakePeer; neg: RibNegotiated };
  /** Called with the old session just before peer i's session is replaced (read what it received). */
  beforeReplace(i: number, old: FakePeer): void;
  prefixOf(x: number): string;
  nextHopOf(i: number): string;
}

/**
 * Runs the operations against the reflector; returns what each peer announces now (prefix -> LOCAL_PREF): what
 * it announced and did not withdraw, minus what a graceful restart made stale and End-of-RIB then removed, and
 * nothing from before a plain reset. Every peer is drained and the engine settled at the end.
 */
export async function runOps(r: Reflector, ops: readonly Op[], w: ModelWorld): Promise<Map<string, number>[]> {
  const { peers } = w;
  const sent: Map<string, number>[] = peers.map(() => new Map<string, number>());
  // Graceful restart: what each peer announced before its restart and has not repeated since (stale).
  const stale: Set<string>[] = peers.map(() => new Set());
  const replace = (i: number, graceful: boolean) => {
    r.peerDown(peers[i], { graceful });
    w.beforeReplace(i, peers[i]);
    if (graceful) for (const x of sent[i].keys()) stale[i].add(x); // kept (stale) until repeated or End-of-RIB
    else {
      sent[i].clear(); // a new session starts with an empty Adj-RIB-In
      stale[i].clear();
    }
    const s = w.make(i);
    peers[i] = s.peer;
    r.peerUp(s.peer, s.neg);
  };
  for (const op of ops) {
    if (op.k === 'settle') { await settle(r); continue; }
    const p = peers[op.p];
    if (op.k === 'announce') {
      r.handleUpdate(p, updateV4({ attrs: attrs({ nextHop: w.nextHopOf(op.p), localPref: op.lp }), nlri: [w.prefixOf(op.x)] }));
      sent[op.p].set(w.prefixOf(op.x), op.lp);
      stale[op.p].delete(w.prefixOf(op.x));
    } else if (op.k === 'withdraw') {
      r.handleUpdate(p, updateV4({ withdrawn: [w.prefixOf(op.x)] }));
      sent[op.p].delete(w.prefixOf(op.x));
      stale[op.p].delete(w.prefixOf(op.x));
    } else if (op.k === 'eor') {
      r.handleUpdate(p, updateV4({}));
      for (const x of stale[op.p]) sent[op.p].delete(x);
      stale[op.p].clear();
    } else if (op.k === 'grRestart') replace(op.p, true);
    else if (op.k === 'reset') replace(op.p, false);
    else if (op.k === 'block') p.blocked = true;
    else if (op.k === 'drain') { p.blocked = false; r.handleDrain(p); }
    else r.handleRouteRefresh(p, { afi: 1, safi: 1, subtype: 0 });
  }
  for (const p of peers) { p.blocked = false; r.handleDrain(p); }
  await settle(r);
  return sent;
}
