// The route reflector: owns the attribute table, the Loc-RIB of both families and the update groups, takes
// UPDATEs from peers, runs the decision process and RFC 4456 export per group, and feeds the members.
//
// Flow: handleUpdate() scans the UPDATE (no decode), interns its attributes and updates the Adj-RIB-In,
// marking prefixes dirty; one setImmediate later (no fixed timer) run() decides the dirty prefixes in bounded
// slices, hands changed prefixes to every update group (one encode per group), then lets members that are
// joining, refreshing or were blocked catch up. Graceful restart: helper for peers (stale routes kept for the
// restart time, swept at End-of-RIB); after our own restart routes flow at once and only our End-of-RIB is
// deferred until every configured peer is back with its End-of-RIB (restart-plan.ts says why).
import { DEFAULTS } from '../config/defaults.js';
import { peerLogger, type Logger } from '../log.js';
import { attributeBlockToAs2, decodeAttributes } from '../wire/attribute-block.js';
import { BgpError } from '../wire/errors.js';
import { forEachPrefixV4, forEachPrefixV6 } from '../wire/nlri.js';
import { ScannedUpdate, scanUpdate } from '../wire/update-scan.js';
import { AFI_IPV4, AFI_IPV6, type Afi, type PathAttribute } from '../wire/types.js';
import { AttrTable, type AttrEntry } from '../rib/attr-intern.js';
import { addressSortKey } from '../rib/decision.js';
import { RouteTable, type DecisionPeer } from '../rib/loc-rib.js';
import type { PrefixIndexV4, PrefixIndexV6 } from '../rib/prefix-index.js';
import { ipv4ToString, ipv6ToString, keyToString, parsePrefix, v6Key } from '../rib/prefix-key.js';
import type { RibNegotiated, RibPeer, RibRouteRefresh } from '../rib/types.js';
import { GroupMember, UpdateGroup, signatureKey, type ExportSignature } from '../rib/update-group.js';
import type { Exporter } from '../rib/update-group-adv.js';
import { EndOfRibDeferral, type PeerProgress } from './restart-plan.js';
import { clusterIdsToPrepend, exportAllowedRaw, idFromDottedQuad, idToDottedQuad, importCheck, reflectAttributes } from './policy.js';

export interface ReflectorOptions {
  /** Our BGP identifier (IP). */
  routerId: string;
  /** Slots decided / scanned per slice before yielding to the event loop. */
  sliceSize?: number;
  /** Time budget of one processing slice in ms (default 10): fan-out and catch-up yield to I/O after it. */
  sliceMs?: number;
  /**
   * We may come back from a restart (R bit, as BIRD -R): End-of-RIB to peers that may hold our routes as stale
   * waits for every configured peer's End-of-RIB (setExpectedPeers) or restartDeferralMs. Routes are never held.
   */
  restarting?: boolean;
  /** Longest End-of-RIB is deferred after our start (ms); default 120 s, our advertised restart time. */
  restartDeferralMs?: number;
  /** How long a re-established peer's stale routes wait for its End-of-RIB (ms). */
  staleWaitMs?: number;
  /** Bytes a member may queue past a full socket before it leaves its group's shared stream (default OUTBOUND_QUEUE_LIMIT's). */
  lagLimitBytes?: number;
  /** Tables up to this many prefixes are encoded once for all members that join together (default 65536). */
  fullTableCacheMax?: number;
  log?: Logger;
}

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

interface PeerRec extends DecisionPeer {
  idx: number;
  name: string;
  peer: RibPeer | null;
  isClient: boolean;
  clusterId: number;
  up: boolean;
  neg: RibNegotiated | null;
  families: Afi[];
  members: Map<Afi, { group: UpdateGroup; member: GroupMember }>;
  eorReceived: Set<Afi>;
  staleTimer: NodeJS.Timeout | null;
  counters: PeerCounters;
  logged: Set<string>;
  log: Logger;
  upSince: number;
}

export interface RouteView {
  prefix: string;
  /** Next hop as text: NEXT_HOP (IPv4) or the MP next hop (IPv6: "global" or "global link-local"). */
  nextHop: string;
  /** BIRD protocol name of the peer it came from. */
  from: string;
  /** True for the best path. */
  primary: boolean;
  stale: boolean;
  pathId: number;
  /** Raw attributes (4-octet form) and their decoded form. */
  attrs: Buffer;
  decoded: PathAttribute[];
}

export interface RouteFilter {
  prefix?: string;
  protocol?: string;
  primaryOnly?: boolean;
}

export interface ProtocolRouteStats {
  imported: number;
  exported: number;
  preferred: number;
  filtered: number;
}

const AFIS: Afi[] = [AFI_IPV4, AFI_IPV6];
const AS4_CTX = { as4: true, addPathV4: false, addPathV6: false, maxMessageLen: 65535 };

function afiOfFamily(f: 4 | 6): Afi {
  return f === 6 ? AFI_IPV6 : AFI_IPV4;
}

export class Reflector {
  readonly attrs = new AttrTable();
  readonly tables: Record<Afi, RouteTable>;
  readonly routerId: number;
  private readonly groups: Record<Afi, Map<string, UpdateGroup>> = { [AFI_IPV4]: new Map(), [AFI_IPV6]: new Map() } as Record<Afi, Map<string, UpdateGroup>>;
  private readonly exporters = new Map<UpdateGroup, Exporter>();
  private readonly peers: PeerRec[] = [];
  private readonly byName = new Map<string, PeerRec>();
  private nextGroupId = 1;
  private readonly slice: number;
  /** Time one run() may take before it yields to I/O (ms). */
  private readonly sliceMs: number;
  private scheduled = false;
  private readonly syncing = new Set<{ group: UpdateGroup; member: GroupMember }>();
  private readonly scan = new ScannedUpdate();
  private readonly log: Logger;
  /** Our own graceful restart: End-of-RIB deferred until every configured peer is back, or the time is up. */
  private readonly deferral: EndOfRibDeferral;
  private deferralTimer: NodeJS.Timeout | null = null;
  private readonly staleWaitMs: number;
  private readonly lagLimit: number;
  private readonly fullTableCacheMax: number | undefined;
  private closed = false;
  /** Bumped whenever cached export results are forgotten (invalidates the exporters' memo). */
  private exportGen = 0;
  /** Longest synchronous slice of run() in ms, for the event-loop stall figure. */
  maxSliceMs = 0;

  constructor(opts: ReflectorOptions) {
    this.routerId = idFromDottedQuad(opts.routerId);
    this.slice = opts.sliceSize ?? 8192;
    this.sliceMs = opts.sliceMs ?? 10;
    this.log = opts.log ?? peerLogger('reflector');
    this.staleWaitMs = opts.staleWaitMs ?? 360_000;
    this.lagLimit = opts.lagLimitBytes ?? DEFAULTS.OUTBOUND_QUEUE_LIMIT.value;
    this.fullTableCacheMax = opts.fullTableCacheMax;
    const peerOf = (i: number): DecisionPeer => this.peers[i];
    this.tables = { [AFI_IPV4]: new RouteTable(AFI_IPV4, this.attrs, peerOf), [AFI_IPV6]: new RouteTable(AFI_IPV6, this.attrs, peerOf) } as Record<Afi, RouteTable>;
    this.deferral = new EndOfRibDeferral(opts.restarting === true, opts.restartDeferralMs ?? DEFAULTS.GRACEFUL_RESTART_TIME.value * 1000, Date.now());
    if (this.deferral.deferring) {
      this.deferralTimer = setTimeout(() => { this.deferralTimer = null; this.checkRestartDone(); }, this.deferral.deferralMs);
      this.deferralTimer.unref?.();
    }
  }

  // ---- peers -------------------------------------------------------------------------------------------

  private record(peer: RibPeer): PeerRec {
    let r = this.byName.get(peer.name);
    if (r === undefined) {
      r = {
        idx: this.peers.length, name: peer.name, peer: null, isClient: false, clusterId: 0, up: false, neg: null,
        families: [], members: new Map(), eorReceived: new Set(), staleTimer: null, ebgp: false, bgpId: 0,
        addressKey: '', logged: new Set(), log: peerLogger(peer.name), upSince: 0,
        counters: { updatesIn: 0, prefixesAnnounced: 0, prefixesWithdrawn: 0, endOfRibIn: 0, loopsRejected: 0, malformed: {}, routeRefreshIn: 0 },
      };
      this.peers.push(r);
      this.byName.set(peer.name, r);
    }
    return r;
  }

  /** A session reached Established: join the update groups of its families and start the initial table. */
  peerUp(peer: RibPeer, neg: RibNegotiated): void {
    const r = this.record(peer);
    // A new session while the old one never reported down (e.g. replaced by a reconfiguration): drop the old.
    if (r.up && r.peer !== null) this.peerDown(r.peer, { graceful: false });
    const spec = peer.spec;
    const bgpId = idFromDottedQuad(neg.peerBgpId);
    const clusterId = idFromDottedQuad(spec.clusterId);
    const known = r.upSince !== 0;
    if (known && (r.bgpId !== bgpId || r.isClient !== spec.routeReflectorClient || r.clusterId !== clusterId)) {
      // Cached export results embed the source's identity (ORIGINATOR_ID, cluster IDs): forget them.
      const idx = r.idx;
      this.exportGen++;
      this.attrs.forgetExports((k) => k % 1048576 === idx);
    }
    r.peer = peer;
    r.bgpId = bgpId;
    r.isClient = spec.routeReflectorClient;
    r.clusterId = clusterId;
    r.ebgp = spec.peerAs !== spec.localAs;
    r.addressKey = addressSortKey(spec.neighborAddress);
    r.neg = neg;
    r.up = true;
    r.upSince = Date.now();
    r.eorReceived.clear();
    r.families = AFIS.filter((a) => neg.families.includes(a));
    const stale = AFIS.some((a) => this.tables[a].adj.countStale(r.idx) > 0);
    if (stale) {
      if (neg.gracefulRestart === null) this.sweepStale(r, AFIS, 'new session without graceful restart');
      else {
        if (r.staleTimer !== null) clearTimeout(r.staleTimer);
        r.staleTimer = setTimeout(() => { r.staleTimer = null; this.sweepStale(r, AFIS, 'no End-of-RIB in time'); }, this.staleWaitMs);
        r.staleTimer.unref?.();
      }
    }
    for (const afi of r.families) {
      const sig: ExportSignature = {
        afi, isClient: r.isClient, clusterId: r.clusterId, as4: neg.as4,
        addPathTx: neg.addPath.tx[afi] === true, maxMessageLen: neg.sendCtx.maxMessageLen,
      };
      const group = this.groupFor(sig);
      const member = new GroupMember(r.idx, { send: (b) => (r.peer === peer ? peer.send(b) : true) });
      member.eorHeld = this.deferral.holds(progressOf(r));
      group.join(member);
      const entry = { group, member };
      r.members.set(afi, entry);
      this.syncing.add(entry);
    }
    this.schedule();
    this.checkRestartDone();
  }

  /** A session left Established. graceful: the peer restarts (RFC 4724): keep its routes as stale. */
  peerDown(peer: RibPeer, opts: { graceful: boolean }): void {
    const r = this.byName.get(peer.name);
    if (r === undefined || !r.up || (r.peer !== null && r.peer !== peer)) return;
    r.up = false;
    r.peer = null;
    for (const [afi, e] of r.members) {
      e.group.leave(r.idx);
      this.syncing.delete(e);
      if (e.group.members.size === 0) this.dropGroup(afi, e.group);
    }
    r.members.clear();
    const gr = r.neg?.gracefulRestart ?? null;
    if (opts.graceful && gr !== null) {
      let n = 0;
      for (const afi of AFIS) n += this.tables[afi].adj.markStale(r.idx);
      if (r.staleTimer !== null) clearTimeout(r.staleTimer);
      r.staleTimer = setTimeout(() => { r.staleTimer = null; this.sweepStale(r, AFIS, 'restart time over'); }, gr.peerRestartTime * 1000);
      r.staleTimer.unref?.();
      r.log.info({ stale: n, restartTime: gr.peerRestartTime }, 'graceful restart: keeping routes as stale');
    } else {
      if (r.staleTimer !== null) { clearTimeout(r.staleTimer); r.staleTimer = null; }
      for (const afi of AFIS) {
        const t = this.tables[afi];
        t.adj.removePeer(r.idx, false, (s) => t.markDirty(s));
      }
    }
    this.schedule();
    this.checkRestartDone();
  }

  private sweepStale(r: PeerRec, afis: readonly Afi[], why: string): void {
    let n = 0;
    for (const afi of afis) {
      const t = this.tables[afi];
      n += t.adj.removePeer(r.idx, true, (s) => t.markDirty(s));
    }
    if (n > 0) r.log.info({ removed: n, why }, 'stale routes swept');
    if (r.staleTimer !== null && afis.length === AFIS.length) { clearTimeout(r.staleTimer); r.staleTimer = null; }
    this.schedule();
  }

  private groupFor(sig: ExportSignature): UpdateGroup {
    const key = signatureKey(sig);
    const groups = this.groups[sig.afi];
    let g = groups.get(key);
    if (g === undefined) {
      g = new UpdateGroup(this.nextGroupId++, sig, this.attrs, this.tables[sig.afi], this.lagLimit, this.fullTableCacheMax);
      this.exporters.set(g, this.makeExporter(g));
      groups.set(key, g);
      g.rebuild(this.exporters.get(g) as Exporter);
    }
    return g;
  }

  private dropGroup(afi: Afi, g: UpdateGroup): void {
    this.groups[afi].delete(g.key);
    this.exporters.delete(g);
    g.out.clear();
    const lo = g.id * 1048576;
    this.exportGen++;
    this.attrs.forgetExports((k) => k >= lo && k < lo + 1048576);
  }

  /** RFC 4456 export for one group, cached per (input attribute set, source peer) on the attribute entry. */
  private makeExporter(g: UpdateGroup): Exporter {
    const base = g.id * 1048576;
    const to = { isClient: g.sig.isClient, clusterId: g.sig.clusterId };
    const as4 = g.sig.as4;
    // Runs of prefixes share attributes and source: a one-entry memo in front of the per-entry cache.
    let lastAttr: AttrEntry | null = null;
    let lastSrc = -1;
    let lastOut: AttrEntry | null = null;
    let gen = this.exportGen;
    return (attr: AttrEntry, src: number): AttrEntry | null => {
      if (attr === lastAttr && src === lastSrc && gen === this.exportGen && attr.refs > 0) return lastOut;
      gen = this.exportGen;
      const k = base + src;
      const hit = attr.getExport(k);
      if (hit !== undefined) {
        lastAttr = attr;
        lastSrc = src;
        lastOut = hit;
        return hit;
      }
      const from = this.peers[src];
      let out: AttrEntry | null = null;
      if (!from.ebgp && exportAllowedRaw(attr.attrs, from, to)) {
        let bytes: Uint8Array = reflectAttributes(attr.attrs, from.bgpId, clusterIdsToPrepend(from, to));
        if (!as4) bytes = attributeBlockToAs2(bytes);
        out = this.attrs.intern(bytes, 0, bytes.length, attr.nextHop, 0, attr.nextHop?.length ?? 0);
      }
      attr.setExport(k, out);
      lastAttr = attr;
      lastSrc = src;
      lastOut = out;
      return out;
    };
  }

  // ---- input -------------------------------------------------------------------------------------------

  private countMalformed(r: PeerRec, kind: string, err: BgpError): void {
    r.counters.malformed[kind] = (r.counters.malformed[kind] ?? 0) + 1;
    if (r.logged.has(kind)) return;
    r.logged.add(kind);
    r.log.warn({ kind, code: err.code, subcode: err.subcode, offset: err.offset }, `malformed UPDATE (${kind}): ${err.message}; further ones of this kind are only counted`);
  }

  /**
   * One whole UPDATE from an Established peer. Never throws for a malformed UPDATE: RFC 7606 treat-as-withdraw
   * and attribute-discard are handled here; an error that needs a session reset is counted, passed to
   * peer.resetSession() when the peer has it, and returned so the caller can send the NOTIFICATION.
   */
  handleUpdate(peer: RibPeer, msg: Buffer): BgpError | undefined {
    const r = this.byName.get(peer.name);
    if (r === undefined || !r.up || r.peer !== peer || r.neg === null) return undefined;
    const neg = r.neg;
    r.counters.updatesIn++;
    let s: ScannedUpdate;
    try {
      s = scanUpdate(msg, neg.recvCtx, this.scan);
      this.ingest(r, neg, msg, s);
    } catch (e) {
      if (!(e instanceof BgpError)) throw e;
      this.countMalformed(r, 'session-reset', e);
      peer.resetSession?.(e);
      return e;
    }
    return undefined;
  }

  private ingest(r: PeerRec, neg: RibNegotiated, msg: Buffer, s: ScannedUpdate): void {
    if (s.isEndOfRib) {
      if (s.endOfRibSafi === 1 && (s.endOfRibAfi === AFI_IPV4 || s.endOfRibAfi === AFI_IPV6)) this.endOfRib(r, s.endOfRibAfi);
      return;
    }
    if (s.discarded !== undefined) for (const e of s.discarded) this.countMalformed(r, 'attribute-discard', e);
    const withdrawAll = s.treatAsWithdraw !== undefined;
    if (withdrawAll) this.countMalformed(r, 'treat-as-withdraw', s.treatAsWithdraw as BgpError);
    const v4 = this.tables[AFI_IPV4];
    const v6 = this.tables[AFI_IPV6];
    const has4 = r.families.includes(AFI_IPV4);
    const has6 = r.families.includes(AFI_IPV6);
    const ap4 = neg.addPath.rx[AFI_IPV4] === true;
    const ap6 = neg.addPath.rx[AFI_IPV6] === true;
    const idx = r.idx;
    if (has4 && s.withdrawnEnd > s.withdrawnStart) this.withdrawRange(r, v4, msg, s.withdrawnStart, s.withdrawnEnd, ap4);
    if (s.mpUnreachAfi !== 0 && s.mpUnreachSafi === 1 && s.mpUnreachEnd > s.mpUnreachStart) {
      if (s.mpUnreachAfi === AFI_IPV4 && has4) this.withdrawRange(r, v4, msg, s.mpUnreachStart, s.mpUnreachEnd, ap4);
      else if (s.mpUnreachAfi === AFI_IPV6 && has6) this.withdrawRange(r, v6, msg, s.mpUnreachStart, s.mpUnreachEnd, ap6);
    }
    const reach4 = has4 && s.nlriEnd > s.nlriStart;
    const mpOk = s.mpReachSafi === 1 && s.mpReachEnd > s.mpReachStart && s.mpNextHop !== undefined;
    const mp4 = mpOk && s.mpReachAfi === AFI_IPV4 && has4;
    const mp6 = mpOk && s.mpReachAfi === AFI_IPV6 && has6;
    if (!reach4 && !mp4 && !mp6) { this.schedule(); return; }
    let reject = withdrawAll;
    if (!reject) {
      // The loop checks need only ORIGINATOR_ID / CLUSTER_LIST, which the scan located.
      if (s.hasOriginatorId && s.originatorId >>> 0 === this.routerId) reject = true;
      else if (r.isClient && s.hasClusterList) {
        for (let o = s.clusterListStart; o + 4 <= s.clusterListEnd; o += 4) {
          if (msg.readUInt32BE(o) === r.clusterId) { reject = true; break; }
        }
      }
      if (reject) r.counters.loopsRejected++;
    }
    if (reach4) {
      if (reject) this.withdrawRange(r, v4, msg, s.nlriStart, s.nlriEnd, ap4);
      else {
        const e = this.attrs.intern(s.attrs, 0, s.attrs.length);
        this.announceV4(idx, v4, e, msg, s.nlriStart, s.nlriEnd, ap4, r);
        this.attrs.release(e);
      }
    }
    if (mp4 || mp6) {
      const t = mp4 ? v4 : v6;
      const ap = mp4 ? ap4 : ap6;
      if (reject) this.withdrawRange(r, t, msg, s.mpReachStart, s.mpReachEnd, ap);
      else {
        const nh = s.mpNextHop as Uint8Array;
        const e = this.attrs.intern(s.attrs, 0, s.attrs.length, nh, 0, nh.length);
        if (mp4) this.announceV4(idx, t, e, msg, s.mpReachStart, s.mpReachEnd, ap, r);
        else this.announceV6(idx, t, e, msg, s.mpReachStart, s.mpReachEnd, ap, r);
        this.attrs.release(e);
      }
    }
    this.schedule();
  }

  private announceV4(idx: number, t: RouteTable, e: AttrEntry, msg: Uint8Array, start: number, end: number, ap: boolean, r: PeerRec): void {
    const index = t.index as PrefixIndexV4;
    const adj = t.adj;
    let n = 0;
    forEachPrefixV4(msg, start, end, ap, (addr, len, pathId) => {
      const slot = index.insert(addr, len);
      if (slot >= t.bestPath.length) t.ensureSlots();
      e.refs++;
      if (adj.upsert(slot, idx, pathId, e)) t.markDirty(slot);
      n++;
    });
    r.counters.prefixesAnnounced += n;
  }

  private announceV6(idx: number, t: RouteTable, e: AttrEntry, msg: Uint8Array, start: number, end: number, ap: boolean, r: PeerRec): void {
    const index = t.index as PrefixIndexV6;
    const adj = t.adj;
    let n = 0;
    forEachPrefixV6(msg, start, end, ap, (buf, off, len, pathId) => {
      const slot = index.insertKey(v6Key(buf, off, len));
      if (slot >= t.bestPath.length) t.ensureSlots();
      e.refs++;
      if (adj.upsert(slot, idx, pathId, e)) t.markDirty(slot);
      n++;
    });
    r.counters.prefixesAnnounced += n;
  }

  private withdrawRange(r: PeerRec, t: RouteTable, msg: Uint8Array, start: number, end: number, ap: boolean): void {
    const idx = r.idx;
    let n = 0;
    if (t.afi === AFI_IPV4) {
      const index = t.index as PrefixIndexV4;
      forEachPrefixV4(msg, start, end, ap, (addr, len, pathId) => {
        n++;
        const slot = index.lookup(addr, len);
        if (slot >= 0 && t.adj.remove(slot, idx, pathId)) t.markDirty(slot);
      });
    } else {
      const index = t.index as PrefixIndexV6;
      forEachPrefixV6(msg, start, end, ap, (buf, off, len, pathId) => {
        n++;
        const slot = index.lookupKey(v6Key(buf, off, len));
        if (slot >= 0 && t.adj.remove(slot, idx, pathId)) t.markDirty(slot);
      });
    }
    r.counters.prefixesWithdrawn += n;
  }

  private endOfRib(r: PeerRec, afi: Afi): void {
    r.counters.endOfRibIn++;
    r.eorReceived.add(afi);
    const t = this.tables[afi];
    const n = t.adj.removePeer(r.idx, true, (s) => t.markDirty(s));
    if (n > 0) r.log.info({ removed: n, afi }, 'End-of-RIB: stale routes swept');
    if (r.staleTimer !== null && AFIS.every((a) => this.tables[a].adj.countStale(r.idx) === 0)) {
      clearTimeout(r.staleTimer);
      r.staleTimer = null;
    }
    this.schedule();
    this.checkRestartDone();
  }

  /** ROUTE-REFRESH from a peer: 0 = send our table again (BoRR/EoRR around it when enhanced); 1/2 = its BoRR/EoRR. */
  handleRouteRefresh(peer: RibPeer, m: RibRouteRefresh): void {
    const r = this.byName.get(peer.name);
    if (r === undefined || !r.up || r.peer !== peer || m.safi !== 1) return;
    if (m.afi !== AFI_IPV4 && m.afi !== AFI_IPV6) return;
    const afi = m.afi as Afi;
    r.counters.routeRefreshIn++;
    if (m.subtype === 0) {
      const e = r.members.get(afi);
      if (e === undefined) return;
      e.group.refresh(e.member, r.neg?.enhancedRouteRefresh === true);
      this.syncing.add(e);
      this.schedule();
    } else if (m.subtype === 1) {
      // RFC 7313 §4: BoRR — the peer re-advertises everything; what it does not repeat goes at EoRR.
      this.tables[afi].adj.markStale(r.idx);
    } else if (m.subtype === 2) {
      const t = this.tables[afi];
      t.adj.removePeer(r.idx, true, (s) => t.markDirty(s));
      this.schedule();
    }
  }

  /** The peer's socket drained after send() returned false. */
  handleDrain(peer: RibPeer): void {
    const r = this.byName.get(peer.name);
    if (r === undefined || r.peer !== peer) return;
    for (const e of r.members.values()) {
      e.group.drained(e.member);
      if (e.member.state !== 'live') this.syncing.add(e);
    }
    // Note: a live member whose socket was only "full" simply continues.
    this.schedule();
  }

  // ---- our own graceful restart --------------------------------------------------------------------------

  /** True while End-of-RIB is deferred after our start (routes flow regardless). */
  get deferringEndOfRib(): boolean {
    return this.deferral.deferring;
  }

  /**
   * The configured sessions (the datastore's list, every snapshot): End-of-RIB waits until each of them is up
   * and sent End-of-RIB, or the deferral time is up. Until the first call nobody is known: only the time counts.
   */
  setExpectedPeers(names: Iterable<string>): void {
    this.deferral.setExpected(names);
    this.checkRestartDone();
  }

  private checkRestartDone(): void {
    const end = this.deferral.evaluate(this.peers.map(progressOf), Date.now());
    if (end === null) return;
    if (this.deferralTimer !== null) { clearTimeout(this.deferralTimer); this.deferralTimer = null; }
    if (end.waitingFor.length > 0) this.log.warn({ why: end.why, waitingFor: end.waitingFor }, 'graceful restart: sending End-of-RIB without these peers; helpers now drop their stale routes');
    else this.log.info({ why: end.why }, 'graceful restart: sending End-of-RIB to every peer');
    for (const p of this.peers) for (const e of p.members.values()) if (e.group.releaseEndOfRib(e.member)) this.syncing.add(e);
    this.schedule();
  }

  // ---- processing ----------------------------------------------------------------------------------------

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  /**
   * One slice: finish queued fan-out, then decide dirty prefixes, advise and deliver per group, then catch-up
   * work; reschedules itself. While a fan-out is behind, no new decisions are made: changes keep accumulating
   * and go out coalesced in the next flush.
   */
  run(): void {
    this.scheduled = false;
    if (this.closed) return;
    const t0 = performance.now();
    const deadline = t0 + this.sliceMs;
    let more = false;
    let behind = false;
    for (const afi of AFIS) for (const g of this.groups[afi].values()) if (!g.pump(deadline)) behind = true;
    if (behind) more = true;
    else {
      for (const afi of AFIS) {
        const t = this.tables[afi];
        if (t.pendingDecisions === 0) continue;
        const changed: number[] = [];
        t.decide(this.slice, (s) => changed.push(s));
        if (t.pendingDecisions > 0) more = true;
        if (changed.length === 0) continue;
        for (const g of this.groups[afi].values()) {
          g.deliver(g.advise(changed, this.exporters.get(g) as Exporter), deadline);
          if (g.fanoutPending) more = true;
        }
        for (const s of changed) if (t.bestPeer[s] < 0) t.releaseIfUnused(s);
      }
    }
    let budget = this.slice;
    let steps = 0;
    for (const e of this.syncing) {
      // At least one catch-up step per slice, so a zero budget still makes progress.
      if (steps++ > 0 && performance.now() > deadline) { more = true; break; }
      if (e.group.syncStep(e.member, budget)) this.syncing.delete(e);
      else if (!e.member.waitingDrain) more = true;
      budget -= Math.max(1, Math.floor(this.slice / 4));
      if (budget <= 0) { more = true; break; }
    }
    const dt = performance.now() - t0;
    if (dt > this.maxSliceMs) this.maxSliceMs = dt;
    if (more) this.schedule();
  }

  /** True when there is nothing we could do now: all decided, every member live or waiting for its socket. */
  get idle(): boolean {
    for (const afi of AFIS) if (this.tables[afi].pendingDecisions > 0) return false;
    for (const afi of AFIS) for (const g of this.groups[afi].values()) if (g.fanoutPending) return false;
    for (const e of this.syncing) if (e.member.state !== 'live' && !e.member.waitingDrain) return false;
    return true;
  }

  close(): void {
    this.closed = true;
    if (this.deferralTimer !== null) clearTimeout(this.deferralTimer);
    for (const p of this.peers) if (p.staleTimer !== null) clearTimeout(p.staleTimer);
  }

  // ---- read-only views -----------------------------------------------------------------------------------

  peerCounters(name: string): PeerCounters | undefined {
    return this.byName.get(name)?.counters;
  }

  /** What this session's member of its update group was sent since it came up (zeros when it is down). */
  exportCounters(name: string, family: 4 | 6): { updates: number; prefixes: number; withdrawn: number } {
    const m = this.byName.get(name)?.members.get(afiOfFamily(family))?.member;
    return m === undefined ? { updates: 0, prefixes: 0, withdrawn: 0 } : { updates: m.updatesSent, prefixes: m.prefixesSent, withdrawn: m.withdrawnSent };
  }

  /** Route counts of one protocol (peer) for one family, BIRD's imported/exported/preferred/filtered. */
  routeStats(name: string, family: 4 | 6): ProtocolRouteStats {
    const r = this.byName.get(name);
    const afi = afiOfFamily(family);
    if (r === undefined) return { imported: 0, exported: 0, preferred: 0, filtered: 0 };
    const t = this.tables[afi];
    const e = r.members.get(afi);
    let exported = 0;
    if (e !== undefined) exported = e.group.out.count - (e.group.out.srcCount[r.idx] ?? 0);
    return { imported: t.adj.perPeer[r.idx] ?? 0, exported, preferred: t.preferredPerPeer[r.idx] ?? 0, filtered: 0 };
  }

  /** Per-family totals for `show route count` and metrics. */
  tableStats(family: 4 | 6): { prefixes: number; paths: number; preferred: number; attributeSets: number } {
    const t = this.tables[afiOfFamily(family)];
    return { prefixes: t.index.live, paths: t.adj.total, preferred: t.preferredTotal, attributeSets: this.attrs.size };
  }

  /** Routes of one family (Adj-RIB-In paths, the best one marked primary), optionally filtered. */
  *routes(family: 4 | 6, filter: RouteFilter = {}): IterableIterator<RouteView> {
    const afi = afiOfFamily(family);
    const t = this.tables[afi];
    const only = filter.prefix !== undefined ? t.index.lookupKey(parsePrefix(filter.prefix)) : -2;
    if (only === -1) return;
    const from = only >= 0 ? only : 0;
    const to = only >= 0 ? only + 1 : t.index.highWater;
    const adj = t.adj;
    for (let s = from; s < to; s++) {
      if (!t.index.isLive(s)) continue;
      const prefix = keyToString(t.index.keyOf(s));
      for (let p = adj.slotHead[s]; p >= 0; p = adj.pathNext[p]) {
        const primary = t.bestPath[s] === p;
        if (filter.primaryOnly === true && !primary) continue;
        const peer = this.peers[adj.pathPeer[p]];
        if (filter.protocol !== undefined && peer.name !== filter.protocol) continue;
        const a = adj.pathAttr[p] as AttrEntry;
        yield {
          prefix, from: peer.name, primary, stale: adj.pathStale[p] === 1, pathId: adj.pathIdOf[p] >>> 0,
          nextHop: nextHopText(a), attrs: a.attrs, decoded: decodedOf(a),
        };
      }
    }
  }

  /** Update groups for metrics and debugging: signature, members, routes in the Adj-RIB-Out, what was sent. */
  updateGroups(): { family: 4 | 6; signature: string; members: number; routes: number; messages: number; prefixes: number; bytes: number }[] {
    const out = [];
    for (const afi of AFIS) {
      for (const g of this.groups[afi].values()) {
        out.push({ family: (afi === AFI_IPV6 ? 6 : 4) as 4 | 6, signature: g.key, members: g.members.size, routes: g.out.count, ...g.stats });
      }
    }
    return out;
  }

  /** Protocol names known to the reflector (up or keeping stale routes). */
  peerNames(): string[] {
    return this.peers.map((p) => p.name);
  }

  isUp(name: string): boolean {
    return this.byName.get(name)?.up === true;
  }
}

function progressOf(p: PeerRec): PeerProgress {
  const gr = p.neg?.gracefulRestart ?? null;
  return {
    name: p.name, up: p.up, gracefulRestart: gr !== null, restarting: gr?.peerRestarting === true,
    endOfRibIn: p.families.every((a) => p.eorReceived.has(a)),
  };
}

function decodedOf(a: AttrEntry): PathAttribute[] {
  if (a.decoded === undefined) a.decoded = decodeAttributes(a.attrs, AS4_CTX);
  return a.decoded as PathAttribute[];
}

function nextHopText(a: AttrEntry): string {
  if (a.nextHop !== null) {
    const nh = a.nextHop;
    if (nh.length === 4) return ipv4ToString(nh.readUInt32BE(0));
    if (nh.length === 16) return ipv6ToString(nh, 0);
    if (nh.length === 32) return `${ipv6ToString(nh, 0)} ${ipv6ToString(nh, 16)}`;
    return nh.toString('hex');
  }
  const b = a.attrs;
  let p = 0;
  while (p + 3 <= b.length) {
    const ext = (b[p] & 0x10) !== 0;
    const len = ext ? b.readUInt16BE(p + 2) : b[p + 2];
    const v = p + (ext ? 4 : 3);
    if (b[p + 1] === 3 && len === 4) return ipv4ToString(b.readUInt32BE(v));
    p = v + len;
  }
  return '';
}

export { idToDottedQuad };
