// Where the Kubernetes API is and how to authenticate: a kubeconfig file (KUBECONFIG) or, when none is given,
// the in-cluster service account. Produces one KubeConnection; errors name the file, the field and the fix.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseYamlSubset, type YamlValue } from './yaml-subset.js';

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
}

export class KubeConfigError extends Error {
  override name = 'KubeConfigError';
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * `kubeconfigPath` set (KUBECONFIG): that file's current context. Unset: the in-cluster service account
 * (`KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT`, token and ca.crt under `serviceAccountDir`).
 * KUBECONFIG may hold several paths separated by ':' as kubectl allows; the first one that exists is used.
 */
export function loadKubeConnection(
  kubeconfigPath: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  serviceAccountDir: string = SERVICE_ACCOUNT_DIR,
): KubeConnection {
  if (kubeconfigPath !== undefined && kubeconfigPath.trim() !== '') {
    const paths = kubeconfigPath.split(':').filter((p) => p !== '');
    const errors: string[] = [];
    for (const p of paths) {
      let text: string;
      try {
        text = readFileSync(p, 'utf8');
      } catch (err) {
        errors.push(`${p}: ${(err as Error).message}`);
        continue;
      }
      return parseKubeconfig(text, p);
    }
    throw new KubeConfigError(`KUBECONFIG: cannot read ${errors.join('; ')}`);
  }
  return inClusterConnection(env, serviceAccountDir);
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

/** Parses kubeconfig text (YAML subset or JSON). `path` resolves relative file references and names errors. */
export function parseKubeconfig(text: string, path: string): KubeConnection {
  let doc: YamlValue;
  try {
    doc = parseYamlSubset(text);
  } catch (err) {
    throw new KubeConfigError(`${path}: ${(err as Error).message}`);
  }
  const where = (field: string): string => `${path}: ${field}`;
  const root = asObject(doc, where('top level'));
  const baseDir = dirname(resolve(path));
  const file = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));

  const contextName = optString(root['current-context'], where('current-context'));
  if (contextName === undefined || contextName === '') {
    throw new KubeConfigError(where('current-context is not set (run `kubectl config use-context NAME`)'));
  }
  const context = findNamed(root, 'contexts', 'context', contextName, path);
  const clusterName = optString(context.cluster, where(`context ${contextName}: cluster`));
  if (clusterName === undefined) throw new KubeConfigError(where(`context ${contextName} names no cluster`));
  const userName = optString(context.user, where(`context ${contextName}: user`));
  const cluster = findNamed(root, 'clusters', 'cluster', clusterName, path);
  const user = userName === undefined || userName === '' ? {} : findNamed(root, 'users', 'user', userName, path);

  const server = optString(cluster.server, where(`cluster ${clusterName}: server`));
  if (server === undefined || server === '') throw new KubeConfigError(where(`cluster ${clusterName} has no server`));
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeConfigError(where(`cluster ${clusterName}: server ${JSON.stringify(server)} is not a URL`));
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new KubeConfigError(where(`cluster ${clusterName}: server must be http:// or https://`));
  }

  const conn: KubeConnection = {
    server: server.replace(/\/+$/, ''),
    insecureSkipTlsVerify: optBool(cluster['insecure-skip-tls-verify'], where(`cluster ${clusterName}: insecure-skip-tls-verify`)) ?? false,
    description: `kubeconfig ${path} (context ${contextName})`,
  };
  conn.ca = dataOrFile(cluster, 'certificate-authority', file, where(`cluster ${clusterName}`));
  if (conn.insecureSkipTlsVerify && url.protocol === 'https:') {
    // Honoured (kubectl honours it too), but anyone on the path can then impersonate the API server and feed
    // us peers, or read the bearer token: say so once, at start.
    conn.tlsWarning = `kubeconfig ${path}: cluster ${clusterName} sets insecure-skip-tls-verify: the API server's certificate is not checked, so anyone on the path to ${conn.server} can impersonate it and read our credentials`;
  }
  const sni = optString(cluster['tls-server-name'], where(`cluster ${clusterName}: tls-server-name`));
  if (sni !== undefined && sni !== '') conn.tlsServerName = sni;
  const ns = optString(context.namespace, where(`context ${contextName}: namespace`));
  if (ns !== undefined && ns !== '') conn.namespace = ns;

  const u = where(`user ${userName ?? ''}`);
  if (url.protocol === 'http:') {
    // As kubectl and libcalico-go (client-go's clientcmd) do: user credentials only ever travel over TLS.
    if (Object.values(user).some((v) => v !== null)) {
      conn.warning = `${u}: credentials are not sent to the plain-http server ${conn.server} (as kubectl does); use https`;
    }
    return conn;
  }
  for (const unsupported of ['exec', 'auth-provider', 'username', 'password', 'as', 'as-groups']) {
    if (user[unsupported] !== undefined && user[unsupported] !== null) {
      throw new KubeConfigError(
        `${u}: "${unsupported}" is not supported; use a bearer token (token, tokenFile) or a client certificate`,
      );
    }
  }
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
  return conn;
}

function findNamed(
  root: { [key: string]: YamlValue },
  listName: string,
  field: string,
  name: string,
  path: string,
): { [key: string]: YamlValue } {
  const list = root[listName];
  if (list === undefined || list === null) throw new KubeConfigError(`${path}: no ${listName} (looking for ${JSON.stringify(name)})`);
  if (!Array.isArray(list)) throw new KubeConfigError(`${path}: ${listName} must be a list`);
  for (const entry of list) {
    const e = asObject(entry, `${path}: ${listName} entry`);
    if (e.name === name) {
      const inner = e[field];
      if (inner === undefined || inner === null) return {};
      return asObject(inner, `${path}: ${listName} ${name}: ${field}`);
    }
  }
  throw new KubeConfigError(`${path}: ${field} ${JSON.stringify(name)} not found in ${listName}`);
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
