// `--help` and `--version` of the daemon. The usage text is generated from defaults.ts (every variable and its
// default) and the one description table below, grouped by area, so it cannot drift from the loaders: a
// description without a variable is a compile error (the table's key type), a variable without a description
// or described twice an error when this module loads.
import { DEFAULTS, defaultText, type VariableName } from './defaults.js';

interface Area {
  title: string;
  vars: Partial<Record<VariableName, string>>;
}

const AREAS: readonly Area[] = [
  {
    title: 'Identity and addresses',
    vars: {
      IP: "IPv4 address: router ID, IPv4 source/listen address, name of this reflector's rr_v4 entry",
      IP6: 'IPv6 address: IPv6 source/listen address, name of its rr_v6 entry',
      BGP_PORT: 'TCP port to listen on and connect to',
    },
  },
  {
    title: 'Datastore',
    vars: {
      DATASTORE_TYPE: 'etcdv2, etcdv3, etcd (both keyspaces merged), kubernetes, file',
      ETCD_ENDPOINTS: 'comma-separated http:// or https:// etcd URLs',
      ETCD_AUTHORITY: 'legacy form of the endpoints: host:port, comma-separated',
      ETCD_SCHEME: 'scheme for ETCD_AUTHORITY: http or https',
      ETCD_CA_CERT_FILE: 'CA certificate for TLS to etcd',
      ETCD_CERT_FILE: 'client certificate for etcd (with ETCD_KEY_FILE)',
      ETCD_KEY_FILE: 'client key for etcd (with ETCD_CERT_FILE)',
      ETCD_USERNAME: 'etcd user (with ETCD_PASSWORD)',
      ETCD_PASSWORD: 'etcd password; refused with an http:// endpoint unless ETCD_ALLOW_INSECURE_CREDENTIALS=true',
      ETCD_ALLOW_INSECURE_CREDENTIALS: 'true: accept ETCD_PASSWORD over http:// (logged as a warning)',
      KUBECONFIG: 'kubeconfig for DATASTORE_TYPE=kubernetes, and for the password Secrets with the other datastores',
      NAMESPACE: 'namespace of the Secrets that BGPPeer spec.password.secretKeyRef names (every datastore; operator installs: calico-system)',
      NODENAME: 'the Calico Node this reflector is (Calico v3 resources)',
      DATASTORE_FILE: 'JSON file with the same keys as etcd, watched for changes (file)',
      DATASTORE_FILE_MAX_BYTES: 'a larger datastore file is not read (1024 … 1073741824)',
      RR_REGISTER: "write and keep this reflector's own rr_v4/rr_v6 entry (etcd lease, or a Kubernetes Lease)",
      RR_CLUSTER_ID: 'cluster ID written with self-registration (implies RR_REGISTER=true)',
      RR_REGISTER_TTL: 'lease time in seconds (2 … 86400)',
    },
  },
  {
    title: 'Observability and control sockets',
    vars: {
      SOCKET_DIR: 'where bird.ctl and bird6.ctl are created',
      SOCKET_OWNER: 'numeric uid the control sockets are given (chown; only root may change it)',
      SOCKET_GROUP: 'numeric gid the control sockets are given (e.g. the pod\'s fsGroup, shared with bird_exporter)',
      SOCKET_MODE: 'octal file mode of the control sockets (the group needs write to connect)',
      METRICS_LISTEN: 'host:port of /metrics, /healthz, /readyz (:9180 = every address; off disables)',
      LOG_LEVEL: 'fatal, error, warn, info, debug, trace, silent',
      LOG_FORMAT: 'auto (readable on a terminal, else JSON), json, pretty',
      BIRD_TIMEFORMAT: 'BIRD timeformat of the sockets: iso short, iso long, old short, old long, or a strftime string',
    },
  },
  {
    title: 'Limits and security',
    vars: {
      MAX_PREFIXES: 'maximum prefixes per AFI from one peer (Cease 1 past it)',
      MAX_PREFIXES_WARNING_PERCENT: 'a warning is logged at this share of the limit (1 … 100)',
      MAX_PREFIXES_IDLE_HOLD: 'seconds a peer stays down after hitting the limit',
      MAX_AS_PATH_LENGTH: 'an UPDATE with a longer AS_PATH is treated as withdraw',
      OUTBOUND_QUEUE_LIMIT: 'bytes queued to a peer that stopped reading before it leaves its update group (Cease 8 if it stays)',
      MAX_PENDING_CONNECTIONS: 'accepted connections not yet in OpenConfirm',
      TTL_SECURITY: 'GTSM (RFC 5082) for every peer',
      IDLE_HOLD_BASE: 'idle hold after a session failure, doubled per failure (seconds)',
      IDLE_HOLD_CAP: 'longest idle hold (seconds; 0 turns the backoff off)',
    },
  },
  {
    title: 'Graceful restart',
    vars: {
      GRACEFUL_RESTART_TIME: 'restart time in our capability: how long nodes keep our routes while we are away (s, 1 … 4095)',
      RESTART_DEFERRAL_TIME: 'longest our End-of-RIB waits after a start for configured peers not back (s, at most GRACEFUL_RESTART_TIME)',
    },
  },
  {
    title: 'Paths (ADD-PATH, RFC 7911)',
    vars: {
      ADD_PATHS: 'paths per prefix to peers that can receive several: off (the best one), all, or N (1 … 64)',
    },
  },
];

/** Every variable exactly once, checked when the module loads (the help test checks it against defaults.ts too). */
(function checkDescriptions(): void {
  const all: Partial<Record<VariableName, string>> = {};
  for (const a of AREAS) {
    for (const [k, v] of Object.entries(a.vars) as [VariableName, string][]) {
      if (all[k] !== undefined) throw new Error(`help.ts: ${k} is described twice`);
      all[k] = v;
    }
  }
  const missing = (Object.keys(DEFAULTS) as VariableName[]).filter((k) => all[k] === undefined);
  if (missing.length > 0) throw new Error(`help.ts: no description for ${missing.join(', ')}`);
})();

const plain = (markdown: string): string => markdown.replace(/`/g, '');

export function usage(program = 'node dist/main.js'): string {
  const lines = [
    `usage: ${program} [--help | --version]`,
    '',
    'A BGP route reflector for Calico clusters (a drop-in replacement for calico/routereflector), configured',
    'only by environment variables. An empty value means unset. The etcd and DATASTORE_TYPE variables may also',
    'be spelled with a CALICO_ prefix (which wins). Bad values stop the start with one line per variable.',
  ];
  const width = Math.max(...Object.keys(DEFAULTS).map((k) => k.length));
  for (const a of AREAS) {
    lines.push('', `${a.title}:`);
    for (const [k, desc] of Object.entries(a.vars) as [VariableName, string][]) {
      lines.push(`  ${k.padEnd(width)}  ${desc}`, `  ${''.padEnd(width)}  default: ${plain(defaultText(k))}`);
    }
  }
  lines.push('', 'Options:', '  --help     print this text and exit', '  --version  print the version and exit');
  return `${lines.join('\n')}\n`;
}
