import test from 'ava';
import { planReconcile, peerKey } from '../../src/peers/reconcile.js';
import type { PeerSpec } from '../../src/peers/peer-spec.js';

function spec(name: string, over: Partial<PeerSpec> = {}): PeerSpec {
  return {
    name,
    kind: name.startsWith('Mesh') ? 'mesh' : 'global',
    family: 4,
    neighborAddress: '10.0.0.1',
    localAddress: '10.0.0.10',
    port: 179,
    localAs: 64512,
    peerAs: 64512,
    routeReflectorClient: !name.startsWith('Mesh'),
    clusterId: '10.0.0.10',
    routerId: '10.0.0.10',
    sourceKeys: ['/k'],
    ...over,
  };
}

function running(...specs: PeerSpec[]): Map<string, PeerSpec> {
  return new Map(specs.map((s) => [peerKey(s), s]));
}

test('empty to some: all start', (t) => {
  const a = spec('Global_1');
  const b = spec('Mesh_2');
  const plan = planReconcile(new Map(), [a, b]);
  t.deepEqual(plan, { start: [a, b], stop: [], restart: [], unchanged: [] });
});

test('some to empty: all stop', (t) => {
  const a = spec('Global_1');
  const plan = planReconcile(running(a), []);
  t.deepEqual(plan, { start: [], stop: [a], restart: [], unchanged: [] });
});

test('only changed parameters restart; sourceKeys alone does not', (t) => {
  const same = spec('Global_1');
  const keysOnly = spec('Global_2');
  const asChanged = spec('Global_3');
  const gone = spec('Global_4');
  const desired = [
    spec('Global_1'),
    spec('Global_2', { sourceKeys: ['/other'] }),
    spec('Global_3', { localAs: 65000, peerAs: 65000 }),
    spec('Global_5'),
  ];
  const plan = planReconcile(running(same, keysOnly, asChanged, gone), desired);
  t.deepEqual(plan.start.map((s) => s.name), ['Global_5']);
  t.deepEqual(plan.stop.map((s) => s.name), ['Global_4']);
  t.deepEqual(plan.restart.map((r) => [r.from.localAs, r.to.localAs]), [[64512, 65000]]);
  t.deepEqual(plan.unchanged.map((s) => s.name), ['Global_1', 'Global_2']);
  t.deepEqual(plan.unchanged[1]?.sourceKeys, ['/other']); // the desired (newer) spec is returned
});

test('every session parameter triggers a restart', (t) => {
  const changes: Partial<PeerSpec>[] = [
    { kind: 'node' },
    { neighborAddress: '10.0.0.2' },
    { localAddress: '10.0.0.11' },
    { port: 1179 },
    { localAs: 1 },
    { peerAs: 1 },
    { routeReflectorClient: false },
    { clusterId: '1.0.0.1' },
    { routerId: '10.0.0.11' },
    { password: 'x' },
  ];
  for (const c of changes) {
    const plan = planReconcile(running(spec('Global_1')), [spec('Global_1', c)]);
    t.is(plan.restart.length, 1, JSON.stringify(c));
    t.is(plan.unchanged.length, 0);
  }
});

test('same name in another family is another session', (t) => {
  const v4 = spec('Mesh_x');
  const v6 = spec('Mesh_x', { family: 6, neighborAddress: 'fd00::1', localAddress: 'fd00::10' });
  const plan = planReconcile(running(v4), [v6]);
  t.deepEqual(plan.start, [v6]);
  t.deepEqual(plan.stop, [v4]);
  t.is(peerKey(v6), '6/Mesh_x');
});

test('running map keys are not trusted; duplicate desired entries are ignored', (t) => {
  const a = spec('Global_1');
  const plan = planReconcile(new Map([['whatever', a]]), [a, spec('Global_1', { peerAs: 9 })]);
  t.deepEqual(plan.unchanged, [a]);
  t.deepEqual(plan.restart, []);
  t.deepEqual(plan.stop, []);
});
