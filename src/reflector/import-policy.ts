// Import policy: every check an UPDATE passes on its way into the Adj-RIB-In, in the order the inbound chain
// (inbound.ts) applies them:
//   1. MAX_AS_PATH_LENGTH, on the UPDATE as received: too long → its withdrawal goes on instead (as-path-limit.ts);
//   2. the RFC 4456 loop checks, on the scanned UPDATE: ORIGINATOR_ID == our router ID (every session), our
//      session's cluster ID in CLUSTER_LIST (client sessions only; policy.ts says why) → treated as withdraw;
//   3. maximum prefixes, on the Adj-RIB-In after the UPDATE went in: warning, then Cease (prefix-limit.ts).
import type { Logger } from '../log.js';
import { clusterListIncludes, type ScannedUpdate } from '../wire/update-scan.js';
import type { RibPeer } from '../rib/types.js';
import { AsPathLimit } from './as-path-limit.js';
import type { PeerRec } from './peers.js';
import { PrefixLimiter, type LimitedSession, type PrefixCountSource, type PrefixLimitSettings } from './prefix-limit.js';

export interface ImportPolicyOptions {
  /** MAX_AS_PATH_LENGTH; 0 or absent = no limit. */
  maxAsPathLength?: number;
  /** MAX_PREFIXES and friends; absent = no prefix limit. */
  prefixLimits?: PrefixLimitSettings;
}

export class ImportPolicy {
  readonly asPathLimit: AsPathLimit | undefined;
  readonly prefixLimits: PrefixLimiter | undefined;

  constructor(private readonly routerId: number, opts: ImportPolicyOptions, counts: PrefixCountSource) {
    this.asPathLimit = (opts.maxAsPathLength ?? 0) > 0 ? new AsPathLimit(opts.maxAsPathLength as number) : undefined;
    this.prefixLimits = opts.prefixLimits !== undefined ? new PrefixLimiter(counts, opts.prefixLimits) : undefined;
  }

  /** Step 1: the message the rest of the chain takes in (the original, or its withdrawal). */
  limitAsPath(r: PeerRec, peer: RibPeer, msg: Buffer): Buffer {
    const lim = this.asPathLimit;
    if (lim === undefined || r.neg === null) return msg;
    return lim.filter(peer.name, msg, r.neg.recvCtx, (n) => logOf(r, peer).warn({ length: n, max: lim.maxLength }, `AS_PATH of ${n} ASes is longer than MAX_AS_PATH_LENGTH ${lim.maxLength}: UPDATE treated as withdraw; further ones are only counted`));
  }

  /** Step 2: true when the scanned UPDATE's routes loop back to us (counted on the peer). */
  isLoop(r: PeerRec, msg: Uint8Array, s: ScannedUpdate): boolean {
    // Only ORIGINATOR_ID / CLUSTER_LIST are needed, and the scan located both.
    const loop = (s.hasOriginatorId && s.originatorId >>> 0 === this.routerId) || (r.isClient && clusterListIncludes(msg, s, r.clusterId));
    if (loop) r.counters.loopsRejected++;
    return loop;
  }

  /** Step 3, after the Adj-RIB-In took the UPDATE in. */
  checkPrefixLimit(r: PeerRec, peer: RibPeer): void {
    if (this.prefixLimits === undefined) return;
    this.prefixLimits.afterUpdate(limitedSession(r, peer));
  }

  /** The session is gone for good (removed by the datastore): drop its counts. */
  forget(name: string): void {
    this.prefixLimits?.forget(name);
    this.asPathLimit?.forget(name);
  }
}

function logOf(r: PeerRec, peer: RibPeer): Logger {
  return peer.log ?? r.log;
}

const limited = new WeakMap<RibPeer, LimitedSession>();

/** The prefix limiter acts on the session through the peer's ceaseAndHold (one adapter per session). */
function limitedSession(r: PeerRec, peer: RibPeer): LimitedSession {
  let s = limited.get(peer);
  if (s === undefined) {
    s = {
      spec: peer.spec,
      log: logOf(r, peer),
      ceaseAndHold: (subcode, data, hold, reason) => peer.ceaseAndHold?.(subcode, data, hold, reason) ?? false,
    };
    limited.set(peer, s);
  }
  return s;
}
