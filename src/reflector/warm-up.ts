// JIT warm-up of the route path, once at start-up: a throwaway Reflector takes a small synthetic table (IPv4
// and IPv6, two sources, two clients) through the whole chain — UPDATE scan, Adj-RIB-In, decision, export,
// update groups, packet building, withdrawal — a few times, then is dropped. Why: V8 first runs this code in its
// interpreter and optimises it only after many calls, so the first real table (one client's 100k routes take
// ~0.2 s) was processed up to twice as slowly as the later ones. Nothing here touches sockets, the datastore
// or metrics; the only lasting cost is the compiled code (a few MiB at most).
import { pino } from 'pino';
import type { PeerSpec } from '../peers/peer-spec.js';
import type { RibNegotiated, RibPeer } from '../rib/types.js';
import { buildUpdates } from '../wire/update-build.js';
import { AFI_IPV4, AFI_IPV6, DEFAULT_CONTEXT } from '../wire/types.js';
import { Reflector } from './reflector.js';

class NullPeer implements RibPeer {
  readonly spec: PeerSpec;
  bytes = 0;
  constructor(readonly name: string, addr: string) {
    this.spec = {
      name, kind: 'global', family: 4, neighborAddress: addr, localAddress: '192.0.2.1', port: 179, localAs: 64512,
      peerAs: 64512, routeReflectorClient: true, clusterId: '192.0.2.1', routerId: '192.0.2.1', sourceKeys: [],
    };
  }

  send(buf: Buffer): boolean {
    this.bytes += buf.length;
    return true;
  }
}

function negotiated(id: string): RibNegotiated {
  return {
    as4: true, families: [AFI_IPV4, AFI_IPV6], addPath: { rx: {}, tx: {} }, extendedMessage: false, routeRefresh: true,
    enhancedRouteRefresh: false, gracefulRestart: null, peerBgpId: id, recvCtx: DEFAULT_CONTEXT, sendCtx: DEFAULT_CONTEXT,
  };
}

/** ORIGIN IGP, AS_PATH (one 4-octet AS), NEXT_HOP (IPv4 only), LOCAL_PREF, one community: raw attribute bytes. */
function attributes(set: number, v4: boolean): Uint8Array {
  const as = 4200000000 + set;
  const b = [0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, as >>> 24, (as >>> 16) & 255, (as >>> 8) & 255, as & 255];
  if (v4) b.push(0x40, 3, 4, 100, 64, 0, 1 + (set & 127));
  b.push(0x40, 5, 4, 0, 0, 0, set & 1 ? 200 : 100, 0xc0, 8, 4, 0xfd, 0xe8, (set >>> 8) & 255, set & 255);
  return Uint8Array.from(b);
}

/** UPDATEs announcing (or withdrawing) `n` prefixes in `sets` attribute sets, from offset `first`. */
function messages(afi: typeof AFI_IPV4 | typeof AFI_IPV6, n: number, first: number, sets: number, withdraw: boolean): Buffer[] {
  const out: Buffer[] = [];
  const per = Math.ceil(n / sets);
  for (let s = 0; s * per < n; s++) {
    const count = Math.min(per, n - s * per);
    const lens = new Uint8Array(count);
    let prefixes;
    if (afi === AFI_IPV4) {
      const addrs = new Uint32Array(count);
      for (let i = 0; i < count; i++) {
        // Both halves of the address space and /24–/32: real tables hold addresses of 2^31 and up, which are
        // no small integers to V8. Code trained on 10/8 alone was deoptimised by the first such prefix and
        // compiled again while that table was being processed (the start of both phases of the table bench).
        const k = first + s * per + i;
        addrs[i] = ((k & 1 ? 0x0a000000 : 0xc0000000) + (k >> 1) * 256) >>> 0;
        lens[i] = 24 + (k % 9);
      }
      prefixes = { addrs, lens };
    } else {
      const addrs = new Uint8Array(16 * count);
      for (let i = 0; i < count; i++) {
        const k = first + s * per + i;
        addrs.set([0xfd, 0, 0, 0x70, (k >>> 16) & 255, (k >>> 8) & 255, k & 255], 16 * i);
        lens[i] = 64;
      }
      prefixes = { addrs, lens };
    }
    const nextHop = afi === AFI_IPV6 ? Uint8Array.from([0xfd, 0, 0, 0x64, ...new Array<number>(11).fill(0), 1 + (s & 127)]) : undefined;
    out.push(...buildUpdates(withdraw
      ? { afi, withdrawals: prefixes, ctx: DEFAULT_CONTEXT }
      : { afi, attrs: attributes(s % 64, afi === AFI_IPV4), nextHop, prefixes, ctx: DEFAULT_CONTEXT }));
  }
  return out;
}

/** Runs until the reflector has nothing left to do (synchronously: run() is called directly). */
function settle(r: Reflector): void {
  for (let i = 0; i < 10_000 && !r.idle; i++) r.run();
}

/**
 * Warms the route path up: `rounds` times a table of `prefixes` per family, announced by one source, partly
 * re-announced by a second one (multi-path decisions), delivered to two clients, then withdrawn. Takes tens of
 * milliseconds; returns the bytes the clients were sent (so the work cannot be optimised away).
 */
export function warmUpRoutePath(rounds = 2, prefixes = 2000): number {
  let sent = 0;
  const plan = ([AFI_IPV4, AFI_IPV6] as const).map((afi) => ({
    announce: messages(afi, prefixes, 0, 60, false),
    second: messages(afi, prefixes >> 2, 0, 8, false),
    withdraw: messages(afi, prefixes, 0, 8, true),
  }));
  for (let round = 0; round < rounds; round++) {
    const r = new Reflector({ routerId: '192.0.2.1', log: pino({ level: 'silent' }) });
    const sources = [new NullPeer('Warm_src1', '192.0.2.11'), new NullPeer('Warm_src2', '192.0.2.12')];
    const clients = [new NullPeer('Warm_c1', '192.0.2.21'), new NullPeer('Warm_c2', '192.0.2.22')];
    for (const p of [...sources, ...clients]) r.peerUp(p, negotiated(p.spec.neighborAddress));
    settle(r);
    for (const f of plan) {
      for (const m of f.announce) r.handleUpdate(sources[0], m);
      settle(r);
      for (const m of f.second) r.handleUpdate(sources[1], m);
      settle(r);
      for (const m of f.withdraw) r.handleUpdate(sources[0], m);
      settle(r);
      for (const m of f.withdraw) r.handleUpdate(sources[1], m);
      settle(r);
    }
    for (const p of [...sources, ...clients]) r.peerDown(p, { graceful: false });
    r.close();
    for (const c of clients) sent += c.bytes;
  }
  return sent;
}
