// Where the Kubernetes API is and how to authenticate: kubeconfig files (KUBECONFIG, several merged as kubectl
// merges them) or, when none is given, the in-cluster service account. Produces one KubeConnection; errors name
// the file, the field and the fix.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { EXEC_API_VERSIONS, ExecCredentialSource, type ExecConfig } from './exec-credential.js';

type YamlValue = null | boolean | number | string | YamlValue[] | { [key: string]: YamlValue };

export interface KubeConnection {
  /** API server base URL, e.g. https://10.96.0.1:443 (no trailing slash). */
  server: string;
  /** PEM bytes of the CA that signs the API server's certificate; undefined = the system CAs. */
  ca?: Buffer;
  /** PEM client certificate and key (both or neither). */
  cert?: Buffer;
  key?: Buffer;
  /** Static bearer token. */
  token?: string;
  /** Bearer token read from this file on use (service-account tokens are rotated by the kubelet). */
  tokenFile?: string;
  insecureSkipTlsVerify: boolean;
  /** SNI / certificate name to check instead of the server URL's host (kubeconfig tls-server-name). */
  tlsServerName?: string;
  /** Namespace of the context or of the service account; used as the default namespace for Leases. */
  namespace?: string;
  /** For log lines: where this came from. */
  description: string;
  /** Something the operator should know (e.g. credentials ignored over plain http); the source reports it. */
  warning?: string;
  /** Set when the kubeconfig turns off the server certificate check (insecure-skip-tls-verify): warned at start. */
  tlsWarning?: string;
  /** kubeconfig `exec` plugin: token and/or client certificate come from it, re-run when they expire. */
  exec?: ExecCredentialSource;
}

export class KubeConfigError extends Error {
  override name = 'KubeConfigError';
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * `kubeconfigPath` set (KUBECONFIG): its files merged as kubectl merges them (see mergeKubeconfigs), then the
 * current context. Unset: the in-cluster service account (`KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT`,
 * token and ca.crt under `serviceAccountDir`). Missing files in the list are skipped, as kubectl skips them.
 */
export function loadKubeConnection(
  kubeconfigPath: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  serviceAccountDir: string = SERVICE_ACCOUNT_DIR,
): KubeConnection {
  if (kubeconfigPath !== undefined && kubeconfigPath.trim() !== '') {
    const paths = kubeconfigPath.split(':').filter((p) => p !== '');
    const errors: string[] = [];
    const files: Array<{ text: string; path: string }> = [];
    for (const p of paths) {
      try {
        files.push({ text: readFileSync(p, 'utf8'), path: p });
      } catch (err) {
        errors.push(`${p}: ${(err as Error).message}`);
      }
    }
    if (files.length === 0) throw new KubeConfigError(`KUBECONFIG: cannot read ${errors.join('; ')}`);
    return connectionFrom(mergeKubeconfigs(files), env);
  }
  return inClusterConnection(env, serviceAccountDir);
}

/** A named entry of a kubeconfig list, with the file it came from (relative paths resolve against its folder). */
interface Named {
  value: { [key: string]: YamlValue };
  path: string;
}

/** Several kubeconfig files merged: what kubectl config view --merge shows. */
export interface MergedKubeconfig {
  currentContext?: string;
  /** Which file set current-context (for messages). */
  currentContextFrom?: string;
  contexts: Map<string, Named>;
  clusters: Map<string, Named>;
  users: Map<string, Named>;
  /** All file paths, for messages. */
  paths: string[];
}

/**
 * The YAML parser, loaded on the first kubeconfig file read (synchronously: loadKubeConnection is synchronous)
 * rather than at start: a reflector on the file or etcd datastore without KUBECONFIG never parses one, and the
 * package costs several MiB of RSS (issue 18).
 */
let yamlParse: typeof import('yaml').parse | undefined;
function parseYaml(text: string): unknown {
  yamlParse ??= (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse;
  return yamlParse(text, { prettyErrors: false });
}

function parseDoc(text: string, path: string): { [key: string]: YamlValue } {
  let doc: unknown;
  try {
    // yaml's defaults: YAML 1.2 core schema, unique keys, at most 100 alias expansions (no "billion laughs").
    doc = parseYaml(text);
  } catch (err) {
    throw new KubeConfigError(`${path}: not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  return asObject(doc as YamlValue, `${path}: top level`);
}

/**
 * kubectl's merge (client-go clientcmd ClientConfigLoadingRules.Load): files in order; for clusters, users and
 * contexts the first file that defines a name wins with its whole entry (a later file's entry of that name is
 * dropped, even its fields the first lacks); current-context comes from the first file that sets it.
 */
export function mergeKubeconfigs(files: ReadonlyArray<{ text: string; path: string }>): MergedKubeconfig {
  const merged: MergedKubeconfig = { contexts: new Map(), clusters: new Map(), users: new Map(), paths: files.map((f) => f.path) };
  for (const { text, path } of files) {
    const root = parseDoc(text, path);
    const cc = optString(root['current-context'], `${path}: current-context`);
    if (merged.currentContext === undefined && cc !== undefined && cc !== '') {
      merged.currentContext = cc;
      merged.currentContextFrom = path;
    }
    for (const [listName, field, into] of [['contexts', 'context', merged.contexts], ['clusters', 'cluster', merged.clusters], ['users', 'user', merged.users]] as const) {
      const list = root[listName];
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list)) throw new KubeConfigError(`${path}: ${listName} must be a list`);
      for (const entry of list) {
        const e = asObject(entry, `${path}: ${listName} entry`);
        const name = optString(e.name, `${path}: ${listName} entry name`);
        if (name === undefined || name === '' || into.has(name)) continue;
        const inner = e[field];
        into.set(name, { value: inner === undefined || inner === null ? {} : asObject(inner, `${path}: ${listName} ${name}: ${field}`), path });
      }
    }
  }
  return merged;
}

export function inClusterConnection(env: NodeJS.ProcessEnv, dir: string = SERVICE_ACCOUNT_DIR): KubeConnection {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (host === undefined || host === '' || port === undefined || port === '') {
    throw new KubeConfigError(
      'KUBECONFIG is unset and this is not a pod (KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set): ' +
        'set KUBECONFIG to a kubeconfig file',
    );
  }
  const tokenFile = resolve(dir, 'token');
  try {
    readFileSync(tokenFile);
  } catch (err) {
    throw new KubeConfigError(`in-cluster service account: cannot read ${tokenFile}: ${(err as Error).message}`);
  }
  const ca = readRequired(resolve(dir, 'ca.crt'), 'in-cluster service account CA');
  let namespace: string | undefined;
  try {
    namespace = readFileSync(resolve(dir, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    namespace = undefined;
  }
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    ca,
    tokenFile,
    insecureSkipTlsVerify: false,
    namespace,
    description: `in-cluster service account (${dir})`,
  };
}

/** Parses one kubeconfig's text (YAML or JSON). `path` resolves relative file references and names errors. */
export function parseKubeconfig(text: string, path: string, env: NodeJS.ProcessEnv = process.env): KubeConnection {
  return connectionFrom(mergeKubeconfigs([{ text, path }]), env);
}

function connectionFrom(cfg: MergedKubeconfig, env: NodeJS.ProcessEnv): KubeConnection {
  const files = cfg.paths.join(':');
  const contextName = cfg.currentContext;
  if (contextName === undefined || contextName === '') {
    throw new KubeConfigError(`${files}: current-context is not set (run \`kubectl config use-context NAME\`)`);
  }
  const ctxEntry = cfg.contexts.get(contextName);
  if (ctxEntry === undefined) throw new KubeConfigError(`${cfg.currentContextFrom ?? files}: context ${JSON.stringify(contextName)} not found in contexts`);
  const context = ctxEntry.value;
  const cwhere = (field: string): string => `${ctxEntry.path}: ${field}`;
  const clusterName = optString(context.cluster, cwhere(`context ${contextName}: cluster`));
  if (clusterName === undefined || clusterName === '') throw new KubeConfigError(cwhere(`context ${contextName} names no cluster`));
  const userName = optString(context.user, cwhere(`context ${contextName}: user`));
  const clusterEntry = cfg.clusters.get(clusterName);
  if (clusterEntry === undefined) throw new KubeConfigError(`${ctxEntry.path}: cluster ${JSON.stringify(clusterName)} not found in clusters`);
  let userEntry: Named | undefined;
  if (userName !== undefined && userName !== '') {
    userEntry = cfg.users.get(userName);
    if (userEntry === undefined) throw new KubeConfigError(`${ctxEntry.path}: user ${JSON.stringify(userName)} not found in users`);
  }
  const cluster = clusterEntry.value;
  const user = userEntry?.value ?? {};
  const fileIn = (from: string) => (p: string): string => (isAbsolute(p) ? p : resolve(dirname(resolve(from)), p));
  const kwhere = (field: string): string => `${clusterEntry.path}: ${field}`;

  const server = optString(cluster.server, kwhere(`cluster ${clusterName}: server`));
  if (server === undefined || server === '') throw new KubeConfigError(kwhere(`cluster ${clusterName} has no server`));
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeConfigError(kwhere(`cluster ${clusterName}: server ${JSON.stringify(server)} is not a URL`));
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new KubeConfigError(kwhere(`cluster ${clusterName}: server must be http:// or https://`));
  }

  const conn: KubeConnection = {
    server: server.replace(/\/+$/, ''),
    insecureSkipTlsVerify: optBool(cluster['insecure-skip-tls-verify'], kwhere(`cluster ${clusterName}: insecure-skip-tls-verify`)) ?? false,
    description: `kubeconfig ${files} (context ${contextName})`,
  };
  conn.ca = dataOrFile(cluster, 'certificate-authority', fileIn(clusterEntry.path), kwhere(`cluster ${clusterName}`));
  if (conn.insecureSkipTlsVerify && url.protocol === 'https:') {
    // Honoured (kubectl honours it too), but anyone on the path can then impersonate the API server and feed
    // us peers, or read the bearer token: say so once, at start.
    conn.tlsWarning = `kubeconfig ${clusterEntry.path}: cluster ${clusterName} sets insecure-skip-tls-verify: the API server's certificate is not checked, so anyone on the path to ${conn.server} can impersonate it and read our credentials`;
  }
  const sni = optString(cluster['tls-server-name'], kwhere(`cluster ${clusterName}: tls-server-name`));
  if (sni !== undefined && sni !== '') conn.tlsServerName = sni;
  const ns = optString(context.namespace, cwhere(`context ${contextName}: namespace`));
  if (ns !== undefined && ns !== '') conn.namespace = ns;

  const upath = userEntry?.path ?? ctxEntry.path;
  const u = `${upath}: user ${userName ?? ''}`;
  if (url.protocol === 'http:') {
    // As kubectl and libcalico-go (client-go's clientcmd) do: user credentials only ever travel over TLS.
    if (Object.values(user).some((v) => v !== null)) {
      conn.warning = `${u}: credentials are not sent to the plain-http server ${conn.server} (as kubectl does); use https`;
    }
    return conn;
  }
  for (const unsupported of ['auth-provider', 'username', 'password', 'as', 'as-groups']) {
    if (user[unsupported] !== undefined && user[unsupported] !== null) {
      throw new KubeConfigError(
        `${u}: "${unsupported}" is not supported; use a bearer token (token, tokenFile), a client certificate or an exec plugin`,
      );
    }
  }
  const file = fileIn(upath);
  conn.cert = dataOrFile(user, 'client-certificate', file, u);
  conn.key = dataOrFile(user, 'client-key', file, u);
  if ((conn.cert === undefined) !== (conn.key === undefined)) {
    throw new KubeConfigError(`${u}: client-certificate and client-key must be given together`);
  }
  const token = optString(user.token, `${u}: token`);
  if (token !== undefined && token !== '') conn.token = token;
  const tokenFile = optString(user.tokenFile, `${u}: tokenFile`);
  if (tokenFile !== undefined && tokenFile !== '' && conn.token === undefined) {
    conn.tokenFile = file(tokenFile);
    readRequired(conn.tokenFile, `${u}: tokenFile`);
  }
  if (user.exec !== undefined && user.exec !== null) conn.exec = new ExecCredentialSource(execConfig(user.exec, u, file), Date.now, env);
  return conn;
}

/** users[].user.exec → the plugin to run; v1 and v1beta1 only, never interactive. */
function execConfig(v: YamlValue, u: string, file: (p: string) => string): ExecConfig {
  const e = asObject(v, `${u}: exec`);
  const apiVersion = optString(e.apiVersion, `${u}: exec.apiVersion`);
  if (!(EXEC_API_VERSIONS as readonly string[]).includes(apiVersion ?? '')) {
    throw new KubeConfigError(`${u}: exec.apiVersion ${JSON.stringify(apiVersion ?? null)} is not supported (use ${EXEC_API_VERSIONS.join(' or ')})`);
  }
  const command = optString(e.command, `${u}: exec.command`);
  if (command === undefined || command === '') throw new KubeConfigError(`${u}: exec.command is not set`);
  const args = e.args === undefined || e.args === null ? [] : e.args;
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new KubeConfigError(`${u}: exec.args must be a list of strings`);
  const envList = e.env === undefined || e.env === null ? [] : e.env;
  if (!Array.isArray(envList)) throw new KubeConfigError(`${u}: exec.env must be a list of {name, value}`);
  const env = envList.map((x) => {
    const o = asObject(x, `${u}: exec.env entry`);
    const name = optString(o.name, `${u}: exec.env name`);
    const value = optString(o.value, `${u}: exec.env value`) ?? '';
    if (name === undefined || name === '') throw new KubeConfigError(`${u}: exec.env entry without a name`);
    return { name, value };
  });
  const mode = optString(e.interactiveMode, `${u}: exec.interactiveMode`);
  if (mode === 'Always') throw new KubeConfigError(`${u}: exec.interactiveMode Always needs a terminal; the reflector runs the plugin without one`);
  // As client-go: a relative command with a path separator is relative to the kubeconfig's folder; a bare name uses PATH.
  const cfg: ExecConfig = { apiVersion: apiVersion as ExecConfig['apiVersion'], command: command.includes('/') ? file(command) : command, args: args as string[], env, where: u };
  const hint = optString(e.installHint, `${u}: exec.installHint`);
  if (hint !== undefined && hint !== '') cfg.installHint = hint;
  return cfg;
}

/** `<base>-data` (base64 PEM inline) wins over `<base>` (a file path), as in kubectl. */
function dataOrFile(
  obj: { [key: string]: YamlValue },
  base: string,
  file: (p: string) => string,
  where: string,
): Buffer | undefined {
  const data = optString(obj[`${base}-data`], `${where}: ${base}-data`);
  if (data !== undefined && data !== '') {
    const clean = data.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) throw new KubeConfigError(`${where}: ${base}-data is not base64`);
    const bytes = Buffer.from(clean, 'base64');
    if (!bytes.toString('latin1').includes('-----BEGIN')) {
      throw new KubeConfigError(`${where}: ${base}-data does not decode to PEM`);
    }
    return bytes;
  }
  const p = optString(obj[base], `${where}: ${base}`);
  if (p !== undefined && p !== '') return readRequired(file(p), `${where}: ${base}`);
  return undefined;
}

function readRequired(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new KubeConfigError(`${what}: cannot read ${path}: ${(err as Error).message}`);
  }
}

function asObject(v: YamlValue | undefined, where: string): { [key: string]: YamlValue } {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) {
    throw new KubeConfigError(`${where} must be a mapping`);
  }
  return v;
}

function optString(v: YamlValue | undefined, where: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new KubeConfigError(`${where} must be a string`);
  return v;
}

function optBool(v: YamlValue | undefined, where: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  throw new KubeConfigError(`${where} must be true or false`);
}
