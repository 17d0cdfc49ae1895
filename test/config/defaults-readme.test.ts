// defaults.ts is the one place a default is written: the README's tables must say the same for every variable,
// every variable the code knows must be documented there, and the loaders must use those values.
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_METRICS_PORT, DEFAULTS, GRACEFUL_RESTART_DEFAULTS, HARDENING_DEFAULTS, VARIABLE_NAMES, defaultText, loadConfig, type VariableName } from '../../src/config/index.js';
import { perVariableDefaults, readmeVariableRows } from './readme-tables.js';

const isVariable = (n: string): n is VariableName => (VARIABLE_NAMES as string[]).includes(n);

test('every variable in the README tables has the default that defaults.ts holds', (t) => {
  const rows = readmeVariableRows();
  t.true(rows.length >= 30, `README tables found: ${rows.length} rows`);
  const documented = new Set<string>();
  for (const row of rows) {
    t.true(row.names.length > 0, `README.md:${row.line} names no variable`);
    const defaults = perVariableDefaults(row);
    if (defaults === undefined) {
      t.fail(`README.md:${row.line}: ${row.names.length} variables but the Default cell "${row.default}" is neither one value nor one per variable`);
      continue;
    }
    for (const [name, text] of defaults) {
      documented.add(name);
      if (!isVariable(name)) {
        t.fail(`README.md:${row.line}: ${name} is not in src/config/defaults.ts`);
        continue;
      }
      t.is(text, defaultText(name), `README.md:${row.line}: default of ${name}`);
    }
  }
  const undocumented = VARIABLE_NAMES.filter((n) => !documented.has(n));
  t.deepEqual(undocumented, [], 'every variable of defaults.ts has a README row');
});

test('the loaders use the defaults of defaults.ts', (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'rr-defaults-'));
  const c = loadConfig({}, { cwd: tmp, dataDir: join(tmp, 'none') });
  t.is(c.identity.ip, DEFAULTS.IP.value);
  t.is(c.identity.ip6, DEFAULTS.IP6.value);
  t.is(c.identity.bgpPort, DEFAULTS.BGP_PORT.value);
  t.is(c.datastore.type, DEFAULTS.DATASTORE_TYPE.value);
  t.is(c.datastore.secretNamespace, DEFAULTS.NAMESPACE.value);
  t.is(c.datastore.fileMaxBytes, DEFAULTS.DATASTORE_FILE_MAX_BYTES.value);
  t.is(c.datastore.register, undefined, 'RR_REGISTER default false');
  t.is(c.observability.socketDir, DEFAULTS.SOCKET_DIR.value);
  t.deepEqual(c.observability.metricsListen, { host: c.identity.ip, port: DEFAULT_METRICS_PORT });
  t.is(DEFAULTS.METRICS_LISTEN.value, `$IP:${DEFAULT_METRICS_PORT}`);
  t.is(c.observability.logLevel, DEFAULTS.LOG_LEVEL.value);
  t.is(c.observability.logFormat, DEFAULTS.LOG_FORMAT.value);
  t.is(c.observability.birdTimeformat.spec, DEFAULTS.BIRD_TIMEFORMAT.value);
  t.deepEqual(c.hardening, HARDENING_DEFAULTS);
  t.deepEqual(c.gracefulRestart, GRACEFUL_RESTART_DEFAULTS);
  t.is(c.hardening.outboundQueueLimitBytes, DEFAULTS.OUTBOUND_QUEUE_LIMIT.value);
  t.is(c.gracefulRestart.restartTimeSeconds, DEFAULTS.GRACEFUL_RESTART_TIME.value);
  // Defaults that need a setting to show.
  const etcd = loadConfig({ IP: '10.0.0.1', DATASTORE_TYPE: 'etcdv3' }, { cwd: tmp });
  t.deepEqual(etcd.datastore.etcd?.endpoints, [DEFAULTS.ETCD_ENDPOINTS.value]);
  t.deepEqual(loadConfig({ IP: '10.0.0.1', ETCD_AUTHORITY: 'e:1' }, { cwd: tmp }).datastore.etcd?.endpoints, [`${DEFAULTS.ETCD_SCHEME.value}://e:1`]);
  t.is(loadConfig({ IP: '10.0.0.1', DATASTORE_TYPE: 'etcd', RR_REGISTER: 'true' }, { cwd: tmp }).datastore.register?.ttlSeconds, DEFAULTS.RR_REGISTER_TTL.value);
});

test('one ConfigError lists the bad variables of every area', (t) => {
  const err = t.throws(() =>
    loadConfig({ IP: 'x', DATASTORE_TYPE: 'file', LOG_LEVEL: 'loud', LOG_FORMAT: 'xml', MAX_PREFIXES: '-1', GRACEFUL_RESTART_TIME: '0', NAMESPACE: 'A' }),
  );
  t.deepEqual(
    err?.message.split('; ').map((p) => p.split(':')[0]),
    ['IP', 'NAMESPACE', 'LOG_LEVEL', 'LOG_FORMAT', 'MAX_PREFIXES', 'GRACEFUL_RESTART_TIME'],
  );
});
