import test from 'ava';
import { parsePathInfo, selectBest, type Candidate } from '../../src/rib/decision.js';
import { addressSortKey } from '../../src/net/address.js';
import { attrs, quad, type AttrSpec } from './helpers.js';

function cand(spec: AttrSpec, opts: Partial<Omit<Candidate, 'info'>> = {}): Candidate {
  return {
    info: parsePathInfo(attrs(spec)),
    ebgp: opts.ebgp ?? false,
    peerBgpId: opts.peerBgpId ?? quad('10.0.0.1'),
    peerAddressKey: opts.peerAddressKey ?? addressSortKey('10.0.0.1'),
    pathId: opts.pathId ?? 0,
  };
}

test('parsePathInfo reads every decision input from raw bytes', (t) => {
  const i = parsePathInfo(attrs({ origin: 1, asPath: [65001, 65002], asSet: [7, 8, 9], nextHop: '100.64.0.1', med: 50, localPref: 200, originatorId: '1.2.3.4', clusterList: ['9.9.9.9', '8.8.8.8'] }));
  t.is(i.origin, 1);
  t.is(i.asPathLength, 3); // sequence of 2 + a set counts 1
  t.is(i.neighborAs, 65001);
  t.is(i.med, 50);
  t.is(i.localPref, 200);
  t.is(i.originatorId, quad('1.2.3.4'));
  t.deepEqual(i.clusterList, [quad('9.9.9.9'), quad('8.8.8.8')]);
  t.false(i.malformed);
  const d = parsePathInfo(attrs({ nextHop: '1.1.1.1' }));
  t.is(d.localPref, 100);
  t.is(d.med, 0);
  t.is(d.originatorId, -1);
  t.is(d.neighborAs, 0);
  t.true(parsePathInfo(Buffer.from([0x40, 1, 5, 0])).malformed);
});

test('LOCAL_PREF decides first, even against a shorter AS_PATH', (t) => {
  t.is(selectBest([cand({ localPref: 100 }), cand({ localPref: 200, asPath: [1, 2, 3] })]), 1);
});

test('shorter AS_PATH, then lower ORIGIN', (t) => {
  t.is(selectBest([cand({ asPath: [1, 2] }), cand({ asPath: [3] })]), 1);
  t.is(selectBest([cand({ origin: 2 }), cand({ origin: 0 }), cand({ origin: 1 })]), 1);
});

test('MED compared only between routes from the same neighbour AS', (t) => {
  // Same neighbour AS 65001: lower MED wins over the lower router id.
  t.is(selectBest([
    cand({ asPath: [65001], med: 20 }, { peerBgpId: quad('1.0.0.1') }),
    cand({ asPath: [65001], med: 10 }, { peerBgpId: quad('2.0.0.1') }),
  ]), 1);
  // Different neighbour AS: MED ignored, router id decides.
  t.is(selectBest([
    cand({ asPath: [65001], med: 20 }, { peerBgpId: quad('1.0.0.1') }),
    cand({ asPath: [65002], med: 10 }, { peerBgpId: quad('2.0.0.1') }),
  ]), 0);
  // Missing MED counts as 0 (the best).
  t.is(selectBest([cand({ asPath: [65001], med: 5 }, { peerBgpId: quad('1.0.0.1') }), cand({ asPath: [65001] }, { peerBgpId: quad('2.0.0.1') })]), 1);
});

test('eBGP over iBGP', (t) => {
  t.is(selectBest([cand({}, { peerBgpId: quad('1.0.0.1') }), cand({}, { ebgp: true, peerBgpId: quad('9.0.0.1') })]), 1);
});

test('ORIGINATOR_ID replaces the BGP identifier, then shorter CLUSTER_LIST, then peer address', (t) => {
  // Peer id 1.0.0.1 carries originator 5.5.5.5; peer 3.0.0.1 has no originator: 3.0.0.1 < 5.5.5.5 wins.
  t.is(selectBest([cand({ originatorId: '5.5.5.5' }, { peerBgpId: quad('1.0.0.1') }), cand({}, { peerBgpId: quad('3.0.0.1') })]), 1);
  // Same originator: shorter CLUSTER_LIST wins (the client's direct announcement over a copy via another RR).
  t.is(selectBest([
    cand({ originatorId: '5.5.5.5', clusterList: ['1.1.1.1'] }, { peerBgpId: quad('1.0.0.1') }),
    cand({}, { peerBgpId: quad('5.5.5.5') }),
  ]), 1);
  // Everything equal: lower peer address.
  t.is(selectBest([
    cand({}, { peerAddressKey: addressSortKey('10.0.0.20') }),
    cand({}, { peerAddressKey: addressSortKey('10.0.0.3') }),
  ]), 1);
  t.true(addressSortKey('fd00::2') < addressSortKey('fd00::10'));
  t.true(addressSortKey('10.0.0.9') < addressSortKey('fd00::1'));
});

test('anycast /32 from several clients: one best, independent of input order', (t) => {
  const cs = [
    cand({ nextHop: '100.64.0.3' }, { peerBgpId: quad('10.0.0.3') }),
    cand({ nextHop: '100.64.0.1' }, { peerBgpId: quad('10.0.0.1') }),
    cand({ nextHop: '100.64.0.2' }, { peerBgpId: quad('10.0.0.2') }),
  ];
  const b = selectBest(cs);
  t.is(cs[b].peerBgpId, quad('10.0.0.1'));
  const rev = [...cs].reverse();
  t.is(rev[selectBest(rev)].peerBgpId, quad('10.0.0.1'));
  t.is(selectBest([]), -1);
});
