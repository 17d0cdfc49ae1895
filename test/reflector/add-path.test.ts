// ADD-PATH send (RFC 7911) at the message level: one node's change is one path's change on the wire, and path
// identifiers are distinct per prefix and stable (RFC 7911 §2: the identifier names the path, with the prefix).
// The oracle is the RFC's encoding read back byte by byte (test/rib/helpers.ts parseStream with path ids), not
// the reflector's own decoder.
import test from 'ava';
import { Reflector } from '../../src/reflector/reflector.js';
import { DEFAULT_CONTEXT } from '../../src/wire/types.js';
import { attrs, updateV4, walkAttrs } from '../rib/helpers.js';
import { FakePeer, neg, settle, ROUTER_ID } from './fake-peer.js';

const PFX = '192.0.2.10/32';

async function lab(mode: 'all' | number) {
  const r = new Reflector({ routerId: ROUTER_ID, addPaths: mode });
  const nodes = [1, 2, 3].map((i) => new FakePeer(`Global_10_0_1_${i}`, `10.0.1.${i}`, true));
  const rx = new FakePeer('Global_10_0_1_9', '10.0.1.9', true);
  rx.addPath = true;
  for (const n of nodes) r.peerUp(n, neg(n.spec.neighborAddress));
  r.peerUp(rx, neg('10.0.1.9', { addPath: { rx: {}, tx: { 1: true } }, sendCtx: { ...DEFAULT_CONTEXT, addPathV4: true } }));
  await settle(r);
  rx.take();
  return { r, nodes, rx };
}

const hop = (i: number, med = 0) => attrs({ nextHop: `100.64.0.${i}`, ...(med > 0 ? { med } : {}) });

test('ADD_PATHS=all: three paths under three identifiers; a withdrawal names one, a change re-sends one', async (t) => {
  const { r, nodes, rx } = await lab('all');
  nodes.forEach((n, i) => r.handleUpdate(n, updateV4({ attrs: hop(i + 1), nlri: [PFX] })));
  await settle(r);
  const first = rx.updates();
  const announced = first.flatMap((u) => u.nlri);
  t.is(announced.length, 3);
  const ids = announced.map((n) => n.split('@')[0]);
  t.is(new Set(ids).size, 3, 'distinct path identifiers');
  t.true(announced.every((n) => n.endsWith(`@${PFX}`)));
  const idOfHop = new Map<string, string>();
  for (const u of first) {
    const nh = walkAttrs(u.attrs).find((a) => a.type === 3)?.value.join('.') ?? '';
    for (const n of u.nlri) idOfHop.set(nh, n.split('@')[0]);
  }
  // Node 2 withdraws: exactly one withdrawal, of its path's identifier, and nothing else.
  r.handleUpdate(nodes[1], updateV4({ withdrawn: [PFX] }));
  await settle(r);
  const w = rx.updates();
  t.deepEqual(w.flatMap((u) => u.withdrawn), [`${idOfHop.get('100.64.0.2')}@${PFX}`]);
  t.deepEqual(w.flatMap((u) => u.nlri), []);
  // Node 3 changes its MED: one announcement, under the identifier it had (an implicit replace).
  r.handleUpdate(nodes[2], updateV4({ attrs: hop(3, 50), nlri: [PFX] }));
  await settle(r);
  const c = rx.updates();
  t.deepEqual(c.flatMap((u) => u.nlri), [`${idOfHop.get('100.64.0.3')}@${PFX}`]);
  t.deepEqual(c.flatMap((u) => u.withdrawn), []);
  r.close();
});

test('ADD_PATHS=2: the best two by the decision process; the third comes in when one of them goes', async (t) => {
  const { r, nodes, rx } = await lab(2);
  // Node 1 has the highest LOCAL_PREF; nodes 2 and 3 tie and node 2 has the lower BGP identifier.
  r.handleUpdate(nodes[0], updateV4({ attrs: attrs({ nextHop: '100.64.0.1', localPref: 200 }), nlri: [PFX] }));
  r.handleUpdate(nodes[1], updateV4({ attrs: hop(2), nlri: [PFX] }));
  r.handleUpdate(nodes[2], updateV4({ attrs: hop(3), nlri: [PFX] }));
  await settle(r);
  const hopsOf = (us: ReturnType<FakePeer['updates']>) => us.filter((u) => u.nlri.length > 0).map((u) => walkAttrs(u.attrs).find((a) => a.type === 3)?.value.join('.')).sort();
  t.deepEqual(hopsOf(rx.updates()), ['100.64.0.1', '100.64.0.2']);
  r.handleUpdate(nodes[0], updateV4({ withdrawn: [PFX] }));
  await settle(r);
  const u = rx.updates();
  t.is(u.flatMap((x) => x.withdrawn).length, 1, 'node 1\'s path withdrawn');
  t.deepEqual(hopsOf(u), ['100.64.0.3'], 'node 3\'s path added, node 2\'s untouched');
  r.close();
});
