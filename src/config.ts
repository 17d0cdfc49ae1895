// The operator contract: every environment variable of design.md §1 (plus the issues' additions) parsed and
// validated into one typed Config; a bad value is a ConfigError naming the variable and what was wrong.
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { canonicalClusterId, canonicalIPv4, canonicalIPv6 } from './net/address.js';

/** `etcd` = both keyspaces merged (v2 where the server offers it, and v3): the seed's ETCD_ENDPOINTS-only start. */
export type DatastoreType = 'etcd' | 'etcdv2' | 'etcdv3' | 'kubernetes' | 'file';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

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

/** BIRD 1.6 `timeformat` spec: fmt1 while the event is younger than `limitSeconds` (0 = always), else fmt2; fmt1 null = "old short". */
export interface BirdTimeformat {
  /** The text as given (or "iso short", BIRD's default). */
  spec: string;
  fmt1: string | null;
  fmt2: string | null;
  limitSeconds: number;
}

export interface MetricsListen {
  /** undefined = every address (an explicit METRICS_LISTEN=":9180"); the default is IP:9180. */
  host: string | undefined;
  port: number;
}

export interface RegistrationConfig {
  /** Cluster ID written into our own rr_v4/rr_v6 entry (dotted quad), or undefined for none (router ID used). */
  clusterId: string | undefined;
  /** etcd v3 lease TTL / etcd v2 key TTL in seconds. */
  ttlSeconds: number;
}

export interface Config {
  /** IPv4 address: router ID, IPv4 source/listen address, name of our rr_v4 entry. Canonical form. */
  ip: string;
  /** True when IP was not given and 127.0.0.1 was chosen (embedded default only). */
  ipDefaulted: boolean;
  /** IPv6 address, canonical (compressed lowercase), or undefined when IPv6 is off. */
  ip6: string | undefined;
  datastoreType: DatastoreType;
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
  /** Absolute path of the file datastore (meaningful for datastoreType 'file'). */
  datastoreFile: string;
  /** True when DATASTORE_FILE was not set and the default path was chosen (the file is then created if missing). */
  datastoreFileDefaulted: boolean;
  bgpPort: number;
  socketDir: string;
  /** undefined when disabled (METRICS_LISTEN=off). */
  metricsListen: MetricsListen | undefined;
  logLevel: LogLevel;
  birdTimeformat: BirdTimeformat;
  /** Self-registration (RR_REGISTER=true or RR_CLUSTER_ID set); undefined = off. */
  register: RegistrationConfig | undefined;
  /** Informational lines about defaults that were chosen; main logs them at start. */
  notes: string[];
  /** Risky settings that were accepted (credentials over plain http); logged at warn level at start. */
  warnings: string[];
  /** DATASTORE_FILE_MAX_BYTES: a larger datastore file is refused (the last good configuration stays). */
  datastoreFileMaxBytes: number;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(problems.join('; '));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  /** Directory for the fallback default DATASTORE_FILE (default: process.cwd()). */
  cwd?: string;
  /** Preferred directory for the default DATASTORE_FILE when it exists and is writable (default /var/lib/calico-rr). */
  dataDir?: string;
}

export const DEFAULT_DATA_DIR = '/var/lib/calico-rr';
export const DEFAULT_DATASTORE_BASENAME = 'datastore.json';
/**
 * The metrics port. Without METRICS_LISTEN the endpoint listens on IP only (the node's address in the manifest,
 * where kubelet probes and Prometheus reach a hostNetwork pod), not on every interface of the host.
 */
export const DEFAULT_METRICS_PORT = 9180;
export const DEFAULT_ETCD_ENDPOINT = 'http://127.0.0.1:2379';
export const DEFAULT_REGISTER_TTL_SECONDS = 30;
export const DEFAULT_SECRET_NAMESPACE = 'kube-system';
export const EMBEDDED_DEFAULT_IP = '127.0.0.1';
/** Default DATASTORE_FILE_MAX_BYTES: 8 MiB, thousands of times a real cluster's keys (a 52 MB file took 850 MB RSS). */
export const DEFAULT_DATASTORE_FILE_MAX_BYTES = 8 * 1024 * 1024;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const DATASTORE_TYPES: readonly DatastoreType[] = ['etcd', 'etcdv2', 'etcdv3', 'kubernetes', 'file'];

/** Reads one variable; libcalico-go's CALICO_-prefixed spelling wins over the plain one, as in the v0.5+ image. */
function pick(env: NodeJS.ProcessEnv, name: string, calicoAlias = false): { name: string; value: string } | undefined {
  const names = calicoAlias ? [`CALICO_${name}`, name] : [name];
  for (const n of names) {
    const v = env[n];
    // An empty value means unset: the v0.4.x run script passed every variable, set or not.
    if (v !== undefined && v.trim() !== '') return { name: n, value: v.trim() };
  }
  return undefined;
}

function parseBool(text: string): boolean | undefined {
  const t = text.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off'].includes(t)) return false;
  return undefined;
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
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

function checkReadableFile(path: string): string | undefined {
  try {
    const st = statSync(path);
    if (!st.isFile()) return `"${path}" is not a regular file`;
    accessSync(path, fsConstants.R_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `"${path}" does not exist` : `"${path}" cannot be read (${code ?? String(e)})`;
  }
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

/** Splits a BIRD timeformat spec into its quoted strings and bare words. */
function tokenizeTimeformat(text: string): string[] | undefined {
  const tokens: string[] = [];
  const re = /\s*(?:"([^"]*)"|(\S+))/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < text.length && (m = re.exec(text)) !== null) {
    tokens.push(m[1] !== undefined ? `"${m[1]}"` : (m[2] ?? ''));
    pos = re.lastIndex;
  }
  if (text.slice(pos).trim() !== '') return undefined;
  return tokens;
}

/** Parses BIRD_TIMEFORMAT with BIRD 1.6's `timeformat` grammar (bird-socket.md §6); quotes are optional for one format. */
export function parseBirdTimeformat(text: string): BirdTimeformat | undefined {
  const spec = text.trim();
  const lower = spec.toLowerCase().replace(/\s+/g, ' ');
  if (lower === 'iso short') return { spec, fmt1: '%T', fmt2: '%F', limitSeconds: 20 * 3600 };
  if (lower === 'iso long') return { spec, fmt1: '%F %T', fmt2: null, limitSeconds: 0 };
  if (lower === 'old short') return { spec, fmt1: null, fmt2: null, limitSeconds: 0 };
  if (lower === 'old long') return { spec, fmt1: '%d-%m-%Y %T', fmt2: null, limitSeconds: 0 };
  if (!spec.startsWith('"')) {
    // A bare strftime format such as %s (quotes are awkward in env files).
    return spec.includes('%') && !spec.includes('"') ? { spec, fmt1: spec, fmt2: null, limitSeconds: 0 } : undefined;
  }
  const tokens = tokenizeTimeformat(spec);
  if (tokens === undefined) return undefined;
  const unq = (t: string | undefined): string | undefined =>
    t !== undefined && t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : undefined;
  if (tokens.length === 1) {
    const f = unq(tokens[0]);
    return f !== undefined && f !== '' ? { spec, fmt1: f, fmt2: null, limitSeconds: 0 } : undefined;
  }
  if (tokens.length === 3) {
    const f1 = unq(tokens[0]);
    const f2 = unq(tokens[2]);
    const limit = tokens[1] !== undefined && /^\d+$/.test(tokens[1]) ? Number(tokens[1]) : undefined;
    if (f1 && f2 && limit !== undefined) return { spec, fmt1: f1, fmt2: f2, limitSeconds: limit };
  }
  return undefined;
}

/** Parses "host:port", ":port", "[v6]:port" or a bare port. */
export function parseListen(text: string): MetricsListen | undefined {
  let host: string | undefined;
  let portText: string;
  if (/^\d+$/.test(text)) {
    portText = text;
  } else if (text.startsWith('[')) {
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(text);
    if (!m) return undefined;
    const h = canonicalIPv6(m[1] ?? '');
    if (h === undefined) return undefined;
    host = h;
    portText = m[2] ?? '';
  } else {
    const idx = text.lastIndexOf(':');
    if (idx < 0) return undefined;
    const h = text.slice(0, idx);
    portText = text.slice(idx + 1);
    if (h !== '') {
      if (h.includes(':')) return undefined; // IPv6 needs brackets
      const v4 = canonicalIPv4(h);
      if (v4 === undefined && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(h)) {
        return undefined;
      }
      host = v4 ?? h;
    }
  }
  const port = parsePort(portText);
  return port === undefined ? undefined : { host, port };
}

export function loadConfig(env: NodeJS.ProcessEnv, options: LoadConfigOptions = {}): Config {
  const problems: string[] = [];
  const notes: string[] = [];
  const warnings: string[] = [];
  const bad = (name: string, what: string): void => {
    problems.push(`${name}: ${what}`);
  };

  // --- datastore selection (decides whether IP may default) ---
  const endpointsVar = pick(env, 'ETCD_ENDPOINTS', true);
  const authorityVar = pick(env, 'ETCD_AUTHORITY');
  const schemeVar = pick(env, 'ETCD_SCHEME');
  const typeVar = pick(env, 'DATASTORE_TYPE', true);
  let datastoreType: DatastoreType = 'file';
  let embeddedDefault = false;
  if (typeVar !== undefined) {
    const t = typeVar.value.toLowerCase();
    if ((DATASTORE_TYPES as readonly string[]).includes(t)) datastoreType = t as DatastoreType;
    else bad(typeVar.name, `"${typeVar.value}" is not one of ${DATASTORE_TYPES.join(', ')}`);
  } else if (endpointsVar !== undefined || authorityVar !== undefined) {
    datastoreType = 'etcd';
  } else {
    embeddedDefault = true;
  }
  const usesEtcd = datastoreType === 'etcd' || datastoreType === 'etcdv2' || datastoreType === 'etcdv3';

  // --- IP / IP6 ---
  let ip = EMBEDDED_DEFAULT_IP;
  let ipDefaulted = false;
  const ipVar = pick(env, 'IP');
  if (ipVar === undefined) {
    if (embeddedDefault) {
      ipDefaulted = true;
      notes.push(`IP not set: using ${EMBEDDED_DEFAULT_IP} (embedded file datastore only; set IP for real use)`);
    } else {
      bad('IP', 'required: the IPv4 address of this reflector (router ID, source address, name of its rr_v4 entry)');
    }
  } else {
    const v4 = canonicalIPv4(ipVar.value);
    if (v4 === undefined) bad('IP', `"${ipVar.value}" is not an IPv4 address`);
    else ip = v4;
  }
  let ip6: string | undefined;
  const ip6Var = pick(env, 'IP6');
  if (ip6Var !== undefined) {
    const v6 = canonicalIPv6(ip6Var.value);
    if (v6 === undefined) bad('IP6', `"${ip6Var.value}" is not an IPv6 address`);
    else ip6 = v6;
  }

  // --- etcd ---
  let etcd: EtcdConfig | undefined;
  if (usesEtcd) {
    const endpoints: string[] = [];
    let endpointsFrom: string;
    if (endpointsVar !== undefined) {
      endpointsFrom = endpointsVar.name;
      for (const part of endpointsVar.value.split(',')) {
        const raw = part.trim();
        if (raw === '') continue;
        const u = parseEtcdUrl(raw);
        if (typeof u === 'string') {
          if (!endpoints.includes(u)) endpoints.push(u);
        } else bad(endpointsVar.name, u.error);
      }
      if (endpoints.length === 0 && !problems.some((p) => p.startsWith(endpointsVar.name))) {
        bad(endpointsVar.name, 'no endpoint given');
      }
      if (authorityVar !== undefined) notes.push(`ETCD_AUTHORITY ignored: ${endpointsVar.name} is set`);
    } else if (authorityVar !== undefined) {
      endpointsFrom = 'ETCD_AUTHORITY';
      const scheme = (schemeVar?.value ?? 'http').toLowerCase();
      if (scheme !== 'http' && scheme !== 'https') {
        bad('ETCD_SCHEME', `"${schemeVar?.value ?? ''}" is not http or https`);
      } else {
        for (const part of authorityVar.value.split(',')) {
          const raw = part.trim();
          if (raw === '') continue;
          if (raw.includes('/')) {
            bad('ETCD_AUTHORITY', `"${raw}" must be host:port without scheme (the scheme comes from ETCD_SCHEME)`);
            continue;
          }
          const u = parseEtcdUrl(`${scheme}://${raw}`);
          if (typeof u === 'string') endpoints.push(u);
          else bad('ETCD_AUTHORITY', `"${raw}" is not host:port`);
        }
      }
    } else {
      endpointsFrom = 'default';
      endpoints.push(DEFAULT_ETCD_ENDPOINT);
      notes.push(`ETCD_ENDPOINTS not set: using ${DEFAULT_ETCD_ENDPOINT}`);
    }
    etcd = { endpoints, endpointsFrom };
    for (const [key, field] of [
      ['ETCD_CA_CERT_FILE', 'caCertFile'],
      ['ETCD_CERT_FILE', 'certFile'],
      ['ETCD_KEY_FILE', 'keyFile'],
    ] as const) {
      const v = pick(env, key, true);
      if (v === undefined) continue;
      const err = checkReadableFile(v.value);
      if (err !== undefined) bad(v.name, err);
      else etcd[field] = v.value;
    }
    const certVar = pick(env, 'ETCD_CERT_FILE', true);
    const keyVar = pick(env, 'ETCD_KEY_FILE', true);
    if ((certVar === undefined) !== (keyVar === undefined)) {
      bad(certVar === undefined ? 'ETCD_CERT_FILE' : 'ETCD_KEY_FILE', 'a client certificate needs both ETCD_CERT_FILE and ETCD_KEY_FILE');
    }
    const userVar = pick(env, 'ETCD_USERNAME', true);
    const passVar = env.CALICO_ETCD_PASSWORD ?? env.ETCD_PASSWORD; // a password may legitimately contain spaces
    const pass = passVar !== undefined && passVar !== '' ? passVar : undefined;
    if (userVar !== undefined && pass === undefined) bad('ETCD_PASSWORD', 'required when ETCD_USERNAME is set');
    else if (userVar === undefined && pass !== undefined) bad('ETCD_USERNAME', 'required when ETCD_PASSWORD is set');
    else if (userVar !== undefined && pass !== undefined) {
      etcd.username = userVar.value;
      etcd.password = pass;
    }
    const plain = endpoints.filter((e) => e.startsWith('http:'));
    if (etcd.password !== undefined && plain.length > 0) {
      // Basic auth (v2) and the v3 Authenticate call carry the password in clear text over http://. Refused
      // unless the operator says the network is trusted (old clusters run etcd over http inside the cluster).
      const allowVar = pick(env, 'ETCD_ALLOW_INSECURE_CREDENTIALS');
      const allow = allowVar === undefined ? false : parseBool(allowVar.value);
      if (allow === undefined) bad('ETCD_ALLOW_INSECURE_CREDENTIALS', `"${allowVar?.value ?? ''}" is not true or false`);
      else if (!allow) {
        bad(
          'ETCD_PASSWORD',
          `would be sent in clear text to the http:// endpoint${plain.length > 1 ? 's' : ''} ${plain.join(', ')}; use https:// endpoints, or set ETCD_ALLOW_INSECURE_CREDENTIALS=true to accept that`,
        );
      } else {
        warnings.push(
          `ETCD_PASSWORD (user ${etcd.username ?? ''}) is sent in clear text to the http:// endpoint${plain.length > 1 ? 's' : ''} ${plain.join(', ')} (ETCD_ALLOW_INSECURE_CREDENTIALS=true): anyone on the path can read it; use https://`,
        );
      }
    }
    if (etcd.caCertFile !== undefined && endpoints.length > 0 && endpoints.every((e) => e.startsWith('http:'))) {
      notes.push('ETCD_CA_CERT_FILE is set but every etcd endpoint is http://; TLS is not used');
    }
  } else if (endpointsVar !== undefined && datastoreType !== 'etcd') {
    notes.push(`${endpointsVar.name} ignored: DATASTORE_TYPE=${datastoreType}`);
  }

  // --- kubernetes ---
  let kubeconfig: string | undefined;
  const kubeVar = pick(env, 'KUBECONFIG');
  if (kubeVar !== undefined) {
    kubeconfig = kubeVar.value;
    if (datastoreType === 'kubernetes') {
      const err = checkReadableFile(kubeVar.value);
      if (err !== undefined) bad('KUBECONFIG', err);
    }
  }

  // BGPPeer password Secrets: one namespace, named as calico/node names it (NAMESPACE, default kube-system).
  let secretNamespace = DEFAULT_SECRET_NAMESPACE;
  const nsVar = pick(env, 'NAMESPACE');
  if (nsVar !== undefined) {
    // A namespace name is an RFC 1123 DNS label.
    if (/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(nsVar.value)) secretNamespace = nsVar.value;
    else bad('NAMESPACE', `"${nsVar.value}" is not a Kubernetes namespace name (lowercase letters, digits and "-", at most 63)`);
  }

  // --- file datastore ---
  const fileVar = pick(env, 'DATASTORE_FILE');
  let datastoreFile: string;
  let datastoreFileDefaulted = false;
  const cwd = options.cwd ?? process.cwd();
  if (fileVar !== undefined) {
    datastoreFile = resolve(cwd, fileVar.value);
    if (fileVar.value.endsWith('/')) bad('DATASTORE_FILE', `"${fileVar.value}" is a directory path, expected a file`);
  } else {
    datastoreFileDefaulted = true;
    const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
    datastoreFile = isWritableDir(dataDir) ? resolve(dataDir, DEFAULT_DATASTORE_BASENAME) : resolve(cwd, DEFAULT_DATASTORE_BASENAME);
  }
  let datastoreFileMaxBytes = DEFAULT_DATASTORE_FILE_MAX_BYTES;
  const maxVar = pick(env, 'DATASTORE_FILE_MAX_BYTES');
  if (maxVar !== undefined) {
    const n = /^\d{1,12}$/.test(maxVar.value) ? Number(maxVar.value) : NaN;
    if (!Number.isSafeInteger(n) || n < 1024 || n > 1024 * 1024 * 1024) {
      bad('DATASTORE_FILE_MAX_BYTES', `"${maxVar.value}" is not a number of bytes between 1024 and 1073741824`);
    } else datastoreFileMaxBytes = n;
  }
  if (embeddedDefault) {
    notes.push(
      `no ETCD_ENDPOINTS and no DATASTORE_TYPE: using the embedded file datastore ${datastoreFile}` +
        (datastoreFileDefaulted ? ' (DATASTORE_FILE default; created with an example if missing)' : ''),
    );
  }

  // --- ports, paths, levels ---
  let bgpPort = 179;
  const portVar = pick(env, 'BGP_PORT');
  if (portVar !== undefined) {
    const p = parsePort(portVar.value);
    if (p === undefined) bad('BGP_PORT', `"${portVar.value}" is not a TCP port (1-65535)`);
    else bgpPort = p;
  }
  const socketDir = pick(env, 'SOCKET_DIR')?.value ?? '/sockets';

  let metricsListen: MetricsListen | undefined = { host: ip, port: DEFAULT_METRICS_PORT };
  const metricsVar = pick(env, 'METRICS_LISTEN');
  if (metricsVar !== undefined) {
    const v = metricsVar.value.toLowerCase();
    if (v === 'off' || v === 'none' || v === 'false') metricsListen = undefined;
    else {
      const l = parseListen(metricsVar.value);
      if (l === undefined) bad('METRICS_LISTEN', `"${metricsVar.value}" is not host:port, :port or [ipv6]:port (or "off")`);
      else metricsListen = l;
    }
  }

  let logLevel: LogLevel = 'info';
  const levelVar = pick(env, 'LOG_LEVEL');
  if (levelVar !== undefined) {
    const l = levelVar.value.toLowerCase();
    if ((LOG_LEVELS as readonly string[]).includes(l)) logLevel = l as LogLevel;
    else bad('LOG_LEVEL', `"${levelVar.value}" is not one of ${LOG_LEVELS.join(', ')}`);
  }

  let birdTimeformat = parseBirdTimeformat('iso short') as BirdTimeformat;
  const tfVar = pick(env, 'BIRD_TIMEFORMAT');
  if (tfVar !== undefined) {
    const tf = parseBirdTimeformat(tfVar.value);
    if (tf === undefined) {
      bad('BIRD_TIMEFORMAT', `"${tfVar.value}" is not a BIRD timeformat (iso short, iso long, old short, old long, "%s", or "fmt1" limit "fmt2")`);
    } else birdTimeformat = tf;
  }

  // --- self-registration (issue 5; the kubernetes datastore uses the same switch for its Leases) ---
  let register: RegistrationConfig | undefined;
  const regVar = pick(env, 'RR_REGISTER');
  const cidVar = pick(env, 'RR_CLUSTER_ID');
  const ttlVar = pick(env, 'RR_REGISTER_TTL');
  let clusterId: string | undefined;
  if (cidVar !== undefined) {
    clusterId = canonicalClusterId(cidVar.value);
    if (clusterId === undefined) bad('RR_CLUSTER_ID', `"${cidVar.value}" is not a cluster ID (dotted quad such as 1.0.0.1, or a 32-bit number)`);
  }
  let wantRegister = cidVar !== undefined;
  if (regVar !== undefined) {
    const b = parseBool(regVar.value);
    if (b === undefined) bad('RR_REGISTER', `"${regVar.value}" is not true or false`);
    else wantRegister = b;
  }
  let ttlSeconds = DEFAULT_REGISTER_TTL_SECONDS;
  if (ttlVar !== undefined) {
    if (!/^\d+$/.test(ttlVar.value) || Number(ttlVar.value) < 2 || Number(ttlVar.value) > 86400) {
      bad('RR_REGISTER_TTL', `"${ttlVar.value}" is not a number of seconds between 2 and 86400`);
    } else ttlSeconds = Number(ttlVar.value);
  }
  if (wantRegister) {
    if (datastoreType === 'file') {
      bad(regVar?.name ?? 'RR_CLUSTER_ID', 'self-registration needs an etcd or kubernetes datastore (with the file datastore, write the rr_v4 entry into the file)');
    }
    register = { clusterId, ttlSeconds };
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    ip,
    ipDefaulted,
    ip6,
    datastoreType,
    embeddedDefault,
    etcd,
    kubeconfig,
    secretNamespace,
    datastoreFile,
    datastoreFileDefaulted,
    bgpPort,
    socketDir,
    metricsListen,
    logLevel,
    birdTimeformat,
    register,
    notes,
    warnings,
    datastoreFileMaxBytes,
  };
}

// ---- Hardening (issue 10): limits, TTL security. Self-contained: loadHardeningConfig(env) is separate from
// loadConfig() so the two can be read and tested apart; main/app call both. Every variable is optional.
//   MAX_PREFIXES                  default maximum prefixes per AFI from one peer (0 = no limit; default 0);
//                                 a peer entry's `max_prefixes` overrides it for that peer.
//   MAX_PREFIXES_WARNING_PERCENT  log a warning (and set the metric field) at this % of the limit (default 80).
//   MAX_PREFIXES_IDLE_HOLD        seconds a peer stays down after Cease 1 "maximum prefixes" (default 60).
//   MAX_AS_PATH_LENGTH            AS_PATH length (AS count) above which an UPDATE is treated as withdraw
//                                 (0 = no limit; default 0); src/app/as-path-limit.ts rewrites it as a withdrawal.
//   OUTBOUND_QUEUE_LIMIT          bytes a peer's outbound socket queue may hold before it is watched; stuck
//                                 at or above it for its hold time = Cease 8 (default 4194304 = 4 MiB).
//   MAX_PENDING_CONNECTIONS       accepted connections not yet in OpenConfirm, at most (default 2048).
//   TTL_SECURITY                  GTSM (RFC 5082) for every peer by default (true/false; default false);
//                                 a peer entry's `ttl_security` overrides it.
//   IDLE_HOLD_BASE, IDLE_HOLD_CAP idle hold after a session failure: IDLE_HOLD_BASE seconds, doubled per
//                                 consecutive failure, at most IDLE_HOLD_CAP (defaults 1 and 120; a cap of 0
//                                 turns the backoff off, for tests that flap one peer on purpose).

export interface HardeningConfig {
  maxPrefixes: number;
  maxPrefixesWarningPercent: number;
  maxPrefixesIdleHoldSeconds: number;
  maxAsPathLength: number;
  outboundQueueLimitBytes: number;
  maxPendingConnections: number;
  ttlSecurity: boolean;
  idleHoldBaseSeconds: number;
  idleHoldCapSeconds: number;
}

export const HARDENING_DEFAULTS: Readonly<HardeningConfig> = {
  maxPrefixes: 0,
  maxPrefixesWarningPercent: 80,
  maxPrefixesIdleHoldSeconds: 60,
  maxAsPathLength: 0,
  outboundQueueLimitBytes: 4 * 1024 * 1024,
  maxPendingConnections: 2048,
  ttlSecurity: false,
  idleHoldBaseSeconds: 1,
  idleHoldCapSeconds: 120,
};

/** Parses the hardening variables; throws ConfigError naming every bad one. */
export function loadHardeningConfig(env: NodeJS.ProcessEnv): HardeningConfig {
  const problems: string[] = [];
  const out: HardeningConfig = { ...HARDENING_DEFAULTS };
  const int = (name: string, min: number, max: number): number | undefined => {
    const v = pick(env, name);
    if (v === undefined) return undefined;
    if (!/^\d{1,15}$/.test(v.value) || Number(v.value) < min || Number(v.value) > max) {
      problems.push(`${name}: "${v.value}" is not an integer from ${min} to ${max}`);
      return undefined;
    }
    return Number(v.value);
  };
  out.maxPrefixes = int('MAX_PREFIXES', 0, 0xffffffff) ?? out.maxPrefixes;
  out.maxPrefixesWarningPercent = int('MAX_PREFIXES_WARNING_PERCENT', 1, 100) ?? out.maxPrefixesWarningPercent;
  out.maxPrefixesIdleHoldSeconds = int('MAX_PREFIXES_IDLE_HOLD', 1, 86400) ?? out.maxPrefixesIdleHoldSeconds;
  out.maxAsPathLength = int('MAX_AS_PATH_LENGTH', 0, 4096) ?? out.maxAsPathLength;
  out.outboundQueueLimitBytes = int('OUTBOUND_QUEUE_LIMIT', 65536, 1 << 30) ?? out.outboundQueueLimitBytes;
  out.maxPendingConnections = int('MAX_PENDING_CONNECTIONS', 1, 1_000_000) ?? out.maxPendingConnections;
  out.idleHoldBaseSeconds = int('IDLE_HOLD_BASE', 1, 3600) ?? out.idleHoldBaseSeconds;
  out.idleHoldCapSeconds = int('IDLE_HOLD_CAP', 0, 86400) ?? out.idleHoldCapSeconds;
  const ttl = pick(env, 'TTL_SECURITY');
  if (ttl !== undefined) {
    const b = parseBool(ttl.value);
    if (b === undefined) problems.push(`TTL_SECURITY: "${ttl.value}" is not true or false`);
    else out.ttlSecurity = b;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

// ---- Graceful restart (issue 15): what we advertise and how long our End-of-RIB waits after a start.
//   GRACEFUL_RESTART_TIME   the restart time in our graceful restart capability (RFC 4724 §3): how long the
//                           nodes keep our routes as stale while we are away (1..4095 s; default 120, BIRD's).
//   RESTART_DEFERRAL_TIME   after our start, the longest End-of-RIB to a node waits for every configured peer
//                           to be back and send its End-of-RIB; at that time the nodes drop what a peer still
//                           away announced before our restart (1..GRACEFUL_RESTART_TIME s; default: the same as
//                           GRACEFUL_RESTART_TIME). Routes themselves are never held (src/reflector/restart-plan.ts).

export interface GracefulRestartConfig {
  restartTimeSeconds: number;
  deferralSeconds: number;
}

export const GRACEFUL_RESTART_DEFAULTS: Readonly<GracefulRestartConfig> = { restartTimeSeconds: 120, deferralSeconds: 120 };

/** Parses the graceful restart variables; throws ConfigError naming every bad one. */
export function loadGracefulRestartConfig(env: NodeJS.ProcessEnv): GracefulRestartConfig {
  const problems: string[] = [];
  const int = (name: string, min: number, max: number): number | undefined => {
    const v = pick(env, name);
    if (v === undefined) return undefined;
    if (!/^\d{1,5}$/.test(v.value) || Number(v.value) < min || Number(v.value) > max) {
      problems.push(`${name}: "${v.value}" is not an integer from ${min} to ${max}`);
      return undefined;
    }
    return Number(v.value);
  };
  const restartTimeSeconds = int('GRACEFUL_RESTART_TIME', 1, 4095) ?? GRACEFUL_RESTART_DEFAULTS.restartTimeSeconds;
  const deferralSeconds = int('RESTART_DEFERRAL_TIME', 1, restartTimeSeconds) ?? restartTimeSeconds;
  if (problems.length > 0) throw new ConfigError(problems);
  return { restartTimeSeconds, deferralSeconds };
}
