// Bench workload plans: which session announces which prefixes with which attributes, and the
// pre-encoded UPDATE bytes. Deterministic (seeded), so the parent and the speaker build the same plan.
import { PrefixIndex } from './prefix-index.js';
import { decodeAttributes } from '../../src/wire/index.js';
import { attrSignature, CTX, encodeAttrSet, ipv4ToUint32, packAnnounce, packAnnounce6, packWithdraw, packWithdraw6, uint32ToIpv4, type AttrSet } from './messages.js';

export type PlanSpec =
  | { kind: 'table'; n: number; sets: number; seed: number; clients: number }
  /** ipv6: each client also has an IPv6 session (Calico's bird6) announcing R /122 blocks. */
  | { kind: 'calico'; clients: number; blocks: number; ipv6?: boolean }
  /**
   * ADD-PATH (RFC 7911): `speakers` sessions each announce the same N prefixes (same attributes but their own
   * NEXT_HOP) and receive nothing; `clients` sessions offer ADD-PATH receive and must see one path per speaker.
   */
  | { kind: 'addpath'; n: number; sets: number; seed: number; speakers: number; clients: number };

export interface PlanSession {
  afi: 1 | 2;
  local: string; // IPv4 or IPv6 source address
  bgpId: string; // always the client's IPv4 address (a router has one BGP identifier)
  /** Receivers count and verify what the reflector sends them; the table source does not. */
  receives: boolean;
  /** Offers ADD-PATH receive for IPv4 unicast in its OPEN (the addpath plan's clients). */
  addPathRx?: boolean;
}

export interface Plan {
  sessions: PlanSession[];
  prefixCount: number;
  afi: Uint8Array; // 1 or 2 per prefix
  addrs: Uint32Array; // IPv4 address, or for IPv6 the low 32 bits below V6_BLOCKS (the high 96 are fixed)
  lens: Uint8Array;
  owner: Int32Array; // session index that announces each prefix
  setOf: Int32Array; // attribute set of each prefix
  setSigs: string[]; // canonical text of each set (canonicalAttrs of our own encoding)
  setOwnerId: number[]; // expected ORIGINATOR_ID of each set (owner's BGP identifier)
  index: PrefixIndex;
  index6: PrefixIndex; // IPv6 prefixes under V6_BLOCKS, keyed by their low 32 bits
  ownCount: Int32Array; // prefixes announced by each session
  announce: Buffer[]; // per session: all its UPDATEs back to back (empty buffer if none)
  withdraw: Buffer[];
  updateCount: number; // announcing UPDATEs in the whole plan
  /** Sessions 0..paths-1 each announce every prefix (addpath plan); 1 otherwise (owner[] says who). */
  paths: number;
  /** Attribute sets per announcing speaker: set k*setsPerPath + setOf[i] is speaker k's for prefix i. */
  setsPerPath: number;
}

/** IPv6 /122 blocks live in fd00:10::/96; the low 32 bits number them. */
export const V6_BLOCKS = Uint8Array.from([0xfd, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0]);
export const REFLECTOR6 = 'fd00:70::1';

/** The i-th IPv6 load address (only inside the harness's network namespace). */
export function loadAddress6(i: number): string {
  return `fd00:71::${(i + 1).toString(16)}`;
}

function v6Bytes(prefix96: Uint8Array, low: number): Uint8Array {
  const b = new Uint8Array(16);
  b.set(prefix96);
  b[12] = low >>> 24; b[13] = (low >>> 16) & 255; b[14] = (low >>> 8) & 255; b[15] = low & 255;
  return b;
}

/** The i-th load address: 127.71.0.1 upward through 127.79.x.y, skipping .0 and .255. */
export function loadAddress(i: number): string {
  const base = ipv4ToUint32('127.71.0.0') + Math.floor(i / 254) * 256 + (i % 254) + 1;
  if (base > ipv4ToUint32('127.79.255.254')) throw new Error(`load address ${i} is outside 127.71.0.0-127.79.255.255`);
  return uint32ToIpv4(base);
}

/** IPv4 session addresses of a plan without building it (the reflector's client list). */
export function planAddresses(spec: PlanSpec): string[] {
  const n = spec.kind === 'table' ? spec.clients + 1 : spec.kind === 'addpath' ? spec.speakers + spec.clients : spec.clients;
  return Array.from({ length: n }, (_, i) => loadAddress(i));
}

/** IPv6 session addresses (empty unless the Calico plan has ipv6). */
export function planAddresses6(spec: PlanSpec): string[] {
  return spec.kind === 'calico' && spec.ipv6 ? Array.from({ length: spec.clients }, (_, i) => loadAddress6(i)) : [];
}

/**
 * NEXT_HOP announced by session i: 100.64.0.0/10 (shared address space) plus i. Not the loopback session
 * address, because FRR rejects a 127/8 next hop with NOTIFICATION 3/8 (martian) and resets the session.
 */
export function nextHopOf(i: number): number {
  return (ipv4ToUint32('100.64.0.1') + i) >>> 0;
}

/** mulberry32: small, fast, good enough to spread prefixes and attributes (and to replay a test's interleaving). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function tableSets(count: number, nextHop: number, rand: () => number): AttrSet[] {
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const asn = (): number => {
    for (;;) {
      const a = rand() < 0.5 ? int(1, 64000) : int(65536, 4199999999);
      if (a !== 23456 && a !== 64512) return a;
    }
  };
  const sets: AttrSet[] = [];
  for (let k = 0; k < count; k++) {
    const asPath = Array.from({ length: int(1, 5) }, asn);
    const communities = Array.from({ length: int(1, 4) }, () => ((int(1, 65000) << 16) | int(0, 65535)) >>> 0);
    sets.push({
      origin: int(0, 2) as 0 | 1 | 2,
      asPath,
      nextHop,
      ...(k % 3 === 0 ? { med: int(0, 1000) } : {}),
      localPref: k % 2 === 0 ? 100 : 200,
      communities,
    });
  }
  return sets;
}

/** Builds the plan and encodes every UPDATE; all the work the clock must not see. */
export function buildPlan(spec: PlanSpec): Plan {
  const v4 = planAddresses(spec);
  const firstReceiver = spec.kind === 'table' ? 1 : spec.kind === 'addpath' ? spec.speakers : 0;
  const sessions: PlanSession[] = [
    ...v4.map((a, i) => ({ afi: 1 as const, local: a, bgpId: a, receives: i >= firstReceiver, ...(spec.kind === 'addpath' && i >= firstReceiver ? { addPathRx: true } : {}) })),
    ...planAddresses6(spec).map((a, i) => ({ afi: 2 as const, local: a, bgpId: v4[i]!, receives: true })),
  ];
  const v6 = spec.kind === 'calico' && spec.ipv6 === true;
  const perFamily = spec.kind === 'calico' ? spec.clients * spec.blocks : spec.n;
  const total = v6 ? 2 * perFamily : perFamily;
  const afi = new Uint8Array(total).fill(1);
  const index6 = new PrefixIndex(v6 ? perFamily : 1);
  const addrs = new Uint32Array(total);
  const lens = new Uint8Array(total);
  const owner = new Int32Array(total);
  const setOf = new Int32Array(total);
  const index = new PrefixIndex(total);
  let sets: AttrSet[];
  let setOwner: number[];
  const paths = spec.kind === 'addpath' ? spec.speakers : 1;
  if (spec.kind === 'table' || spec.kind === 'addpath') {
    const rand = rng(spec.seed);
    sets = tableSets(spec.sets, nextHopOf(0), rand);
    setOwner = sets.map(() => 0);
    // ADD-PATH: speaker k announces the same sets with its own NEXT_HOP, so its path is told apart by that alone.
    for (let k = 1; k < paths; k++) {
      sets.push(...sets.slice(0, spec.sets).map((x) => ({ ...x, nextHop: nextHopOf(k) })));
      setOwner.push(...new Array<number>(spec.sets).fill(k));
    }
    let i = 0;
    let guard = 0;
    while (i < total) {
      if (++guard > total * 20) throw new Error('could not draw enough distinct prefixes');
      const len = 24 + Math.floor(rand() * 9);
      const first = 1 + Math.floor(rand() * 223);
      if (first === 127 || first === 169 || first === 10) continue; // host/link scope; 10/8 is Calico's
      const raw = ((first << 24) | Math.floor(rand() * 0x1000000)) >>> 0;
      const addr = len === 32 ? raw : (raw & ~((1 << (32 - len)) - 1)) >>> 0;
      if (!index.add(addr, len, i)) continue;
      addrs[i] = addr;
      lens[i] = len;
      owner[i] = 0;
      setOf[i] = i % spec.sets;
      i++;
    }
  } else {
    // One set per session: client i's IPv4 routes carry NEXT_HOP 100.64.0.1+i, its IPv6 routes fd00:64::1+i.
    sets = sessions.map((s, i) => (s.afi === 1
      ? { origin: 0, asPath: [], nextHop: nextHopOf(i), localPref: 100, communities: [] }
      : { origin: 0, asPath: [], nextHop: 0, nextHop6: v6Bytes(Uint8Array.from([0xfd, 0, 0, 0x64, 0, 0, 0, 0, 0, 0, 0, 0]), i - spec.clients + 1), localPref: 100, communities: [] }));
    setOwner = sessions.map((_, i) => i);
    const base = ipv4ToUint32('10.0.0.0');
    for (let c = 0; c < spec.clients; c++) {
      for (let j = 0; j < spec.blocks; j++) {
        const b = c * spec.blocks + j;
        addrs[b] = (base + b * 64) >>> 0;
        lens[b] = 26;
        owner[b] = c;
        setOf[b] = c;
        index.add(addrs[b]!, 26, b);
        if (v6) {
          const i = perFamily + b; // fd00:10::<64 b>/122, owned by the client's IPv6 session
          afi[i] = 2;
          addrs[i] = (b * 64) >>> 0;
          lens[i] = 122;
          owner[i] = spec.clients + c;
          setOf[i] = spec.clients + c;
          index6.add(addrs[i]!, 122, i);
        }
      }
    }
  }
  const encoded = sets.map(encodeAttrSet);
  const setSigs = encoded.map((b, k) => attrSignature(decodeAttributes(b, CTX), sets[k]!.nextHop6).sig);
  const bytes6 = (idx: number[]): Uint8Array => {
    const out = new Uint8Array(16 * idx.length);
    idx.forEach((i, n) => out.set(v6Bytes(V6_BLOCKS, addrs[i]!), 16 * n));
    return out;
  };
  const setOwnerId = setOwner.map((o) => ipv4ToUint32(sessions[o]!.bgpId));
  // Group prefixes per set (each set has one owner), so each set packs into as few UPDATEs as possible.
  const bySet: number[][] = sets.map(() => []);
  const setsPerPath = sets.length / paths;
  for (let i = 0; i < total; i++) for (let k = 0; k < paths; k++) bySet[setOf[i]! + k * setsPerPath]!.push(i);
  const announceParts: Buffer[][] = sessions.map(() => []);
  const withdrawIdx: number[][] = sessions.map(() => []);
  let updateCount = 0;
  sets.forEach((_, k) => {
    const o = setOwner[k]!;
    const idx = bySet[k]!;
    const msgs = sets[k]!.nextHop6
      ? packAnnounce6(encoded[k]!, sets[k]!.nextHop6!, bytes6(idx), idx.map((i) => lens[i]!))
      : packAnnounce(encoded[k]!, idx.map((i) => addrs[i]!), idx.map((i) => lens[i]!));
    updateCount += msgs.length;
    announceParts[o]!.push(...msgs);
    withdrawIdx[o]!.push(...idx);
  });
  const ownCount = new Int32Array(sessions.length);
  if (paths > 1) ownCount.fill(total, 0, paths);
  else for (let i = 0; i < total; i++) ownCount[owner[i]!]!++;
  return {
    sessions,
    prefixCount: total,
    afi,
    addrs,
    lens,
    owner,
    setOf,
    setSigs,
    setOwnerId,
    index,
    index6,
    ownCount,
    announce: announceParts.map((p) => Buffer.concat(p)),
    withdraw: withdrawIdx.map((idx, o) => Buffer.concat(sessions[o]!.afi === 2
      ? packWithdraw6(bytes6(idx), idx.map((i) => lens[i]!))
      : packWithdraw(idx.map((i) => addrs[i]!), idx.map((i) => lens[i]!)))),
    updateCount,
    paths,
    setsPerPath,
  };
}

export function prefixText(plan: Plan, i: number): string {
  if (plan.afi[i] === 2) return `fd00:10::${(plan.addrs[i]! >>> 16).toString(16)}:${(plan.addrs[i]! & 0xffff).toString(16)}/${plan.lens[i]!}`;
  return `${uint32ToIpv4(plan.addrs[i]!)}/${plan.lens[i]!}`;
}
