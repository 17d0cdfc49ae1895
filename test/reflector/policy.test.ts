import test from 'ava';
import { exportAllowedRaw, mayReflect, clusterIdsToPrepend } from '../../src/reflector/policy.js';
import { reflectAttributes } from '../../src/wire/reflect-rewrite.js';
import { attrs, walkAttrs, quad } from '../rib/helpers.js';
import { DEFAULT_CONTEXT, decodeAttributes, removeRawAttribute, setRawAttribute } from '../../src/wire/index.js';
import { BASIC_ATTRS, cat, h, toHex } from '../wire/helpers.js';

const C1 = quad('1.0.0.1');
const client = { isClient: true, clusterId: C1 };
const mesh = { isClient: false, clusterId: C1 };

test('reflection matrix of RFC 4456: client to all, non-client to clients only', (t) => {
  t.true(mayReflect(true, true));
  t.true(mayReflect(true, false));
  t.true(mayReflect(false, true));
  t.false(mayReflect(false, false));
});

test('export on raw bytes: our client session\'s cluster ID in CLUSTER_LIST is not reflected to it (calico#2735, BIRD 1.6)', (t) => {
  const withOurCluster = attrs({ originatorId: '10.0.1.1', clusterList: ['1.0.0.1'] });
  t.false(exportAllowedRaw(withOurCluster, mesh, client));
  t.true(exportAllowedRaw(withOurCluster, client, mesh));
  t.true(exportAllowedRaw(attrs({ clusterList: ['2.0.0.2'] }), mesh, client));
  t.false(exportAllowedRaw(attrs({}), mesh, mesh), 'non-client to non-client');
});

test('cluster IDs prepended: source client id, destination client id, or both', (t) => {
  const c2 = { isClient: true, clusterId: quad('2.0.0.2') };
  t.deepEqual(clusterIdsToPrepend(client, client), [C1]);
  t.deepEqual(clusterIdsToPrepend(client, mesh), [C1]);
  t.deepEqual(clusterIdsToPrepend(mesh, client), [C1]);
  t.deepEqual(clusterIdsToPrepend(client, c2), [quad('2.0.0.2'), C1]);
});

test('reflectAttributes adds ORIGINATOR_ID and CLUSTER_LIST in type order, keeps everything else byte-exact', (t) => {
  const input = attrs({ asPath: [], nextHop: '100.64.1.2', med: 7, localPref: 300, communities: [0xfde80001], largeCommunities: [[64512, 1, 2]] });
  const out = reflectAttributes(input, quad('10.0.1.2'), [C1]);
  const got = walkAttrs(out);
  t.deepEqual(got.map((a) => a.type), [1, 2, 3, 4, 5, 8, 9, 10, 32]);
  const inA = walkAttrs(input);
  for (const a of inA) t.deepEqual(got.find((g) => g.type === a.type), a);
  t.deepEqual(got.find((g) => g.type === 9), { flags: 0x80, type: 9, value: Buffer.from([10, 0, 1, 2]) });
  t.deepEqual(got.find((g) => g.type === 10), { flags: 0x80, type: 10, value: Buffer.from([1, 0, 0, 1]) });
});

test('reflectAttributes keeps an existing ORIGINATOR_ID and prepends to an existing CLUSTER_LIST', (t) => {
  const input = attrs({ nextHop: '1.1.1.1', originatorId: '7.7.7.7', clusterList: ['3.3.3.3'] });
  const got = walkAttrs(reflectAttributes(input, quad('9.9.9.9'), [C1]));
  t.deepEqual(got.find((g) => g.type === 9)?.value, Buffer.from([7, 7, 7, 7]));
  t.deepEqual(got.find((g) => g.type === 10)?.value, Buffer.from([1, 0, 0, 1, 3, 3, 3, 3]));
  t.is(got.filter((g) => g.type === 10).length, 1);
});

test('unknown optional transitive gets Partial, unknown non-transitive is dropped, long CLUSTER_LIST goes extended', (t) => {
  const long = Array.from({ length: 64 }, (_, i) => `3.3.3.${i}`);
  const input = attrs({ nextHop: '1.1.1.1', clusterList: long, extra: [{ flags: 0xc0, type: 99, value: [1, 2] }, { flags: 0x80, type: 98, value: [3] }] });
  const got = walkAttrs(reflectAttributes(input, quad('9.9.9.9'), [C1]));
  t.is(got.find((g) => g.type === 99)?.flags, 0xe0);
  t.deepEqual(got.find((g) => g.type === 99)?.value, Buffer.from([1, 2]));
  t.is(got.find((g) => g.type === 98), undefined);
  const cl = got.find((g) => g.type === 10);
  t.is(cl?.value.length, 65 * 4);
  t.is((cl?.flags ?? 0) & 0x10, 0x10);
  t.deepEqual(got.map((g) => g.type), [1, 2, 3, 9, 10, 99]);
});

test('exportAllowedRaw: RFC 4456 §6 matrix, then the client session\'s cluster ID anywhere in CLUSTER_LIST', (t) => {
  const mesh2 = { isClient: false, clusterId: quad('2.0.0.2') };
  for (const cl of [undefined, ['1.0.0.1'], ['3.3.3.3', '1.0.0.1'], ['2.0.0.2']]) {
    const raw = attrs({ nextHop: '1.1.1.1', clusterList: cl, communities: [1] });
    for (const [from, to] of [[client, client], [mesh, client], [client, mesh], [mesh, mesh2]] as const) {
      const want = (from.isClient || to.isClient) && !(to.isClient && (cl ?? []).includes('1.0.0.1'));
      t.is(exportAllowedRaw(raw, from, to), want, `${JSON.stringify(cl)} ${from.isClient ? 'client' : 'mesh'}→${to.isClient ? 'client' : 'mesh'}`);
    }
  }
});

// Moved from test/wire/build.test.ts with the second reflectAttributes (src/wire/attribute-block.ts, removed): its
// single cluster ID is the [clusterId] case of the one in src/wire/reflect-rewrite.ts.
test('raw attribute edits and RFC 4456 reflection', (t) => {
  const ctx = DEFAULT_CONTEXT;
  const block = h(BASIC_ATTRS);
  const r1 = reflectAttributes(block, 0x0a000001, [0x0a0000fe]);
  t.deepEqual(decodeAttributes(r1, ctx).map((a) => a.type), [1, 2, 3, 9, 10]);
  t.deepEqual(decodeAttributes(r1, ctx).slice(3), [
    { type: 9, flags: 0x80, originatorId: '10.0.0.1' },
    { type: 10, flags: 0x80, clusterList: ['10.0.0.254'] },
  ]);
  // A second reflector keeps ORIGINATOR_ID and prepends its cluster id.
  const r2 = reflectAttributes(r1, 0x0a000002, [0x0a0000fd]);
  t.deepEqual(decodeAttributes(r2, ctx).slice(3), [
    { type: 9, flags: 0x80, originatorId: '10.0.0.1' },
    { type: 10, flags: 0x80, clusterList: ['10.0.0.253', '10.0.0.254'] },
  ]);
  t.is(toHex(removeRawAttribute(r2, 9)), toHex(cat(BASIC_ATTRS, '80 0a 08 0a0000fd 0a0000fe')));
  t.is(toHex(setRawAttribute(block, 3, 0x40, h('0a000002'))), toHex(h(BASIC_ATTRS.replace('0a000001', '0a000002'))));
});
