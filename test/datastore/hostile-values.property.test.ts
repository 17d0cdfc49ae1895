// Property test (issue 21): hostile datastore values — nesting far past any limit, huge strings, wrong types,
// odd numbers (1e400, -0, "NaN", "0x10"), odd addresses ("1.2.3.4.5", "::ffff:1.2.3.4", "010.0.0.1"), unicode —
// fed through every pure stage a value meets: the file parser, the Calico v3 resource translation (etcd v3), the
// Kubernetes translation, the mapping (desiredPeers) and the debug-log redaction. Nothing may throw, every
// problem is short, no planted password appears in any problem or log form, and one bad entry changes nothing
// about the good ones (each entry is judged on its own). The oracles are the generated inputs themselves: which
// entries are well formed is known by construction, not by asking the code under test.
import test from 'ava';
import fc from 'fast-check';
import { desiredPeers, type MappingEnv } from '../../src/datastore/calico-mapping.js';
import { desiredSessions } from '../../src/datastore/calico-sessions.js';
import { parseDatastoreFile } from '../../src/datastore/file-source.js';
import { loggableValue } from '../../src/datastore/safe-value.js';
import { leaseKeys, peerPassword, resourceKeys } from '../../src/datastore/kubernetes/translate.js';
import type { KubeObject } from '../../src/datastore/kubernetes/client.js';
import { canonicalIPv4 } from '../../src/net/address.js';
import { fixedSeeds } from '../helpers/property.js';

fixedSeeds('test/datastore/hostile-values.property.test.ts');

const P = '/calico/bgp/v1';
const OWN = '10.0.0.10';
const ENV: MappingEnv = { ip: OWN, ip6: 'fd00::10', port: 179 };
/** Planted in every password field: must never be found in a problem or a logged value. */
const SECRET = 'Zq9Vx7-md5-planted';
const RUNS = 150;
/** Longest problem text accepted (a key path plus a few words about the value). */
const MAX_PROBLEM = 600;

const deepText = (n: number, open = '[', close = ']'): string => open.repeat(n) + close.repeat(n);
/** A deeply nested JS value built without recursion (as JSON.parse would build it from deepText). */
function deepValue(n: number): unknown {
  let v: unknown = [];
  for (let i = 0; i < n; i++) v = [v];
  return v;
}

const oddNumberText = fc.constantFrom('1e400', '-1e400', '-0', '0', '"NaN"', '"0x10"', '"1e3"', '-1', '4294967296', '65000.5', '"Infinity"', '" 64512 "', '"６４５１２"', '1e-400', '9007199254740993');
const oddAddress = fc.constantFrom(
  '1.2.3.4.5', '::ffff:1.2.3.4', '010.0.0.1', '0.0.0.0', '255.255.255.255', '224.0.0.5', 'fe80::1%eth0', '1.2.3.4/32', '１.２.３.４',
  '\u202e10.0.0.1', '10.0.0.1\u0000', '', ' ', '::', 'ff02::1', '1.2.3', '10.0.0.256', '0x0a.0.0.1', '::1.2.3.4',
);
const unicodeText = fc.string({ unit: 'grapheme', maxLength: 40 });
/** A JSON text fragment that no limit-abiding parser can accept as an entry. */
const hostileFragment = fc.oneof(
  fc.integer({ min: 33, max: 30_000 }).map((n) => deepText(n)),
  fc.integer({ min: 33, max: 5_000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
  fc.integer({ min: 70_000, max: 200_000 }).map((n) => JSON.stringify('x'.repeat(n))),
);
const fieldText = fc.oneof(
  { weight: 3, arbitrary: oddNumberText },
  { weight: 3, arbitrary: oddAddress.map((a) => JSON.stringify(a)) },
  { weight: 2, arbitrary: unicodeText.map((s) => JSON.stringify(s)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: hostileFragment },
);
/** A peer or rr entry value: an object whose fields are odd, plus a password, or raw junk. */
const entryText = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({ ip: fc.oneof(fieldText, fc.constant(JSON.stringify(OWN))), as_num: fieldText, cluster_id: fc.option(fieldText), max_prefixes: fc.option(fieldText), ttl_security: fc.option(fieldText), add_paths: fc.option(fieldText), pw: fc.boolean() })
      .map((r) => {
        const parts = [`"ip":${r.ip}`, `"as_num":${r.as_num}`];
        if (r.cluster_id !== null) parts.push(`"cluster_id":${r.cluster_id}`);
        if (r.max_prefixes !== null) parts.push(`"max_prefixes":${r.max_prefixes}`);
        if (r.ttl_security !== null) parts.push(`"ttl_security":${r.ttl_security}`);
        if (r.add_paths !== null) parts.push(`"add_paths":${r.add_paths}`);
        if (r.pw) parts.push(`"password":${JSON.stringify(SECRET)}`);
        return `{${parts.join(',')}}`;
      }),
  },
  { weight: 1, arbitrary: hostileFragment },
  { weight: 1, arbitrary: oddAddress },
  { weight: 1, arbitrary: fc.constant(`{"ip":"${OWN}","as_num":"64512","password":"${SECRET}"`) }, // cut short
);
const hostName = fc.oneof(fc.constantFrom('a', 'b', 'node-1'), unicodeText.filter((s) => s !== '' && !s.includes('/')));
/** One hostile key/value pair somewhere in the /calico/bgp/v1 layout. */
const hostileEntry = fc.oneof(
  fc.tuple(fc.constant(`${P}/global/as_num`), fc.oneof(oddNumberText, hostileFragment, oddAddress)),
  fc.tuple(fc.constant(`${P}/global/peer_v4/${OWN}`), entryText),
  fc.tuple(fc.constant(`${P}/rr_v4/${OWN}`), entryText),
  fc.tuple(oddAddress.map((a) => `${P}/rr_v4/${a}`), entryText),
  fc.tuple(hostName.map((h) => `${P}/host/${h}/ip_addr_v4`), fc.oneof(oddAddress, hostileFragment, unicodeText)),
  fc.tuple(hostName.map((h) => `${P}/host/${h}/peer_v4/${OWN}`), entryText),
  fc.tuple(fc.constant(`${P}/zzz/unknown`), hostileFragment),
);

function checkProblems(t: import('ava').ExecutionContext, problems: readonly { key: string; reason: string }[] | readonly string[]): void {
  for (const p of problems) {
    const text = typeof p === 'string' ? p : `${p.key}: ${p.reason}`;
    if (text.length > MAX_PROBLEM) t.fail(`problem too long (${text.length}): ${text.slice(0, 200)}`);
    if (text.includes(SECRET)) t.fail(`problem quotes the password: ${text.slice(0, 200)}`);
  }
}

/** A good cluster: the global peer entry naming us, hosts a..c. */
function goodKeys(): Map<string, string> {
  return new Map([
    [`${P}/global/as_num`, '64512'],
    [`${P}/global/peer_v4/${OWN}`, JSON.stringify({ ip: OWN, as_num: '64512' })],
    [`${P}/host/good1/ip_addr_v4`, '10.0.1.1'],
    [`${P}/host/good2/ip_addr_v4`, '10.0.1.2'],
  ]);
}

test('desiredPeers: any set of hostile entries never throws; problems short and secret-free; every session sane', (t) => {
  fc.assert(
    fc.property(fc.array(hostileEntry, { maxLength: 8 }), (entries) => {
      const keys = goodKeys();
      for (const [k, v] of entries) keys.set(k, v);
      const r = desiredPeers(keys, ENV);
      checkProblems(t, r.problems);
      const names = new Set<string>();
      for (const p of r.peers) {
        if (names.has(p.name)) t.fail(`two sessions named ${p.name}`);
        names.add(p.name);
        if (p.family === 4 && canonicalIPv4(p.neighborAddress) !== p.neighborAddress) t.fail(`neighbour ${p.neighborAddress} not canonical`);
        if (p.neighborAddress === '0.0.0.0' || p.neighborAddress === '255.255.255.255' || p.neighborAddress.startsWith('::ffff:')) t.fail(`unusable neighbour ${p.neighborAddress}`);
        if (!Number.isInteger(p.peerAs) || p.peerAs < 1 || p.peerAs > 0xffffffff) t.fail(`AS ${p.peerAs}`);
        if (p.password !== undefined && p.password !== SECRET) t.fail('a password that was never written');
        if (p.maxPrefixes !== undefined && (!Number.isInteger(p.maxPrefixes) || p.maxPrefixes < 0 || Object.is(p.maxPrefixes, -0))) t.fail(`max_prefixes ${p.maxPrefixes}`);
        if (p.addPaths !== undefined && p.addPaths !== 'off' && p.addPaths !== 'all' && !(Number.isInteger(p.addPaths) && p.addPaths >= 1 && p.addPaths <= 64)) t.fail(`add_paths ${String(p.addPaths)}`);
      }
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

test('desiredPeers: one value no parser may accept, under a key of its own, changes nothing else', (t) => {
  const baseline = desiredPeers(goodKeys(), ENV);
  t.deepEqual(baseline.peers.map((p) => p.name), ['Global_10_0_1_1', 'Global_10_0_1_2']);
  fc.assert(
    fc.property(
      fc.oneof(
        hostName.filter((h) => !h.startsWith('good')).map((h) => `${P}/host/${h}/ip_addr_v4`),
        hostName.filter((h) => !h.startsWith('good')).map((h) => `${P}/host/${h}/peer_v4/${OWN}`),
        fc.constantFrom(`${P}/rr_v4/10.0.0.99`, `${P}/global/peer_v4/10.0.0.99`, `${P}/zzz/unknown`, `${P}/global/peer_v4/${OWN}x`),
      ),
      hostileFragment,
      (key, value) => {
        const keys = goodKeys();
        keys.set(key, value);
        const r = desiredPeers(keys, ENV);
        checkProblems(t, r.problems);
        const good = r.peers.filter((p) => p.name === 'Global_10_0_1_1' || p.name === 'Global_10_0_1_2');
        if (JSON.stringify(good) !== JSON.stringify(baseline.peers)) t.fail(`good sessions changed by ${key}`);
      },
    ),
    { numRuns: RUNS },
  );
  t.pass();
});

test('file datastore: one hostile member spoils only its own key; the others parse exactly', (t) => {
  fc.assert(
    fc.property(fc.oneof(hostileFragment, fc.constantFrom('[1,}', '{"a":}', '1e400', '-1e400', '{"password":"x",}', 'tru')), fc.nat(2), (fragment, at) => {
      const good: [string, unknown][] = [
        [`${P}/global/as_num`, '64512'],
        [`${P}/host/n1/ip_addr_v4`, '10.0.1.1'],
        [`${P}/global/peer_v4/${OWN}`, { ip: OWN, as_num: '64512', password: SECRET }],
      ];
      const members = good.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`);
      members.splice(at, 0, `"${P}/host/bad/ip_addr_v4": ${fragment}`);
      const r = parseDatastoreFile(`{\n${members.join(',\n')}\n}`);
      if (!r.ok) return t.fail(`whole file refused: ${r.error}`);
      for (const [k, v] of good) if (r.keys.get(k) !== (typeof v === 'string' ? v : JSON.stringify(v))) t.fail(`${k} lost`);
      if (r.keys.has(`${P}/host/bad/ip_addr_v4`)) t.fail('the hostile value was taken');
      if (r.unreadable.length !== 1) t.fail(`unreadable: ${JSON.stringify(r.unreadable).slice(0, 200)}`);
      checkProblems(t, [...r.problems, ...r.unreadable]);
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

test('file datastore: arbitrary text never throws and never quotes a password', (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)), hostileFragment), (text) => {
      const r = parseDatastoreFile(text.length < 300 ? `{"/x":{"password":"${SECRET}"},` + text : text);
      if (!r.ok && r.error.includes(SECRET)) t.fail('error quotes the password');
      if (r.ok) checkProblems(t, [...r.problems, ...r.unreadable]);
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

const V3 = '/calico/resources/v3/projectcalico.org';
test('Calico v3 resources (etcd v3): hostile specs never throw, errors short; good resources unaffected', (t) => {
  const goodRes = new Map([
    [`${V3}/nodes/n1`, JSON.stringify({ spec: { bgp: { ipv4Address: '10.0.1.1/24' } } })],
    [`${V3}/bgppeers/p1`, JSON.stringify({ spec: { peerIP: OWN, asNumber: 64512 } })],
  ]);
  const base = desiredSessions(goodRes, ENV).peers.map((p) => p.name);
  fc.assert(
    fc.property(
      fc.constantFrom('nodes', 'bgppeers', 'bgpconfigurations'),
      fc.oneof(
        hostileFragment,
        fc.record({ ipv4Address: fieldText, ipv6Address: fieldText, asNumber: fieldText, peerIP: fieldText, node: fieldText, nodeSelector: fieldText }).map(
          (f) => `{"spec":{"bgp":{"ipv4Address":${f.ipv4Address},"ipv6Address":${f.ipv6Address},"asNumber":${f.asNumber}},"peerIP":${f.peerIP},"asNumber":${f.asNumber},"node":${f.node},"nodeSelector":${f.nodeSelector}}}`,
        ),
      ),
      (kind, value) => {
        const name = kind === 'bgpconfigurations' ? 'default' : 'zz-hostile';
        const all = new Map(goodRes);
        all.set(`${V3}/${kind}/${name}`, value);
        const r = desiredSessions(all, ENV);
        checkProblems(t, r.problems);
        // A hostile BGPPeer can add sessions, never take the good ones away.
        const names = new Set(r.peers.map((p) => p.name));
        if (kind === 'bgppeers') for (const n of base) if (!names.has(n)) t.fail(`${n} lost`);
      },
    ),
    { numRuns: RUNS },
  );
  t.pass();
});

test('Kubernetes translation: hostile objects (deep, huge, wrong types) never throw; problems short and secret-free', (t) => {
  const hostileJs = fc.oneof(
    fc.integer({ min: 33, max: 30_000 }).map((n) => deepValue(n)),
    fc.integer({ min: 70_000, max: 200_000 }).map((n) => 'x'.repeat(n)),
    fc.anything({ maxDepth: 3 }),
    oddAddress,
    fc.constantFrom(1e400, -0, Number.NaN, '0x10', '1e3', 4294967296),
  );
  fc.assert(
    fc.property(hostileJs, hostileJs, hostileJs, (a, b, c) => {
      const node: KubeObject = { metadata: { name: 'n', annotations: { 'projectcalico.org/IPv4Address': a, 'projectcalico.org/ASNumber': b } as Record<string, unknown> } } as KubeObject;
      const peer = { metadata: { name: 'p' }, spec: { peerIP: a, asNumber: b, node: c, password: { secretKeyRef: { name: 'sec', key: 'k' } } } } as unknown as KubeObject;
      const secrets = { namespace: 'kube-system', byName: new Map([['sec', { metadata: { name: 'sec' }, data: { k: Buffer.from(SECRET).toString('base64') } } as unknown as KubeObject]]) };
      const cfg = { metadata: { name: 'default' }, spec: { asNumber: a, logSeverityScreen: b, nodeToNodeMeshEnabled: c } } as unknown as KubeObject;
      const lease = { metadata: { name: 'l', labels: { 'projectcalico.org/route-reflector': 'true' }, annotations: { 'projectcalico.org/IPv4Address': a } }, spec: { renewTime: b, leaseDurationSeconds: c } } as unknown as KubeObject;
      for (const tr of [resourceKeys('nodes', node), resourceKeys('bgppeers', peer), resourceKeys('bgpconfigurations', cfg), leaseKeys(lease, 0), peerPassword('p', (peer.spec as { password?: unknown } | undefined)?.password, secrets)]) checkProblems(t, tr.problems);
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

test('debug-log form of any value: never the planted password, never longer than a line', (t) => {
  fc.assert(
    fc.property(entryText, (value) => {
      const shown = loggableValue(value);
      if (shown.includes(SECRET)) t.fail(`logged form quotes the password: ${shown.slice(0, 200)}`);
      if (shown.length > 600) t.fail(`logged form of ${shown.length} characters`);
    }),
    { numRuns: RUNS },
  );
  t.pass();
});
