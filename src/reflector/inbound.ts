// The inbound chain: one UPDATE from an Established peer, top to bottom.
//
//   UPDATE ─► import policy, AS_PATH limit (on the message as received)
//          ─► scan (RFC 7606: session reset / treat-as-withdraw / attribute-discard; no decode)
//          ─► End-of-RIB?  graceful restart sweeps the peer's stale routes
//          ─► import policy, loop checks (ORIGINATOR_ID, CLUSTER_LIST)
//          ─► Adj-RIB-In: withdrawals, then announcements (attributes interned once per UPDATE)
//          ─► import policy, prefix limit (on the Adj-RIB-In counts)
//          ─► decision, scheduled (reflector.ts run(): decide dirty prefixes, export, update groups)
//
// The Loc-RIB tables own the prefix index, the path pool and the reference counts; this module only says
// what changed (RouteTable.announce*/withdraw*).
import { BgpError } from '../wire/errors.js';
import { forEachPrefixV4, forEachPrefixV6 } from '../wire/nlri.js';
import { ScannedUpdate, scanUpdate } from '../wire/update-scan.js';
import { AFI_IPV4, AFI_IPV6, type Afi } from '../wire/types.js';
import type { AttrEntry, AttrTable } from '../rib/attr-intern.js';
import type { RouteTable } from '../rib/loc-rib.js';
import type { RibPeer } from '../rib/types.js';
import type { ImportPolicy } from './import-policy.js';
import type { PeerRec, PeerTable } from './peers.js';

/** What the chain hands on: the decision scheduler and the End-of-RIB handling (graceful restart). */
export interface InboundSinks {
  schedule(): void;
  endOfRib(r: PeerRec, afi: Afi): void;
}

export class Inbound {
  private readonly scan = new ScannedUpdate();

  constructor(
    private readonly peers: PeerTable,
    private readonly attrs: AttrTable,
    private readonly tables: Record<Afi, RouteTable>,
    readonly policy: ImportPolicy,
    private readonly sinks: InboundSinks,
  ) {}

  /**
   * One whole UPDATE. Never throws for a malformed UPDATE: RFC 7606 treat-as-withdraw and attribute-discard
   * are handled here; an error that needs a session reset is counted, passed to peer.resetSession() when the
   * peer has it, and returned so the caller can send the NOTIFICATION (the prefix limit is then not checked).
   */
  handleUpdate(peer: RibPeer, msg: Buffer): BgpError | undefined {
    const r = this.peers.live(peer);
    if (r === undefined || r.neg === null) return undefined;
    r.counters.updatesIn++;
    const input = this.policy.limitAsPath(r, peer, msg);
    let s: ScannedUpdate;
    try {
      s = scanUpdate(input, r.neg.recvCtx, this.scan);
    } catch (e) {
      if (!(e instanceof BgpError)) throw e;
      this.countMalformed(r, 'session-reset', e);
      peer.resetSession?.(e);
      return e;
    }
    if (s.isEndOfRib) {
      if (s.endOfRibSafi === 1 && (s.endOfRibAfi === AFI_IPV4 || s.endOfRibAfi === AFI_IPV6)) this.sinks.endOfRib(r, s.endOfRibAfi);
    } else {
      this.intoAdjRibIn(r, input, s);
      this.sinks.schedule();
    }
    this.policy.checkPrefixLimit(r, peer);
    return undefined;
  }

  private countMalformed(r: PeerRec, kind: string, err: BgpError): void {
    r.counters.malformed[kind] = (r.counters.malformed[kind] ?? 0) + 1;
    if (r.logged.has(kind)) return;
    r.logged.add(kind);
    r.log.warn({ kind, code: err.code, subcode: err.subcode, offset: err.offset }, `malformed UPDATE (${kind}): ${err.message}; further ones of this kind are only counted`);
  }

  private intoAdjRibIn(r: PeerRec, msg: Buffer, s: ScannedUpdate): void {
    if (s.discarded !== undefined) for (const e of s.discarded) this.countMalformed(r, 'attribute-discard', e);
    const withdrawAll = s.treatAsWithdraw !== undefined;
    if (withdrawAll) this.countMalformed(r, 'treat-as-withdraw', s.treatAsWithdraw as BgpError);
    const neg = r.neg;
    if (neg === null) return;
    const v4 = this.tables[AFI_IPV4];
    const v6 = this.tables[AFI_IPV6];
    const has4 = r.families.includes(AFI_IPV4);
    const has6 = r.families.includes(AFI_IPV6);
    const ap4 = neg.addPath.rx[AFI_IPV4] === true;
    const ap6 = neg.addPath.rx[AFI_IPV6] === true;
    if (has4 && s.withdrawnEnd > s.withdrawnStart) this.withdraw(r, v4, msg, s.withdrawnStart, s.withdrawnEnd, ap4);
    if (s.mpUnreachAfi !== 0 && s.mpUnreachSafi === 1 && s.mpUnreachEnd > s.mpUnreachStart) {
      if (s.mpUnreachAfi === AFI_IPV4 && has4) this.withdraw(r, v4, msg, s.mpUnreachStart, s.mpUnreachEnd, ap4);
      else if (s.mpUnreachAfi === AFI_IPV6 && has6) this.withdraw(r, v6, msg, s.mpUnreachStart, s.mpUnreachEnd, ap6);
    }
    const reach4 = has4 && s.nlriEnd > s.nlriStart;
    const mpOk = s.mpReachSafi === 1 && s.mpReachEnd > s.mpReachStart && s.mpNextHop !== undefined;
    const mp4 = mpOk && s.mpReachAfi === AFI_IPV4 && has4;
    const mp6 = mpOk && s.mpReachAfi === AFI_IPV6 && has6;
    if (!reach4 && !mp4 && !mp6) return;
    const reject = withdrawAll || this.policy.isLoop(r, msg, s);
    if (reach4) {
      if (reject) this.withdraw(r, v4, msg, s.nlriStart, s.nlriEnd, ap4);
      else {
        const e = this.attrs.intern(s.attrs, 0, s.attrs.length);
        this.announce(r, v4, e, msg, s.nlriStart, s.nlriEnd, ap4);
        this.attrs.release(e);
      }
    }
    if (mp4 || mp6) {
      const t = mp4 ? v4 : v6;
      const ap = mp4 ? ap4 : ap6;
      if (reject) this.withdraw(r, t, msg, s.mpReachStart, s.mpReachEnd, ap);
      else {
        const nh = s.mpNextHop as Uint8Array;
        const e = this.attrs.intern(s.attrs, 0, s.attrs.length, nh, 0, nh.length);
        this.announce(r, t, e, msg, s.mpReachStart, s.mpReachEnd, ap);
        this.attrs.release(e);
      }
    }
  }

  private announce(r: PeerRec, t: RouteTable, e: AttrEntry, msg: Uint8Array, start: number, end: number, ap: boolean): void {
    const idx = r.idx;
    let n = 0;
    if (t.afi === AFI_IPV4) {
      forEachPrefixV4(msg, start, end, ap, (addr, len, pathId) => { t.announceV4(addr, len, idx, pathId, e); n++; });
    } else {
      forEachPrefixV6(msg, start, end, ap, (buf, off, len, pathId) => { t.announceV6(buf, off, len, idx, pathId, e); n++; });
    }
    r.counters.prefixesAnnounced += n;
  }

  private withdraw(r: PeerRec, t: RouteTable, msg: Uint8Array, start: number, end: number, ap: boolean): void {
    const idx = r.idx;
    let n = 0;
    if (t.afi === AFI_IPV4) {
      forEachPrefixV4(msg, start, end, ap, (addr, len, pathId) => { n++; t.withdrawV4(addr, len, idx, pathId); });
    } else {
      forEachPrefixV6(msg, start, end, ap, (buf, off, len, pathId) => { n++; t.withdrawV6(buf, off, len, idx, pathId); });
    }
    r.counters.prefixesWithdrawn += n;
  }
}
