// Pure parts of the hardening work: the hardening variables, the peer-entry fields, RFC 4486 Cease data,
// AS_PATH length and the treat-as-withdraw rewrite (checked by scanning the result with our codec).
import test from 'ava';
import { ConfigError, HARDENING_DEFAULTS, loadHardeningConfig } from '../../src/config/index.js';
import { desiredPeers } from '../../src/datastore/calico-mapping.js';
import { limitFor, maxPrefixesData, PrefixLimiter, warnLevel, type LimitedSession } from '../../src/reflector/prefix-limit.js';
import { AsPathLimit } from '../../src/reflector/as-path-limit.js';
import { asPathLength, asWithdrawal } from '../../src/wire/update-withdrawal.js';
import { sessionParametersEqual } from '../../src/peers/peer-spec.js';
import {
  AFI_IPV4, AFI_IPV6, AsPathSegmentType, AttrType, ATTR_FLAG_TRANSITIVE, buildUpdates, DEFAULT_CONTEXT, encodeAttributes,
  scanUpdate, type CodecContext,
} from '../../src/wire/index.js';

test('hardening variables: defaults, values, and errors naming the variable', (t) => {
  t.deepEqual(loadHardeningConfig({}), HARDENING_DEFAULTS);
  const c = loadHardeningConfig({
    MAX_PREFIXES: '5000', MAX_PREFIXES_WARNING_PERCENT: '90', MAX_PREFIXES_IDLE_HOLD: '30', MAX_AS_PATH_LENGTH: '50',
    OUTBOUND_QUEUE_LIMIT: '1048576', MAX_PENDING_CONNECTIONS: '64', TTL_SECURITY: 'yes', IDLE_HOLD_BASE: '2', IDLE_HOLD_CAP: '0',
  });
  t.deepEqual(c, {
    maxPrefixes: 5000, maxPrefixesWarningPercent: 90, maxPrefixesIdleHoldSeconds: 30, maxAsPathLength: 50,
    outboundQueueLimitBytes: 1048576, maxPendingConnections: 64, ttlSecurity: true, idleHoldBaseSeconds: 2, idleHoldCapSeconds: 0,
  });
  const e = t.throws(() => loadHardeningConfig({ MAX_PREFIXES: '-1', MAX_PREFIXES_WARNING_PERCENT: '101', TTL_SECURITY: 'maybe', OUTBOUND_QUEUE_LIMIT: '10' }), { instanceOf: ConfigError });
  t.is(e?.problems.length, 4);
  t.regex(e?.problems.join('\n') ?? '', /MAX_PREFIXES: "-1"/);
  t.regex(e?.problems.join('\n') ?? '', /TTL_SECURITY: "maybe"/);
  t.regex(e?.problems.join('\n') ?? '', /OUTBOUND_QUEUE_LIMIT: "10"/);
});

test('peer entry: password, max_prefixes and ttl_security carried to the session; bad values reported and ignored', (t) => {
  const P = '/calico/bgp/v1';
  const keys = new Map<string, string>([
    [`${P}/global/as_num`, '64512'],
    [`${P}/global/peer_v4/10.0.0.10`, JSON.stringify({ ip: '10.0.0.10', as_num: '64512', password: 'pw', max_prefixes: '2000', ttl_security: true })],
    [`${P}/host/a/ip_addr_v4`, '10.0.1.1'],
    [`${P}/host/b/ip_addr_v4`, '10.0.1.2'],
    [`${P}/host/b/peer_v4/10.0.0.10`, JSON.stringify({ ip: '10.0.0.10', as_num: 64512, max_prefixes: 'lots', ttl_security: 'yes' })],
  ]);
  const r = desiredPeers(keys, { ip: '10.0.0.10', port: 179 });
  const a = r.peers.find((p) => p.name === 'Global_10_0_1_1');
  const b = r.peers.find((p) => p.name === 'Node_10_0_1_2');
  t.is(a?.password, 'pw');
  t.is(a?.maxPrefixes, 2000);
  t.is(a?.ttlSecurity, true);
  t.is(b?.maxPrefixes, undefined);
  t.is(b?.ttlSecurity, undefined);
  t.is(r.problems.length, 2);
  t.regex(r.problems.map((p) => p.reason).join('\n'), /max_prefixes "lots" is not a non-negative integer; ignored/);
  t.regex(r.problems.map((p) => p.reason).join('\n'), /ttl_security "yes" is not true or false; ignored/);
  if (a !== undefined) {
    t.false(sessionParametersEqual(a, { ...a, maxPrefixes: 1 }), 'a changed limit restarts the session with it');
    t.false(sessionParametersEqual(a, { ...a, ttlSecurity: false }));
    t.is(limitFor(a, HARDENING_DEFAULTS), 2000);
    t.is(limitFor({ ...a, maxPrefixes: undefined } as typeof a, { ...HARDENING_DEFAULTS, maxPrefixes: 7 }), 7);
  }
});

test('RFC 4486 Cease data: AFI, SAFI, limit; warning level', (t) => {
  t.deepEqual([...maxPrefixesData(1, 1, 100)], [0, 1, 1, 0, 0, 0, 100]);
  t.deepEqual([...maxPrefixesData(2, 1, 0x01020304)], [0, 2, 1, 1, 2, 3, 4]);
  t.is(warnLevel(100, 80), 80);
  t.is(warnLevel(1, 10), 1);
  t.is(warnLevel(0, 80), 0);
});

function attrsWithPath(asns: number[], ctx: CodecContext = DEFAULT_CONTEXT, set: number[] = []): Uint8Array {
  const segments = [{ type: AsPathSegmentType.AS_SEQUENCE, asns }];
  if (set.length > 0) segments.push({ type: AsPathSegmentType.AS_SET, asns: set });
  return encodeAttributes([
    { type: AttrType.ORIGIN, flags: ATTR_FLAG_TRANSITIVE, origin: 0 },
    { type: AttrType.AS_PATH, flags: ATTR_FLAG_TRANSITIVE, segments },
    { type: AttrType.NEXT_HOP, flags: ATTR_FLAG_TRANSITIVE, nextHop: '10.0.0.1' },
  ], ctx);
}

test('AS_PATH length counts sequence ASes and a set as one, for 4- and 2-octet sessions', (t) => {
  const [u] = buildUpdates({ attrs: attrsWithPath([1, 2, 3, 4], DEFAULT_CONTEXT, [7, 8, 9]), afi: AFI_IPV4, prefixes: { addrs: [0x0a000000], lens: [24] }, ctx: DEFAULT_CONTEXT });
  t.is(asPathLength(u!, DEFAULT_CONTEXT), 5);
  const ctx2: CodecContext = { ...DEFAULT_CONTEXT, as4: false };
  const [u2] = buildUpdates({ attrs: attrsWithPath([1, 2, 3]), afi: AFI_IPV4, prefixes: { addrs: [0x0a000000], lens: [24] }, ctx: ctx2 });
  t.is(asPathLength(u2!, ctx2), 3);
  const [w] = buildUpdates({ afi: AFI_IPV4, withdrawals: { addrs: [0x0a000000], lens: [24] }, ctx: DEFAULT_CONTEXT });
  t.is(asPathLength(w!, DEFAULT_CONTEXT), -1);
});

test('treat-as-withdraw rewrite: IPv4 NLRI and MP_REACH become withdrawals of the same prefixes', (t) => {
  const addrs = [0x0a000000, 0x0a000100, 0x0b000000];
  const lens = [24, 24, 16];
  const [u] = buildUpdates({ attrs: attrsWithPath(Array.from({ length: 40 }, (_, i) => 65000 + i)), afi: AFI_IPV4, prefixes: { addrs, lens }, ctx: DEFAULT_CONTEXT });
  const w = asWithdrawal(u!, DEFAULT_CONTEXT);
  t.truthy(w);
  const s = scanUpdate(w!, DEFAULT_CONTEXT);
  t.false(s.hasReach);
  t.deepEqual([...w!.subarray(s.withdrawnStart, s.withdrawnEnd)], [24, 10, 0, 0, 24, 10, 0, 1, 16, 11, 0]);

  const v6 = new Uint8Array(16);
  v6.set([0xfd, 0, 0, 1]);
  const nh = new Uint8Array(16);
  nh.set([0xfd, 0, 0, 0xff]);
  nh[15] = 1;
  const attrs6 = encodeAttributes([
    { type: AttrType.ORIGIN, flags: ATTR_FLAG_TRANSITIVE, origin: 0 },
    { type: AttrType.AS_PATH, flags: ATTR_FLAG_TRANSITIVE, segments: [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [1, 2, 3] }] },
  ], DEFAULT_CONTEXT);
  const [u6] = buildUpdates({ attrs: attrs6, afi: AFI_IPV6, nextHop: nh, prefixes: { addrs: v6, lens: [64] }, ctx: DEFAULT_CONTEXT });
  const lim = new AsPathLimit(2);
  let first = -1;
  const w6 = lim.filter('p', u6!, DEFAULT_CONTEXT, (n) => (first = n));
  t.is(first, 3);
  const s6 = scanUpdate(w6, DEFAULT_CONTEXT);
  t.false(s6.hasReach);
  t.true(s6.hasMpUnreach);
  t.is(s6.mpUnreachAfi, AFI_IPV6);
  t.deepEqual([...w6.subarray(s6.mpUnreachStart, s6.mpUnreachEnd)], [64, 0xfd, 0, 0, 1, 0, 0, 0, 0]);
  t.is(lim.treated.get('p'), 1);
  t.is(new AsPathLimit(3).filter('p', u6!, DEFAULT_CONTEXT), u6, 'at the limit: passed as it is');
});

test('prefix limiter: warning once at the level, Cease 1 with data past the limit, view for metrics', (t) => {
  const counts = new Map<string, number>();
  const source = { routeStats: (name: string, family: 4 | 6) => ({ imported: family === 4 ? counts.get(name) ?? 0 : 0 }) };
  const limiter = new PrefixLimiter(source, { maxPrefixes: 10, maxPrefixesWarningPercent: 80, maxPrefixesIdleHoldSeconds: 5 });
  const warnings: string[] = [];
  const ceases: { subcode: number; data: number[]; hold: number }[] = [];
  const spec = desiredPeers(new Map([
    ['/calico/bgp/v1/global/peer_v4/10.0.0.10', JSON.stringify({ ip: '10.0.0.10', as_num: '64512' })],
    ['/calico/bgp/v1/host/a/ip_addr_v4', '10.0.1.1'],
  ]), { ip: '10.0.0.10', port: 179 }).peers[0]!;
  const session = {
    spec,
    log: { warn: (_o: unknown, msg: string) => warnings.push(msg) } as unknown as LimitedSession['log'],
    ceaseAndHold: (subcode: number, data: Uint8Array, hold: number) => {
      ceases.push({ subcode, data: [...data], hold });
      return true;
    },
  };
  t.is(limiter.view(spec).limit, 10);
  counts.set(spec.name, 7);
  t.is(limiter.afterUpdate(session), 'ok');
  counts.set(spec.name, 8);
  t.is(limiter.afterUpdate(session), 'warning');
  counts.set(spec.name, 9);
  t.is(limiter.afterUpdate(session), 'warning');
  t.is(warnings.length, 1, 'one warning line while above the level');
  t.true(limiter.view(spec).warning);
  counts.set(spec.name, 11);
  t.is(limiter.afterUpdate(session), 'exceeded');
  t.deepEqual(ceases, [{ subcode: 1, data: [0, 1, 1, 0, 0, 0, 10], hold: 5 }]);
  t.is(limiter.view(spec).exceeded, 1);
  t.is(limiter.view({ ...spec, maxPrefixes: 0 }).limit, 0, 'the entry overrides the default; 0 = none');
  t.is(new PrefixLimiter(source, { maxPrefixes: 0, maxPrefixesWarningPercent: 80, maxPrefixesIdleHoldSeconds: 5 }).afterUpdate(session), 'ok');
});
