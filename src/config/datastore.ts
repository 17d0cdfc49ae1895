// The datastore area: DATASTORE_TYPE, ETCD_* (and the legacy ETCD_AUTHORITY/ETCD_SCHEME), KUBECONFIG, NAMESPACE,
// DATASTORE_FILE, DATASTORE_FILE_MAX_BYTES, RR_REGISTER, RR_CLUSTER_ID, RR_REGISTER_TTL. The settings types are
// read by src/app/key-source.ts, which builds the KeySource (src/datastore knows nothing of the configuration).
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { dirname, basename, resolve } from 'node:path';
import { canonicalClusterId } from '../net/address.js';
import { DEFAULTS } from './defaults.js';
import { unreadableFile, type EnvReader } from './fields.js';

/** `etcd` = both keyspaces merged (v2 where the server offers it, and v3): the seed's ETCD_ENDPOINTS-only start. */
export type DatastoreType = 'etcd' | 'etcdv2' | 'etcdv3' | 'kubernetes' | 'file';

export const DATASTORE_TYPES: readonly DatastoreType[] = ['etcd', 'etcdv2', 'etcdv3', 'kubernetes', 'file'];

export interface EtcdConfig {
  /** Normalised URLs without trailing slash, e.g. "https://10.0.0.1:2379". At least one. */
  endpoints: string[];
  /** Which variable the endpoints came from (for log lines). */
  endpointsFrom: string;
  caCertFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
}

export interface RegistrationConfig {
  /** Cluster ID written into our own rr_v4/rr_v6 entry (dotted quad), or undefined for none (router ID used). */
  clusterId: string | undefined;
  /** etcd v3 lease TTL / etcd v2 key TTL in seconds. */
  ttlSeconds: number;
}

export interface DatastoreSettings {
  type: DatastoreType;
  /** True when neither DATASTORE_TYPE nor any etcd endpoint was set (embedded file datastore). */
  embeddedDefault: boolean;
  /** Present for etcd, etcdv2, etcdv3. */
  etcd: EtcdConfig | undefined;
  /** Path from KUBECONFIG; undefined = in-cluster service account. */
  kubeconfig: string | undefined;
  /**
   * NAMESPACE (calico/node's name for it): where the Secrets named by BGPPeer spec.password.secretKeyRef are
   * read, with the kubernetes datastore. Default kube-system, as calico/node.
   */
  secretNamespace: string;
  /** Absolute path of the file datastore (meaningful for type 'file'). */
  file: string;
  /** True when DATASTORE_FILE was not set and the default path was chosen (the file is then created if missing). */
  fileDefaulted: boolean;
  /** DATASTORE_FILE_MAX_BYTES: a larger datastore file is refused (the last good configuration stays). */
  fileMaxBytes: number;
  /** Self-registration (RR_REGISTER=true or RR_CLUSTER_ID set); undefined = off. */
  register: RegistrationConfig | undefined;
}

export interface DatastoreOptions {
  /** Directory for the fallback default DATASTORE_FILE (default: process.cwd()). */
  cwd?: string;
  /** Preferred directory for the default DATASTORE_FILE when it exists and is writable (default /var/lib/calico-rr). */
  dataDir?: string;
}

export interface DatastoreChoice {
  type: DatastoreType;
  embeddedDefault: boolean;
}

/** Which datastore runs; decided first, because it decides whether IP may default. */
export function chooseDatastore(r: EnvReader): DatastoreChoice {
  const type = r.oneOf('DATASTORE_TYPE', DATASTORE_TYPES, true);
  if (type !== undefined) return { type, embeddedDefault: false };
  if (r.get('DATASTORE_TYPE', true) !== undefined) return { type: 'file', embeddedDefault: false }; // bad value, reported
  if (r.get('ETCD_ENDPOINTS', true) !== undefined || r.get('ETCD_AUTHORITY') !== undefined) return { type: 'etcd', embeddedDefault: false };
  return { type: DEFAULTS.DATASTORE_TYPE.value, embeddedDefault: true };
}

function parseEtcdUrl(raw: string): string | { error: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { error: `"${raw}" is not a URL (expected http://host:port or https://host:port)` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { error: `"${raw}" has scheme ${url.protocol.replace(':', '')}, expected http or https` };
  }
  if (url.hostname === '') return { error: `"${raw}" has no host` };
  if (url.username !== '' || url.password !== '') {
    return { error: `"${raw}" carries credentials; use ETCD_USERNAME/ETCD_PASSWORD` };
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    return { error: `"${raw}" has a path or query; give only scheme://host:port` };
  }
  return `${url.protocol}//${url.host}`;
}

function isWritableDir(dir: string): boolean {
  try {
    if (!statSync(dir).isDirectory()) return false;
    accessSync(dir, fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function readEndpoints(r: EnvReader): { endpoints: string[]; endpointsFrom: string } {
  const endpoints: string[] = [];
  const list = r.list('ETCD_ENDPOINTS', true);
  const authority = r.list('ETCD_AUTHORITY');
  if (list !== undefined) {
    for (const raw of list.items) {
      const u = parseEtcdUrl(raw);
      if (typeof u === 'string') {
        if (!endpoints.includes(u)) endpoints.push(u);
      } else r.bad(list.name, u.error);
    }
    if (endpoints.length === 0 && !r.hasProblem(list.name)) r.bad(list.name, 'no endpoint given');
    if (authority !== undefined) r.notes.push(`ETCD_AUTHORITY ignored: ${list.name} is set`);
    return { endpoints, endpointsFrom: list.name };
  }
  if (authority !== undefined) {
    const schemeVar = r.get('ETCD_SCHEME');
    const scheme = (schemeVar?.value ?? DEFAULTS.ETCD_SCHEME.value).toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') {
      r.bad('ETCD_SCHEME', `"${schemeVar?.value ?? ''}" is not http or https`);
    } else {
      for (const raw of authority.items) {
        if (raw.includes('/')) {
          r.bad('ETCD_AUTHORITY', `"${raw}" must be host:port without scheme (the scheme comes from ETCD_SCHEME)`);
          continue;
        }
        const u = parseEtcdUrl(`${scheme}://${raw}`);
        if (typeof u === 'string') endpoints.push(u);
        else r.bad('ETCD_AUTHORITY', `"${raw}" is not host:port`);
      }
    }
    return { endpoints, endpointsFrom: 'ETCD_AUTHORITY' };
  }
  const fallback = DEFAULTS.ETCD_ENDPOINTS.value;
  r.notes.push(`ETCD_ENDPOINTS not set: using ${fallback}`);
  return { endpoints: [fallback], endpointsFrom: 'default' };
}

function readEtcd(r: EnvReader): EtcdConfig {
  const etcd: EtcdConfig = readEndpoints(r);
  const { endpoints } = etcd;
  for (const [key, field] of [
    ['ETCD_CA_CERT_FILE', 'caCertFile'],
    ['ETCD_CERT_FILE', 'certFile'],
    ['ETCD_KEY_FILE', 'keyFile'],
  ] as const) {
    const path = r.readableFile(key, true);
    if (path !== undefined) etcd[field] = path;
  }
  const certVar = r.get('ETCD_CERT_FILE', true);
  const keyVar = r.get('ETCD_KEY_FILE', true);
  if ((certVar === undefined) !== (keyVar === undefined)) {
    r.bad(certVar === undefined ? 'ETCD_CERT_FILE' : 'ETCD_KEY_FILE', 'a client certificate needs both ETCD_CERT_FILE and ETCD_KEY_FILE');
  }
  const userVar = r.get('ETCD_USERNAME', true);
  const passRaw = r.raw('CALICO_ETCD_PASSWORD') ?? r.raw('ETCD_PASSWORD'); // not trimmed: spaces may be part of it
  const pass = passRaw !== undefined && passRaw !== '' ? passRaw : undefined;
  if (userVar !== undefined && pass === undefined) r.bad('ETCD_PASSWORD', 'required when ETCD_USERNAME is set');
  else if (userVar === undefined && pass !== undefined) r.bad('ETCD_USERNAME', 'required when ETCD_PASSWORD is set');
  else if (userVar !== undefined && pass !== undefined) {
    etcd.username = userVar.value;
    etcd.password = pass;
  }
  const plain = endpoints.filter((e) => e.startsWith('http:'));
  if (etcd.password !== undefined && plain.length > 0) {
    // Basic auth (v2) and the v3 Authenticate call carry the password in clear text over http://. Refused
    // unless the operator says the network is trusted (old clusters run etcd over http inside the cluster).
    const set = r.get('ETCD_ALLOW_INSECURE_CREDENTIALS') !== undefined;
    const allow = r.bool('ETCD_ALLOW_INSECURE_CREDENTIALS') ?? (set ? undefined : DEFAULTS.ETCD_ALLOW_INSECURE_CREDENTIALS.value);
    const s = plain.length > 1 ? 's' : '';
    if (allow === false) {
      r.bad(
        'ETCD_PASSWORD',
        `would be sent in clear text to the http:// endpoint${s} ${plain.join(', ')}; use https:// endpoints, or set ETCD_ALLOW_INSECURE_CREDENTIALS=true to accept that`,
      );
    } else if (allow === true) {
      r.warnings.push(
        `ETCD_PASSWORD (user ${etcd.username ?? ''}) is sent in clear text to the http:// endpoint${s} ${plain.join(', ')} (ETCD_ALLOW_INSECURE_CREDENTIALS=true): anyone on the path can read it; use https://`,
      );
    }
  }
  if (etcd.caCertFile !== undefined && endpoints.length > 0 && endpoints.every((e) => e.startsWith('http:'))) {
    r.notes.push('ETCD_CA_CERT_FILE is set but every etcd endpoint is http://; TLS is not used');
  }
  return etcd;
}

function readRegistration(r: EnvReader, type: DatastoreType): RegistrationConfig | undefined {
  const cidVar = r.get('RR_CLUSTER_ID');
  let clusterId: string | undefined;
  if (cidVar !== undefined) {
    clusterId = canonicalClusterId(cidVar.value);
    if (clusterId === undefined) r.bad('RR_CLUSTER_ID', `"${cidVar.value}" is not a cluster ID (dotted quad such as 1.0.0.1, or a 32-bit number)`);
  }
  // RR_CLUSTER_ID alone switches registration on; RR_REGISTER says so either way.
  const wantRegister = r.bool('RR_REGISTER') ?? (cidVar !== undefined || DEFAULTS.RR_REGISTER.value);
  const ttlSeconds = r.int('RR_REGISTER_TTL', 2, 86400, 'a number of seconds between 2 and 86400') ?? DEFAULTS.RR_REGISTER_TTL.value;
  if (!wantRegister) return undefined;
  if (type === 'file') {
    r.bad(
      r.get('RR_REGISTER')?.name ?? 'RR_CLUSTER_ID',
      'self-registration needs an etcd or kubernetes datastore (with the file datastore, write the rr_v4 entry into the file)',
    );
  }
  return { clusterId, ttlSeconds };
}

export function readDatastore(r: EnvReader, choice: DatastoreChoice, options: DatastoreOptions = {}): DatastoreSettings {
  const { type, embeddedDefault } = choice;
  const usesEtcd = type === 'etcd' || type === 'etcdv2' || type === 'etcdv3';
  let etcd: EtcdConfig | undefined;
  if (usesEtcd) etcd = readEtcd(r);
  else {
    const endpointsVar = r.get('ETCD_ENDPOINTS', true);
    if (endpointsVar !== undefined) r.notes.push(`${endpointsVar.name} ignored: DATASTORE_TYPE=${type}`);
  }

  const kubeconfig = r.get('KUBECONFIG')?.value;
  const kubeFiles = r.list('KUBECONFIG', false, ':');
  if (kubeFiles !== undefined && type === 'kubernetes') {
    // A ':'-separated list, merged as kubectl merges it; like kubectl, missing files are skipped, but one must be read.
    const errors = kubeFiles.items.map(unreadableFile);
    if (errors.every((e) => e !== undefined)) {
      r.bad('KUBECONFIG', errors.length === 1 ? (errors[0] ?? '') : `none of the files can be read: ${errors.join('; ')}`);
    }
  }

  // BGPPeer password Secrets: one namespace, named as calico/node names it.
  let secretNamespace: string = DEFAULTS.NAMESPACE.value;
  const nsVar = r.get('NAMESPACE');
  if (nsVar !== undefined) {
    // A namespace name is an RFC 1123 DNS label.
    if (/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(nsVar.value)) secretNamespace = nsVar.value;
    else r.bad('NAMESPACE', `"${nsVar.value}" is not a Kubernetes namespace name (lowercase letters, digits and "-", at most 63)`);
  }

  const fileVar = r.get('DATASTORE_FILE');
  const cwd = options.cwd ?? process.cwd();
  let file: string;
  let fileDefaulted = false;
  if (fileVar !== undefined) {
    file = resolve(cwd, fileVar.value);
    if (fileVar.value.endsWith('/')) r.bad('DATASTORE_FILE', `"${fileVar.value}" is a directory path, expected a file`);
  } else {
    fileDefaulted = true;
    const defaultFile = DEFAULTS.DATASTORE_FILE.value;
    const dataDir = options.dataDir ?? dirname(defaultFile);
    file = isWritableDir(dataDir) ? resolve(dataDir, basename(defaultFile)) : resolve(cwd, basename(defaultFile));
  }
  const fileMaxBytes =
    r.int('DATASTORE_FILE_MAX_BYTES', 1024, 1024 * 1024 * 1024, 'a number of bytes between 1024 and 1073741824') ??
    DEFAULTS.DATASTORE_FILE_MAX_BYTES.value;
  if (embeddedDefault) {
    r.notes.push(
      `no ETCD_ENDPOINTS and no DATASTORE_TYPE: using the embedded file datastore ${file}` +
        (fileDefaulted ? ' (DATASTORE_FILE default; created with an example if missing)' : ''),
    );
  }

  // Self-registration (issue 5; the kubernetes datastore uses the same switch for its Leases).
  const register = readRegistration(r, type);
  return { type, embeddedDefault, etcd, kubeconfig, secretNamespace, file, fileDefaulted, fileMaxBytes, register };
}
