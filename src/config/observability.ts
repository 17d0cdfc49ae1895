// Observability and the control sockets: METRICS_LISTEN, LOG_LEVEL, LOG_FORMAT, SOCKET_DIR, BIRD_TIMEFORMAT.
import { DEFAULT_METRICS_PORT, DEFAULTS } from './defaults.js';
import { EnvReader, type HostPort } from './fields.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** auto: readable lines when stdout is a terminal, JSON otherwise; json / pretty: always that. */
export type LogFormat = 'auto' | 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'pretty'];

export type MetricsListen = HostPort;

/** BIRD 1.6 `timeformat` spec: fmt1 while the event is younger than `limitSeconds` (0 = always), else fmt2; fmt1 null = "old short". */
export interface BirdTimeformat {
  /** The text as given (or "iso short", BIRD's default). */
  spec: string;
  fmt1: string | null;
  fmt2: string | null;
  limitSeconds: number;
}

export interface ObservabilityConfig {
  socketDir: string;
  /** undefined when disabled (METRICS_LISTEN=off); host undefined = every address (an explicit ":9180"). */
  metricsListen: MetricsListen | undefined;
  logLevel: LogLevel;
  logFormat: LogFormat;
  birdTimeformat: BirdTimeformat;
  /** Owner, group and mode of the control sockets (SOCKET_OWNER, SOCKET_GROUP, SOCKET_MODE). */
  socketAccess: SocketAccessSettings;
}

/** Who may use the control sockets; uid/gid undefined: as the process creates them. */
export interface SocketAccessSettings {
  mode: number;
  uid?: number;
  gid?: number;
}

const MAX_ID = 0xfffffffe; // (uid_t)-1 means "leave unchanged" to chown(2): not an id.

/** A numeric uid/gid: the image has no user database for the sidecar's group, so names are not looked up. */
function numericId(r: EnvReader, name: string): number | undefined {
  const v = r.get(name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.value) || Number(v.value) > MAX_ID) {
    r.bad(name, `"${v.value}" is not a numeric id (0-${MAX_ID}); names are not looked up`);
    return undefined;
  }
  return Number(v.value);
}

function readSocketAccess(r: EnvReader): SocketAccessSettings {
  const uid = numericId(r, 'SOCKET_OWNER');
  const gid = numericId(r, 'SOCKET_GROUP');
  const m = r.get('SOCKET_MODE')?.value ?? String(DEFAULTS.SOCKET_MODE.value);
  let mode = parseInt(String(DEFAULTS.SOCKET_MODE.value), 8);
  if (!/^0?[0-7]{3}$/.test(m)) {
    r.bad('SOCKET_MODE', `"${m}" is not an octal file mode such as 0660`);
  } else if ((parseInt(m, 8) & 0o200) === 0) {
    // Without the owner's write bit even our own tools (rr-ctl, birdc as the same uid) could not connect.
    r.bad('SOCKET_MODE', `${m} leaves the owner without write permission: nobody of that uid could connect`);
  } else {
    mode = parseInt(m, 8);
  }
  return { mode, ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}) };
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

/** The words that turn the metrics endpoint off. */
const METRICS_OFF = ['off', 'none', 'false'];

/** Parses a default from defaults.ts; a bad one there is a programming error, caught by the config tests. */
function fromDefault<T>(parsed: T | undefined, name: string): T {
  if (parsed === undefined) throw new Error(`defaults.ts: the default of ${name} does not parse`);
  return parsed;
}

/** `ip`: this reflector's IPv4 address, where the metrics endpoint listens by default. */
export function readObservability(r: EnvReader, ip: string): ObservabilityConfig {
  const socketDir = r.get('SOCKET_DIR')?.value ?? DEFAULTS.SOCKET_DIR.value;
  const listen = r.hostPort('METRICS_LISTEN', METRICS_OFF);
  const metricsListen = listen === null ? undefined : (listen ?? { host: ip, port: DEFAULT_METRICS_PORT });
  const logLevel = r.oneOf('LOG_LEVEL', LOG_LEVELS) ?? DEFAULTS.LOG_LEVEL.value;
  const logFormat = r.oneOf('LOG_FORMAT', LOG_FORMATS) ?? DEFAULTS.LOG_FORMAT.value;
  let birdTimeformat: BirdTimeformat | undefined;
  const tfVar = r.get('BIRD_TIMEFORMAT');
  if (tfVar !== undefined) {
    birdTimeformat = parseBirdTimeformat(tfVar.value);
    if (birdTimeformat === undefined) {
      r.bad('BIRD_TIMEFORMAT', `"${tfVar.value}" is not a BIRD timeformat (iso short, iso long, old short, old long, "%s", or "fmt1" limit "fmt2")`);
    }
  }
  birdTimeformat ??= fromDefault(parseBirdTimeformat(DEFAULTS.BIRD_TIMEFORMAT.value), 'BIRD_TIMEFORMAT');
  return { socketDir, metricsListen, logLevel, logFormat, birdTimeformat, socketAccess: readSocketAccess(r) };
}

/**
 * LOG_LEVEL and LOG_FORMAT for the process logger (src/log.ts), read with the same parsers as loadConfig. A bad
 * value falls back to its default here: the daemon validates the whole configuration before it loads the
 * logger, so only library use (tests) can get here with one.
 */
export function logSettings(env: Readonly<Record<string, string | undefined>>): { level: LogLevel; format: LogFormat } {
  const r = new EnvReader(env);
  return {
    level: r.oneOf('LOG_LEVEL', LOG_LEVELS) ?? DEFAULTS.LOG_LEVEL.value,
    format: r.oneOf('LOG_FORMAT', LOG_FORMATS) ?? DEFAULTS.LOG_FORMAT.value,
  };
}
