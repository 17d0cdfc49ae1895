import test from 'ava';
import { mkdtempSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseBirdTimeformat, parseListen, type Config } from '../../src/config/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'rr-config-'));
const noDataDir = join(tmp, 'no-such-dir');
const opts = { cwd: tmp, dataDir: noDataDir };
const ca = join(tmp, 'ca.pem');
const cert = join(tmp, 'cert.pem');
const key = join(tmp, 'key.pem');
for (const f of [ca, cert, key]) writeFileSync(f, 'x');

function load(env: Record<string, string>): Config {
  return loadConfig(env, opts);
}

function fails(t: import('ava').ExecutionContext, env: Record<string, string>, ...fragments: string[]): ConfigError {
  const err = t.throws(() => load(env), { instanceOf: ConfigError });
  for (const f of fragments) t.true(err.message.includes(f), `"${err.message}" should include "${f}"`);
  return err;
}

const etcdBase = { IP: '10.0.0.10', ETCD_ENDPOINTS: 'http://127.0.0.1:2379' };

test('empty environment: embedded file datastore, IP 127.0.0.1, defaults', (t) => {
  const c = load({});
  t.is(c.datastore.type, 'file');
  t.true(c.datastore.embeddedDefault);
  t.is(c.identity.ip, '127.0.0.1');
  t.true(c.identity.ipDefaulted);
  t.is(c.identity.ip6, undefined);
  t.is(c.datastore.file, join(tmp, 'datastore.json'));
  t.true(c.datastore.fileDefaulted);
  t.is(c.identity.bgpPort, 179);
  t.is(c.observability.socketDir, '/sockets');
  // Metrics on IP only by default, not on every interface of the (hostNetwork) host.
  t.deepEqual(c.observability.metricsListen, { host: '127.0.0.1', port: 9180 });
  t.is(c.observability.logLevel, 'info');
  t.is(c.observability.birdTimeformat.fmt1, '%T');
  t.is(c.observability.birdTimeformat.fmt2, '%F');
  t.is(c.observability.birdTimeformat.limitSeconds, 72000);
  t.is(c.datastore.register, undefined);
  t.is(c.datastore.etcd, undefined);
  t.true(c.notes.some((n) => n.includes('IP not set') && n.includes('127.0.0.1')));
  t.true(c.notes.some((n) => n.includes('embedded file datastore') && n.includes(c.datastore.file)));
});

test('default DATASTORE_FILE prefers a writable data directory', (t) => {
  const dataDir = join(tmp, 'data');
  mkdirSync(dataDir);
  const c = loadConfig({}, { cwd: tmp, dataDir });
  t.is(c.datastore.file, join(dataDir, 'datastore.json'));
  if (process.getuid?.() !== 0) {
    chmodSync(dataDir, 0o500);
    t.is(loadConfig({}, { cwd: tmp, dataDir }).datastore.file, join(tmp, 'datastore.json'));
    chmodSync(dataDir, 0o700);
  }
});

test('DATASTORE_FILE is resolved against the working directory', (t) => {
  t.is(load({ DATASTORE_FILE: 'x/y.json' }).datastore.file, join(tmp, 'x/y.json'));
  t.false(load({ DATASTORE_FILE: '/abs/y.json' }).datastore.fileDefaulted);
  fails(t, { DATASTORE_FILE: 'dir/' }, 'DATASTORE_FILE', 'directory');
});

test('IP: required outside the embedded default; validated and canonical', (t) => {
  fails(t, { ETCD_ENDPOINTS: 'http://127.0.0.1:2379' }, 'IP: required');
  fails(t, { DATASTORE_TYPE: 'file' }, 'IP: required');
  const e = fails(t, { IP: '10.0.0.300' }, 'IP: "10.0.0.300" is not an IPv4 address');
  t.is(e.problems.length, 1);
  fails(t, { IP: '10.0.0.1/24' }, 'IP: "10.0.0.1/24"');
  fails(t, { IP: 'fd00::1' }, 'is not an IPv4 address');
  fails(t, { IP: 'host.example' }, 'IP:');
  const c = load({ IP: ' 10.0.0.1 ' });
  t.is(c.identity.ip, '10.0.0.1');
  t.false(c.identity.ipDefaulted);
  t.is(load({ IP: '' }).identity.ip, '127.0.0.1'); // empty means unset (the v0.4.x script passed every variable)
});

test('IP6: optional, canonical compressed lowercase', (t) => {
  t.is(load({ IP: '10.0.0.1', IP6: 'FD00:0:0:0::0:10' }).identity.ip6, 'fd00::10');
  fails(t, { IP: '10.0.0.1', IP6: '10.0.0.1' }, 'IP6: "10.0.0.1" is not an IPv6 address');
  fails(t, { IP: '10.0.0.1', IP6: 'fd00::1/64' }, 'IP6:');
  fails(t, { IP: '10.0.0.1', IP6: 'fe80::1%eth0' }, 'IP6:');
  fails(t, { IP: '10.0.0.1', IP6: 'fd00:::1' }, 'IP6:');
});

test('ETCD_ENDPOINTS: comma list, normalised, both keyspaces by default', (t) => {
  const c = load({ IP: '10.0.0.1', ETCD_ENDPOINTS: 'http://10.0.0.1:2379/, https://etcd.example:2379,,http://10.0.0.1:2379' });
  t.is(c.datastore.type, 'etcd');
  t.false(c.datastore.embeddedDefault);
  t.deepEqual(c.datastore.etcd?.endpoints, ['http://10.0.0.1:2379', 'https://etcd.example:2379']);
  t.is(c.datastore.etcd?.endpointsFrom, 'ETCD_ENDPOINTS');
  t.is(load({ IP: '10.0.0.1', ETCD_ENDPOINTS: 'http://[::1]:2379' }).datastore.etcd?.endpoints[0], 'http://[::1]:2379');
  fails(t, { IP: '10.0.0.1', ETCD_ENDPOINTS: 'ftp://x:1' }, 'ETCD_ENDPOINTS', 'ftp');
  fails(t, { IP: '10.0.0.1', ETCD_ENDPOINTS: '10.0.0.1:2379' }, 'ETCD_ENDPOINTS');
  fails(t, { IP: '10.0.0.1', ETCD_ENDPOINTS: 'http://x:2379/v2/keys' }, 'ETCD_ENDPOINTS', 'path');
  fails(t, { IP: '10.0.0.1', ETCD_ENDPOINTS: 'http://u:p@x:2379' }, 'ETCD_ENDPOINTS', 'ETCD_USERNAME');
  fails(t, { IP: '10.0.0.1', ETCD_ENDPOINTS: ' , ' }, 'ETCD_ENDPOINTS'); // trims to "," = set but empty list
});

test('CALICO_ETCD_ENDPOINTS wins over ETCD_ENDPOINTS (libcalico-go spelling)', (t) => {
  const c = load({ IP: '10.0.0.1', ETCD_ENDPOINTS: 'http://a:1', CALICO_ETCD_ENDPOINTS: 'http://b:2' });
  t.deepEqual(c.datastore.etcd?.endpoints, ['http://b:2']);
  t.is(c.datastore.etcd?.endpointsFrom, 'CALICO_ETCD_ENDPOINTS');
  fails(t, { IP: '10.0.0.1', CALICO_ETCD_ENDPOINTS: 'nope' }, 'CALICO_ETCD_ENDPOINTS');
});

test('legacy ETCD_AUTHORITY + ETCD_SCHEME', (t) => {
  const c = load({ IP: '10.0.0.1', ETCD_AUTHORITY: '10.0.0.5:4001' });
  t.is(c.datastore.type, 'etcd');
  t.deepEqual(c.datastore.etcd?.endpoints, ['http://10.0.0.5:4001']);
  t.is(c.datastore.etcd?.endpointsFrom, 'ETCD_AUTHORITY');
  t.deepEqual(load({ IP: '10.0.0.1', ETCD_AUTHORITY: 'e:2379', ETCD_SCHEME: 'HTTPS' }).datastore.etcd?.endpoints, ['https://e:2379']);
  fails(t, { IP: '10.0.0.1', ETCD_AUTHORITY: 'e:2379', ETCD_SCHEME: 'gopher' }, 'ETCD_SCHEME', 'gopher');
  fails(t, { IP: '10.0.0.1', ETCD_AUTHORITY: 'http://e:2379' }, 'ETCD_AUTHORITY', 'without scheme');
  const both = load({ IP: '10.0.0.1', ETCD_AUTHORITY: 'old:1', ETCD_ENDPOINTS: 'http://new:2' });
  t.deepEqual(both.datastore.etcd?.endpoints, ['http://new:2']);
  t.true(both.notes.some((n) => n.includes('ETCD_AUTHORITY ignored')));
});

test('DATASTORE_TYPE values', (t) => {
  for (const ty of ['etcdv2', 'etcdv3', 'etcd'] as const) {
    const c = load({ ...etcdBase, DATASTORE_TYPE: ty.toUpperCase() });
    t.is(c.datastore.type, ty);
    t.truthy(c.datastore.etcd);
  }
  const k = load({ IP: '10.0.0.1', DATASTORE_TYPE: 'kubernetes' });
  t.is(k.datastore.type, 'kubernetes');
  t.is(k.datastore.etcd, undefined);
  t.is(k.datastore.kubeconfig, undefined);
  const f = load({ IP: '10.0.0.1', DATASTORE_TYPE: 'file', ETCD_ENDPOINTS: 'http://x:1' });
  t.is(f.datastore.type, 'file');
  t.false(f.datastore.embeddedDefault);
  t.true(f.notes.some((n) => n.includes('ETCD_ENDPOINTS ignored')));
  fails(t, { IP: '10.0.0.1', DATASTORE_TYPE: 'consul' }, 'DATASTORE_TYPE: "consul" is not one of');
  t.is(load({ IP: '10.0.0.1', CALICO_DATASTORE_TYPE: 'kubernetes' }).datastore.type, 'kubernetes');
});

test('etcd type without endpoints defaults to http://127.0.0.1:2379 with a note', (t) => {
  const c = load({ IP: '10.0.0.1', DATASTORE_TYPE: 'etcdv3' });
  t.deepEqual(c.datastore.etcd?.endpoints, ['http://127.0.0.1:2379']);
  t.true(c.notes.some((n) => n.includes('127.0.0.1:2379')));
});

test('TLS files: must exist; cert and key together', (t) => {
  const c = load({ ...etcdBase, ETCD_CA_CERT_FILE: ca, ETCD_CERT_FILE: cert, ETCD_KEY_FILE: key });
  t.is(c.datastore.etcd?.caCertFile, ca);
  t.is(c.datastore.etcd?.certFile, cert);
  t.is(c.datastore.etcd?.keyFile, key);
  fails(t, { ...etcdBase, ETCD_CA_CERT_FILE: join(tmp, 'missing.pem') }, 'ETCD_CA_CERT_FILE', 'does not exist');
  fails(t, { ...etcdBase, ETCD_CA_CERT_FILE: tmp }, 'ETCD_CA_CERT_FILE', 'not a regular file');
  fails(t, { ...etcdBase, ETCD_CERT_FILE: cert }, 'ETCD_KEY_FILE', 'both');
  fails(t, { ...etcdBase, ETCD_KEY_FILE: key }, 'ETCD_CERT_FILE', 'both');
  // empty values mean unset, as the v0.4.x run script always passed them
  t.is(load({ ...etcdBase, ETCD_CA_CERT_FILE: '', ETCD_CERT_FILE: '', ETCD_KEY_FILE: '' }).datastore.etcd?.caCertFile, undefined);
  t.is(load({ ...etcdBase, CALICO_ETCD_CA_CERT_FILE: ca }).datastore.etcd?.caCertFile, ca);
  t.true(load({ ...etcdBase, ETCD_CA_CERT_FILE: ca }).notes.some((n) => n.includes('TLS is not used')));
});

test('ETCD_USERNAME / ETCD_PASSWORD together', (t) => {
  const c = load({ IP: '10.0.0.10', ETCD_ENDPOINTS: 'https://127.0.0.1:2379', ETCD_USERNAME: 'root', ETCD_PASSWORD: ' s3cret ' });
  t.is(c.datastore.etcd?.username, 'root');
  t.is(c.datastore.etcd?.password, ' s3cret '); // passwords are not trimmed
  t.deepEqual(c.warnings, []);
  fails(t, { ...etcdBase, ETCD_USERNAME: 'root' }, 'ETCD_PASSWORD: required');
  fails(t, { ...etcdBase, ETCD_PASSWORD: 'x' }, 'ETCD_USERNAME: required');
});

test('ETCD_PASSWORD over http:// is refused, naming the variable and the endpoint, unless explicitly allowed (then a warning)', (t) => {
  const secret = 'pw-that-must-not-appear';
  const err = t.throws(() => load({ ...etcdBase, ETCD_USERNAME: 'root', ETCD_PASSWORD: secret }), { instanceOf: ConfigError });
  t.regex(err?.message ?? '', /ETCD_PASSWORD: would be sent in clear text to the http:\/\/ endpoint http:\/\/127\.0\.0\.1:2379.*ETCD_ALLOW_INSECURE_CREDENTIALS=true/);
  t.false((err?.message ?? '').includes(secret), 'the password itself is not in the error');
  // One http endpoint among https ones is enough to refuse.
  fails(t, { IP: '10.0.0.1', ETCD_ENDPOINTS: 'https://a:2379,http://b:2379', ETCD_USERNAME: 'u', ETCD_PASSWORD: 'p' }, 'ETCD_PASSWORD', 'http://b:2379');
  const c = load({ ...etcdBase, ETCD_USERNAME: 'root', ETCD_PASSWORD: secret, ETCD_ALLOW_INSECURE_CREDENTIALS: 'true' });
  t.is(c.datastore.etcd?.password, secret);
  t.is(c.warnings.length, 1);
  t.regex(c.warnings[0] ?? '', /ETCD_PASSWORD .*clear text.*http:\/\/127\.0\.0\.1:2379/);
  t.false(c.warnings[0]?.includes(secret));
  fails(t, { ...etcdBase, ETCD_USERNAME: 'root', ETCD_PASSWORD: 'x', ETCD_ALLOW_INSECURE_CREDENTIALS: 'maybe' }, 'ETCD_ALLOW_INSECURE_CREDENTIALS', 'not true or false');
  // Without credentials, http:// needs no permission.
  t.deepEqual(load(etcdBase).warnings, []);
});

test('DATASTORE_FILE_MAX_BYTES: default 8 MiB, bounds checked', (t) => {
  t.is(load({ IP: '10.0.0.1', DATASTORE_TYPE: 'file', DATASTORE_FILE: '/tmp/x.json' }).datastore.fileMaxBytes, 8 * 1024 * 1024);
  t.is(load({ IP: '10.0.0.1', DATASTORE_TYPE: 'file', DATASTORE_FILE: '/tmp/x.json', DATASTORE_FILE_MAX_BYTES: '65536' }).datastore.fileMaxBytes, 65536);
  for (const v of ['12', '1e6', '-5', '8MiB', '2000000000']) {
    fails(t, { IP: '10.0.0.1', DATASTORE_TYPE: 'file', DATASTORE_FILE: '/tmp/x.json', DATASTORE_FILE_MAX_BYTES: v }, 'DATASTORE_FILE_MAX_BYTES');
  }
});

test('KUBECONFIG: checked only for the kubernetes datastore', (t) => {
  t.is(load({ IP: '10.0.0.1', DATASTORE_TYPE: 'kubernetes', KUBECONFIG: ca }).datastore.kubeconfig, ca);
  fails(t, { IP: '10.0.0.1', DATASTORE_TYPE: 'kubernetes', KUBECONFIG: join(tmp, 'nope') }, 'KUBECONFIG', 'does not exist');
  t.is(load({ ...etcdBase, KUBECONFIG: join(tmp, 'nope') }).datastore.kubeconfig, join(tmp, 'nope'));
  // A kubectl-style list: missing files are skipped, as kubectl skips them; at least one must be readable.
  t.is(load({ IP: '10.0.0.1', DATASTORE_TYPE: 'kubernetes', KUBECONFIG: `${join(tmp, 'nope')}:${ca}` }).datastore.kubeconfig, `${join(tmp, 'nope')}:${ca}`);
  fails(t, { IP: '10.0.0.1', DATASTORE_TYPE: 'kubernetes', KUBECONFIG: `${join(tmp, 'nope')}:${join(tmp, 'nope2')}` }, 'KUBECONFIG: none of the files can be read', 'nope2');
});

test('BGP_PORT', (t) => {
  t.is(load({ BGP_PORT: '1179' }).identity.bgpPort, 1179);
  t.is(load({ BGP_PORT: '65535' }).identity.bgpPort, 65535);
  for (const bad of ['0', '65536', '-1', 'abc', '17 9', '1e3']) fails(t, { BGP_PORT: bad }, 'BGP_PORT', 'not a TCP port');
});

test('SOCKET_DIR', (t) => {
  t.is(load({ SOCKET_DIR: '/run/rr' }).observability.socketDir, '/run/rr');
});

test('METRICS_LISTEN forms', (t) => {
  t.deepEqual(load({ METRICS_LISTEN: '127.0.0.1:9999' }).observability.metricsListen, { host: '127.0.0.1', port: 9999 });
  t.deepEqual(load({ METRICS_LISTEN: ':8080' }).observability.metricsListen, { host: undefined, port: 8080 });
  t.deepEqual(load({ ...etcdBase }).observability.metricsListen, { host: '10.0.0.10', port: 9180 }, 'default: IP, port 9180');
  t.deepEqual(load({ METRICS_LISTEN: ':9180' }).observability.metricsListen, { host: undefined, port: 9180 }, 'every address only when asked for');
  t.deepEqual(load({ METRICS_LISTEN: '[::1]:9180' }).observability.metricsListen, { host: '::1', port: 9180 });
  t.deepEqual(load({ METRICS_LISTEN: 'localhost:9180' }).observability.metricsListen, { host: 'localhost', port: 9180 });
  t.deepEqual(load({ METRICS_LISTEN: '9181' }).observability.metricsListen, { host: undefined, port: 9181 });
  t.is(load({ METRICS_LISTEN: 'off' }).observability.metricsListen, undefined);
  for (const bad of ['127.0.0.1', '::1:9180', '[::1]', '1.2.3.4:70000', 'a b:1', '[zz]:1']) {
    fails(t, { METRICS_LISTEN: bad }, 'METRICS_LISTEN');
  }
  t.is(parseListen('host_name:1'), undefined);
});

test('LOG_LEVEL', (t) => {
  for (const l of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const) t.is(load({ LOG_LEVEL: l }).observability.logLevel, l);
  t.is(load({ LOG_LEVEL: 'DEBUG' }).observability.logLevel, 'debug');
  fails(t, { LOG_LEVEL: 'verbose' }, 'LOG_LEVEL: "verbose"');
});

test('BIRD_TIMEFORMAT follows BIRD 1.6 timeformat grammar', (t) => {
  t.deepEqual(parseBirdTimeformat('iso long'), { spec: 'iso long', fmt1: '%F %T', fmt2: null, limitSeconds: 0 });
  t.deepEqual(parseBirdTimeformat('ISO  SHORT'), { spec: 'ISO  SHORT', fmt1: '%T', fmt2: '%F', limitSeconds: 72000 });
  t.is(parseBirdTimeformat('old short')?.fmt1, null);
  t.is(parseBirdTimeformat('old long')?.fmt1, '%d-%m-%Y %T');
  t.deepEqual(parseBirdTimeformat('"%s"'), { spec: '"%s"', fmt1: '%s', fmt2: null, limitSeconds: 0 });
  t.is(parseBirdTimeformat('%s')?.fmt1, '%s');
  t.deepEqual(parseBirdTimeformat('"%T" 3600 "%F"'), { spec: '"%T" 3600 "%F"', fmt1: '%T', fmt2: '%F', limitSeconds: 3600 });
  for (const bad of ['', 'iso', 'new short', '"%T" x "%F"', '"%T" 3600', '""', '"%s', 'plain']) {
    t.is(parseBirdTimeformat(bad), undefined, bad);
  }
  t.is(load({ BIRD_TIMEFORMAT: '%s' }).observability.birdTimeformat.fmt1, '%s');
  fails(t, { BIRD_TIMEFORMAT: 'sometimes' }, 'BIRD_TIMEFORMAT: "sometimes"');
});

test('self-registration switches: RR_REGISTER, RR_CLUSTER_ID, RR_REGISTER_TTL', (t) => {
  t.deepEqual(load({ ...etcdBase, RR_REGISTER: 'true' }).datastore.register, { clusterId: undefined, ttlSeconds: 30 });
  t.deepEqual(load({ ...etcdBase, RR_CLUSTER_ID: '1.0.0.1' }).datastore.register, { clusterId: '1.0.0.1', ttlSeconds: 30 });
  t.deepEqual(load({ ...etcdBase, RR_CLUSTER_ID: '16777217', RR_REGISTER_TTL: '5' }).datastore.register, { clusterId: '1.0.0.1', ttlSeconds: 5 });
  t.is(load({ ...etcdBase, RR_CLUSTER_ID: '1.0.0.1', RR_REGISTER: 'false' }).datastore.register, undefined);
  t.is(load({ ...etcdBase, RR_REGISTER: 'no' }).datastore.register, undefined);
  t.is(load({ ...etcdBase }).datastore.register, undefined);
  t.truthy(load({ IP: '10.0.0.1', DATASTORE_TYPE: 'kubernetes', RR_REGISTER: '1' }).datastore.register);
  fails(t, { ...etcdBase, RR_REGISTER: 'maybe' }, 'RR_REGISTER: "maybe"');
  fails(t, { ...etcdBase, RR_CLUSTER_ID: '1.2.3' }, 'RR_CLUSTER_ID');
  fails(t, { ...etcdBase, RR_CLUSTER_ID: '4294967296' }, 'RR_CLUSTER_ID');
  fails(t, { ...etcdBase, RR_REGISTER: 'true', RR_REGISTER_TTL: '1' }, 'RR_REGISTER_TTL');
  fails(t, { ...etcdBase, RR_REGISTER: 'true', RR_REGISTER_TTL: 'ten' }, 'RR_REGISTER_TTL');
  fails(t, { RR_REGISTER: 'true' }, 'RR_REGISTER', 'etcd or kubernetes');
});

test('every bad variable is reported at once', (t) => {
  const e = fails(t, { IP: 'x', IP6: 'y', BGP_PORT: '0', LOG_LEVEL: 'loud', ETCD_ENDPOINTS: 'http://e:1' }, 'IP:', 'IP6:', 'BGP_PORT:', 'LOG_LEVEL:');
  t.is(e.problems.length, 4);
  t.is(e.name, 'ConfigError');
});

test('ADD_PATHS: off by default; all, or a number of paths 1-64; anything else fails naming the variable', (t) => {
  t.is(load({}).addPaths.mode, 'off');
  t.is(load({ ADD_PATHS: ' ALL ' }).addPaths.mode, 'all');
  t.is(load({ ADD_PATHS: 'off' }).addPaths.mode, 'off');
  t.is(load({ ADD_PATHS: '4' }).addPaths.mode, 4);
  t.is(load({ ADD_PATHS: '64' }).addPaths.mode, 64);
  for (const bad of ['0', '65', 'on', '-1', '2.5', 'best']) fails(t, { ADD_PATHS: bad }, `ADD_PATHS: "${bad}" is not off, all or a number of paths 1-64`);
});
