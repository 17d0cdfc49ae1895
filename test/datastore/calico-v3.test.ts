import test from 'ava';
import { parseV3Key } from '../../src/datastore/calico-v3.js';

const P = '/calico/bgp/v1';
const R = '/calico/resources/v3/projectcalico.org';

test('parseV3Key: only nodes, bgppeers and bgpconfigurations, one name deep', (t) => {
  t.deepEqual(parseV3Key(`${R}/nodes/n1`), { kind: 'nodes', name: 'n1' });
  t.deepEqual(parseV3Key(`${R}/bgppeers/p`), { kind: 'bgppeers', name: 'p' });
  t.is(parseV3Key(`${R}/ippools/p`), undefined);
  t.is(parseV3Key(`${R}/nodes/`), undefined);
  t.is(parseV3Key(`${R}/nodes/a/b`), undefined);
  t.is(parseV3Key(`${P}/global/as_num`), undefined);
});
