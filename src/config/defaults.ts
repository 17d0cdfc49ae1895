// Every environment variable the daemon reads, with its default: the one place a default is written. The
// loaders (src/config/*.ts), the engine's own fallbacks (session, rib), `--help` and the README's tables
// (test/config/defaults-readme.test.ts) all read it from here.
//
// `value` is what the code uses when the variable is unset (undefined: there is none). `text` replaces the
// plain value where the default depends on something else; `note` is a short aside after the value. Both are
// written as in the README (Markdown code spans); --help strips the backticks.
//
// No imports: anything may read this module without an arrow pointing up.

export interface DefaultSpec {
  readonly value: string | number | boolean | undefined;
  readonly text?: string;
  readonly note?: string;
}

const MiB = 1024 * 1024;

/** Where the default DATASTORE_FILE goes when that folder exists and is writable (else the working directory). */
export const DEFAULT_DATA_DIR = '/var/lib/calico-rr';
export const DEFAULT_DATASTORE_BASENAME = 'datastore.json';
/** The metrics port when METRICS_LISTEN is unset (the address is then IP's). */
export const DEFAULT_METRICS_PORT = 9180;

export const DEFAULTS = {
  // --- identity and addresses ---
  IP: { value: '127.0.0.1', text: 'required (`127.0.0.1` only with the embedded default)' },
  IP6: { value: undefined, text: 'IPv6 off' },
  BGP_PORT: { value: 179 },

  // --- datastore ---
  DATASTORE_TYPE: { value: 'file', text: '`etcd` when `ETCD_ENDPOINTS` is set, else `file`' },
  ETCD_ENDPOINTS: { value: 'http://127.0.0.1:2379', text: '`http://127.0.0.1:2379` with an etcd `DATASTORE_TYPE`, else none' },
  ETCD_AUTHORITY: { value: undefined, text: 'none' },
  ETCD_SCHEME: { value: 'http' },
  ETCD_CA_CERT_FILE: { value: undefined, text: 'none' },
  ETCD_CERT_FILE: { value: undefined, text: 'none' },
  ETCD_KEY_FILE: { value: undefined, text: 'none' },
  ETCD_USERNAME: { value: undefined, text: 'none' },
  ETCD_PASSWORD: { value: undefined, text: 'none' },
  ETCD_ALLOW_INSECURE_CREDENTIALS: { value: false },
  KUBECONFIG: { value: undefined, text: 'in-cluster service account' },
  NAMESPACE: { value: 'kube-system' },
  NODENAME: { value: undefined, text: 'the host name (`HOSTNAME`, else the OS host name, lower-cased), then the Node whose address is `IP`' },
  DATASTORE_FILE: {
    value: `${DEFAULT_DATA_DIR}/${DEFAULT_DATASTORE_BASENAME}`,
    text: `\`${DEFAULT_DATA_DIR}/${DEFAULT_DATASTORE_BASENAME}\` when that folder is writable, else \`./${DEFAULT_DATASTORE_BASENAME}\``,
  },
  // 8 MiB: thousands of times a real cluster's keys (a 52 MB file took 850 MB RSS).
  DATASTORE_FILE_MAX_BYTES: { value: 8 * MiB, note: '(8 MiB)' },
  RR_REGISTER: { value: false },
  RR_CLUSTER_ID: { value: undefined, text: 'router ID' },
  RR_REGISTER_TTL: { value: 30 },

  // --- observability and the control sockets ---
  SOCKET_DIR: { value: '/sockets' },
  // Who may connect to bird.ctl / bird6.ctl (a bird_exporter sidecar under its own uid needs the group).
  SOCKET_OWNER: { value: undefined, text: 'the process\'s uid' },
  SOCKET_GROUP: { value: undefined, text: 'the process\'s group' },
  SOCKET_MODE: { value: '0660', note: '(as BIRD creates them)' },
  // On IP only, not on every interface of a hostNetwork host (METRICS_LISTEN=":9180" asks for every address).
  METRICS_LISTEN: { value: `$IP:${DEFAULT_METRICS_PORT}`, text: `\`$IP:${DEFAULT_METRICS_PORT}\` (this reflector's address only)` },
  LOG_LEVEL: { value: 'info' },
  LOG_FORMAT: { value: 'auto' },
  BIRD_TIMEFORMAT: { value: 'iso short' },

  // --- limits and security ---
  MAX_PREFIXES: { value: 0, note: '(no limit)' },
  MAX_PREFIXES_WARNING_PERCENT: { value: 80 },
  MAX_PREFIXES_IDLE_HOLD: { value: 60 },
  MAX_AS_PATH_LENGTH: { value: 0, note: '(no limit)' },
  // 4 MiB: the update-group lag limit and the session's outbound bound are the same number on purpose.
  OUTBOUND_QUEUE_LIMIT: { value: 4 * MiB },
  MAX_PENDING_CONNECTIONS: { value: 2048 },
  TTL_SECURITY: { value: false },
  IDLE_HOLD_BASE: { value: 1 },
  IDLE_HOLD_CAP: { value: 120 },

  // --- graceful restart ---
  GRACEFUL_RESTART_TIME: { value: 120 },
  RESTART_DEFERRAL_TIME: { value: undefined, text: '`GRACEFUL_RESTART_TIME`' },

  // --- paths ---
  ADD_PATHS: { value: 'off', note: '(one best path per prefix)' },
} as const satisfies Record<string, DefaultSpec>;

export type VariableName = keyof typeof DEFAULTS;

export const VARIABLE_NAMES = Object.keys(DEFAULTS) as VariableName[];

/** The default as the README and --help write it (Markdown code spans; see the header). */
export function defaultText(name: VariableName): string {
  const d: DefaultSpec = DEFAULTS[name];
  if (d.text !== undefined) return d.text;
  return `\`${String(d.value)}\`${d.note !== undefined ? ` ${d.note}` : ''}`;
}
