// Graceful restart (RFC 4724), both sides, kept apart from the peer record and the inbound chain:
// - helper for a peer that restarts: its routes are kept as stale for its restart time, swept at its
//   End-of-RIB (or when a new session comes without the capability, or when it does not send one in time);
// - our own restart: routes flow at once, only our End-of-RIB waits (restart-plan.ts, the pure plan, says why);
//   this class owns the deferral timer and asks the plan after every event that may end it.
import type { Logger } from '../log.js';
import { AFI_IPV4, AFI_IPV6, type Afi } from '../wire/types.js';
import type { RouteTable } from '../rib/loc-rib.js';
import type { RibNegotiated } from '../rib/types.js';
import { progressOf, type PeerRec, type PeerTable } from './peers.js';
import { EndOfRibDeferral } from './restart-plan.js';

const AFIS: Afi[] = [AFI_IPV4, AFI_IPV6];

export interface RestartOptions {
  restarting: boolean;
  deferralMs: number;
  /** How long a re-established peer's stale routes wait for its End-of-RIB (ms). */
  staleWaitMs: number;
}

export class GracefulRestart {
  readonly deferral: EndOfRibDeferral;
  private deferralTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly peers: PeerTable,
    private readonly tables: Record<Afi, RouteTable>,
    private readonly opts: RestartOptions,
    private readonly log: Logger,
    /** Members whose End-of-RIB was released need a catch-up step; changes need a run. */
    private readonly onRelease: (r: PeerRec) => void,
    private readonly schedule: () => void,
  ) {
    this.deferral = new EndOfRibDeferral(opts.restarting, opts.deferralMs, Date.now());
    if (this.deferral.deferring) {
      this.deferralTimer = setTimeout(() => { this.deferralTimer = null; this.check(); }, this.deferral.deferralMs);
      this.deferralTimer.unref?.();
    }
  }

  // ---- helper side --------------------------------------------------------------------------------------

  /** A session came up: stale routes from before wait for its End-of-RIB, or go now without the capability. */
  sessionUp(r: PeerRec, neg: RibNegotiated): void {
    if (!AFIS.some((a) => this.tables[a].countStale(r.idx) > 0)) return;
    if (neg.gracefulRestart === null) this.sweep(r, 'new session without graceful restart');
    else this.arm(r, this.opts.staleWaitMs, 'no End-of-RIB in time');
  }

  /** A session went down. graceful: the peer restarts, keep its routes as stale; else drop them now. */
  sessionDown(r: PeerRec, graceful: boolean): void {
    const gr = r.neg?.gracefulRestart ?? null;
    if (graceful && gr !== null) {
      let n = 0;
      for (const afi of AFIS) n += this.tables[afi].markStale(r.idx);
      this.arm(r, gr.peerRestartTime * 1000, 'restart time over');
      r.log.info({ stale: n, restartTime: gr.peerRestartTime }, 'graceful restart: keeping routes as stale');
    } else {
      this.disarm(r);
      for (const afi of AFIS) this.tables[afi].removePeer(r.idx, false);
    }
  }

  /** The peer's End-of-RIB for one family: its stale routes there are gone. */
  endOfRib(r: PeerRec, afi: Afi): void {
    r.counters.endOfRibIn++;
    r.eorReceived.add(afi);
    const n = this.tables[afi].removePeer(r.idx, true);
    if (n > 0) r.log.info({ removed: n, afi }, 'End-of-RIB: stale routes swept');
    if (AFIS.every((a) => this.tables[a].countStale(r.idx) === 0)) this.disarm(r);
    this.schedule();
    this.check();
  }

  private arm(r: PeerRec, ms: number, why: string): void {
    if (r.staleTimer !== null) clearTimeout(r.staleTimer);
    r.staleTimer = setTimeout(() => { r.staleTimer = null; this.sweep(r, why); }, ms);
    r.staleTimer.unref?.();
  }

  private disarm(r: PeerRec): void {
    if (r.staleTimer !== null) { clearTimeout(r.staleTimer); r.staleTimer = null; }
  }

  private sweep(r: PeerRec, why: string): void {
    let n = 0;
    for (const afi of AFIS) n += this.tables[afi].removePeer(r.idx, true);
    if (n > 0) r.log.info({ removed: n, why }, 'stale routes swept');
    this.disarm(r);
    this.schedule();
  }

  // ---- our own restart ----------------------------------------------------------------------------------

  setExpected(names: Iterable<string>): void {
    this.deferral.setExpected(names);
    this.check();
  }

  /** Ends the End-of-RIB deferral when the plan says so (every expected peer back with End-of-RIB, or time up). */
  check(): void {
    const end = this.deferral.evaluate(this.peers.list.map(progressOf), Date.now());
    if (end === null) return;
    if (this.deferralTimer !== null) { clearTimeout(this.deferralTimer); this.deferralTimer = null; }
    if (end.waitingFor.length > 0) this.log.warn({ why: end.why, waitingFor: end.waitingFor }, 'graceful restart: sending End-of-RIB without these peers; helpers now drop their stale routes');
    else this.log.info({ why: end.why }, 'graceful restart: sending End-of-RIB to every peer');
    for (const p of this.peers.list) this.onRelease(p);
    this.schedule();
  }

  close(): void {
    if (this.deferralTimer !== null) clearTimeout(this.deferralTimer);
    for (const p of this.peers.list) if (p.staleTimer !== null) clearTimeout(p.staleTimer);
  }
}
