// Model check of the ADD-PATH update groups (RFC 7911), as model.test.ts does for one best path: random
// announcements, withdrawals, backpressure, drains, resets, route refreshes and graceful restarts with a mix of
// peers, some of which negotiated ADD-PATH receive. Afterwards every peer's view (its received stream, replayed
// with path identifiers) must equal what the rules say, computed here from what each peer announced:
// - an ADD-PATH peer holds, under distinct path identifiers, the best N (or all) of the prefix's paths that may
//   be reflected to its kind of peer (RFC 4456 §6: a non-client's route goes to clients only), minus its own;
// - any other peer holds the one best path, unless it is its own or a non-client's route toward a non-client.
import test from 'ava';
import fc from 'fast-check';
import { Reflector } from '../../src/reflector/reflector.js';
import type { AddPathsMode } from '../../src/peers/peer-spec.js';
import { DEFAULT_CONTEXT } from '../../src/wire/types.js';
import { walkAttrs } from '../rib/helpers.js';
import { FakePeer, neg, ROUTER_ID } from './fake-peer.js';
import { fixedSeeds } from '../helpers/property.js';
import { opArb, runOps, type Op } from './model-ops.js';

fixedSeeds('test/reflector/add-path-model.test.ts');

const PEERS = 7; // 0..4 clients, 5 and 6 mesh peers (non-clients)
const CLIENTS = 5;
/** Peers that negotiate ADD-PATH receive: two clients and one mesh peer. */
const ADD_PATH = new Set([0, 1, 5]);
const PREFIXES = 3;

const ops = opArb(PEERS, PREFIXES, 8);

const prefixOf = (x: number) => `10.${x}.0.0/24`;
const addr = (i: number) => (i < CLIENTS ? `10.0.1.${i + 1}` : `10.0.0.${i + 7}`);
const idOf = (k: number) => addr(k).split('.').reduce((a, b) => a * 256 + Number(b), 0);
const nextHopOf = (i: number) => `100.64.0.${i + 1}`;

/**
 * Replays a received stream: prefix -> (path id -> next hop). Without ADD-PATH every prefix has the one id 0.
 * A path identifier announced twice for a prefix replaces (RFC 7911 §2), a withdrawal names the identifier.
 */
function apply(view: Map<string, Map<string, string>>, p: FakePeer): void {
  for (const m of p.take()) {
    const u = m.update;
    if (u === undefined) continue;
    const split = (n: string): [string, string] => {
      if (!p.addPath) return [n, '0'];
      const [id, pfx] = n.split('@');
      return [pfx, id];
    };
    for (const w of u.withdrawn) {
      const [pfx, id] = split(w);
      view.get(pfx)?.delete(id);
    }
    const nh = walkAttrs(u.attrs).find((a) => a.type === 3)?.value.join('.');
    for (const n of u.nlri) {
      const [pfx, id] = split(n);
      let paths = view.get(pfx);
      if (paths === undefined) view.set(pfx, (paths = new Map<string, string>()));
      paths.set(id, nh ?? '?');
    }
  }
}

async function runModel(ops: Op[], mode: AddPathsMode, lagLimitBytes: number, small = false): Promise<string | null> {
  const r = new Reflector({ routerId: ROUTER_ID, lagLimitBytes, addPaths: mode, ...(small ? { sliceSize: 3, fullTableCacheMax: 0 } : {}) });
  const peers: FakePeer[] = [];
  const views: Map<string, Map<string, string>>[] = [];
  // With ADD_PATHS=off we do not offer to send several paths, so no session negotiates it (RFC 7911 §4).
  const negotiates = (i: number) => ADD_PATH.has(i) && mode !== 'off';
  const mk = (i: number) => {
    const p = new FakePeer(`${i < CLIENTS ? 'Global' : 'Mesh'}_${addr(i).replaceAll('.', '_')}`, addr(i), i < CLIENTS);
    p.addPath = negotiates(i);
    return p;
  };
  const negOf = (i: number) => (negotiates(i)
    ? neg(addr(i), { addPath: { rx: {}, tx: { 1: true } }, sendCtx: { ...DEFAULT_CONTEXT, addPathV4: true } })
    : neg(addr(i)));
  for (let i = 0; i < PEERS; i++) {
    peers.push(mk(i));
    views.push(new Map());
    r.peerUp(peers[i], negOf(i));
  }
  const sent = await runOps(r, ops, {
    peers, make: (i) => ({ peer: mk(i), neg: negOf(i) }), prefixOf, nextHopOf,
    beforeReplace: (i, old) => {
      apply(views[i], old);
      views[i].clear();
    },
  });
  const max = mode === 'off' ? 1 : mode === 'all' ? Infinity : mode;
  for (let i = 0; i < PEERS; i++) {
    apply(views[i], peers[i]);
    for (let x = 0; x < PREFIXES; x++) {
      const pfx = prefixOf(x);
      // Every path of the prefix, best first (LOCAL_PREF, then the lowest BGP identifier).
      const ranked = [...Array(PEERS).keys()].filter((j) => sent[j].has(pfx))
        .sort((a, b) => (sent[b].get(pfx) as number) - (sent[a].get(pfx) as number) || idOf(a) - idOf(b));
      let want: number[];
      if (negotiates(i)) {
        want = ranked.filter((j) => j < CLIENTS || i < CLIENTS).slice(0, max).filter((j) => j !== i);
      } else {
        const best = ranked[0];
        want = best !== undefined && best !== i && (best < CLIENTS || i < CLIENTS) ? [best] : [];
      }
      const got = [...(views[i].get(pfx)?.values() ?? [])].sort();
      const wantHops = want.map(nextHopOf).sort();
      if (got.join(',') !== wantHops.join(',')) {
        r.close();
        return `peer ${i} prefix ${pfx}: has [${got.join(', ')}], should have [${wantHops.join(', ')}]`;
      }
    }
  }
  r.close();
  return null;
}

const runs = (mode: AddPathsMode, lag: number, small = false) => fc.asyncProperty(fc.array(ops, { maxLength: 60 }), async (ops) => {
  const res = await runModel(ops, mode, lag, small);
  if (res !== null) throw new Error(res);
  return true;
});

test('add-path model: ADD_PATHS=all, every peer ends up with exactly its paths (lag limit 0)', async (t) => {
  await fc.assert(runs('all', 0), { numRuns: 150 });
  t.pass();
});

test('add-path model: ADD_PATHS=2 with a lag limit', async (t) => {
  await fc.assert(runs(2, 300), { numRuns: 150 });
  t.pass();
});

test('add-path model: ADD_PATHS=all with slices of 3 prefixes and sliced catch-up scans', async (t) => {
  await fc.assert(runs('all', 0, true), { numRuns: 150 });
  t.pass();
});

test('add-path model: ADD_PATHS=off sends one path with no identifiers, as before', async (t) => {
  await fc.assert(runs('off', 0), { numRuns: 60 });
  t.pass();
});

test('add-path model regression: three clients announce one prefix; an ADD-PATH client gets the other two', async (t) => {
  const ops: Op[] = [0, 1, 2].map((p) => ({ k: 'announce' as const, p, x: 0, lp: 100 }));
  t.is(await runModel(ops, 'all', 0), null);
  t.is(await runModel([...ops, { k: 'settle' }, { k: 'withdraw', p: 2, x: 0 }], 'all', 0), null);
});

test('add-path model regression: a path withdrawn while the member waits for its socket is withdrawn after the drain', async (t) => {
  const ops: Op[] = [
    { k: 'announce', p: 1, x: 0, lp: 100 }, { k: 'announce', p: 2, x: 0, lp: 100 }, { k: 'settle' },
    { k: 'block', p: 0 }, { k: 'announce', p: 3, x: 1, lp: 100 }, { k: 'settle' },
    { k: 'withdraw', p: 2, x: 0 }, { k: 'settle' },
  ];
  t.is(await runModel(ops, 'all', 0), null);
});

test('add-path model regression: a path identifier reused by the member\'s own new path is withdrawn from it', async (t) => {
  // Peer 2's path is withdrawn and peer 0 (ADD-PATH) announces the same prefix in the same flush: the freed
  // path number (the identifier) goes to peer 0's path, and peer 0 must lose peer 2's path under it.
  const ops: Op[] = [
    { k: 'announce', p: 2, x: 0, lp: 100 }, { k: 'settle' },
    { k: 'withdraw', p: 2, x: 0 }, { k: 'announce', p: 0, x: 0, lp: 100 }, { k: 'settle' },
  ];
  t.is(await runModel(ops, 'all', 0), null);
});
