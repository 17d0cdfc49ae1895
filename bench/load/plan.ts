// Bench workload plans: which session announces which prefixes with which attributes, and the
// pre-encoded UPDATE bytes. Deterministic (seeded), so the parent and the speaker build the same plan.
import { PrefixIndex } from './prefix-index.js';
import { decodeAttributes } from '../../src/wire/index.js';
import { attrSignature, CTX, encodeAttrSet, ipv4ToUint32, packAnnounce, packWithdraw, uint32ToIpv4, type AttrSet } from './messages.js';

export type PlanSpec =
  | { kind: 'table'; n: number; sets: number; seed: number; clients: number }
  | { kind: 'calico'; clients: number; blocks: number };

export interface PlanSession {
  local: string;
  bgpId: string;
  /** Receivers count and verify what the reflector sends them; the table source does not. */
  receives: boolean;
}

export interface Plan {
  sessions: PlanSession[];
  prefixCount: number;
  addrs: Uint32Array;
  lens: Uint8Array;
  owner: Int32Array; // session index that announces each prefix
  setOf: Int32Array; // attribute set of each prefix
  setSigs: string[]; // canonical text of each set (canonicalAttrs of our own encoding)
  setOwnerId: number[]; // expected ORIGINATOR_ID of each set (owner's BGP identifier)
  index: PrefixIndex;
  ownCount: Int32Array; // prefixes announced by each session
  announce: Buffer[]; // per session: all its UPDATEs back to back (empty buffer if none)
  withdraw: Buffer[];
  updateCount: number; // announcing UPDATEs in the whole plan
}

/** The i-th load address: 127.71.0.1 upward through 127.79.x.y, skipping .0 and .255. */
export function loadAddress(i: number): string {
  const base = ipv4ToUint32('127.71.0.0') + Math.floor(i / 254) * 256 + (i % 254) + 1;
  if (base > ipv4ToUint32('127.79.255.254')) throw new Error(`load address ${i} is outside 127.71.0.0-127.79.255.255`);
  return uint32ToIpv4(base);
}

/** Session addresses of a plan without building it (the reflector's client list). */
export function planAddresses(spec: PlanSpec): string[] {
  const n = spec.kind === 'table' ? spec.clients + 1 : spec.clients;
  return Array.from({ length: n }, (_, i) => loadAddress(i));
}

/**
 * NEXT_HOP announced by session i: 100.64.0.0/10 (shared address space) plus i. Not the loopback session
 * address, because FRR rejects a 127/8 next hop with NOTIFICATION 3/8 (martian) and resets the session.
 */
export function nextHopOf(i: number): number {
  return (ipv4ToUint32('100.64.0.1') + i) >>> 0;
}

/** mulberry32: small, fast, good enough to spread prefixes and attributes. */
function rng(seed: number): () => number {
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
  const sessions: PlanSession[] = planAddresses(spec).map((a, i) => ({
    local: a,
    bgpId: a,
    receives: spec.kind === 'calico' || i > 0,
  }));
  const total = spec.kind === 'table' ? spec.n : spec.clients * spec.blocks;
  const addrs = new Uint32Array(total);
  const lens = new Uint8Array(total);
  const owner = new Int32Array(total);
  const setOf = new Int32Array(total);
  const index = new PrefixIndex(total);
  let sets: AttrSet[];
  let setOwner: number[];
  if (spec.kind === 'table') {
    const rand = rng(spec.seed);
    sets = tableSets(spec.sets, nextHopOf(0), rand);
    setOwner = sets.map(() => 0);
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
    sets = sessions.map((_, i) => ({ origin: 0, asPath: [], nextHop: nextHopOf(i), localPref: 100, communities: [] }));
    setOwner = sessions.map((_, i) => i);
    const base = ipv4ToUint32('10.0.0.0');
    for (let c = 0; c < spec.clients; c++) {
      for (let j = 0; j < spec.blocks; j++) {
        const i = c * spec.blocks + j;
        addrs[i] = (base + i * 64) >>> 0;
        lens[i] = 26;
        owner[i] = c;
        setOf[i] = c;
        index.add(addrs[i]!, 26, i);
      }
    }
  }
  const encoded = sets.map(encodeAttrSet);
  const setSigs = encoded.map((b) => attrSignature(decodeAttributes(b, CTX)).sig);
  const setOwnerId = setOwner.map((o) => ipv4ToUint32(sessions[o]!.bgpId));
  // Group prefixes per set (each set has one owner), so each set packs into as few UPDATEs as possible.
  const bySet: number[][] = sets.map(() => []);
  for (let i = 0; i < total; i++) bySet[setOf[i]!]!.push(i);
  const announceParts: Buffer[][] = sessions.map(() => []);
  const withdrawIdx: number[][] = sessions.map(() => []);
  let updateCount = 0;
  sets.forEach((_, k) => {
    const o = setOwner[k]!;
    const idx = bySet[k]!;
    const msgs = packAnnounce(encoded[k]!, idx.map((i) => addrs[i]!), idx.map((i) => lens[i]!));
    updateCount += msgs.length;
    announceParts[o]!.push(...msgs);
    withdrawIdx[o]!.push(...idx);
  });
  const ownCount = new Int32Array(sessions.length);
  for (let i = 0; i < total; i++) ownCount[owner[i]!]!++;
  return {
    sessions,
    prefixCount: total,
    addrs,
    lens,
    owner,
    setOf,
    setSigs,
    setOwnerId,
    index,
    ownCount,
    announce: announceParts.map((p) => Buffer.concat(p)),
    withdraw: withdrawIdx.map((idx) => Buffer.concat(packWithdraw(idx.map((i) => addrs[i]!), idx.map((i) => lens[i]!)))),
    updateCount,
  };
}

export function prefixText(plan: Plan, i: number): string {
  return `${uint32ToIpv4(plan.addrs[i]!)}/${plan.lens[i]!}`;
}
