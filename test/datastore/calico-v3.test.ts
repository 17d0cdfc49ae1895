import test from 'ava';
import { mergeTranslations, parseV3Key, translateV3Resource } from '../../src/datastore/calico-v3.js';

const P = '/calico/bgp/v1';
const R = '/calico/resources/v3/projectcalico.org';

function keys(key: string, value: unknown): Record<string, string> | string {
  const t = translateV3Resource(key, typeof value === 'string' ? value : JSON.stringify(value));
  if (t === undefined) return 'not handled';
  if ('error' in t) return `error: ${t.error}`;
  return Object.fromEntries(t.keys);
}

test('parseV3Key: only nodes, bgppeers and bgpconfigurations, one name deep', (t) => {
  t.deepEqual(parseV3Key(`${R}/nodes/n1`), { kind: 'nodes', name: 'n1' });
  t.deepEqual(parseV3Key(`${R}/bgppeers/p`), { kind: 'bgppeers', name: 'p' });
  t.is(parseV3Key(`${R}/ippools/p`), undefined);
  t.is(parseV3Key(`${R}/nodes/`), undefined);
  t.is(parseV3Key(`${R}/nodes/a/b`), undefined);
  t.is(parseV3Key(`${P}/global/as_num`), undefined);
});

test('Node: addresses without prefix length, empty when absent, own AS when set', (t) => {
  t.deepEqual(keys(`${R}/nodes/n1`, { spec: { bgp: { ipv4Address: '10.0.0.1/24', ipv6Address: 'FD00::1/64', asNumber: 65001 } } }), {
    [`${P}/host/n1/ip_addr_v4`]: '10.0.0.1',
    [`${P}/host/n1/ip_addr_v6`]: 'fd00::1',
    [`${P}/host/n1/as_num`]: '65001',
  });
  t.deepEqual(keys(`${R}/nodes/n2`, { spec: {} }), { [`${P}/host/n2/ip_addr_v4`]: '', [`${P}/host/n2/ip_addr_v6`]: '' });
  t.deepEqual(keys(`${R}/nodes/n3`, { spec: { bgp: { ipv4Address: '10.0.0.3' } } }), {
    [`${P}/host/n3/ip_addr_v4`]: '10.0.0.3',
    [`${P}/host/n3/ip_addr_v6`]: '',
  });
  t.regex(keys(`${R}/nodes/n4`, { spec: { bgp: { ipv4Address: 'fd00::1/64' } } }) as string, /^error: spec.bgp.ipv4Address/);
  t.regex(keys(`${R}/nodes/n5`, { spec: { bgp: { ipv4Address: '10.0.0.1', asNumber: 'x' } } }) as string, /asNumber/);
});

test('BGPPeer: global without node, host-specific with node; as_num written as a string; family from peerIP', (t) => {
  t.deepEqual(keys(`${R}/bgppeers/g`, { spec: { peerIP: '10.0.0.10', asNumber: 64512 } }), {
    [`${P}/global/peer_v4/10.0.0.10`]: '{"ip":"10.0.0.10","as_num":"64512"}',
  });
  t.deepEqual(keys(`${R}/bgppeers/h`, { spec: { node: 'n1', peerIP: 'FD00::10', asNumber: '64512' } }), {
    [`${P}/host/n1/peer_v6/fd00::10`]: '{"ip":"fd00::10","as_num":"64512"}',
  });
  t.deepEqual(keys(`${R}/bgppeers/p`, { spec: { peerIP: '10.0.0.10:179', asNumber: 1, nodeSelector: 'all()' } }), {
    [`${P}/global/peer_v4/10.0.0.10`]: '{"ip":"10.0.0.10","as_num":"1"}',
  });
  t.regex(keys(`${R}/bgppeers/p`, { spec: { peerIP: '[fd00::1]:1790', asNumber: 1 } }) as string, /port 1790/);
  t.regex(keys(`${R}/bgppeers/p`, { spec: { peerIP: '10.0.0.10', asNumber: 1, nodeSelector: 'rack == "a"' } }) as string, /nodeSelector/);
  t.regex(keys(`${R}/bgppeers/p`, { spec: { peerIP: '10.0.0.10', asNumber: 1, peerSelector: 'rr == "true"' } }) as string, /peerSelector/);
  t.regex(keys(`${R}/bgppeers/p`, { spec: { asNumber: 1 } }) as string, /peerIP is missing/);
  t.regex(keys(`${R}/bgppeers/p`, { spec: { peerIP: '10.0.0.1' } }) as string, /asNumber/);
});

test('BGPConfiguration default: as_num, node_mesh, loglevel; other names carry nothing', (t) => {
  t.deepEqual(keys(`${R}/bgpconfigurations/default`, { spec: { asNumber: 65000, nodeToNodeMeshEnabled: false, logSeverityScreen: 'Debug' } }), {
    [`${P}/global/as_num`]: '65000',
    [`${P}/global/node_mesh`]: '{"enabled":false}',
    [`${P}/global/loglevel`]: 'debug',
  });
  t.deepEqual(keys(`${R}/bgpconfigurations/default`, { spec: {} }), {});
  t.deepEqual(keys(`${R}/bgpconfigurations/node.n1`, { spec: { asNumber: 1 } }), {});
});

test('bad JSON and unknown kinds', (t) => {
  t.regex(keys(`${R}/nodes/x`, '{oops') as string, /not JSON/);
  t.regex(keys(`${R}/nodes/x`, '[]') as string, /not a JSON object/);
  t.is(keys(`${R}/ippools/x`, {}), 'not handled');
});

test('mergeTranslations: stable order, errors reported, clashes reported with the later one used', (t) => {
  const r = mergeTranslations(
    new Map([
      [`${R}/bgppeers/b`, JSON.stringify({ spec: { peerIP: '10.0.0.1', asNumber: 2 } })],
      [`${R}/bgppeers/a`, JSON.stringify({ spec: { peerIP: '10.0.0.1', asNumber: 1 } })],
      [`${R}/nodes/bad`, '{'],
      [`${R}/ippools/x`, '{}'],
    ]),
  );
  t.is(r.keys.get(`${P}/global/peer_v4/10.0.0.1`), '{"ip":"10.0.0.1","as_num":"2"}');
  t.is(r.keys.size, 1);
  t.deepEqual(r.problems.map((p) => p.key), [`${R}/bgppeers/b`, `${R}/nodes/bad`]);
});
