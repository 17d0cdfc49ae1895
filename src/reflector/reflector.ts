// The route decision engine's front: owns the attribute table, the Loc-RIB of both families, the peer table
// and the update groups, and wires the stages together. Read it with these, in the order a route flows:
//   inbound.ts        UPDATE → import policy (import-policy.ts: AS_PATH limit, loop checks, prefix limit)
//                     → Adj-RIB-In (src/rib/loc-rib.ts, adj-rib-in.ts)
//   run() below       decision (src/rib/decision.ts) on the dirty prefixes, in bounded slices
//                     → export policy (export-policy.ts: RFC 4456 rules, rewrite, export cache)
//                     → update groups (src/rib/update-group*.ts: one encode per group, fan-out, catch-up)
//   peers.ts          the peer record; graceful-restart.ts both restart roles; views.ts what operators see.
// Scheduling: a change schedules run() one setImmediate later (no fixed timer); run() yields to I/O after
// sliceMs and reschedules itself while work is left.
import { DEFAULTS } from '../config/defaults.js';
import { peerLogger, type Logger } from '../log.js';
import type { BgpError } from '../wire/errors.js';
import { AFI_IPV4, AFI_IPV6, type Afi } from '../wire/types.js';
import { AttrTable } from '../rib/attr-intern.js';
import { addressSortKey, ipv4ToUint32 } from '../net/address.js';
import { RouteTable, type DecisionPeer } from '../rib/loc-rib.js';
import type { RibNegotiated, RibPeer, RibRouteRefresh } from '../rib/types.js';
import { GroupMember, UpdateGroup, signatureKey, type ExportSignature } from '../rib/update-group.js';
import { AddPathGroup } from '../rib/add-path-group.js';
import { addPathMaxOf, type AddPathsMode } from '../peers/peer-spec.js';
import { ExportPolicy } from './export-policy.js';
import { GracefulRestart } from './graceful-restart.js';
import { ImportPolicy, type ImportPolicyOptions } from './import-policy.js';
import { Inbound } from './inbound.js';
import { PeerTable, progressOf, type Membership, type PeerCounters } from './peers.js';
import { afiOfFamily, routesOf, type ProtocolRouteStats, type RouteFilter, type RouteView } from './views.js';

export type { PeerCounters, ProtocolRouteStats, RouteFilter, RouteView };

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
  /** Bytes a member may queue past a full socket before it leaves its group's shared stream (default 4 MiB). */
  lagLimitBytes?: number;
  /** Tables up to this many prefixes are encoded once for all members that join together (default 65536). */
  fullTableCacheMax?: number;
  /** MAX_AS_PATH_LENGTH and the prefix limit; none when absent. */
  importPolicy?: ImportPolicyOptions;
  /**
   * ADD_PATHS: paths per prefix sent to a peer that negotiated ADD-PATH receive (RFC 7911), unless its PeerSpec
   * says otherwise; 'off' (the default) sends the one best path to everyone.
   */
  addPaths?: AddPathsMode;
  log?: Logger;
}

const AFIS: Afi[] = [AFI_IPV4, AFI_IPV6];

export class Reflector {
  readonly attrs = new AttrTable();
  readonly tables: Record<Afi, RouteTable>;
  readonly routerId: number;
  readonly importPolicy: ImportPolicy;
  private readonly peers = new PeerTable();
  private readonly inbound: Inbound;
  private readonly exportPolicy: ExportPolicy;
  private readonly restart: GracefulRestart;
  private readonly groups: Record<Afi, Map<string, UpdateGroup>> = { [AFI_IPV4]: new Map(), [AFI_IPV6]: new Map() } as Record<Afi, Map<string, UpdateGroup>>;
  private nextGroupId = 1;
  private readonly slice: number;
  /** Time one run() may take before it yields to I/O (ms). */
  private readonly sliceMs: number;
  private scheduled = false;
  private readonly syncing = new Set<Membership>();
  private readonly lagLimit: number;
  private readonly fullTableCacheMax: number | undefined;
  private readonly addPaths: AddPathsMode;
  /** ADD-PATH groups per family: while there are none, decide() need not report every decided prefix. */
  private readonly addPathGroups: Record<Afi, number> = { [AFI_IPV4]: 0, [AFI_IPV6]: 0 } as Record<Afi, number>;
  private closed = false;
  /** Longest synchronous slice of run() in ms, for the event-loop stall figure. */
  maxSliceMs = 0;

  constructor(opts: ReflectorOptions) {
    this.routerId = ipv4ToUint32(opts.routerId);
    this.slice = opts.sliceSize ?? 8192;
    this.sliceMs = opts.sliceMs ?? 10;
    const log = opts.log ?? peerLogger('reflector');
    this.lagLimit = opts.lagLimitBytes ?? DEFAULTS.OUTBOUND_QUEUE_LIMIT.value;
    this.fullTableCacheMax = opts.fullTableCacheMax;
    this.addPaths = opts.addPaths ?? 'off';
    const peerOf = (i: number): DecisionPeer => this.peers.at(i);
    this.tables = { [AFI_IPV4]: new RouteTable(AFI_IPV4, this.attrs, peerOf), [AFI_IPV6]: new RouteTable(AFI_IPV6, this.attrs, peerOf) } as Record<Afi, RouteTable>;
    const schedule = () => this.schedule();
    this.restart = new GracefulRestart(this.peers, this.tables, {
      restarting: opts.restarting === true, deferralMs: opts.restartDeferralMs ?? DEFAULTS.GRACEFUL_RESTART_TIME.value * 1000, staleWaitMs: opts.staleWaitMs ?? 360_000,
    }, log, (p) => {
      for (const e of p.members.values()) if (e.group.releaseEndOfRib(e.member)) this.syncing.add(e);
    }, schedule);
    this.importPolicy = new ImportPolicy(this.routerId, opts.importPolicy ?? {}, this);
    this.inbound = new Inbound(this.peers, this.attrs, this.tables, this.importPolicy, { schedule, endOfRib: (r, afi) => this.restart.endOfRib(r, afi) });
    this.exportPolicy = new ExportPolicy(this.attrs, this.peers);
  }

  // ---- sessions ------------------------------------------------------------------------------------------

  /** A session reached Established: join the update groups of its families and start the initial table. */
  peerUp(peer: RibPeer, neg: RibNegotiated): void {
    const r = this.peers.record(peer);
    // A new session while the old one never reported down (e.g. replaced by a reconfiguration): drop the old.
    if (r.up && r.peer !== null) this.peerDown(r.peer, { graceful: false });
    const spec = peer.spec;
    const bgpId = ipv4ToUint32(neg.peerBgpId);
    const clusterId = ipv4ToUint32(spec.clusterId);
    const known = r.upSince !== 0;
    if (known && (r.bgpId !== bgpId || r.isClient !== spec.routeReflectorClient || r.clusterId !== clusterId)) this.exportPolicy.forgetSource(r.idx);
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
    this.restart.sessionUp(r, neg);
    const addPathMax = addPathMaxOf(spec.addPaths ?? this.addPaths);
    for (const afi of r.families) {
      // The session's encoding follows what was negotiated; how many paths go out is ours to say (a peer that
      // can receive several paths while we send one still needs path identifiers on the wire).
      const addPathTx = neg.addPath.tx[afi] === true;
      const sig: ExportSignature = {
        afi, isClient: r.isClient, clusterId: r.clusterId, as4: neg.as4,
        addPathTx, addPathMax: addPathTx ? Math.max(1, addPathMax) : 1, maxMessageLen: neg.sendCtx.maxMessageLen,
      };
      const group = this.groupFor(sig);
      const member = new GroupMember(r.idx, { send: (b) => (r.peer === peer ? peer.send(b) : true) });
      member.eorHeld = this.restart.deferral.holds(progressOf(r));
      group.join(member);
      const entry = { group, member };
      r.members.set(afi, entry);
      this.syncing.add(entry);
    }
    this.schedule();
    this.restart.check();
  }

  /** A session left Established. graceful: the peer restarts (RFC 4724): keep its routes as stale. */
  peerDown(peer: RibPeer, opts: { graceful: boolean }): void {
    const r = this.peers.get(peer.name);
    if (r === undefined || !r.up || (r.peer !== null && r.peer !== peer)) return;
    r.up = false;
    r.peer = null;
    for (const [afi, e] of r.members) {
      e.group.leave(r.idx);
      this.syncing.delete(e);
      if (e.group.members.size === 0) this.dropGroup(afi, e.group);
    }
    r.members.clear();
    this.restart.sessionDown(r, opts.graceful);
    this.schedule();
    this.restart.check();
  }

  /** One whole UPDATE through the inbound chain (inbound.ts); a session-reset error is returned. */
  handleUpdate(peer: RibPeer, msg: Buffer): BgpError | undefined {
    return this.inbound.handleUpdate(peer, msg);
  }

  /** ROUTE-REFRESH from a peer: 0 = send our table again (BoRR/EoRR around it when enhanced); 1/2 = its BoRR/EoRR. */
  handleRouteRefresh(peer: RibPeer, m: RibRouteRefresh): void {
    const r = this.peers.live(peer);
    if (r === undefined || m.safi !== 1) return;
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
      this.tables[afi].markStale(r.idx);
    } else if (m.subtype === 2) {
      this.tables[afi].removePeer(r.idx, true);
      this.schedule();
    }
  }

  /** The peer's socket drained after send() returned false. */
  handleDrain(peer: RibPeer): void {
    const r = this.peers.get(peer.name);
    if (r === undefined || r.peer !== peer) return;
    for (const e of r.members.values()) {
      e.group.drained(e.member);
      if (e.member.state !== 'live') this.syncing.add(e);
    }
    // Note: a live member whose socket was only "full" simply continues.
    this.schedule();
  }

  /** The session was removed for good (datastore): forget its import-policy counts. */
  forgetPeer(name: string): void {
    this.importPolicy.forget(name);
  }

  // ---- our own graceful restart --------------------------------------------------------------------------

  /** True while End-of-RIB is deferred after our start (routes flow regardless). */
  get deferringEndOfRib(): boolean {
    return this.restart.deferral.deferring;
  }

  /**
   * The configured sessions (the datastore's list, every snapshot): End-of-RIB waits until each of them is up
   * and sent End-of-RIB, or the deferral time is up. Until the first call nobody is known: only the time counts.
   */
  setExpectedPeers(names: Iterable<string>): void {
    this.restart.setExpected(names);
  }

  // ---- update groups -------------------------------------------------------------------------------------

  private groupFor(sig: ExportSignature): UpdateGroup {
    const key = signatureKey(sig);
    const groups = this.groups[sig.afi];
    let g = groups.get(key);
    if (g === undefined) {
      const args = [this.nextGroupId++, sig, this.attrs, this.tables[sig.afi], this.lagLimit, this.fullTableCacheMax] as const;
      g = sig.addPathTx ? new AddPathGroup(...args) : new UpdateGroup(...args);
      if (g.everyDecision) this.addPathGroups[sig.afi]++;
      groups.set(key, g);
      g.rebuild(this.exportPolicy.of(g));
    }
    return g;
  }

  private dropGroup(afi: Afi, g: UpdateGroup): void {
    this.groups[afi].delete(g.key);
    if (g.everyDecision) this.addPathGroups[afi]--;
    g.clear();
    this.exportPolicy.dropGroup(g);
  }

  // ---- processing ----------------------------------------------------------------------------------------

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  /**
   * One slice: finish queued fan-out, then decide dirty prefixes, export and deliver per group, then catch-up
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
        const decided: number[] | null = this.addPathGroups[afi] > 0 ? [] : null;
        t.decide(this.slice, (s) => changed.push(s), decided === null ? undefined : (s) => decided.push(s));
        if (t.pendingDecisions > 0) more = true;
        if (changed.length === 0 && (decided === null || decided.length === 0)) continue;
        for (const g of this.groups[afi].values()) {
          const slots = g.everyDecision && decided !== null ? decided : changed;
          if (slots.length === 0) continue;
          g.deliver(g.advise(slots, this.exportPolicy.of(g)), deadline);
          if (g.fanoutPending) more = true;
        }
        for (const s of changed) if (t.bestPeer[s] < 0) t.releaseIfUnused(s);
      }
    }
    let budget = this.slice;
    let steps = 0;
    for (const e of this.syncing) {
      // A member waiting for its socket's 'drain' costs nothing and is skipped: charging it would let a few
      // blocked sockets at the front of the set use up every slice's budget and starve the members behind them.
      if (e.member.waitingDrain) continue;
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
    this.restart.close();
  }

  // ---- read-only views (views.ts) ------------------------------------------------------------------------

  peerCounters(name: string): PeerCounters | undefined {
    return this.peers.get(name)?.counters;
  }

  /** What this session's member of its update group was sent since it came up (zeros when it is down). */
  exportCounters(name: string, family: 4 | 6): { updates: number; prefixes: number; withdrawn: number } {
    const m = this.peers.get(name)?.members.get(afiOfFamily(family))?.member;
    return m === undefined ? { updates: 0, prefixes: 0, withdrawn: 0 } : { updates: m.updatesSent, prefixes: m.prefixesSent, withdrawn: m.withdrawnSent };
  }

  /** Route counts of one protocol (peer) for one family, BIRD's imported/exported/preferred/filtered. */
  routeStats(name: string, family: 4 | 6): ProtocolRouteStats {
    const r = this.peers.get(name);
    const afi = afiOfFamily(family);
    if (r === undefined) return { imported: 0, exported: 0, preferred: 0, filtered: 0 };
    const t = this.tables[afi];
    const e = r.members.get(afi);
    let exported = 0;
    if (e !== undefined) exported = e.group.exportedTo(r.idx);
    return { imported: t.importedFrom(r.idx), exported, preferred: t.preferredPerPeer[r.idx] ?? 0, filtered: 0 };
  }

  /** Per-family totals for `show route count` and metrics. */
  tableStats(family: 4 | 6): { prefixes: number; paths: number; preferred: number; attributeSets: number } {
    const t = this.tables[afiOfFamily(family)];
    return { prefixes: t.prefixCount, paths: t.pathCount, preferred: t.preferredTotal, attributeSets: this.attrs.size };
  }

  /** Routes of one family (Adj-RIB-In paths, the best one marked primary), optionally filtered. */
  routes(family: 4 | 6, filter: RouteFilter = {}): IterableIterator<RouteView> {
    return routesOf(this.tables[afiOfFamily(family)], this.peers, filter);
  }

  /** Update groups for metrics and debugging: signature, members, routes in the Adj-RIB-Out, what was sent. */
  updateGroups(): { family: 4 | 6; signature: string; members: number; routes: number; messages: number; prefixes: number; bytes: number }[] {
    const out = [];
    for (const afi of AFIS) {
      for (const g of this.groups[afi].values()) {
        out.push({ family: (afi === AFI_IPV6 ? 6 : 4) as 4 | 6, signature: g.key, members: g.members.size, routes: g.routeCount, ...g.stats });
      }
    }
    return out;
  }

  /** Protocol names known to the reflector (up or keeping stale routes). */
  peerNames(): string[] {
    return this.peers.list.map((p) => p.name);
  }

  isUp(name: string): boolean {
    return this.peers.get(name)?.up === true;
  }
}

