// kubeconfig loading: YAML (block scalars, anchors), token / client-certificate / CA variants (inline data and
// files), exec credential plugins, KUBECONFIG lists merged as kubectl merges them (real kubectl as the oracle),
// the in-cluster service account, and clear errors for what we do not support.
import test from 'ava';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { KubeConfigError, loadKubeConnection, mergeKubeconfigs, parseKubeconfig } from '../../src/datastore/kubernetes/kubeconfig.js';
import { ExecCredentialError, ExecCredentialSource } from '../../src/datastore/kubernetes/exec-credential.js';
import { spawnChild } from '../helpers/child.js';
import { kubeconfigYaml, tmpDir } from './helpers.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIC\n-----END PRIVATE KEY-----\n';

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
    [withUser('    exec:\n      command: aws'), /exec.apiVersion null is not supported/],
    [withUser('    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: aws'), /v1alpha1" is not supported/],
    [withUser('    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: x\n      interactiveMode: Always'), /needs a terminal/],
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


test('kubeconfig: real YAML: block scalars, anchors and aliases, flow style, comments', (t) => {
  const text = [
    'apiVersion: v1',
    'clusters:',
    '- name: c',
    '  cluster: &cl',
    '    server: https://127.80.0.9:6443',
    '    certificate-authority-data: >-',
    ...Buffer.from(PEM).toString('base64').match(/.{1,20}/g)!.map((l) => `      ${l}`),
    '- name: c-copy',
    '  cluster: *cl',
    'users:',
    '- name: u',
    '  user:',
    '    token: |-',
    '      tok.en',
    'contexts: [{name: x, context: {cluster: c-copy, user: u, namespace: "ns"}}]  # flow',
    'current-context: x',
  ].join('\n');
  const conn = parseKubeconfig(text, '/tmp/kc');
  t.is(conn.server, 'https://127.80.0.9:6443');
  t.is(conn.ca?.toString(), PEM);
  t.is(conn.token, 'tok.en');
  t.is(conn.namespace, 'ns');
  const err = t.throws(() => parseKubeconfig('a: 1\na: 2\n', '/tmp/kc'), { instanceOf: KubeConfigError });
  t.regex(err!.message, /^\/tmp\/kc: not YAML: .*[Uu]nique|^\/tmp\/kc: not YAML: .*duplicate/i);
  const bomb = `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n`;
  t.throws(() => parseKubeconfig(bomb, '/tmp/kc'), { instanceOf: KubeConfigError }, 'alias expansion is bounded');
});

/** Runs real kubectl with exactly KUBECONFIG (and PATH) set; its merged view is the oracle. Waits for 'close', not
 * 'exit': the exit can come before the last of its stdout is read. */
async function kubectlView(kubeconfig: string): Promise<Record<string, unknown>> {
  const child = spawnChild('/opt/kubernetes-client/usr/bin/kubectl', ['config', 'view', '--merge', '--raw', '-o', 'json'], {
    env: { KUBECONFIG: kubeconfig, HOME: tmpDir('kchome-') },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`kubectl: ${err}`);
  return JSON.parse(out) as Record<string, unknown>;
}

function asKubectlSees(m: ReturnType<typeof mergeKubeconfigs>): Record<string, unknown> {
  const list = (map: Map<string, { value: unknown }>, field: string): unknown[] =>
    [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, e]) => ({ name, [field]: e.value }));
  return { clusters: list(m.clusters, 'cluster'), users: list(m.users, 'user'), contexts: list(m.contexts, 'context'), 'current-context': m.currentContext ?? '' };
}
const kubectlPart = (v: Record<string, unknown>): Record<string, unknown> => ({
  clusters: v.clusters ?? [], users: v.users ?? [], contexts: v.contexts ?? [], 'current-context': v['current-context'] ?? '',
});

test('KUBECONFIG list: merged as kubectl config view --merge merges it (first name wins whole, first current-context)', async (t) => {
  const dir = tmpDir('kcm-');
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'b'));
  writeFileSync(join(dir, 'b', 'ca.crt'), PEM);
  const a = join(dir, 'a', 'config');
  const b = join(dir, 'b', 'config');
  writeFileSync(a, 'apiVersion: v1\nkind: Config\nusers:\n- name: u1\n  user: {token: a-token}\ncontexts:\n- name: ctx1\n  context: {cluster: c2, user: u1}\n');
  writeFileSync(b, [
    'apiVersion: v1', 'kind: Config', 'current-context: ctx1',
    'clusters:', '- name: c2', '  cluster: {server: "https://127.80.0.2:6443", certificate-authority: ca.crt}',
    'users:', '- name: u1', '  user: {token: b-token, client-certificate: crt}',
    'contexts:', '- name: ctx1', '  context: {cluster: c9, user: u9, namespace: ns-b}', '',
  ].join('\n'));
  const list = `${join(dir, 'missing')}:${a}:${b}`;
  const files = [a, b].map((path) => ({ path, text: readFileSync(path, 'utf8') }));
  t.deepEqual(asKubectlSees(mergeKubeconfigs(files)), kubectlPart(await kubectlView(list)));
  const conn = loadKubeConnection(list, {});
  t.is(conn.server, 'https://127.80.0.2:6443');
  t.is(conn.token, 'a-token', "a's whole user u1, not b's (whose client-certificate would not exist)");
  t.is(conn.ca?.toString(), PEM, "relative paths resolve against the folder of the file that defined the cluster");
  t.is(conn.namespace, undefined, "a's context ctx1 has no namespace");
});

test('property: random KUBECONFIG lists merge as kubectl merges them', async (t) => {
  // Quoted in the files: kubectl reads YAML 1.1, where a bare y is true.
  const name = fc.constantFrom('x', 'y', 'z');
  const file = fc.record({
    cc: fc.option(fc.constantFrom('x', 'y', ''), { nil: undefined }),
    clusters: fc.uniqueArray(fc.tuple(name, fc.nat(9)), { selector: (e) => e[0], maxLength: 3 }),
    users: fc.uniqueArray(fc.tuple(name, fc.nat(9)), { selector: (e) => e[0], maxLength: 3 }),
    contexts: fc.uniqueArray(fc.tuple(name, name, name), { selector: (e) => e[0], maxLength: 3 }),
  });
  const samples = fc.sample(fc.array(file, { minLength: 1, maxLength: 3 }), { numRuns: 12, seed: 17 });
  for (const sample of samples) {
    const dir = tmpDir('kcp-');
    const files = sample.map((f, i) => {
      const lines = ['apiVersion: v1', 'kind: Config'];
      if (f.cc !== undefined) lines.push(`current-context: "${f.cc}"`);
      if (f.clusters.length > 0) lines.push('clusters:', ...f.clusters.map(([n, v]) => `- {name: "${n}", cluster: {server: "https://127.80.${i}.${v}:6443"}}`));
      if (f.users.length > 0) lines.push('users:', ...f.users.map(([n, v]) => `- {name: "${n}", user: {token: "t${i}${v}"}}`));
      if (f.contexts.length > 0) lines.push('contexts:', ...f.contexts.map(([n, c, u]) => `- {name: "${n}", context: {cluster: "${c}", user: "${u}"}}`));
      const path = join(dir, `k${i}`);
      const text = `${lines.join('\n')}\n`;
      writeFileSync(path, text);
      return { path, text };
    });
    const ours = asKubectlSees(mergeKubeconfigs(files));
    t.deepEqual(ours, kubectlPart(await kubectlView(files.map((f) => f.path).join(':'))), files.map((f) => f.text).join('---\n'));
  }
});

/** A small exec plugin: prints an ExecCredential from its args and env, counting its runs in a file. */
function plugin(dir: string): string {
  const path = join(dir, 'plugin.sh');
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      'echo run >> "$COUNT_FILE"',
      'case "$KUBERNETES_EXEC_INFO" in *\'"interactive":false\'*) ;; *) echo "no exec info" >&2; exit 3;; esac',
      'if [ "$MODE" = cert ]; then',
      '  printf \'{"apiVersion":"%s","kind":"ExecCredential","status":{"clientCertificateData":"%s","clientKeyData":"%s"}}\' "$1" "$CERT" "$KEY"',
      'elif [ "$MODE" = fail ]; then echo "token expired, run login" >&2; exit 1',
      'else',
      '  printf \'{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s-%s","expirationTimestamp":"%s"}}\' "$1" "$TOKEN" "$(wc -l < "$COUNT_FILE" | tr -d " ")" "$2"',
      'fi',
    ].join('\n'),
  );
  chmodSync(path, 0o755);
  return path;
}

const execKubeconfig = (apiVersion: string, command: string, args: string[], env: Record<string, string>): string =>
  [
    'apiVersion: v1',
    'clusters: [{name: c, cluster: {server: "https://127.80.0.9:6443"}}]',
    'contexts: [{name: x, context: {cluster: c, user: u}}]',
    'current-context: x',
    'users:',
    '- name: u',
    '  user:',
    '    exec:',
    `      apiVersion: ${apiVersion}`,
    `      command: ${command}`,
    `      args: ${JSON.stringify(args)}`,
    `      env: ${JSON.stringify(Object.entries(env).map(([name, value]) => ({ name, value })))}`,
    '      interactiveMode: Never',
    '      provideClusterInfo: false',
  ].join('\n');

test('exec plugin (v1 and v1beta1): token from the plugin, kept until expirationTimestamp, then run again', async (t) => {
  for (const apiVersion of ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1']) {
    const dir = tmpDir('exec-');
    plugin(dir);
    const countFile = join(dir, 'count');
    const text = execKubeconfig(apiVersion, './plugin.sh', [apiVersion, '2030-01-01T00:00:10Z'], { TOKEN: 'tk', COUNT_FILE: countFile });
    const conn = parseKubeconfig(text, join(dir, 'config'), { PATH: '/usr/bin:/bin' });
    const exec = conn.exec!;
    t.is(exec.config.command, join(dir, 'plugin.sh'), 'relative command resolved against the kubeconfig folder');
    // Drive the clock: before the expiry the credential is reused; after it the plugin runs again.
    let now = Date.parse('2030-01-01T00:00:00Z');
    const source = new ExecCredentialSource(exec.config, () => now, { PATH: '/usr/bin:/bin' });
    const [c1, c2] = await Promise.all([source.current(), source.current()]);
    t.is(c1.token, 'tk-1');
    t.is(c2.token, 'tk-1', 'one run for concurrent callers');
    t.is((await source.current()).token, 'tk-1');
    t.is(c1.expiresAtMs, Date.parse('2030-01-01T00:00:10Z'));
    now += 11_000;
    t.is((await source.current()).token, 'tk-2');
    source.invalidate();
    t.is((await source.current()).token, 'tk-3', 'after a 401 the plugin runs again');
    t.is(readFileSync(countFile, 'utf8').trim().split('\n').length, 3);
  }
});

test('exec plugin: client certificate data, failures with the plugin\'s stderr, wrong apiVersion', async (t) => {
  const dir = tmpDir('exec-');
  const cmd = plugin(dir);
  const env = { PATH: '/usr/bin:/bin' };
  const v1 = 'client.authentication.k8s.io/v1';
  const base = { command: cmd, env: [{ name: 'COUNT_FILE', value: join(dir, 'n') }], where: 'kc: user u', args: [v1] };
  const cert = await new ExecCredentialSource({ ...base, apiVersion: v1, args: [v1], env: [...base.env, { name: 'MODE', value: 'cert' }, { name: 'CERT', value: PEM.replace(/\n/g, '\\n') }, { name: 'KEY', value: KEY.replace(/\n/g, '\\n') }] }, Date.now, env).current();
  t.is(cert.cert?.toString(), PEM);
  t.is(cert.key?.toString(), KEY);
  t.is(cert.token, undefined);
  const fail = new ExecCredentialSource({ ...base, apiVersion: v1, args: [v1], env: [...base.env, { name: 'MODE', value: 'fail' }] }, Date.now, env);
  const e1 = await t.throwsAsync(fail.current(), { instanceOf: ExecCredentialError });
  t.regex(e1!.message, /^kc: user u: exec plugin .*plugin\.sh failed: .*: token expired, run login$/);
  const wrong = new ExecCredentialSource({ ...base, apiVersion: 'client.authentication.k8s.io/v1beta1', args: [v1] }, Date.now, env);
  const e2 = await t.throwsAsync(wrong.current(), { instanceOf: ExecCredentialError });
  t.regex(e2!.message, /printed apiVersion "client.authentication.k8s.io\/v1"; the kubeconfig asks for client.authentication.k8s.io\/v1beta1/);
  const missing = new ExecCredentialSource({ ...base, apiVersion: v1, command: 'no-such-plugin-xyz', installHint: 'install it with apt' }, Date.now, env);
  const e3 = await t.throwsAsync(missing.current(), { instanceOf: ExecCredentialError });
  t.regex(e3!.message, /no-such-plugin-xyz failed: .*ENOENT.*\(install it with apt\)/);
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
