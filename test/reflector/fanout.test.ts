// Sliced fan-out: with a zero time budget every pump writes one member and yields, so flushes overlap with new
// changes, blocked sockets, route refreshes and sessions going down and up. Whatever the interleaving, each
// peer's view (the UPDATEs it received, applied in order) must end as exactly the other peers' current routes.
import test from 'ava';
import { Reflector } from '../../src/reflector/reflector.js';
import { attrs, updateV4, walkAttrs } from '../rib/helpers.js';
import { FakePeer, neg, settle, ROUTER_ID } from './fake-peer.js';
import { rng } from '../../bench/load/plan.js';

const PEERS = 20;
const ROUNDS = 400;

async function scenario(seed: number): Promise<{ ok: boolean; detail: string; maxQueued: number }> {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const r = new Reflector({ routerId: ROUTER_ID, sliceMs: 0, sliceSize: 3, lagLimitBytes: 120 });
  const peers = Array.from({ length: PEERS }, (_, i) => new FakePeer(`Global_10_0_2_${i + 1}`, `10.0.2.${i + 1}`, true));
  const up = new Set<number>();
  /** What each peer announced and still holds: prefix -> "nexthop|med". */
  const held = peers.map(() => new Map<string, string>());
  /** What each peer was told: prefix -> "nexthop|med". */
  const view = peers.map(() => new Map<string, string>());
  const absorb = (i: number): void => {
    for (const m of peers[i]!.take()) {
      const u = m.update;
      if (u === undefined) continue;
      for (const p of u.withdrawn) view[i]!.delete(p);
      if (u.nlri.length === 0) continue;
      const as = walkAttrs(u.attrs);
      const nh = as.find((x) => x.type === 3)?.value.join('.') ?? '?';
      const med = as.find((x) => x.type === 4)?.value.readUInt32BE(0) ?? -1;
      for (const p of u.nlri) view[i]!.set(p, `${nh}|${med}`);
    }
  };
  const bringUp = (i: number): void => {
    peers[i]!.take();
    view[i]!.clear();
    r.peerUp(peers[i]!, neg(`10.0.2.${i + 1}`));
    up.add(i);
  };
  for (let i = 0; i < PEERS; i++) bringUp(i);
  await settle(r);
  let maxQueued = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const i = Math.floor(rand() * PEERS);
    const p = peers[i]!;
    const op = rand();
    if (!up.has(i)) {
      if (op < 0.3) bringUp(i);
    } else if (op < 0.45) {
      const prefix = `10.${100 + i}.${Math.floor(rand() * 6)}.0/24`;
      const nh = `100.64.${i}.${1 + Math.floor(rand() * 3)}`;
      const med = Math.floor(rand() * 3);
      held[i]!.set(prefix, `${nh}|${med}`);
      r.handleUpdate(p, updateV4({ attrs: attrs({ nextHop: nh, med }), nlri: [prefix] }));
    } else if (op < 0.65) {
      const own = [...held[i]!.keys()];
      if (own.length > 0) {
        const prefix = pick(own);
        held[i]!.delete(prefix);
        r.handleUpdate(p, updateV4({ withdrawn: [prefix] }));
      }
    } else if (op < 0.78) {
      p.blocked = !p.blocked;
      if (!p.blocked) r.handleDrain(p);
    } else if (op < 0.86) {
      r.handleRouteRefresh(p, { afi: 1, safi: 1, subtype: 0 });
    } else if (op < 0.92) {
      r.peerDown(p, { graceful: false });
      up.delete(i);
      held[i]!.clear();
      p.blocked = false;
    }
    // Let the reflector run zero, one or a few slices: flushes stay half-written across the next changes.
    const steps = Math.floor(rand() * 3);
    for (let k = 0; k < steps; k++) await new Promise((res) => setImmediate(res));
    for (const j of up) absorb(j);
    const q = r.updateGroups().reduce((a, g) => a + g.members, 0);
    maxQueued = Math.max(maxQueued, q);
  }
  for (let i = 0; i < PEERS; i++) {
    if (!up.has(i)) bringUp(i);
    if (peers[i]!.blocked) {
      peers[i]!.blocked = false;
      r.handleDrain(peers[i]!);
    }
  }
  await settle(r);
  for (let i = 0; i < PEERS; i++) absorb(i);
  r.close();
  for (let i = 0; i < PEERS; i++) {
    const want = new Map<string, string>();
    for (let j = 0; j < PEERS; j++) if (j !== i) for (const [k, v] of held[j]!) want.set(k, v);
    const got = view[i]!;
    const diff: string[] = [];
    for (const [k, v] of want) if (got.get(k) !== v) diff.push(`${k}: want ${v}, got ${got.get(k) ?? 'nothing'}`);
    for (const [k, v] of got) if (!want.has(k)) diff.push(`${k}: got ${v}, want nothing`);
    if (diff.length > 0) return { ok: false, detail: `seed ${seed}, peer ${i}: ${diff.slice(0, 5).join('; ')}`, maxQueued };
  }
  return { ok: true, detail: '', maxQueued };
}

test('sliced fan-out under changes, blocking, refresh and session resets: every view ends exact', async (t) => {
  for (let seed = 1; seed <= 25; seed++) {
    const res = await scenario(seed);
    t.true(res.ok, res.detail);
    if (!res.ok) return;
  }
});

test('a zero time budget still moves the queue: one member per pump, in order', async (t) => {
  const r = new Reflector({ routerId: ROUTER_ID, sliceMs: 0 });
  const peers = Array.from({ length: 6 }, (_, i) => new FakePeer(`Global_10_0_3_${i + 1}`, `10.0.3.${i + 1}`, true));
  for (const [i, p] of peers.entries()) r.peerUp(p, neg(`10.0.3.${i + 1}`));
  await settle(r);
  for (const p of peers) p.take();
  r.handleUpdate(peers[0]!, updateV4({ attrs: attrs({ nextHop: '100.64.3.1' }), nlri: ['10.103.0.0/24'] }));
  // Each slice writes at most one more member; the queue drains over several turns of the event loop.
  const counts: number[] = [];
  for (let k = 0; k < 12; k++) {
    await new Promise((res) => setImmediate(res));
    counts.push(peers.slice(1).filter((p) => p.sent.length > 0).length);
  }
  for (let k = 1; k < counts.length; k++) t.true(counts[k]! - counts[k - 1]! <= 1, `one member per slice: ${counts.join(',')}`);
  t.is(counts[counts.length - 1], 5, `every member written in the end: ${counts.join(',')}`);
  t.true(counts.filter((c) => c > 0 && c < 5).length >= 3, `the fan-out spanned several slices: ${counts.join(',')}`);
  await settle(r);
  for (const p of peers.slice(1)) t.deepEqual(p.updates().flatMap((u) => u.nlri), ['10.103.0.0/24']);
  t.deepEqual(peers[0]!.updates(), []);
  r.close();
});
