// The load speaker: a child process holding hundreds of iBGP sessions from distinct 127.x addresses,
// announcing pre-encoded UPDATEs and counting and verifying every prefix each client receives.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { buildPlan, prefixText, V6_BLOCKS, type Plan } from './plan.js';
import type { ChurnResult, ConnectResult, SetupResult, SpeakerConfig, SpeakerReply, SpeakerRequest, StepResult } from './protocol.js';
import { decodeAttributes, forEachPrefixV4, forEachPrefixV6, isBgpError, scanUpdate, ScannedUpdate } from '../../src/wire/index.js';
import { attrSignature, CTX, CTX_ADD_PATH, END_OF_RIB, ipv4ToUint32, KEEPALIVE, openMessage, peerSendsAddPath, uint32ToIpv4 } from './messages.js';

const TYPE_OPEN = 1;
const TYPE_UPDATE = 2;
const TYPE_NOTIFICATION = 3;
const TYPE_KEEPALIVE = 4;

const MAX_ERRORS = 20;
const MAX_REDIALS = 100;
const CONNECT_TIMEOUT_MS = 1000;
const MAX_SAMPLES = 4_000_000;
/** ADD-PATH plan: path slots kept per (client, prefix); more than the speakers so a duplicate path shows. */
const PATH_SLOTS = 8;

type State = 'idle' | 'connecting' | 'opensent' | 'openconfirm' | 'established';

interface Session {
  idx: number;
  afi: 1 | 2;
  local: string;
  bgpIdNum: number;
  receives: boolean;
  state: State;
  sock?: net.Socket;
  rest?: Buffer;
  held: Uint8Array; // 1 = this client holds prefix i (only for receivers)
  count: number; // held prefixes not owned by this client
  keepaliveMs: number;
  holdMs: number; // negotiated hold time
  lastTx: number;
  lastRx: number;
  redials: number;
  upAt: number; // when it last reached Established (performance.now)
  lastError?: string; // why the last connection attempt failed (errno code or NOTIFICATION)
  endOfRib: boolean; // the reflector finished its initial update (RFC 4724 End-of-RIB)
  wanted: boolean; // should be up (redial on failure while connecting)
  announced: boolean;
  addPathRx: boolean; // offers ADD-PATH receive in its OPEN
  addPath: boolean; // negotiated: the reflector's OPEN offered ADD-PATH send, NLRI carry path identifiers
  // ADD-PATH plan receivers: per prefix PATH_SLOTS (path identifier, speaker + 1; 0 = free slot)
  pid?: Uint32Array;
  spk?: Uint8Array;
}

/** What a received attribute block means, decoded once per distinct byte string. */
interface AttrInfo {
  setId: number; // canonical set id, -1 if it matches none
  originatorId: number;
  problem?: string;
}

let cfg: SpeakerConfig;
let plan: Plan;
let sessions: Session[] = [];
let receivers: Session[] = [];
let ownedBy: Int32Array[] = [];
let setCanon: Int32Array;
const sigToSet = new Map<string, number>();
const attrCache = new Map<string, AttrInfo>();
let clusterIdNum = 0;
let announced: Uint8Array; // prefix i is currently announced by its owner
let announcedBy: Int32Array;
const totalAnnounced = [0, 0, 0]; // by AFI
let atTarget = 0;
let lastUpdateAt = 0; // last UPDATE received by any receiver (quiet stop of the ADD-PATH step)

// Per-step accounting.
let errors: string[] = [];
let errorCount = 0;
let updatesReceived = 0;
let prefixesReceived = 0;
let sessionsLost = 0;
const closeReasons = new Map<string, number>(); // redial causes during connect
let cpuAtStart = process.cpuUsage();
let eluAtStart = performance.eventLoopUtilization();

// Churn delay tracking.
let tracking = false;
let lastSent = new Float64Array(0);
let samples = new Float64Array(0);
let sampleN = 0;
let delivered = 0;

let waiter: { t0: number; resolve: (ms: number, timedOut: boolean) => void; timer: NodeJS.Timeout } | undefined;
let connectWaiter: { check: () => void } | undefined;
// Split load: the establish burst lasts until every worker's sessions are up (the coordinator's endConnect),
// not only this worker's; until then a session the reflector closes is re-dialled, as in one process.
let burst = false;
let connectT0 = 0;
let settleWaiter: { check: () => void } | undefined;

/** CLOCK_MONOTONIC in ms, the same clock in every process of this machine (uv_hrtime); performance.now() is not (its origin is per process). */
function monoNow(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** performance.now() value t as CLOCK_MONOTONIC ms (both read uv_hrtime; the offset is sampled, error ~µs). */
function toMono(t: number): number {
  return t + (monoNow() - performance.now());
}

/** Split load: this process drives only its share of the sessions (see SpeakerConfig.shard). */
function mine(idx: number): boolean {
  return !cfg.shard || idx % cfg.shard.count === cfg.shard.index;
}

function problem(msg: string): void {
  errorCount++;
  if (errors.length < MAX_ERRORS) errors.push(msg);
}

/** Prefixes of the session's family announced by other sessions: what the client must hold. */
function target(s: Session): number {
  return totalAnnounced[s.afi]! - announcedBy[s.idx]!;
}

function recountTargets(): void {
  atTarget = 0;
  for (const r of receivers) if (r.count === target(r)) atTarget++;
}

function setup(c: SpeakerConfig): SetupResult {
  const t = performance.now();
  cfg = c;
  plan = buildPlan(c.plan);
  clusterIdNum = ipv4ToUint32(c.clusterId);
  const P = plan.prefixCount;
  sessions = plan.sessions.map((s, idx) => ({
    idx,
    afi: s.afi,
    local: s.local,
    bgpIdNum: ipv4ToUint32(s.bgpId),
    receives: s.receives && mine(idx),
    state: 'idle' as State,
    held: new Uint8Array(s.receives && mine(idx) && plan.paths === 1 ? P : 0),
    ...(s.receives && mine(idx) && plan.paths > 1 ? { pid: new Uint32Array(P * PATH_SLOTS), spk: new Uint8Array(P * PATH_SLOTS) } : {}),
    addPathRx: s.addPathRx === true,
    addPath: false,
    count: 0,
    keepaliveMs: (c.holdTime * 1000) / 3,
    holdMs: c.holdTime * 1000,
    lastTx: 0,
    lastRx: 0,
    redials: 0,
    upAt: 0,
    endOfRib: false,
    wanted: false,
    announced: false,
  }));
  receivers = sessions.filter((s) => s.receives);
  const lists: number[][] = sessions.map(() => []);
  for (let i = 0; i < P; i++) lists[plan.owner[i]!]!.push(i);
  ownedBy = lists.map((l) => Int32Array.from(l));
  // ADD-PATH plan: each of the first `paths` sessions announces every prefix.
  for (let k = 1; k < plan.paths; k++) ownedBy[k] = ownedBy[0]!;
  setCanon = new Int32Array(plan.setSigs.length);
  plan.setSigs.forEach((sig, k) => {
    if (!sigToSet.has(sig)) sigToSet.set(sig, k);
    setCanon[k] = sigToSet.get(sig)!;
  });
  announced = new Uint8Array(P);
  announcedBy = new Int32Array(sessions.length);
  lastSent = new Float64Array(P);
  recountTargets();
  warmUp();
  return { sessions: sessions.length, prefixes: P, updates: plan.updateCount, buildMs: performance.now() - t };
}

/**
 * Runs the receive path over our own UPDATEs (announce, then withdraw, a few times) on a scratch
 * client, so the JIT has optimised it before any clock starts; every counter is reset afterwards.
 */
function warmUp(): void {
  const scratch: Session = {
    ...sessions[0]!, idx: -1, bgpIdNum: 0, receives: true, held: new Uint8Array(plan.prefixCount), count: 0,
    ...(plan.paths > 1 ? { pid: new Uint32Array(plan.prefixCount * PATH_SLOTS), spk: new Uint8Array(plan.prefixCount * PATH_SLOTS) } : {}),
  };
  const feed = (buf: Buffer): void => {
    for (let o = 0; o + 19 <= buf.length;) {
      const len = (buf[o + 16]! << 8) | buf[o + 17]!;
      onUpdate(scratch, buf, o, len, 0);
      o += len;
    }
  };
  for (let pass = 0; pass < 3; pass++) {
    for (let i = 0; i < sessions.length && i < 50; i++) {
      feed(plan.announce[i]!);
      feed(plan.withdraw[i]!);
    }
  }
  attrCache.clear();
  sectionCache.clear();
  messageCache.clear();
  recountTargets();
  resetStep();
}

function write(s: Session, b: Buffer): void {
  if (!s.sock || s.state !== 'established') {
    problem(`${s.local}: cannot send, session not Established`);
    return;
  }
  s.sock.write(b);
  s.lastTx = performance.now();
}

// ---- sessions ------------------------------------------------------------------

function dial(s: Session): void {
  s.state = 'connecting';
  s.rest = undefined;
  const sock = net.connect({ host: s.afi === 2 ? cfg.remote6! : cfg.remote, port: cfg.port, localAddress: s.local });
  s.sock = sock;
  sock.setNoDelay(true);
  // A SYN dropped by a full listen queue (BIRD's backlog is 8) is retried by the kernel after 1, 3, 7, 15 ... s;
  // like the anchors' clients we re-dial instead after 1 s, so establishment measures the reflector, not backoff.
  const connectTimer = setTimeout(() => {
    if (s.sock === sock && s.state === 'connecting') {
      s.lastError = 'connect timeout (1 s)';
      sock.destroy();
    }
  }, CONNECT_TIMEOUT_MS);
  sock.on('connect', () => {
    clearTimeout(connectTimer);
    s.state = 'opensent';
    sock.write(openMessage(cfg.asn, cfg.holdTime, uint32ToIpv4(s.bgpIdNum), s.afi, s.addPathRx));
    s.lastTx = performance.now();
  });
  sock.on('data', (chunk: Buffer) => onData(s, chunk));
  sock.on('error', (e: NodeJS.ErrnoException) => { s.lastError = e.code ?? e.message; }); // 'close' follows and decides
  sock.on('close', () => { clearTimeout(connectTimer); onClose(s, sock); });
}

function onClose(s: Session, sock: net.Socket): void {
  if (s.sock !== sock) return;
  const was = s.state;
  s.sock = undefined;
  s.state = 'idle';
  if (!s.wanted) return;
  if (was === 'established' && (connectWaiter || burst)) {
    // Still bringing sessions up: a client would simply re-dial (FRR 8.4 sometimes drops a session it has
    // just established when a start timer fires); count it as a redial, not as a lost session.
    s.lastError = s.lastError ?? 'closed right after Established';
  } else if (was === 'established') {
    sessionsLost++;
    problem(`${s.local}: Established session closed by the reflector`);
    finishWait(true); // the step cannot succeed any more: fail now rather than at the timeout
    return;
  }
  if (s.redials >= MAX_REDIALS) {
    problem(`${s.local}: gave up after ${s.redials} redials`);
    return;
  }
  s.redials++;
  const why = s.lastError ?? `closed in ${was}`;
  closeReasons.set(why, (closeReasons.get(why) ?? 0) + 1);
  s.lastError = undefined;
  setTimeout(() => { if (s.wanted && s.state === 'idle') dial(s); }, 50 + Math.random() * 150).unref();
}

const TRACE = process.env.BENCH_SPEAKER_TRACE === '1';
const traces = new Map<number, { first: number; last: number; chunks: number; bytes: number; gaps40: number; maxGap: number }>();

function onData(s: Session, chunk: Buffer): void {
  if (TRACE && s.state === 'established') {
    const t = performance.now();
    const tr = traces.get(s.idx) ?? { first: t, last: t, chunks: 0, bytes: 0, gaps40: 0, maxGap: 0 };
    const gap = t - tr.last;
    if (gap > 30) tr.gaps40++;
    tr.maxGap = Math.max(tr.maxGap, gap);
    tr.last = t;
    tr.chunks++;
    tr.bytes += chunk.length;
    traces.set(s.idx, tr);
  }
  s.lastRx = performance.now();
  let buf = chunk;
  if (s.rest) {
    buf = Buffer.concat([s.rest, chunk]);
    s.rest = undefined;
  }
  let o = 0;
  const now = performance.now();
  while (buf.length - o >= 19) {
    const len = (buf[o + 16]! << 8) | buf[o + 17]!;
    if (len < 19) {
      problem(`${s.local}: bad message length ${len}`);
      s.sock?.destroy();
      return;
    }
    if (buf.length - o < len) break;
    const type = buf[o + 18]!;
    if (type === TYPE_UPDATE) {
      if (s.receives && s.state === 'established') onUpdate(s, buf, o, len, now);
      else if (!s.endOfRib && len <= 40 && analyse(buf.subarray(o, o + len)).endOfRib) {
        // A source does not track routes, but its End-of-RIB still ends the settle wait.
        s.endOfRib = true;
        settleWaiter?.check();
      }
    } else if (type === TYPE_KEEPALIVE) {
      if (s.state === 'openconfirm') {
        s.state = 'established';
        s.upAt = now;
        // Our initial table is empty: say so at once, as a GR-capable client does (some reflectors hold
        // their initial update until the client's End-of-RIB arrives).
        s.sock?.write(END_OF_RIB[s.afi]);
        s.lastTx = now;
        connectWaiter?.check();
      }
    } else if (type === TYPE_OPEN) {
      const peerHold = buf.readUInt16BE(o + 22);
      const hold = Math.min(peerHold, cfg.holdTime);
      s.keepaliveMs = hold > 0 ? (hold * 1000) / 3 : 0;
      s.holdMs = hold * 1000;
      s.addPath = false;
      if (s.addPathRx) {
        try {
          s.addPath = peerSendsAddPath(buf.subarray(o, o + len));
        } catch (e) {
          problem(`${s.local}: OPEN from the reflector does not decode: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      s.state = 'openconfirm';
      s.endOfRib = false;
      s.sock?.write(KEEPALIVE);
      s.lastTx = now;
    } else if (type === TYPE_NOTIFICATION) {
      s.lastError = `NOTIFICATION ${buf[o + 19]}/${buf[o + 20]} in ${s.state}`;
      if (s.wanted && s.state === 'established' && !connectWaiter && !burst) problem(`${s.local}: NOTIFICATION ${buf[o + 19]}/${buf[o + 20]} from the reflector`);
    }
    o += len;
  }
  if (o < buf.length) s.rest = buf.subarray(o);
  if (waiter && atTarget === receivers.length) finishWait(false);
}

/** Decodes (with the codec's structured decoder) and checks an attribute block once per distinct byte string. */
function lookupAttrs(block: Uint8Array, mpNextHop: Uint8Array | undefined): AttrInfo {
  let key = Buffer.from(block.buffer, block.byteOffset, block.length).toString('latin1');
  if (mpNextHop) key += `|${Buffer.from(mpNextHop.buffer, mpNextHop.byteOffset, mpNextHop.length).toString('latin1')}`;
  let info = attrCache.get(key);
  if (info) return info;
  let c;
  try {
    c = attrSignature(decodeAttributes(block, CTX), mpNextHop);
  } catch (e) {
    info = { setId: -1, originatorId: -1, problem: `attributes do not decode: ${e instanceof Error ? e.message : String(e)}` };
    attrCache.set(key, info);
    return info;
  }
  const setId = sigToSet.get(c.sig) ?? -1;
  info = { setId, originatorId: c.originatorId };
  if (setId < 0) info.problem = `attributes match no announced set: ${c.sig}`;
  else if (c.originatorId !== plan.setOwnerId[setId]) info.problem = `ORIGINATOR_ID ${uint32ToIpv4(c.originatorId >>> 0)} (expected ${uint32ToIpv4(plan.setOwnerId[setId]!)})`;
  else if (!c.clusterList.includes(clusterIdNum)) info.problem = `CLUSTER_LIST ${c.clusterList.map(uint32ToIpv4).join(' ')} lacks ${cfg.clusterId}`;
  attrCache.set(key, info);
  return info;
}

/** Prefix indexes of one NLRI or withdrawn-routes section; -1 where the prefix is not in the plan. */
interface Section {
  idx: Int32Array;
  pid: Uint32Array; // path identifier of each prefix (0 without ADD-PATH)
  unknown: string[];
}

/**
 * Sections by their bytes. Reflectors send the same packing to every client, so decoding and hashing
 * each prefix once per distinct section (not once per client) keeps the receive side off the critical path.
 */
const sectionCache = new Map<string, Section>();
const EMPTY_SECTION: Section = { idx: new Int32Array(0), pid: new Uint32Array(0), unknown: [] };

function section(buf: Uint8Array, start: number, end: number, afi: number, addPath: boolean): Section {
  if (start >= end) return EMPTY_SECTION;
  const key = (addPath ? 'A' : 'N') + afi + Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
  let sec = sectionCache.get(key);
  if (sec) return sec;
  const out: number[] = [];
  const pids: number[] = [];
  const unknown: string[] = [];
  if (afi === 1) {
    forEachPrefixV4(buf, start, end, addPath, (addr, plen, pathId) => {
      const idx = plan.index.get(addr, plen);
      if (idx < 0) unknown.push(`${uint32ToIpv4(addr)}/${plen}`);
      out.push(idx);
      pids.push(pathId);
    });
  } else {
    forEachPrefixV6(buf, start, end, addPath, (b, off, plen, pathId) => {
      pids.push(pathId);
      // Plan prefixes are under V6_BLOCKS (a /96) and longer than 96 bits: compare the top 12 octets, key on the rest.
      let idx = -1;
      if (plen > 96 && V6_BLOCKS.every((x, k) => b[off + k] === x)) {
        let low = 0;
        for (let k = 12; k < (plen + 7) >> 3; k++) low |= b[off + k]! << (8 * (15 - k));
        idx = plan.index6.get(low >>> 0, plen);
      }
      if (idx < 0) unknown.push(`${Buffer.from(b.subarray(off, off + ((plen + 7) >> 3))).toString('hex')}/${plen}`);
      out.push(idx);
    });
  }
  if (sectionCache.size > 200_000) sectionCache.clear();
  sec = { idx: Int32Array.from(out), pid: Uint32Array.from(pids), unknown };
  sectionCache.set(key, sec);
  return sec;
}

const scanned = new ScannedUpdate();

/** What one UPDATE means for a client of each family, worked out once per distinct message. */
interface Analysed {
  problems: string[]; // malformed, treat-as-withdraw, unknown prefixes, wrong attributes
  hasOriginatorId: boolean;
  originatorId: number;
  withdrawn: [Int32Array, Int32Array]; // [IPv4, IPv6] prefix indexes (-1: not in the plan)
  reach: [Int32Array, Int32Array];
  withdrawnPid: [Uint32Array, Uint32Array]; // path identifiers beside them (0 without ADD-PATH)
  reachPid: [Uint32Array, Uint32Array];
  setId: [number, number]; // canonical attribute set of the reachable NLRI per family, -1 if none matched
  endOfRib: boolean;
}

/**
 * Whole messages by their bytes. A reflector sends the same UPDATE to many clients (every client in the
 * Calico shape gets the same bytes for a given origin), so the codec scan, the attribute check and the
 * prefix lookups run once per distinct message; each client then only updates its own bitmap.
 */
const messageCache = new Map<string, Analysed>();
const NONE = new Int32Array(0);
const NO_PID = new Uint32Array(0);

function analyse(msg: Uint8Array, addPath = false): Analysed {
  const r: Analysed = {
    problems: [], hasOriginatorId: false, originatorId: 0, withdrawn: [NONE, NONE], reach: [NONE, NONE],
    withdrawnPid: [NO_PID, NO_PID], reachPid: [NO_PID, NO_PID], setId: [-1, -1], endOfRib: false,
  };
  let u: ScannedUpdate;
  try {
    u = scanUpdate(msg, addPath ? CTX_ADD_PATH : CTX, scanned); // the codec's hot path: RFC 7606 validation, offsets only
  } catch (e) {
    r.problems.push(`malformed UPDATE from the reflector: ${isBgpError(e) ? e.message : String(e)}`);
    return r;
  }
  if (u.treatAsWithdraw) r.problems.push(`UPDATE needing treat-as-withdraw: ${u.treatAsWithdraw.message}`);
  r.hasOriginatorId = u.hasOriginatorId;
  r.originatorId = u.originatorId;
  r.endOfRib = u.isEndOfRib;
  const w4 = section(msg, u.withdrawnStart, u.withdrawnEnd, 1, addPath);
  const w6 = u.mpUnreachAfi === 2 ? section(msg, u.mpUnreachStart, u.mpUnreachEnd, 2, false) : EMPTY_SECTION;
  r.withdrawn = [w4.idx, w6.idx];
  r.withdrawnPid = [w4.pid, w6.pid];
  const parts: [number, number, number, Uint8Array | undefined][] = [
    [1, u.nlriStart, u.nlriEnd, undefined],
    [2, u.mpReachAfi === 2 ? u.mpReachStart : 0, u.mpReachAfi === 2 ? u.mpReachEnd : 0, u.mpNextHop],
  ];
  for (const [afi, start, end, mpNextHop] of parts) {
    if (end <= start) continue;
    const info = lookupAttrs(u.attrs, mpNextHop);
    const sec = section(msg, start, end, afi, afi === 1 && addPath);
    r.reach[afi - 1] = sec.idx;
    r.reachPid[afi - 1] = sec.pid;
    r.setId[afi - 1] = info.setId;
    // A problem only counts when the route is not the client's own echo; apply() decides that per client.
    if (info.problem) r.problems.push(info.problem);
    for (const x of sec.unknown) r.problems.push(`unexpected prefix ${x}`);
    // The set this prefix must carry from the speaker whose NEXT_HOP the attributes have (always 0 but ADD-PATH).
    const path = info.setId >= 0 ? Math.floor(info.setId / plan.setsPerPath) : 0;
    for (const idx of sec.idx) {
      if (idx >= 0 && info.setId >= 0 && setCanon[plan.setOf[idx]! + path * plan.setsPerPath] !== info.setId) {
        r.problems.push(`${prefixText(plan, idx)} arrived with the attributes of another set`);
      }
    }
  }
  return r;
}

function onUpdate(s: Session, buf: Buffer, o: number, len: number, now: number): void {
  updatesReceived++;
  lastUpdateAt = now;
  const key = (s.addPath ? 'A' : 'N') + buf.toString('latin1', o, o + len);
  let r = messageCache.get(key);
  if (!r) {
    r = analyse(buf.subarray(o, o + len), s.addPath);
    if (messageCache.size > 100_000) messageCache.clear();
    messageCache.set(key, r);
  }
  if (r.endOfRib) {
    if (!s.endOfRib) {
      s.endOfRib = true;
      settleWaiter?.check();
    }
    return;
  }
  if (s.spk) {
    onUpdatePaths(s, r);
    return;
  }
  const held = s.held;
  const before = s.count;
  const T = target(s);
  const f = s.afi - 1;
  const withdrawn = r.withdrawn[f];
  prefixesReceived += withdrawn.length;
  for (let k = 0; k < withdrawn.length; k++) {
    const idx = withdrawn[k]!;
    if (idx >= 0 && held[idx] === 1) {
      held[idx] = 0;
      s.count--;
      if (tracking) { delivered++; if (sampleN < MAX_SAMPLES) samples[sampleN++] = now - lastSent[idx]!; }
    }
  }
  // Our own route reflected back (RFC 4456 §8: the originator ignores it); FRR's update groups do this.
  const echo = r.hasOriginatorId && r.originatorId === s.bgpIdNum;
  if (!echo) {
    for (const p of r.problems) problem(`${s.local}: ${p}`);
    const nlri = r.reach[f];
    prefixesReceived += nlri.length;
    for (let k = 0; k < nlri.length; k++) {
      const idx = nlri[k]!;
      if (idx < 0) continue;
      if (plan.owner[idx] === s.idx) {
        problem(`${s.local}: own prefix ${prefixText(plan, idx)} sent back without our ORIGINATOR_ID`);
        continue;
      }
      if (held[idx] === 0) {
        held[idx] = 1;
        s.count++;
        if (tracking) { delivered++; if (sampleN < MAX_SAMPLES) samples[sampleN++] = now - lastSent[idx]!; }
      }
    }
  }
  countChanged(s, before, T);
}

function countChanged(s: Session, before: number, T: number): void {
  if (before !== s.count) {
    const wasAt = before === T;
    const isAt = s.count === T;
    if (wasAt !== isAt) atTarget += isAt ? 1 : -1;
  }
}

/**
 * ADD-PATH plan (RFC 7911 §3): a client's view is keyed by (prefix, path identifier). A withdrawal names the
 * identifier; an announcement with a known identifier replaces that path; the speaker a path comes from is
 * told by its NEXT_HOP (its attribute set). Without ADD-PATH every identifier is 0: one path per prefix.
 */
function onUpdatePaths(s: Session, r: Analysed): void {
  const pid = s.pid!;
  const spk = s.spk!;
  const before = s.count;
  const T = target(s);
  const wi = r.withdrawn[0];
  const wp = r.withdrawnPid[0];
  prefixesReceived += wi.length;
  for (let k = 0; k < wi.length; k++) {
    const idx = wi[k]!;
    if (idx < 0) continue;
    const base = idx * PATH_SLOTS;
    for (let j = 0; j < PATH_SLOTS; j++) {
      if (spk[base + j] !== 0 && pid[base + j] === wp[k]) {
        spk[base + j] = 0;
        s.count--;
        break;
      }
    }
  }
  for (const p of r.problems) problem(`${s.local}: ${p}`);
  const nlri = r.reach[0];
  const np = r.reachPid[0];
  prefixesReceived += nlri.length;
  const setId = r.setId[0];
  if (nlri.length && setId >= 0) {
    const who = Math.floor(setId / plan.setsPerPath) + 1;
    for (let k = 0; k < nlri.length; k++) {
      const idx = nlri[k]!;
      if (idx < 0) continue;
      const base = idx * PATH_SLOTS;
      let free = -1;
      let hit = -1;
      for (let j = 0; j < PATH_SLOTS; j++) {
        if (spk[base + j] === 0) { if (free < 0) free = j; } else if (pid[base + j] === np[k]) { hit = j; break; }
      }
      if (hit >= 0) spk[base + hit] = who;
      else if (free >= 0) {
        spk[base + free] = who;
        pid[base + free] = np[k]!;
        s.count++;
      } else problem(`${s.local}: more than ${PATH_SLOTS} paths for ${prefixText(plan, idx)}`);
    }
  }
  countChanged(s, before, T);
}

// ---- steps ---------------------------------------------------------------------

function resetStep(): void {
  errors = [];
  errorCount = 0;
  updatesReceived = 0;
  prefixesReceived = 0;
  cpuAtStart = process.cpuUsage();
  eluAtStart = performance.eventLoopUtilization();
  if (sessionsLost > 0) problem(`${sessionsLost} session(s) were lost earlier`);
}

function finishWait(timedOut: boolean): void {
  const w = waiter;
  if (!w) return;
  waiter = undefined;
  clearTimeout(w.timer);
  w.resolve(performance.now() - w.t0, timedOut);
}

function waitTargets(t0: number, timeoutMs: number): Promise<{ ms: number; timedOut: boolean }> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => finishWait(true), Math.max(0, t0 + timeoutMs - performance.now()));
    waiter = { t0, resolve: (ms, timedOut) => resolve({ ms, timedOut }), timer };
    if (atTarget === receivers.length) finishWait(false);
  });
}

/** Exact check after the clock stopped: each receiver holds what is announced by others, nothing else. */
function verify(): void {
  if (plan.paths > 1) {
    verifyPaths();
    return;
  }
  let reported = 0;
  for (const r of receivers) {
    let missing = 0;
    let extra = 0;
    let first = -1;
    for (let i = 0; i < plan.prefixCount; i++) {
      const want = announced[i] === 1 && plan.owner[i] !== r.idx && plan.afi[i] === r.afi ? 1 : 0;
      if (r.held[i] !== want) {
        if (want) missing++; else extra++;
        if (first < 0) first = i;
      }
    }
    if (missing || extra) {
      if (reported++ < 5) problem(`${r.local}: ${missing} missing, ${extra} not withdrawn (e.g. ${prefixText(plan, first)})`);
      else errorCount++;
    }
  }
}

/** ADD-PATH plan: each receiver holds, for every prefix, one path from each announcing speaker and no other. */
function verifyPaths(): void {
  let want = 0;
  for (let k = 0; k < plan.paths; k++) if (sessions[k]!.announced) want |= 1 << k;
  let reported = 0;
  for (const r of receivers) {
    let missing = 0;
    let extra = 0;
    let first = -1;
    for (let i = 0; i < plan.prefixCount; i++) {
      let mask = 0;
      let dup = 0;
      for (let j = 0; j < PATH_SLOTS; j++) {
        const w = r.spk![i * PATH_SLOTS + j]!;
        if (w === 0) continue;
        const bit = 1 << (w - 1);
        if (mask & bit) dup++;
        mask |= bit;
      }
      const m = popcount(want & ~mask);
      const x = popcount(mask & ~want) + dup;
      if ((m || x) && first < 0) first = i;
      missing += m;
      extra += x;
    }
    if (missing || extra) {
      if (reported++ < 5) problem(`${r.local}: ${missing} paths missing, ${extra} extra or not withdrawn (e.g. ${prefixText(plan, first)}; ADD-PATH ${r.addPath ? '' : 'not '}negotiated)`);
      else errorCount++;
    }
  }
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x; v; v &= v - 1) n++;
  return n;
}

/** ADD-PATH plan: paths per prefix the receivers hold (mean and minimum over receivers). */
function pathsSeen(): { pathsPerPrefix: number; pathsPerPrefixMin: number; addPathSessions: number } | Record<string, never> {
  if (plan.paths === 1 || !receivers.length) return {};
  const per = receivers.map((r) => r.count / plan.prefixCount);
  return {
    pathsPerPrefix: per.reduce((a, x) => a + x, 0) / per.length,
    pathsPerPrefixMin: Math.min(...per),
    addPathSessions: receivers.filter((r) => r.addPath).length,
  };
}

function selectSessions(sel: number[] | 'all'): Session[] {
  return sel === 'all' ? sessions : sel.map((i) => sessions[i]!);
}

function markAnnounced(s: Session, on: boolean, now: number): void {
  if (s.announced === on) return;
  s.announced = on;
  const v = on ? 1 : 0;
  for (const i of ownedBy[s.idx]!) {
    announced[i] = v;
    lastSent[i] = now;
  }
  const n = ownedBy[s.idx]!.length;
  announcedBy[s.idx] = on ? n : 0;
  totalAnnounced[s.afi] += on ? n : -n;
}

async function step(sel: number[] | 'all', on: boolean, timeoutMs: number, quietMs?: number): Promise<StepResult> {
  resetStep();
  const list = selectSessions(sel).filter((s) => ownedBy[s.idx]!.length > 0);
  const t0 = performance.now();
  let wrote = false;
  for (const s of list) {
    // Every worker marks every selected session announced (its clients' targets), but only the owner writes.
    if (mine(s.idx)) { write(s, on ? plan.announce[s.idx]! : plan.withdraw[s.idx]!); wrote = true; }
    markAnnounced(s, on, t0);
  }
  recountTargets();
  // quietMs: give up once nothing arrived for that long (a reflector sending fewer paths than expected
  // would otherwise be waited for until the timeout).
  lastUpdateAt = t0;
  let quiet = false;
  const quietTimer = quietMs ? setInterval(() => {
    if (waiter && performance.now() - lastUpdateAt > quietMs) { quiet = true; finishWait(true); }
  }, 100) : undefined;
  const { ms: waited, timedOut } = await waitTargets(t0, timeoutMs);
  if (quietTimer) clearInterval(quietTimer);
  // A quiet stop ends at the last UPDATE, not quietMs later.
  const ms = quiet ? lastUpdateAt - t0 : waited;
  if (quiet) problem(`not converged: nothing more arrived for ${quietMs} ms; ${receivers.length - atTarget} of ${receivers.length} clients not at their target count`);
  else if (timedOut) problem(`not converged (timeout ${timeoutMs} ms or session lost): ${receivers.length - atTarget} of ${receivers.length} clients not at their target count`);
  const seen = pathsSeen();
  verify();
  if (TRACE) {
    for (const [i, tr] of traces) console.error(`trace ${sessions[i]!.local}: ${tr.chunks} chunks ${tr.bytes} B, ${(tr.first - t0).toFixed(1)}..${(tr.last - t0).toFixed(1)} ms, gaps>30ms ${tr.gaps40}, max gap ${tr.maxGap.toFixed(1)}`);
    traces.clear();
  }
  return {
    ok: errorCount === 0, ms, timedOut: timedOut && !quiet, errors, updatesReceived, prefixesReceived, ...speakerLoad(), ...seen,
    startMono: toMono(t0), endMono: toMono(t0 + ms), wrote,
  };
}

/** How busy the speaker itself was during the step: near 1.0 means the load side may be the bottleneck. */
function speakerLoad(): { speakerCpuMs: number; speakerElu: number } {
  const c = process.cpuUsage(cpuAtStart);
  return { speakerCpuMs: (c.user + c.system) / 1000, speakerElu: performance.eventLoopUtilization(eluAtStart).utilization };
}

/** resume (split load): the same burst goes on (another worker was not done, one of ours went down since). */
function connect(timeoutMs: number, sel?: number[], resume = false): Promise<ConnectResult> {
  if (!resume) {
    resetStep();
    connectT0 = performance.now();
  }
  burst = true;
  const list = (sel ? sel.map((i) => sessions[i]!) : sessions).filter((s) => mine(s.idx));
  const t0 = connectT0;
  return new Promise((resolve) => {
    const done = (timedOut: boolean): void => {
      connectWaiter = undefined;
      clearTimeout(timer);
      if (!cfg.shard || cfg.shard.count === 1) burst = false; // one process: the burst ends here
      const t1 = timedOut ? performance.now() : list.reduce((a, s) => Math.max(a, s.upAt), t0);
      if (timedOut) problem(`timeout after ${timeoutMs} ms: ${list.filter((s) => s.state !== 'established').length} sessions not Established`);
      resolve({
        ok: errorCount === 0, ms: t1 - t0, timedOut, redials: list.reduce((a, s) => a + s.redials, 0), redialCauses: Object.fromEntries(closeReasons), errors,
        startMono: toMono(t0), endMono: toMono(t1), speakerElu: speakerLoad().speakerElu,
      });
      closeReasons.clear();
    };
    const timer = setTimeout(() => done(true), timeoutMs);
    connectWaiter = { check: () => { if (list.every((s) => s.state === 'established')) done(false); } };
    for (const s of list) {
      s.wanted = true;
      if (!resume) s.redials = 0;
      if (s.state === 'idle') dial(s);
    }
    connectWaiter.check(); // all may be up already
  });
}

/**
 * Waits until every session got End-of-RIB: the reflector's initial sync is over, so a convergence measured
 * next does not include start-up timers (FRR holds a new update group's first updates for up to 10 s).
 */
function settle(timeoutMs: number): Promise<{ ms: number; endOfRib: number; sessions: number }> {
  const t0 = performance.now();
  const own = sessions.filter((s) => mine(s.idx));
  return new Promise((resolve) => {
    const done = (): void => {
      settleWaiter = undefined;
      clearTimeout(timer);
      resolve({ ms: performance.now() - t0, endOfRib: own.filter((s) => s.endOfRib).length, sessions: own.length });
    };
    const timer = setTimeout(done, timeoutMs);
    settleWaiter = { check: () => { if (own.every((s) => s.endOfRib)) done(); } };
    settleWaiter.check();
  });
}

async function churn(sel: number[], intervalMs: number, durationMs: number, timeoutMs: number): Promise<ChurnResult> {
  // The churn schedule and its delay samples live in one process; the runner never splits it.
  if (cfg.shard && cfg.shard.count > 1) throw new Error('churn runs in one load process (no shard)');
  resetStep();
  const list = sel.map((i) => sessions[i]!);
  samples = new Float64Array(Math.min(MAX_SAMPLES, Math.max(1024, Math.ceil((durationMs / intervalMs + 2) * list.length * (plan.prefixCount / sessions.length) * receivers.length))));
  sampleN = 0;
  delivered = 0;
  tracking = true;
  let toggles = 0;
  const period = Math.max(1, intervalMs / Math.max(1, list.length));
  const tStart = performance.now();
  await new Promise<void>((resolve) => {
    let k = 0;
    const maxToggles = Math.ceil(durationMs / period) + 1;
    const timer = setInterval(() => {
      const now = performance.now();
      if (now - tStart >= durationMs || toggles >= maxToggles) {
        clearInterval(timer);
        resolve();
        return;
      }
      const s = list[k++ % list.length]!;
      const on = !s.announced;
      write(s, on ? plan.announce[s.idx]! : plan.withdraw[s.idx]!);
      markAnnounced(s, on, now);
      recountTargets();
      toggles++;
    }, period);
  });
  const windowMs = performance.now() - tStart;
  const inWindow = delivered;
  // Settle: everyone announced again; convergence to that state bounds the run.
  const t1 = performance.now();
  for (const s of list) if (!s.announced) { write(s, plan.announce[s.idx]!); markAnnounced(s, true, t1); }
  recountTargets();
  const { ms, timedOut } = await waitTargets(t1, timeoutMs);
  tracking = false;
  if (timedOut) problem(`timeout after churn: ${receivers.length - atTarget} clients not at their target count`);
  verify();
  const sorted = samples.subarray(0, sampleN).sort();
  const pct = (q: number): number => (sampleN ? sorted[Math.min(sampleN - 1, Math.floor(q * sampleN))]! : NaN);
  return {
    ok: errorCount === 0, ms, timedOut, errors, updatesReceived, prefixesReceived, ...speakerLoad(),
    startMono: toMono(t1), endMono: toMono(t1 + ms), wrote: true,
    windowMs, toggles, delivered: inWindow, deliveredPerSec: inWindow / (windowMs / 1000),
    p50Ms: pct(0.5), p99Ms: pct(0.99), maxMs: sampleN ? sorted[sampleN - 1]! : NaN, samples: sampleN,
  };
}

function closeAll(): void {
  for (const s of sessions) {
    s.wanted = false;
    s.sock?.destroy();
  }
}

// ---- process plumbing ----------------------------------------------------------

const keepaliveTimer = setInterval(() => {
  const now = performance.now();
  for (const s of sessions) {
    // Hold timer (RFC 4271 §6.5): a session that went silent is dead even if no FIN arrived.
    if (s.state === 'established' && s.holdMs > 0 && now - s.lastRx > s.holdMs) {
      s.lastError = 'hold timer expired';
      problem(`${s.local}: hold timer expired (nothing from the reflector for ${Math.round(s.holdMs / 1000)} s)`);
      s.sock?.destroy();
      continue;
    }
    if (s.state === 'established' && s.keepaliveMs > 0 && now - s.lastTx >= s.keepaliveMs) {
      s.sock?.write(KEEPALIVE);
      s.lastTx = now;
    }
  }
}, 1000);

async function handle(req: SpeakerRequest): Promise<unknown> {
  switch (req.op) {
    case 'setup': return setup(req.config);
    case 'connect': return connect(req.timeoutMs, req.sessions, req.resume === true);
    case 'connectState': return { allUp: sessions.every((s) => !mine(s.idx) || !s.wanted || s.state === 'established') };
    case 'endConnect': burst = false; return {};
    case 'settle': return settle(req.timeoutMs);
    case 'announce': return step(req.sessions, true, req.timeoutMs, req.quietMs);
    case 'withdraw': return step(req.sessions, false, req.timeoutMs, req.quietMs);
    case 'churn': return churn(req.sessions, req.intervalMs, req.durationMs, req.timeoutMs);
    case 'close':
      closeAll();
      clearInterval(keepaliveTimer);
      setTimeout(() => process.exit(0), 50);
      return {};
  }
}

process.on('message', (m: unknown) => {
  const req = m as SpeakerRequest;
  handle(req).then(
    (result) => process.send!({ id: req.id, ok: true, result } satisfies SpeakerReply),
    (e: unknown) => process.send!({ id: req.id, ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) } satisfies SpeakerReply),
  );
});
// The runner owns our lifetime: if it goes, we go.
process.on('disconnect', () => process.exit(0));
