// kubeconfig loading: the YAML subset, token / client-certificate / CA variants (inline data and files),
// the in-cluster service account, and clear errors for what we do not support.
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseYamlSubset, YamlSubsetError, type YamlValue } from '../../src/datastore/kubernetes/yaml-subset.js';
import { KubeConfigError, loadKubeConnection, parseKubeconfig } from '../../src/datastore/kubernetes/kubeconfig.js';
import { kubeconfigYaml, tmpDir } from './helpers.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIC\n-----END PRIVATE KEY-----\n';

test('YAML subset: kubectl layout, sequences at the key indentation, quotes, comments, empty flow', (t) => {
  const doc = parseYamlSubset(
    [
      '# written by kubectl',
      '---',
      'apiVersion: v1',
      'clusters:',
      '- cluster:',
      '    server: "https://10.0.0.1:6443"   # comment after a quoted value',
      "    tls-server-name: 'api.example'",
      '    insecure-skip-tls-verify: true',
      '  name: c1',
      'preferences: {}',
      'list: []',
      'users:',
      '  - name: "u#1"',
      '    user:',
      "      token: 'it''s: a token'",
      '  - name: u2',
      '    user: null',
      'extensions:',
      '- plain value with spaces',
      '- "esc\\u00e9\\n"',
    ].join('\n'),
  );
  t.deepEqual(doc, {
    apiVersion: 'v1',
    clusters: [{ cluster: { server: 'https://10.0.0.1:6443', 'tls-server-name': 'api.example', 'insecure-skip-tls-verify': true }, name: 'c1' }],
    preferences: {},
    list: [],
    users: [{ name: 'u#1', user: { token: "it's: a token" } }, { name: 'u2', user: null }],
    extensions: ['plain value with spaces', 'esc\u00e9\n'],
  });
});

test('YAML subset: one-line flow collections (as hand-written kubeconfigs and RBAC files use)', (t) => {
  t.deepEqual(
    parseYamlSubset('args: ["eks", get-token, \'--x\']\nenv: {A: "1", B: [x, {c: http://h:1/p}], D: null}\nlist:\n- [a, b]\n- {k: v}\n'),
    { args: ['eks', 'get-token', '--x'], env: { A: '1', B: ['x', { c: 'http://h:1/p' }], D: null }, list: [['a', 'b'], { k: 'v' }] },
  );
});

test('YAML subset: JSON documents are accepted as they are', (t) => {
  t.deepEqual(parseYamlSubset(' {"a": [1, true, null, {"b": "c"}]}'), { a: ['1', true, null, { b: 'c' }] });
});

test('YAML subset: unsupported or malformed input is an error with a line number', (t) => {
  const cases: Array<[string, RegExp]> = [
    ['a: 1\n\tb: 2', /line 2: tab in indentation/],
    ['a: &x 1', /line 1: anchors, aliases and tags/],
    ['a: |\n  text', /line 1: block scalars/],
    ['a: {b: 1', /flow collection: expected , or \}/],
    ['a: [1, 2] x', /flow collection: text after the collection/],
    ['a: {b: 1, b: 2}', /duplicate key "b"/],
    ['a: 1\na: 2', /line 2: duplicate key "a"/],
    ['a:\n  b: 1\n c: 2', /line 3: unexpected indentation/],
    ['a: "open', /unterminated quoted scalar/],
    ['a: 1\n---\nb: 2', /more than one YAML document/],
    ['just text\nmore: 1', /line 1: expected "key: value"/],
  ];
  for (const [src, re] of cases) {
    const err = t.throws(() => parseYamlSubset(src), { instanceOf: YamlSubsetError }, src);
    t.regex(err!.message, re, src);
  }
});

test('kubeconfig: bearer token and CA file relative to the kubeconfig folder', (t) => {
  const dir = tmpDir('kc-');
  mkdirSync(join(dir, 'pki'));
  writeFileSync(join(dir, 'pki', 'ca.crt'), PEM);
  const conn = parseKubeconfig(
    kubeconfigYaml({ server: 'https://127.80.0.9:6443/', token: 'abc.def', caPath: 'pki/ca.crt', namespace: 'rr' }),
    join(dir, 'config'),
  );
  t.is(conn.server, 'https://127.80.0.9:6443');
  t.is(conn.token, 'abc.def');
  t.is(conn.ca?.toString(), PEM);
  t.is(conn.namespace, 'rr');
  t.is(conn.cert, undefined);
  t.false(conn.insecureSkipTlsVerify);
});

test('kubeconfig: inline CA and client certificate data win over nothing, files work too', (t) => {
  const dir = tmpDir('kc-');
  writeFileSync(join(dir, 'c.crt'), PEM);
  writeFileSync(join(dir, 'c.key'), KEY);
  const inline = parseKubeconfig(
    kubeconfigYaml({ server: 'https://127.80.0.9', caData: PEM, certData: PEM, keyData: KEY }),
    join(dir, 'config'),
  );
  t.is(inline.ca?.toString(), PEM);
  t.is(inline.cert?.toString(), PEM);
  t.is(inline.key?.toString(), KEY);
  t.is(inline.token, undefined);
  const files = parseKubeconfig(kubeconfigYaml({ server: 'https://127.80.0.9', certPath: join(dir, 'c.crt'), keyPath: 'c.key' }), join(dir, 'config'));
  t.is(files.cert?.toString(), PEM);
  t.is(files.key?.toString(), KEY);
  t.is(files.ca, undefined);
});

test('kubeconfig: JSON form, KUBECONFIG path list, missing files', (t) => {
  const dir = tmpDir('kc-');
  const json = {
    'current-context': 'x',
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    clusters: [{ name: 'c', cluster: { server: 'http://127.80.0.9:8080', 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'u', user: { token: 't' } }],
  };
  writeFileSync(join(dir, 'k.json'), JSON.stringify(json));
  const conn = loadKubeConnection(`${join(dir, 'missing')}:${join(dir, 'k.json')}`, {});
  t.is(conn.server, 'http://127.80.0.9:8080');
  t.true(conn.insecureSkipTlsVerify);
  t.is(conn.token, undefined, 'no credentials for a plain-http server');
  t.regex(conn.warning ?? '', /credentials are not sent to the plain-http server/);
  const err = t.throws(() => loadKubeConnection(join(dir, 'nope'), {}), { instanceOf: KubeConfigError });
  t.regex(err!.message, /KUBECONFIG: cannot read .*nope/);
});

test('kubeconfig: clear errors for unsupported auth, missing context, half a key pair, bad base64', (t) => {
  const base = kubeconfigYaml({ server: 'https://127.80.0.9', token: 't' });
  const withUser = (u: string): string => base.replace('    token: "t"', u);
  const cases: Array<[string, RegExp]> = [
    [withUser('    exec:\n      command: aws'), /"exec" is not supported; use a bearer token/],
    [withUser('    username: admin'), /"username" is not supported/],
    [withUser(`    client-certificate-data: ${Buffer.from(PEM).toString('base64')}`), /client-certificate and client-key must be given together/],
    [withUser('    client-certificate-data: "%%%"\n    client-key-data: "%%%"'), /client-certificate-data is not base64/],
    [base.replace('current-context: fake-ctx', 'current-context: ""'), /current-context is not set/],
    [base.replace('current-context: fake-ctx', 'current-context: other'), /context "other" not found in contexts/],
    [base.replace('    server: https://127.80.0.9', '    server: ftp://x'), /server must be http:\/\/ or https:\/\//],
    [base.replace('    server: https://127.80.0.9', '    certificate-authority: /nonexistent/ca.crt'), /has no server/],
  ];
  for (const [text, re] of cases) {
    const err = t.throws(() => parseKubeconfig(text, '/tmp/kc'), { instanceOf: KubeConfigError }, text);
    t.regex(err!.message, re);
    t.true(err!.message.startsWith('/tmp/kc'), 'names the file');
  }
});

test('in-cluster service account when KUBECONFIG is unset', (t) => {
  const sa = tmpDir('sa-');
  writeFileSync(join(sa, 'token'), 'sa-token\n');
  writeFileSync(join(sa, 'ca.crt'), PEM);
  writeFileSync(join(sa, 'namespace'), 'calico-rr\n');
  const conn = loadKubeConnection(undefined, { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, sa);
  t.is(conn.server, 'https://[fd00::1]:443');
  t.is(conn.tokenFile, join(sa, 'token'));
  t.is(conn.ca?.toString(), PEM);
  t.is(conn.namespace, 'calico-rr');
  const err = t.throws(() => loadKubeConnection('', {}, sa), { instanceOf: KubeConfigError });
  t.regex(err!.message, /KUBECONFIG is unset and this is not a pod/);
  const noToken = tmpDir('sa-');
  const e2 = t.throws(() => loadKubeConnection(undefined, { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, noToken));
  t.regex(e2!.message, /cannot read .*token/);
});

/** Block-style YAML with every scalar double-quoted (JSON string syntax is valid YAML double-quoted syntax). */
function toBlockYaml(v: YamlValue, indent: number): string[] {
  const pad = ' '.repeat(indent);
  const inline = (x: YamlValue): string | undefined => {
    if (typeof x === 'string') return JSON.stringify(x);
    if (x === null) return 'null';
    if (typeof x === 'boolean') return String(x);
    if (Array.isArray(x) && x.length === 0) return '[]';
    if (!Array.isArray(x) && Object.keys(x).length === 0) return '{}';
    return undefined;
  };
  if (Array.isArray(v)) {
    return v.flatMap((item) => {
      const s = inline(item);
      return s !== undefined ? [`${pad}- ${s}`] : [`${pad}-`, ...toBlockYaml(item, indent + 2)];
    });
  }
  if (typeof v === 'object' && v !== null) {
    return Object.entries(v).flatMap(([k, item]) => {
      const s = inline(item);
      return s !== undefined ? [`${pad}${JSON.stringify(k)}: ${s}`] : [`${pad}${JSON.stringify(k)}:`, ...toBlockYaml(item, indent + 2)];
    });
  }
  return [`${pad}${inline(v)!}`];
}

test('YAML subset: block documents of nested mappings, sequences and arbitrary strings read back unchanged', (t) => {
  // Characters that mean something in YAML or need escapes, mixed with any code point.
  const unit = fc.oneof(
    fc.constantFrom('\t', '\n', '\r', '"', "'", '#', ':', ' ', '\\', '-', '[', ']', '{', '}', ',', '&', '*', '!', '|', '>', '%', '@', '\u0000', '\b', 'é', '\u2028'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  );
  const text = (minLength: number, maxLength: number): fc.Arbitrary<string> => fc.string({ unit, minLength, maxLength });
  const { tree } = fc.letrec<{ tree: YamlValue; node: YamlValue }>((tie) => ({
    tree: fc.dictionary(text(1, 8), tie('node'), { maxKeys: 4 }) as fc.Arbitrary<YamlValue>,
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      text(0, 12),
      fc.constantFrom<YamlValue>(null, true, false),
      fc.array(tie('node'), { maxLength: 3 }),
      tie('tree'),
    ) as fc.Arbitrary<YamlValue>,
  }));
  fc.assert(
    fc.property(tree, (doc) => {
      const text = toBlockYaml(doc, 0).join('\n');
      t.deepEqual(parseYamlSubset(text.trim() === '' ? '' : text), Object.keys(doc as object).length === 0 ? null : doc, text);
    }),
    { numRuns: 300 },
  );
});

test('kubeconfig: insecure-skip-tls-verify on an https server is honoured and warned about, naming the file and the cluster', (t) => {
  const dir = tmpDir('kc-');
  const kc = {
    'current-context': 'x',
    contexts: [{ name: 'x', context: { cluster: 'prod-cluster', user: 'u' } }],
    clusters: [{ name: 'prod-cluster', cluster: { server: 'https://127.80.0.9:6443', 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'u', user: { token: 'tok-must-not-appear' } }],
  };
  const path = join(dir, 'k.json');
  writeFileSync(path, JSON.stringify(kc));
  const conn = loadKubeConnection(path, {});
  t.true(conn.insecureSkipTlsVerify);
  t.regex(conn.tlsWarning ?? '', new RegExp(`kubeconfig ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: cluster prod-cluster sets insecure-skip-tls-verify`));
  t.false((conn.tlsWarning ?? '').includes('tok-must-not-appear'));
  writeFileSync(path, JSON.stringify({ ...kc, clusters: [{ name: 'prod-cluster', cluster: { server: 'https://127.80.0.9:6443' } }] }));
  t.is(loadKubeConnection(path, {}).tlsWarning, undefined, 'no warning when the certificate is checked');
});
